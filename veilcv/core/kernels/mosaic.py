"""Mosaic (pixelation) of regions, in place, with exact cell means and optional seeded per-cell noise.

The rule, defined once. A box is first clipped to the image; the visible region ``w x h`` is cut into
square cells of side ``k = ceil(min(w, h) / cells)`` starting at its top-left corner, so the shorter
side spans at most ``cells`` cells; the last column and row of cells are ragged (narrower or shorter)
when ``k`` does not divide the side, and are averaged over exactly the pixels they hold. Each channel of
each cell becomes the mean of its ``n`` pixel values with sum ``S``, rounded half up, in integers::

    value = (2 * S + n) // (2 * n)

With ``noise > 0`` every cell and channel then gets an integer offset, uniform in ``[-noise, noise]``,
clamped to 0..255. The offset is a hash (splitmix64) of ``(seed, box index within the frame, cell row,
cell column, channel)``: reproducible, independent of threads and of the pixel values.

A mosaic is weaker than a black box. Cell means keep coarse shape and colour; faces can still be matched
against candidates and mosaicked text read back by trying glyphs (depixelation), and across video frames a
moving grid leaks more. Noise raises the cost of those attacks but does not remove them. Use ``black_box``
where the policy demands that a region be unrecoverable.
"""

from __future__ import annotations

import numpy as np

from veilcv.core.kernels import _backend, _threading
from veilcv.core.kernels._validate import INT32_MAX, as_boxes, as_int, pack_image, range_error, single_offsets


def _cell_rows(box: np.ndarray, h: int, w: int, cells: int) -> int:
    bw = min(int(box[2]), w) - max(int(box[0]), 0)
    bh = min(int(box[3]), h) - max(int(box[1]), 0)
    if bw <= 0 or bh <= 0:
        return 0
    k = (min(bw, bh) + cells - 1) // cells
    return (bh + k - 1) // k


def pixelate_packed(p, boxes, offsets, cells: int, noise: int, seed: int, threads) -> None:
    """Run the mosaic on packed pixels. Frames of a batch, or the cell rows of a single large region, go
    to different threads; several regions in one frame never do (they may overlap)."""
    useed = np.uint64(seed)
    full = (0, 1 << 62)
    k = _backend.serial(p.buf)
    area = k.work_area(boxes, p.h, p.w) * p.ch if boxes.shape[0] else 0
    big = area >= (_threading.MIN_BATCH_MOSAIC_BYTES if p.count > 1 else _threading.MIN_PARALLEL_BYTES)
    parts = min(_threading.worker_count() if threads is None else max(1, threads), 8) if big else 1
    batch = p.count > 1 and parts > 1 and _backend.ATOMIC
    bands = p.count == 1 and parts > 1 and boxes.shape[0] == 1
    if not (batch or bands):
        # Serial: call the kernel directly (it checks the boxes before writing anything); the chunk
        # machinery below costs a few microseconds, a visible share of a call with a few small boxes.
        if k.pixelate_kernel(
            p.buf, p.h, p.w, p.ch, p.row, p.frame, boxes, offsets, cells, noise, useed, 0, p.count, *full
        ):
            range_error(boxes)
        return
    jit = _backend.jit()  # several threads: the JIT code, which releases the GIL
    if jit.bad_boxes(boxes, 0, boxes.shape[0]):
        range_error(boxes)
    if batch:  # frames of a batch: each thread claims frames inside one compiled call (see ``_claim``)
        counter = np.zeros(1, np.int64)
        n = min(parts, p.count)

        def claim(_: int) -> None:
            jit.pixelate_claimed(
                p.buf, p.h, p.w, p.ch, p.row, p.frame, boxes, offsets, cells, noise, useed, counter, p.count
            )

        _threading.run_chunks(claim, n, n)
        return
    # One large region: its cell rows in bands.
    work = [(0, 1, lo, hi) for lo, hi in _threading.split(_cell_rows(boxes[0], p.h, p.w, cells), 4 * parts)]

    def run(i: int) -> None:
        t0, t1, lo, hi = work[i]
        jit.pixelate_kernel(
            p.buf, p.h, p.w, p.ch, p.row, p.frame, boxes, offsets, cells, noise, useed, t0, t1, lo, hi
        )

    _threading.run_chunks(run, len(work), parts)


def pixelate(
    image: np.ndarray, boxes, *, cells: int = 8, noise: int = 0, seed: int = 0, threads: int | None = None
):
    """Turn each box into a mosaic of exact cell means, in place.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, 1|3|4)
        Changed in place and returned. C-contiguous arrays and views whose pixels are packed within each
        row (crops) are written directly; other views run on a contiguous copy that is copied back.
    boxes : array_like of int, shape (N, 4)
        ``(x0, y0, x1, y1)``, half-open, within int32, clipped to the image. Empty, zero-area, inverted
        and fully outside boxes change nothing. Overlapping boxes are applied in order: a later box
        averages pixels an earlier one already changed.
    cells : int, optional
        At most this many cells along the region's shorter side (module docstring). A region whose
        shorter side is ``<= cells`` gets 1-pixel cells, so only the noise changes it: use ``black_box``
        or fewer cells for tiny regions.
    noise : int, optional
        0..255: half-width of the uniform per-cell offset; 0 adds none.
    seed : int, optional
        0..2**64-1: the noise seed; the same seed and boxes give the same output.
    threads : int, optional
        Upper bound on threads for one large region (default: all usable CPUs).

    Returns
    -------
    ndarray
        ``image`` itself.

    Raises
    ------
    veilcv.errors.ValidationError
        Wrong dtype, shape, read-only image, bad boxes, or ``cells``/``noise``/``seed`` out of range.

    Notes
    -----
    A mosaic is weaker than a black box; see the module docstring before choosing it for faces or text.

    Examples
    --------
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    >>> pixelate(img, [[0, 0, 4, 4]], cells=2)
    array([[ 3,  3,  5,  5],
           [ 3,  3,  5,  5],
           [11, 11, 13, 13],
           [11, 11, 13, 13]], dtype=uint8)
    """
    p = pack_image(image)
    b = as_boxes(boxes)
    cells = as_int(cells, "cells", 1, INT32_MAX)
    noise = as_int(noise, "noise", 0, 255)
    seed = as_int(seed, "seed", 0, 2**64 - 1)
    pixelate_packed(p, b, single_offsets(b.shape[0]), cells, noise, seed, threads)
    p.finish()
    return image
