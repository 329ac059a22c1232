"""Detection-level evaluation: match predicted boxes to ground-truth boxes, count per group.

A ground-truth box that no prediction matches is a face (or plate) the redactor would have
left visible, so a group's miss rate here *is* the redactor's miss rate for that group.

Matching is greedy by score and one-to-one, as in the COCO and PASCAL VOC protocols:
predictions are visited from the highest score down (ties: input order); each takes the
still-unmatched ground-truth box with the highest IoU, if that IoU is >= the threshold (ties:
lower index). Boxes are ``(x0, y0, x1, y1)`` in pixels, half-open; an empty box has IoU 0 with
everything. Ground-truth boxes marked ``ignore`` (e.g. WIDER FACE's "invalid") are neither
counted as misses nor do predictions on them count as false positives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from veilcv.errors import ValidationError
from veilcv.evaluation.fairness import MISSING_GROUP
from veilcv.evaluation.stats import Counts

__all__ = ["GroundTruthImage", "PredictedImage", "count_detections", "iou_matrix", "match_greedy"]


def _as_boxes(boxes: np.ndarray | Sequence[Sequence[float]], name: str) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValidationError(f"{name}: expected an (N, 4) array of (x0, y0, x1, y1), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValidationError(f"{name}: expected finite coordinates, got NaN or infinity")
    return arr


def iou_matrix(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Intersection over union of every ground-truth box with every predicted box.

    Parameters
    ----------
    gt : array_like, shape (N, 4)
        Ground-truth boxes ``(x0, y0, x1, y1)``.
    pred : array_like, shape (M, 4)
        Predicted boxes, same convention.

    Returns
    -------
    numpy.ndarray, shape (N, M), float64
        IoU in ``[0, 1]``; 0 where the union is empty (inverted or zero-area boxes).
    """
    g = _as_boxes(gt, "gt")
    p = _as_boxes(pred, "pred")
    gw = np.maximum(g[:, 2] - g[:, 0], 0.0)
    gh = np.maximum(g[:, 3] - g[:, 1], 0.0)
    pw = np.maximum(p[:, 2] - p[:, 0], 0.0)
    ph = np.maximum(p[:, 3] - p[:, 1], 0.0)
    iw = np.maximum(np.minimum(g[:, None, 2], p[None, :, 2]) - np.maximum(g[:, None, 0], p[None, :, 0]), 0.0)
    ih = np.maximum(np.minimum(g[:, None, 3], p[None, :, 3]) - np.maximum(g[:, None, 1], p[None, :, 1]), 0.0)
    inter = iw * ih
    union = (gw * gh)[:, None] + (pw * ph)[None, :] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def match_greedy(
    gt: np.ndarray, pred: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one greedy matching by score.

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
    gt_match : numpy.ndarray, shape (N,), int64
        Index of the prediction matched to each ground-truth box, or -1.
    pred_match : numpy.ndarray, shape (M,), int64
        Index of the ground-truth box matched to each prediction, or -1.
    """
    if not 0.0 < iou_threshold <= 1.0:
        raise ValidationError(f"iou_threshold: expected a number in (0, 1], got {iou_threshold!r}")
    ious = iou_matrix(gt, pred)
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
    gt_match = np.asarray(gm, dtype=np.int64)
    pred_match = np.asarray(pm, dtype=np.int64)
    return gt_match, pred_match


@dataclass(frozen=True)
class GroundTruthImage:
    """Ground truth of one image: boxes, per-box attributes, image attributes, ignore flags."""

    key: str
    boxes: np.ndarray
    box_attributes: tuple[Mapping[str, str], ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    ignore: tuple[bool, ...] = ()


@dataclass(frozen=True)
class PredictedImage:
    """Predictions of one image (already filtered by the score threshold, or not)."""

    key: str
    boxes: np.ndarray
    scores: np.ndarray


def count_detections(
    gt_images: Sequence[GroundTruthImage],
    predictions: Mapping[str, PredictedImage],
    attributes: Sequence[str],
    *,
    iou_threshold: float = 0.5,
    score_threshold: float | None = None,
) -> tuple[dict[str, dict[str, Counts]], dict[str, dict[str, str]]]:
    """Match every image and count TP/FN per ground-truth group (and FP for image-level groups).

    Parameters
    ----------
    gt_images : sequence of GroundTruthImage
    predictions : mapping of str to PredictedImage
        Keyed like ``GroundTruthImage.key``; an image without an entry has no predictions.
    attributes : sequence of str
        Attribute names to group by. A box's own attribute takes precedence over its image's.
    iou_threshold : float, default 0.5
    score_threshold : float, optional
        Predictions scoring below it are dropped before matching.

    Returns
    -------
    counts : dict
        ``counts[attribute][group]``; TN is always 0 (detection has no true negatives).
    unavailable : dict
        ``unavailable[attribute][metric]`` with the reason a metric cannot be computed: FPR
        always; precision for attributes that some box carries itself, because a false
        positive belongs to no ground-truth box and so to no box-level group.
    """
    cells: dict[str, dict[str, list[int]]] = {a: {} for a in attributes}
    box_level: set[str] = set()
    for img in gt_images:
        pred = predictions.get(img.key)
        pboxes = pred.boxes if pred is not None else np.zeros((0, 4))
        pscores = pred.scores if pred is not None else np.zeros(0)
        if score_threshold is not None and len(pscores):
            keep = pscores >= score_threshold
            pboxes, pscores = pboxes[keep], pscores[keep]
        ignore = np.array(img.ignore if img.ignore else [False] * len(img.boxes), dtype=bool)
        gboxes = _as_boxes(img.boxes, f"{img.key}: gt")
        gt_match, pred_match = match_greedy(gboxes[~ignore], pboxes, pscores, iou_threshold)
        fp_mask = pred_match < 0
        if ignore.any() and fp_mask.any():
            # A prediction on an ignored box is not a false positive; match those one-to-one too.
            _, on_ignored = match_greedy(gboxes[ignore], pboxes[fp_mask], pscores[fp_mask], iou_threshold)
            fp_idx = np.flatnonzero(fp_mask)
            fp_mask[fp_idx[on_ignored >= 0]] = False
        n_fp = int(fp_mask.sum())
        kept = [i for i in range(len(gboxes)) if not ignore[i]]
        for a in attributes:
            for pos, i in enumerate(kept):
                battrs = img.box_attributes[i] if i < len(img.box_attributes) else {}
                if a in battrs:
                    box_level.add(a)
                value = str(battrs.get(a, img.attributes.get(a, MISSING_GROUP)))
                c = cells[a].setdefault(value, [0, 0, 0])
                c[0 if gt_match[pos] >= 0 else 2] += 1
            if n_fp:
                value = str(img.attributes.get(a, MISSING_GROUP))
                cells[a].setdefault(value, [0, 0, 0])[1] += n_fp
    counts = {
        a: {g: Counts(tp=v[0], fp=v[1], fn=v[2], tn=0) for g, v in sorted(cells[a].items())}
        for a in attributes
    }
    unavailable: dict[str, dict[str, str]] = {}
    for a in attributes:
        reasons = {"fpr": "detection has no true negatives: FPR is not defined for box-level evaluation"}
        if a in box_level:
            reasons["precision"] = (
                f"'{a}' is a box attribute and a false positive belongs to no ground-truth box, "
                "so precision cannot be split by it; give image-level attributes to get precision"
            )
            # FP counted under image attributes would be misleading for a box-level grouping.
            counts[a] = {g: Counts(tp=c.tp, fp=0, fn=c.fn, tn=0) for g, c in counts[a].items()}
            counts[a] = {g: c for g, c in counts[a].items() if c.n > 0}
        unavailable[a] = reasons
    return counts, unavailable
