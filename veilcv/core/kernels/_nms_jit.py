"""The compiled greedy NMS loop (rules in ``veilcv.core.kernels.nms``), run through ``_backend``."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def greedy(b: np.ndarray, order: np.ndarray, thr: float) -> np.ndarray:  # pragma: no cover - compiled
    n = order.size
    areas = np.empty(b.shape[0])
    for k in range(b.shape[0]):
        areas[k] = max(b[k, 2] - b[k, 0], 0.0) * max(b[k, 3] - b[k, 1], 0.0)
    dead = np.zeros(n, np.bool_)
    keep = np.empty(n, np.int64)
    kept = 0
    for a in range(n):
        if dead[a]:
            continue
        i = order[a]
        keep[kept] = i
        kept += 1
        for c in range(a + 1, n):
            if dead[c]:
                continue
            j = order[c]
            w = min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0])
            h = min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1])
            inter = max(w, 0.0) * max(h, 0.0)
            union = areas[i] + areas[j] - inter
            iou = inter / union if union > 0 else 0.0
            if iou >= thr:
                dead[c] = True
    return keep[:kept]
