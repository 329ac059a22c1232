"""Redaction kernels: solid boxes, inscribed ellipses and mosaics, in place, bit-exact, near memory speed.

Conventions shared by every function here:

* Images are ``uint8`` arrays ``(H, W)`` or ``(H, W, 1|3|4)``; batches add a leading ``T``. They are
  changed in place and returned. C-contiguous arrays and views whose pixels are packed within each row
  (crops like ``frame[y0:y1, x0:x1]``) are written directly; any other view (column steps, reversed or
  selected channels) is processed on a contiguous copy that is then copied back into it.
* Boxes are integer ``(N, 4)`` arrays ``(x0, y0, x1, y1)``, half-open, within int32, clipped to the image.
  Empty, zero-area, inverted and fully outside boxes change nothing; overlapping boxes are applied in
  the order given. ``clip_boxes`` and ``scale_boxes`` turn detector output into such boxes.
* Bad input raises :class:`veilcv.errors.ValidationError` ("expected X, got Y") before any pixel changes.
* The compiled kernels are private ``@njit(cache=True, nogil=True)`` functions (``_fill_jit``,
  ``_mosaic_jit``, ``_nms_jit``): the first call in a fresh environment compiles them (seconds), later
  processes load them from Numba's cache. `veil redact` also builds them once ahead of time into a
  native module that loads without Numba (``_backend`` says which runs when). Large work is split
  over threads by ``_threading`` (why not Numba's threading layers is explained there).
"""

from veilcv.core.kernels.batch import black_box_batch, pixelate_batch
from veilcv.core.kernels.boxes import clip_boxes, scale_boxes
from veilcv.core.kernels.fill import black_box
from veilcv.core.kernels.mosaic import pixelate

__all__ = ["black_box", "black_box_batch", "clip_boxes", "pixelate", "pixelate_batch", "scale_boxes"]
