"""Box geometry shared by detection, coverage and evaluation: overlap, matching rules, size buckets.

Boxes are ``(x0, y0, x1, y1)`` in pixels, half-open; an inverted or zero-area box has no area and
an IoU of 0 with everything. This is the one home of these rules: NMS, ``veil tune``'s recall,
``veil coverage``'s size buckets and ``veil fairness``'s detection matching all import them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from veilcv.errors import ValidationError

#: Size buckets by a box's longest side in pixels: ``(name, low, high)``, ``low <= side < high``.
SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<16", 0, 16),
    ("16-31", 16, 32),
    ("32-63", 32, 64),
    (">=64", 64, math.inf),
)


def as_boxes(boxes: np.ndarray | Sequence[Sequence[float]], name: str = "boxes") -> np.ndarray:
    """Validate boxes and return them as a float64 ``(N, 4)`` array (a view where possible).

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        ``(x0, y0, x1, y1)`` per row; an empty sequence is ``(0, 4)``.
    name : str
        Name used in error messages.

    Returns
    -------
    ndarray of float64, shape (N, 4)

    Raises
    ------
    ValidationError
        Another shape, or a NaN or infinite coordinate.
    """
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValidationError(f"{name}: expected an (N, 4) array of (x0, y0, x1, y1), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValidationError(f"{name}: expected finite coordinates, got NaN or infinity")
    return arr


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """Area of each box, 0 for inverted or zero-area boxes.

    Parameters
    ----------
    boxes : ndarray of float64, shape (N, 4)

    Returns
    -------
    ndarray of float64, shape (N,)
    """
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def intersection_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas.

    Parameters
    ----------
    a : array_like, shape (N, 4)
    b : array_like, shape (M, 4)

    Returns
    -------
    ndarray of float64, shape (N, M)
    """
    a, b = as_boxes(a, "a"), as_boxes(b, "b")
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union.

    Parameters
    ----------
    a : array_like, shape (N, 4)
        For example ground-truth boxes.
    b : array_like, shape (M, 4)
        For example predicted boxes.

    Returns
    -------
    ndarray of float64, shape (N, M)
        IoU in ``[0, 1]``; 0 where the union is empty (inverted or zero-area boxes).
    """
    a, b = as_boxes(a, "a"), as_boxes(b, "b")
    inter = intersection_matrix(a, b)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def longest_sides(boxes: np.ndarray) -> np.ndarray:
    """The longest side of each box in pixels (what the size buckets are by).

    Parameters
    ----------
    boxes : array_like, shape (N, 4)

    Returns
    -------
    ndarray of float64, shape (N,)
    """
    b = as_boxes(boxes)
    return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])


def size_buckets(boxes: np.ndarray | Sequence[Sequence[float]]) -> list[str]:
    """Name of the :data:`SIZE_BUCKETS` entry each box falls in, by its longest side.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)

    Returns
    -------
    list of str
        ``"<16"``, ``"16-31"``, ``"32-63"`` or ``">=64"`` per box; an inverted box counts as ``"<16"``.
    """
    edges = np.array([lo for _, lo, _ in SIZE_BUCKETS[1:]])
    index = np.searchsorted(edges, longest_sides(boxes), side="right")
    return [SIZE_BUCKETS[i][0] for i in index.tolist()]


def size_bucket(box: np.ndarray | Sequence[float]) -> str:
    """Name of the :data:`SIZE_BUCKETS` entry one box ``(x0, y0, x1, y1)`` falls in."""
    return size_buckets(np.reshape(np.asarray(box, np.float64), (1, 4)))[0]


def found_mask(gt: np.ndarray, pred: np.ndarray, *, iou: float = 0.3, inside: float = 0.8) -> np.ndarray:
    """Which ground-truth boxes a set of predicted boxes finds (the recall rule of ``veil tune``).

    A box is found when one prediction has IoU >= ``iou`` with it, or covers at least ``inside``
    of its area. Predictions may find several boxes (this is not a one-to-one matching).

    Parameters
    ----------
    gt : array_like, shape (N, 4)
    pred : array_like, shape (M, 4)
    iou : float
        IoU at which a prediction finds a box.
    inside : float
        Fraction of a ground-truth box's area that one prediction covering it must reach.

    Returns
    -------
    ndarray of bool, shape (N,)
    """
    gt, pred = as_boxes(gt, "gt"), as_boxes(pred, "pred")
    if len(gt) == 0 or len(pred) == 0:
        return np.zeros(len(gt), bool)
    cover = intersection_matrix(gt, pred) / np.maximum(box_areas(gt), 1e-9)[:, None]
    return (iou_matrix(gt, pred) >= iou).any(1) | (cover >= inside).any(1)


def match_greedy(
    gt: np.ndarray, pred: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one greedy matching by score, as in the COCO and PASCAL VOC protocols.

    Predictions are visited from the highest score down (ties: input order); each takes the
    still-unmatched ground-truth box with the highest IoU, if that IoU is >= the threshold (ties:
    lower index).

    Parameters
    ----------
    gt : array_like, shape (N, 4)
    pred : array_like, shape (M, 4)
    scores : array_like, shape (M,)
        Confidence of each prediction; higher is matched first.
    iou_threshold : float, default 0.5
        Minimum IoU for a match, in (0, 1].

    Returns
    -------
    gt_match : ndarray of int64, shape (N,)
        Index of the prediction matched to each ground-truth box, or -1.
    pred_match : ndarray of int64, shape (M,)
        Index of the ground-truth box matched to each prediction, or -1.
    """
    if not 0.0 < iou_threshold <= 1.0:
        raise ValidationError(f"iou_threshold: expected a number in (0, 1], got {iou_threshold!r}")
    ious = iou_matrix(as_boxes(gt, "gt"), as_boxes(pred, "pred"))
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape[0] != ious.shape[1]:
        raise ValidationError(
            f"scores: expected {ious.shape[1]} values (one per prediction), got {s.shape[0]}"
        )
    n_gt, n_pred = ious.shape
    gm = [-1] * n_gt
    pm = [-1] * n_pred
    if n_gt and n_pred:
        # Only IoUs at or above the threshold can match: visit those pairs, per prediction in
        # descending IoU order (stable, so the lower ground-truth index wins a tie). Plain lists
        # here: images hold tens of boxes, where per-call NumPy overhead would dominate.
        cand_i, cand_j = np.nonzero(ious >= iou_threshold)
        by_pred: dict[int, list[int]] = {}
        if cand_i.size:
            vals = ious[cand_i, cand_j]
            order = np.lexsort((cand_i, -vals, cand_j))
            for i, j in zip(cand_i[order].tolist(), cand_j[order].tolist(), strict=True):
                by_pred.setdefault(j, []).append(i)
        for j in np.argsort(-s, kind="stable").tolist():
            for i in by_pred.get(j, ()):
                if gm[i] < 0:
                    gm[i], pm[j] = j, i
                    break
    return np.asarray(gm, dtype=np.int64), np.asarray(pm, dtype=np.int64)
