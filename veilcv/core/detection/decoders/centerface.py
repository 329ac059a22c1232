"""CenterFace: heatmap + scale + offset (+ 5 landmarks) at stride 4 → face boxes."""

from __future__ import annotations

import numpy as np

from veilcv.core.detection.nms import nms
from veilcv.errors import ValidationError

STRIDE = 4


def _plane(a: np.ndarray, channels: int, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2 and channels == 1:
        a = a[None]
    if a.ndim != 3 or a.shape[0] != channels:
        raise ValidationError(f"{name}: expected shape (1, {channels}, h, w), got {np.shape(a)}")
    return a


def decode_centerface(
    heatmap: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    landmarks: np.ndarray,
    *,
    threshold: float = 0.5,
    nms_iou: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode CenterFace's four output maps into boxes, scores and landmarks.

    Each heatmap cell ``(r, c)`` above ``threshold`` is a face centred at
    ``((c + offset_x + 0.5) * 4, (r + offset_y + 0.5) * 4)`` with size
    ``(exp(scale_x) * 4, exp(scale_y) * 4)``; landmark ``j`` sits at
    ``(x0 + lm[2j+1] * w, y0 + lm[2j] * h)``. Channel 0 of ``scale``/``offset`` is y, channel 1 is x.

    Parameters
    ----------
    heatmap : ndarray, shape (1, 1, h, w)
    scale, offset : ndarray, shape (1, 2, h, w)
    landmarks : ndarray, shape (1, 10, h, w)
    threshold : float
        Minimum heatmap score.
    nms_iou : float
        Overlap at which weaker boxes are suppressed.

    Returns
    -------
    boxes : ndarray of float32, shape (N, 4)
        ``(x0, y0, x1, y1)`` in model-input pixels, not clipped.
    scores : ndarray of float32, shape (N,)
    points : ndarray of float32, shape (N, 5, 2)
        ``(x, y)`` landmarks (eyes, nose, mouth corners).
    """
    hm = _plane(heatmap, 1, "heatmap")[0]
    sc = _plane(scale, 2, "scale")
    of = _plane(offset, 2, "offset")
    lm = _plane(landmarks, 10, "landmarks")
    if not (sc.shape[1:] == of.shape[1:] == lm.shape[1:] == hm.shape):
        raise ValidationError(
            f"expected all CenterFace maps of size {hm.shape}, "
            f"got {sc.shape[1:]}, {of.shape[1:]}, {lm.shape[1:]}"
        )
    rows, cols = np.nonzero(hm > threshold)
    if rows.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32)
    h = np.exp(sc[0, rows, cols].astype(np.float64)) * STRIDE
    w = np.exp(sc[1, rows, cols].astype(np.float64)) * STRIDE
    cy = (rows + of[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + of[1, rows, cols] + 0.5) * STRIDE
    x0, y0 = cx - w / 2, cy - h / 2
    boxes = np.stack([x0, y0, x0 + w, y0 + h], axis=1)
    scores = hm[rows, cols].astype(np.float32)
    pts = np.empty((rows.size, 5, 2), np.float64)
    pts[:, :, 0] = x0[:, None] + lm[1::2, rows, cols].T * w[:, None]
    pts[:, :, 1] = y0[:, None] + lm[0::2, rows, cols].T * h[:, None]
    keep = nms(boxes, scores, nms_iou)
    return boxes[keep].astype(np.float32), scores[keep], pts[keep].astype(np.float32)
