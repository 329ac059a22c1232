"""Greedy non-maximum suppression (boxes ``(x0, y0, x1, y1)``; overlaps as in :mod:`veilcv.core.geometry`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from veilcv.core.geometry import box_areas
from veilcv.errors import ValidationError

#: Below this many boxes the NumPy loop is as fast and needs no compiled code (no Numba import).
SMALL = 32

# The compiled loop (``veilcv.core.kernels.nms``) once loaded. Loading takes milliseconds from the
# ahead-of-time kernels, but seconds when they are first built, and about 0.35 s of interpreter-
# bound work through Numba's JIT. `veil redact` loads it in a background thread (``load_compiled``)
# while the detector compiles and runs its first inferences; until it is ready, NMS takes the NumPy
# loop, which keeps the same boxes (same arithmetic, same order:
# tests/core/detection/test_nms_tiling.py), instead of waiting for it.
_compiled: Callable[[np.ndarray, np.ndarray, float], np.ndarray] | None = None
_loading = False
_lock = threading.Lock()


def load_compiled(prepare: Callable[[], object] | None = None) -> None:
    """Load the compiled NMS loop now (it compiles on the first call in a fresh environment).

    While it loads, :func:`nms` calls from other threads use the NumPy loop rather than wait for
    it; a second call returns at once. ``prepare`` runs first, inside the loading window (the
    redaction pipeline resolves the kernels' backend there, which may build it). Errors propagate;
    after one, the next large :func:`nms` call tries again.
    """
    global _compiled, _loading
    with _lock:
        if _compiled is not None or _loading:
            return
        _loading = True
    try:
        if prepare is not None:
            prepare()
        from veilcv.core.kernels.nms import greedy_nms

        greedy_nms(np.zeros((2, 4)), np.arange(2), 0.5)  # the first call loads (or compiles) it
        _compiled = greedy_nms
    finally:
        _loading = False


def _check_boxes(boxes: np.ndarray, name: str = "boxes") -> np.ndarray:
    boxes = np.asarray(boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValidationError(f"{name}: expected shape (N, 4), got {boxes.shape}")
    return boxes.astype(np.float64, copy=False)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS: keep the best box, drop every box overlapping it by ``>= iou_threshold``.

    Parameters
    ----------
    boxes : ndarray, shape (N, 4)
    scores : ndarray, shape (N,)
    iou_threshold : float
        Overlap at which a lower-scored box is suppressed.

    Returns
    -------
    ndarray of int64
        Indices of the kept boxes, best score first; ties keep the lower index first.
    """
    b = _check_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (len(b),):
        raise ValidationError(f"scores: expected shape ({len(b)},), got {s.shape}")
    order = np.argsort(-s, kind="stable")
    if len(b) < SMALL:
        return _nms_numpy(b, order, iou_threshold)
    if _compiled is None and not _loading:
        load_compiled()
    run = _compiled
    return _nms_numpy(b, order, iou_threshold) if run is None else run(b, order, iou_threshold)


def _nms_numpy(b: np.ndarray, order: np.ndarray, iou_threshold: float) -> np.ndarray:
    """The reference loop: one vector step per kept box (the compiled loop must agree with it)."""
    areas = box_areas(b)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0])
        h = np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        union = areas[i] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou < iou_threshold]
    return np.asarray(keep, dtype=np.int64)
