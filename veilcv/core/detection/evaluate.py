"""Recall against ground truth, per face-size bucket, with the rule the tests and ``veil tune`` use.

A ground-truth box counts as found when one predicted box has IoU >= 0.3 with it, or covers at
least 80 % of its area. Buckets are by the longest side of the ground-truth box.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from veilcv.core.detection.nms import intersection_matrix, iou_matrix

BUCKETS = ((0, 16, "<16"), (16, 32, "16-31"), (32, 64, "32-63"), (64, 1 << 30, ">=64"))


def found_mask(gt: np.ndarray, pred: np.ndarray, *, iou: float = 0.3, inside: float = 0.8) -> np.ndarray:
    """Which ground-truth boxes a set of predicted boxes finds.

    Parameters
    ----------
    gt : ndarray, shape (N, 4)
    pred : ndarray, shape (M, 4)
    iou : float
        IoU at which a prediction finds a box.
    inside : float
        Fraction of a ground-truth box's area that one prediction covering it must reach.

    Returns
    -------
    ndarray of bool, shape (N,)
    """
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    if len(gt) == 0 or len(pred) == 0:
        return np.zeros(len(gt), bool)
    area = np.clip(gt[:, 2] - gt[:, 0], 0, None) * np.clip(gt[:, 3] - gt[:, 1], 0, None)
    cover = intersection_matrix(gt, pred) / np.maximum(area, 1e-9)[:, None]
    return (iou_matrix(gt, pred) >= iou).any(1) | (cover >= inside).any(1)


def covered_fraction(gt: np.ndarray, pred: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Fraction of each ground-truth box's pixels covered by the union of the predicted boxes.

    Boxes are rasterised on the ``(H, W)`` pixel grid (a pixel is covered when its centre is).
    """
    h, w = shape
    mask = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in np.asarray(pred, np.float64).reshape(-1, 4):
        mask[_px(y0, h) : _px(y1, h), _px(x0, w) : _px(x1, w)] = True
    out = []
    for x0, y0, x1, y1 in np.asarray(gt, np.float64).reshape(-1, 4):
        region = mask[_px(y0, h) : _px(y1, h), _px(x0, w) : _px(x1, w)]
        out.append(region.mean() if region.size else 0.0)
    return np.asarray(out, np.float64)


def redacted_area(pred: np.ndarray, shape: tuple[int, int]) -> float:
    """Fraction of the image inside the union of the predicted boxes."""
    h, w = shape
    mask = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in np.asarray(pred, np.float64).reshape(-1, 4):
        mask[_px(y0, h) : _px(y1, h), _px(x0, w) : _px(x1, w)] = True
    return float(mask.mean())


def _px(v: float, n: int) -> int:
    return int(min(max(round(v), 0), n))


@dataclass
class BucketRecall:
    """Running found/total counts per size bucket."""

    found: dict[str, int] = field(default_factory=lambda: {b[2]: 0 for b in BUCKETS})
    total: dict[str, int] = field(default_factory=lambda: {b[2]: 0 for b in BUCKETS})

    def add(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """Count one image's ground truth (``(N, 4)`` boxes) against its predictions."""
        gt = np.asarray(gt, np.float64).reshape(-1, 4)
        hit = found_mask(gt, pred)
        side = np.maximum(gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1])
        for lo, hi, name in BUCKETS:
            sel = (side >= lo) & (side < hi)
            self.total[name] += int(sel.sum())
            self.found[name] += int(hit[sel].sum())

    def recall(self) -> dict[str, float | None]:
        """Recall per bucket plus ``"all"``; ``None`` for an empty bucket."""
        out: dict[str, float | None] = {
            k: (self.found[k] / self.total[k] if self.total[k] else None) for k in self.total
        }
        n = sum(self.total.values())
        out["all"] = sum(self.found.values()) / n if n else None
        return out
