"""Box arithmetic shared by the pipeline and the kernels: clipping and growing ``(x0, y0, x1, y1)`` boxes.

Boxes are half-open pixel ranges, ``x0 <= x < x1``. Clipping never drops a box, so indices keep matching
labels and scores: a box that is inverted or lies entirely outside the image comes back with zero area
(``x0 == x1`` or ``y0 == y1``), which every kernel ignores.
"""

from __future__ import annotations

import numbers

import numpy as np

from veilcv.core.kernels._validate import fail

#: Float coordinates this close to an integer count as that integer, so that e.g. ``10 * 1.2`` does not
#: grow a box by an extra pixel through binary rounding.
SNAP = 1e-9


def _shape_hw(shape: object) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) not in (2, 3):
        fail(f"shape: expected an image shape (H, W) or (H, W, C), got {shape!r}")
    h, w = shape[0], shape[1]
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= int(v) < 2**31:
            fail(f"shape: expected non-negative int32 H and W, got {shape!r}")
    return int(h), int(w)


def _as_float_boxes(boxes: object) -> tuple[np.ndarray, bool]:
    arr = boxes if isinstance(boxes, np.ndarray) else np.asarray(boxes)
    if arr.ndim == 1 and arr.size == 0:
        arr = np.zeros((0, 4), np.int64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        fail(f"boxes: expected shape (N, 4) as (x0, y0, x1, y1), got {tuple(arr.shape)}")
    if arr.dtype.kind not in "iuf":
        fail(f"boxes: expected integer or float coordinates, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        fail("boxes: expected finite coordinates, got NaN or infinity; drop those detections first")
    return arr, arr.dtype.kind == "f"


def _snap(v: np.ndarray) -> np.ndarray:
    r = np.rint(v)
    return np.where(np.abs(v - r) <= SNAP * np.maximum(1.0, np.abs(v)), r, v)


def _finish(x0, y0, x1, y1, h: int, w: int) -> np.ndarray:
    """Clip each coordinate to ``[0, W]`` / ``[0, H]`` (before any integer cast, so far-away float boxes
    cannot overflow) and turn inverted boxes into zero-area ones."""
    cx0 = np.clip(x0, 0, w)
    cy0 = np.clip(y0, 0, h)
    cx1 = np.maximum(np.clip(x1, 0, w), cx0)
    cy1 = np.maximum(np.clip(y1, 0, h), cy0)
    return np.stack([cx0, cy0, cx1, cy1], axis=1).astype(np.int32).reshape(-1, 4)


def clip_boxes(boxes, shape) -> np.ndarray:
    """Clip boxes to an image, half-open, without dropping any.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        ``(x0, y0, x1, y1)``. Integers are taken as they are; floats are rounded outward (``floor`` for
        ``x0, y0``, ``ceil`` for ``x1, y1``) so no covered pixel is lost.
    shape : tuple
        The image shape, ``(H, W)`` or ``(H, W, C)``.

    Returns
    -------
    ndarray of int32, shape (N, 4)
        ``0 <= x0 <= x1 <= W`` and ``0 <= y0 <= y1 <= H``. Boxes that are inverted or entirely outside
        the image come back with zero area, in their place, so indices stay aligned with scores and labels.

    Raises
    ------
    veilcv.errors.ValidationError
        Wrong shape or dtype, non-finite floats, or a bad image shape.

    Examples
    --------
    >>> clip_boxes([[-20, -20, 40, 40], [90, 5, 130, 9], [200, 0, 210, 5]], (50, 100))
    array([[  0,   0,  40,  40],
           [ 90,   5, 100,   9],
           [100,   0, 100,   5]], dtype=int32)
    """
    h, w = _shape_hw(shape)
    arr, is_float = _as_float_boxes(boxes)
    if is_float:
        a = arr.astype(np.float64)
        lo, hi = np.floor(_snap(a[:, :2])), np.ceil(_snap(a[:, 2:]))
        return _finish(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1], h, w)
    a = arr.astype(np.int64) if arr.dtype != np.uint64 else np.minimum(arr, 2**62).astype(np.int64)
    return _finish(a[:, 0], a[:, 1], a[:, 2], a[:, 3], h, w)


def scale_boxes(boxes, factor: float, shape) -> np.ndarray:
    """Grow (or shrink) boxes about their centres, round outward and clip to the image.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        ``(x0, y0, x1, y1)``, integer or float (detector output).
    factor : float
        Positive scale of width and height, e.g. 1.3 to cover hair and chin around a face box.
    shape : tuple
        The image shape, ``(H, W)`` or ``(H, W, C)``.

    Returns
    -------
    ndarray of int32, shape (N, 4)
        Each side becomes ``[floor(c - s * f / 2), ceil(c + s * f / 2))`` around centre ``c`` with side
        ``s``, computed in float64 (values within ``SNAP`` of an integer count as that integer), then
        clipped as by :func:`clip_boxes`. Inverted boxes stay empty.

    Raises
    ------
    veilcv.errors.ValidationError
        Bad boxes or shape, or a factor that is not a finite positive number.

    Examples
    --------
    >>> scale_boxes([[10, 10, 20, 30]], 1.5, (100, 100))
    array([[ 7,  5, 23, 35]], dtype=int32)
    """
    h, w = _shape_hw(shape)
    arr, _ = _as_float_boxes(boxes)
    if (
        isinstance(factor, bool)
        or not isinstance(factor, numbers.Real)
        or not 0 < float(factor) < float("inf")
    ):
        fail(f"factor: expected a finite number > 0, got {factor!r}")
    a = arr.astype(np.float64)
    c = (a[:, :2] + a[:, 2:]) / 2.0
    half = (a[:, 2:] - a[:, :2]) * float(factor) / 2.0
    lo = np.floor(_snap(c - half))
    hi = np.ceil(_snap(c + half))
    return _finish(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1], h, w)
