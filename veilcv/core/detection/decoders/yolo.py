"""YOLO-style output as ultralytics exports it: ``[1, 4 + classes, N]`` (cx, cy, w, h, class scores)."""

from __future__ import annotations

import numpy as np

from veilcv.core.detection.nms import nms
from veilcv.errors import ValidationError


def decode_yolo(
    output: np.ndarray,
    *,
    threshold: float = 0.25,
    nms_iou: float = 0.45,
    labels: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode an ultralytics detection head (no objectness column; scores already sigmoid).

    Parameters
    ----------
    output : ndarray, shape (1, 4 + C, N)
        Rows 0-3 are the box centre and size in model-input pixels, rows 4.. the class scores.
    threshold : float
        Minimum best-class score.
    nms_iou : float
        Overlap at which weaker boxes of the same class are suppressed.
    labels : tuple of int, optional
        Keep only these class ids (all when omitted).

    Returns
    -------
    boxes : ndarray of float32, shape (N, 4)
    scores : ndarray of float32, shape (N,)
    class_ids : ndarray of int64, shape (N,)
    """
    out = np.asarray(output, dtype=np.float32)
    if out.ndim != 3 or out.shape[0] != 1 or out.shape[1] < 5:
        raise ValidationError(f"YOLO output: expected shape (1, 4 + classes, N), got {out.shape}")
    pred = out[0].T
    cls_scores = pred[:, 4:]
    class_ids = np.argmax(cls_scores, axis=1)
    scores = cls_scores[np.arange(len(pred)), class_ids]
    keep = scores >= threshold
    if labels is not None:
        keep &= np.isin(class_ids, np.asarray(labels))
    pred, scores, class_ids = pred[keep], scores[keep], class_ids[keep]
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
    # Class-aware NMS: offset each class far apart so boxes of different classes never overlap.
    shift = (class_ids.astype(np.float64) * (float(np.abs(boxes).max(initial=0.0)) + 1.0))[:, None]
    keep_idx = nms(boxes + shift, scores, nms_iou)
    return boxes[keep_idx], scores[keep_idx].astype(np.float32), class_ids[keep_idx].astype(np.int64)
