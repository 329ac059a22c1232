from __future__ import annotations

import numpy as np
import pytest

from veilcv.core.geometry import iou_matrix, match_greedy
from veilcv.errors import ValidationError
from veilcv.evaluation.matching import GroundTruthImage, PredictedImage, count_detections
from veilcv.evaluation.stats import Counts


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
        ([0, 0, 10, 10], [0, 0, 5, 5], 25 / 100),
        ([0, 0, 10, 10], [10, 0, 20, 10], 0.0),  # touching edges: half-open boxes do not overlap
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 0, 10], [0, 0, 0, 10], 0.0),  # zero-area
        ([10, 10, 0, 0], [0, 0, 10, 10], 0.0),  # inverted
        ([2, 3, 7, 11], [4, 1, 9, 6], 9 / (40 + 25 - 9)),
    ],
)
def test_iou_golden(a, b, expected):
    assert iou_matrix([a], [b])[0, 0] == pytest.approx(expected)
    assert iou_matrix([b], [a])[0, 0] == pytest.approx(expected)


def test_iou_shapes_and_validation():
    assert iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    assert iou_matrix([[0, 0, 1, 1]], []).shape == (1, 0)
    with pytest.raises(ValidationError, match=r"\(N, 4\)"):
        iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValidationError, match="finite"):
        iou_matrix([[0, 0, np.nan, 1]], [[0, 0, 1, 1]])


def test_higher_score_wins_and_loser_is_false_positive():
    gt = [[0, 0, 10, 10]]
    pred = [[0, 0, 10, 10], [1, 0, 11, 10]]
    gm, pm = match_greedy(gt, pred, [0.6, 0.9], 0.5)
    assert gm.tolist() == [1] and pm.tolist() == [-1, 0]


def test_greedy_by_score_not_global_optimum():
    # A (0.9) overlaps GT0 at 0.54 and GT1 at 0.82; B (0.8) overlaps GT1 at 0.82, GT0 at 0.33.
    # Greedy by score: A takes GT1 (its best), B finds GT1 taken, GT0 stays a miss, although
    # A->GT0, B->GT1 would match both. This is the COCO/VOC protocol, pinned here.
    gt = [[0, 0, 10, 10], [4, 0, 14, 10]]
    pred = [[3, 0, 13, 10], [5, 0, 15, 10]]
    assert iou_matrix(gt, pred) == pytest.approx(np.array([[70 / 130, 50 / 150], [90 / 110, 90 / 110]]))
    gm, pm = match_greedy(gt, pred, [0.9, 0.8], 0.5)
    assert gm.tolist() == [-1, 0] and pm.tolist() == [1, -1]


def test_threshold_is_inclusive_and_ties_are_stable():
    gt = [[0, 0, 10, 10], [0, 0, 10, 10]]
    pred = [[5, 0, 15, 10], [0, 0, 10, 10]]
    gm, pm = match_greedy([[0, 0, 10, 10]], [[0, 0, 10, 5]], [1.0], 0.5)  # IoU exactly 0.5
    assert gm.tolist() == [0]
    gm, pm = match_greedy(gt, pred, [0.5, 0.5], 0.3)
    # Equal scores: input order; equal IoU: lower ground-truth index.
    assert pm.tolist() == [0, 1]
    with pytest.raises(ValidationError, match="iou_threshold"):
        match_greedy(gt, pred, [0.5, 0.5], 0.0)
    with pytest.raises(ValidationError, match="one per prediction"):
        match_greedy(gt, pred, [0.5], 0.5)


def test_count_detections_box_level_attributes():
    img = GroundTruthImage(
        key="a.jpg",
        boxes=np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]], float),
        box_attributes=({"blur": "0"}, {"blur": "2"}, {"blur": "2"}, {"blur": "0"}),
        attributes={"camera": "dash"},
        ignore=(False, False, False, True),
    )
    pred = PredictedImage(
        "a.jpg",
        np.array(
            [[0, 0, 10, 10], [20, 0, 30, 10], [61, 0, 70, 10], [200, 0, 210, 10], [40, 0, 50, 10]], float
        ),
        np.array([0.9, 0.8, 0.7, 0.6, 0.1]),
    )
    counts, unavailable = count_detections([img], {"a.jpg": pred}, ["blur", "camera"], score_threshold=0.5)
    # blur 0: one hit (the ignored box is not counted); blur 2: one hit, one miss (the 0.1 box is dropped).
    assert counts["blur"] == {"0": Counts(tp=1), "2": Counts(tp=1, fn=1)}
    # camera is image-level: the false positive at x=200 is attributed; the one on the ignored box is not.
    assert counts["camera"] == {"dash": Counts(tp=2, fn=1, fp=1)}
    assert "precision" in unavailable["blur"] and "precision" not in unavailable["camera"]
    assert "fpr" in unavailable["camera"]


def test_count_detections_missing_predictions_and_attributes():
    gts = [
        GroundTruthImage("a.jpg", np.array([[0, 0, 10, 10]], float), ({"pose": "1"},)),
        GroundTruthImage("b.jpg", np.array([[0, 0, 10, 10], [5, 5, 9, 9]], float), ({}, {"pose": "0"})),
    ]
    counts, _ = count_detections(gts, {}, ["pose"])
    assert counts["pose"] == {"(missing)": Counts(fn=1), "0": Counts(fn=1), "1": Counts(fn=1)}
