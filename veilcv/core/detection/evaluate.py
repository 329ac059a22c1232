"""Recall against ground truth, per face-size bucket, with the rule the tests and ``veil tune`` use.

A ground-truth box counts as found when one predicted box has IoU >= 0.3 with it, or covers at
least 80 % of its area (:func:`veilcv.core.geometry.found_mask`). Buckets are by the longest side
of the ground-truth box (:data:`veilcv.core.geometry.SIZE_BUCKETS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from veilcv.core.geometry import SIZE_BUCKETS, as_boxes, found_mask, size_buckets


def covered_fraction(gt: np.ndarray, pred: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Fraction of each ground-truth box's pixels covered by the union of the predicted boxes.

    Boxes are rasterised on the ``(H, W)`` pixel grid (a pixel is covered when its centre is).
    """
    h, w = shape
    mask = _union_mask(pred, shape)
    out = []
    for x0, y0, x1, y1 in np.asarray(gt, np.float64).reshape(-1, 4):
        region = mask[_px(y0, h) : _px(y1, h), _px(x0, w) : _px(x1, w)]
        out.append(region.mean() if region.size else 0.0)
    return np.asarray(out, np.float64)


def redacted_area(pred: np.ndarray, shape: tuple[int, int]) -> float:
    """Fraction of the image inside the union of the predicted boxes."""
    return float(_union_mask(pred, shape).mean())


def _union_mask(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    mask = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        mask[_px(y0, h) : _px(y1, h), _px(x0, w) : _px(x1, w)] = True
    return mask


def _px(v: float, n: int) -> int:
    return int(min(max(round(v), 0), n))


@dataclass
class BucketRecall:
    """Running found/total counts per size bucket."""

    found: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in SIZE_BUCKETS})
    total: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in SIZE_BUCKETS})

    def add(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """Count one image's ground truth (``(N, 4)`` boxes) against its predictions."""
        gt = as_boxes(np.asarray(gt, np.float64).reshape(-1, 4), "gt")
        for name, hit in zip(size_buckets(gt), found_mask(gt, pred).tolist(), strict=True):
            self.total[name] += 1
            self.found[name] += int(hit)

    def recall(self) -> dict[str, float | None]:
        """Recall per bucket plus ``"all"``; ``None`` for an empty bucket."""
        out: dict[str, float | None] = {
            k: (self.found[k] / self.total[k] if self.total[k] else None) for k in self.total
        }
        n = sum(self.total.values())
        out["all"] = sum(self.found.values()) / n if n else None
        return out
