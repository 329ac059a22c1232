"""Detection-level evaluation: match predicted boxes to ground-truth boxes, count per group.

A ground-truth box that no prediction matches is a face (or plate) the redactor would have
left visible, so a group's miss rate here *is* the redactor's miss rate for that group.

Matching is greedy by score and one-to-one, as in the COCO and PASCAL VOC protocols
(:func:`veilcv.core.geometry.match_greedy`): predictions are visited from the highest score down
(ties: input order); each takes the still-unmatched ground-truth box with the highest IoU, if that
IoU is >= the threshold (ties: lower index). Boxes are ``(x0, y0, x1, y1)`` in pixels, half-open;
an empty box has IoU 0 with everything. Ground-truth boxes marked ``ignore`` (e.g. WIDER FACE's
"invalid") are neither counted as misses nor do predictions on them count as false positives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from veilcv.core.geometry import as_boxes, match_greedy
from veilcv.evaluation.fairness import MISSING_GROUP
from veilcv.evaluation.stats import Counts

__all__ = ["GroundTruthImage", "PredictedImage", "count_detections"]


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
        gboxes = as_boxes(img.boxes, f"{img.key}: gt")
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
