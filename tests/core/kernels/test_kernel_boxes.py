"""clip_boxes and scale_boxes: half-open clipping that drops nothing, outward rounding, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_helpers import KERNEL_SETTINGS, edge_boxes

from veilcv.core.kernels import black_box, clip_boxes, scale_boxes
from veilcv.errors import ValidationError


def test_clip_keeps_every_box_and_zeroes_outside_ones():
    got = clip_boxes(edge_boxes(10, 20), (10, 20, 3))
    assert got.dtype == np.int32 and got.shape == (16, 4)
    assert got.tolist() == [
        [0, 0, 20, 10],
        [0, 0, 3, 4],
        [17, 8, 20, 10],
        [0, 2, 4, 10],
        [2, 0, 20, 3],
        [19, 0, 20, 10],
        [0, 9, 20, 10],
        [20, 0, 20, 10],
        [0, 0, 0, 0],
        [0, 10, 20, 10],
        [3, 3, 3, 9],
        [4, 4, 9, 4],
        [9, 9, 9, 9],
        [2, 1, 8, 7],
        [5, 4, 12, 10],
        [0, 0, 20, 10],
    ]


def test_clipped_boxes_redact_exactly_what_raw_boxes_do():
    img = np.arange(10 * 20, dtype=np.uint8).reshape(10, 20)
    raw = black_box(img.copy(), edge_boxes(10, 20)[1:], color=255)
    clipped = black_box(img.copy(), clip_boxes(edge_boxes(10, 20)[1:], img.shape), color=255)
    np.testing.assert_array_equal(raw, clipped)


def test_clip_rounds_float_boxes_outward():
    got = clip_boxes(
        np.array([[1.2, 1.9, 5.1, 6.0], [-3.5, 2.0000000000001, 2.5, 3.9999999999999]]), (10, 10)
    )
    assert got.tolist() == [[1, 1, 6, 6], [0, 2, 3, 4]]


def test_scale_grows_about_the_centre_rounding_outward():
    boxes = np.array([[10, 10, 20, 30], [0, 0, 10, 10], [95, 95, 99, 99], [5, 5, 5, 9], [8, 8, 4, 4]])
    got = scale_boxes(boxes, 1.3, (100, 100))
    # 10 wide -> 13: centre 15 +- 6.5 -> [8.5, 21.5] -> [8, 22); 20 tall -> 26: 20 +- 13 -> [7, 33).
    assert got.tolist()[0] == [8, 7, 22, 33]
    assert got.tolist()[1] == [0, 0, 12, 12]
    assert got.tolist()[2] == [94, 94, 100, 100]
    assert got[3, 0] == got[3, 2] and got[4, 0] == got[4, 2]  # empty and inverted stay empty
    # Binary rounding must not add a pixel: 10 * 1.2 = 12.000000000000002.
    assert scale_boxes([[0, 0, 10, 10]], 1.2, (50, 50)).tolist() == [[0, 0, 11, 11]]
    assert scale_boxes([[20, 20, 30, 30]], 1.2, (50, 50)).tolist() == [[19, 19, 31, 31]]
    assert scale_boxes([[20, 20, 30, 30]], 1.0, (50, 50)).tolist() == [[20, 20, 30, 30]]
    assert scale_boxes(np.array([[20.5, 20.5, 29.5, 29.5]], np.float32), 1.0, (50, 50)).tolist() == [
        [20, 20, 30, 30]
    ]


def test_scale_far_away_huge_float_boxes_do_not_overflow():
    got = scale_boxes(np.array([[-1e30, -1e30, 1e30, 1e30], [1e20, 0, 2e20, 5]]), 2.0, (7, 9))
    assert got.tolist() == [[0, 0, 9, 7], [9, 0, 9, 7]]


@KERNEL_SETTINGS
@given(
    st.lists(st.tuples(*[st.integers(-50, 80)] * 4), max_size=6),
    st.floats(0.1, 4.0),
    st.integers(1, 40),
    st.integers(1, 40),
)
def test_scale_contains_the_scaled_box_and_clip_is_idempotent(boxes, factor, h, w):
    arr = np.array(boxes, np.int64).reshape(-1, 4)
    got = scale_boxes(arr, factor, (h, w))
    assert got.shape == arr.shape and got.dtype == np.int32
    np.testing.assert_array_equal(clip_boxes(got, (h, w)), got)
    for (x0, y0, x1, y1), (gx0, gy0, gx1, gy1) in zip(arr.tolist(), got.tolist(), strict=True):
        assert 0 <= gx0 <= gx1 <= w and 0 <= gy0 <= gy1 <= h
        if x1 > x0 and y1 > y0:
            cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * factor / 2, (y1 - y0) * factor / 2
            # Outward: every pixel whose centre the scaled box covers is inside the result.
            for x in range(w):
                if cx - hw <= x + 0.5 <= cx + hw:
                    assert gx0 <= x < gx1
            for y in range(h):
                if cy - hh <= y + 0.5 <= cy + hh:
                    assert gy0 <= y < gy1
            # And by at most one pixel per side beyond the exact scaled box.
            assert gx0 >= min(max(np.floor(cx - hw) - 1, 0), w) and gx1 <= max(
                min(np.ceil(cx + hw) + 1, w), 0
            )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: clip_boxes([[0, 0, 1]], (4, 4)), r"boxes: expected shape \(N, 4\)"),
        (
            lambda: clip_boxes([["a", 0, 1, 1]], (4, 4)),
            "boxes: expected integer or float coordinates, got dtype <U",
        ),
        (
            lambda: clip_boxes([[0, 0, np.nan, 1]], (4, 4)),
            "boxes: expected finite coordinates, got NaN or infinity",
        ),
        (
            lambda: clip_boxes([[0, 0, 1, 1]], (4,)),
            r"shape: expected an image shape \(H, W\) or \(H, W, C\), got \(4,\)",
        ),
        (lambda: clip_boxes([[0, 0, 1, 1]], (4, -1)), "shape: expected non-negative int32 H and W"),
        (lambda: scale_boxes([[0, 0, 1, 1]], 0, (4, 4)), "factor: expected a finite number > 0, got 0"),
        (
            lambda: scale_boxes([[0, 0, 1, 1]], float("inf"), (4, 4)),
            "factor: expected a finite number > 0, got inf",
        ),
        (lambda: scale_boxes([[0, 0, 1, 1]], "2", (4, 4)), "factor: expected a finite number > 0, got '2'"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValidationError, match=message):
        call()


def test_empty_input():
    assert clip_boxes([], (3, 3)).shape == (0, 4)
    assert scale_boxes(np.zeros((0, 4), np.float32), 1.3, (3, 3)).shape == (0, 4)
