"""The one home of box overlap, matching rules and size buckets, checked against naive references."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import veilcv
from veilcv.core.geometry import (
    SIZE_BUCKETS,
    found_mask,
    intersection_matrix,
    iou_matrix,
    size_bucket,
    size_buckets,
)
from veilcv.errors import ValidationError


def _naive_iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])  # noqa: E731
    union = area(a) + area(b) - w * h
    return w * h / union if union > 0 else 0.0


def test_iou_matches_the_naive_reference_on_edge_cases() -> None:
    rng = np.random.default_rng(0)
    random = (
        np.sort(rng.uniform(-5, 60, (20, 2, 2)), axis=1).transpose(0, 2, 1).reshape(20, 4)[:, [0, 2, 1, 3]]
    )
    edge = np.array(
        [
            [0, 0, 10, 10],
            [10, 0, 20, 10],
            [0, 0, 0, 10],
            [5, 5, 5, 5],
            [8, 8, 2, 2],
            [0, 0, 10, 10],
            [-3, -3, 1, 1],
        ],
        np.float64,
    )  # touching, zero-area, a point, inverted, a duplicate, partly outside
    boxes = np.vstack([edge, random])
    want = np.array([[_naive_iou(a, b) for b in boxes.tolist()] for a in boxes.tolist()])
    np.testing.assert_allclose(iou_matrix(boxes, boxes), want, rtol=0, atol=1e-12)
    assert intersection_matrix(edge[:1], edge[1:2])[0, 0] == 0.0  # half-open: touching is no overlap
    assert iou_matrix(np.zeros((0, 4)), boxes).shape == (0, len(boxes))


def test_invalid_boxes_are_refused_with_the_name() -> None:
    with pytest.raises(ValidationError, match=r"a: expected an \(N, 4\) array"):
        iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValidationError, match="b: expected finite coordinates"):
        iou_matrix([[0, 0, 1, 1]], [[0, 0, np.inf, 1]])


def test_size_buckets_are_by_the_longest_side_half_open() -> None:
    boxes = [[0, 0, 15.9, 15.9], [0, 0, 16, 3], [0, 0, 3, 31.9], [0, 0, 10, 32], [0, 0, 63, 1], [0, 0, 64, 1]]
    assert size_buckets(boxes) == ["<16", "16-31", "16-31", "32-63", "32-63", ">=64"]
    assert [size_bucket(b) for b in boxes] == size_buckets(boxes)
    assert size_bucket([9, 9, 1, 1]) == "<16"  # an inverted box has no size
    assert [b[0] for b in SIZE_BUCKETS] == ["<16", "16-31", "32-63", ">=64"]


def test_found_mask_by_iou_or_by_covering_most_of_the_box() -> None:
    gt = [[0, 0, 10, 10], [100, 100, 110, 110], [200, 200, 300, 300], [400, 400, 410, 410]]
    pred = [[2, 0, 12, 10], [95, 95, 130, 130], [200, 200, 230, 230]]
    # IoU 0.67; covered wholly by a larger box (IoU 0.08); IoU 0.09 and 9 % covered; nothing near.
    assert found_mask(gt, pred).tolist() == [True, True, False, False]
    assert found_mask(gt, np.zeros((0, 4))).tolist() == [False] * 4


def test_no_other_module_implements_iou_or_size_buckets() -> None:
    package = Path(veilcv.__file__).resolve().parent
    home = package / "core" / "geometry.py"
    # Face-size buckets and box overlap belong to images: core, evaluation and reports (not storage buckets).
    files = [
        p for layer in ("core", "evaluation", "reports") for p in sorted((package / layer).rglob("*.py"))
    ]
    names = {"iou_matrix", "intersection_matrix", "match_greedy", "found_mask", "bucket_of", "size_bucket"}
    found = [
        f"{path.relative_to(package)}: {node.name}"
        for path in files
        if path != home
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.FunctionDef) and (node.name in names or node.name.endswith("BUCKETS"))
    ]
    found += [
        f"{path.relative_to(package)}: {target.id}"
        for path in files
        if path != home
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and target.id.endswith("BUCKETS")
    ]
    assert found == []
