"""The usual alternatives and where they go wrong; each test shows the kernel getting it right."""

from __future__ import annotations

import cv2
import numpy as np
from kernel_reference import in_ellipse
from kernel_reference import pixelate as ref_pixelate

from veilcv.core.kernels import black_box, pixelate


def cv2_pixelate(img: np.ndarray, box, cells: int) -> np.ndarray:
    """The common recipe: INTER_AREA down to the cell grid, INTER_NEAREST back up."""
    x0, y0, x1, y1 = box
    roi = img[y0:y1, x0:x1]
    h, w = roi.shape[:2]
    k = -(-min(w, h) // cells)
    small = cv2.resize(roi, (-(-w // k), -(-h // k)), interpolation=cv2.INTER_AREA)
    out = img.copy()
    out[y0:y1, x0:x1] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return out


def test_cv2_resize_mosaic_is_not_the_block_mean_unless_the_box_is_a_multiple_of_the_cell():
    img = np.random.default_rng(0).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    for box in [(10, 10, 131, 107), (3, 7, 63, 67), (0, 0, 61, 47)]:
        x0, y0, x1, y1 = box
        ours = pixelate(img.copy(), [box], cells=8)
        np.testing.assert_array_equal(ours, ref_pixelate(img, [box], 8))
        wrong = np.mean(cv2_pixelate(img, box, 8)[y0:y1, x0:x1] != ours[y0:y1, x0:x1])
        assert wrong > 0.2, (box, wrong)
    # A box that is a whole number of cells: cv2 agrees except for round-half ties (cvRound is half-even).
    box = (0, 0, 120, 96)
    ours = pixelate(img.copy(), [box], cells=8)
    assert np.mean(cv2_pixelate(img, box, 8) != ours) < 0.02


def test_numpy_reshape_mean_leaves_right_and_bottom_strips_untouched():
    img = np.random.default_rng(1).integers(0, 256, (37, 45, 3), dtype=np.uint8)
    k = 8
    idiom = img.copy()
    hh, ww = img.shape[0] // k * k, img.shape[1] // k * k
    means = img[:hh, :ww].reshape(hh // k, k, ww // k, k, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    idiom[:hh, :ww] = means.repeat(k, 0).repeat(k, 1)
    np.testing.assert_array_equal(idiom[hh:], img[hh:])  # the pitfall: strips keep the original pixels
    np.testing.assert_array_equal(idiom[:, ww:], img[:, ww:])

    ours = pixelate(img.copy(), [[0, 0, 45, 37]], cells=5)  # k = ceil(37 / 5) = 8, ragged last cells
    np.testing.assert_array_equal(ours, ref_pixelate(img, [[0, 0, 45, 37]], 5))
    strip = ours[32:, 40:].astype(int)
    assert (strip == strip[0, 0]).all()
    block = img[32:, 40:].astype(int)
    assert (strip[0, 0] == (2 * block.sum((0, 1)) + block[..., 0].size) // (2 * block[..., 0].size)).all()


def test_unclipped_negative_slice_changes_nothing_but_the_kernel_clips():
    img = np.full((100, 100, 3), 200, np.uint8)
    naive = img.copy()
    naive[-20:40, -20:40] = 0  # -20 means row 80: the slice 80:40 is empty
    np.testing.assert_array_equal(naive, img)
    ours = black_box(img.copy(), [[-20, -20, 40, 40]])
    assert (ours[:40, :40] == 0).all() and (ours[40:] == 200).all() and (ours[:, 40:] == 200).all()


def test_cv2_ellipse_paints_outside_even_sized_boxes_but_the_kernel_stays_inside():
    x0, y0, x1, y1 = 10, 10, 20, 16  # 10 x 6, even sizes
    canvas = np.zeros((30, 30), np.uint8)
    cv2.ellipse(
        canvas, ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2), 0, 0, 360, 255, -1
    )
    outside = canvas.copy()
    outside[y0:y1, x0:x1] = 0
    assert outside.any()  # column x1 and/or row y1 got paint
    ours = black_box(np.zeros((30, 30), np.uint8), [[x0, y0, x1, y1]], color=255, shape="ellipse")
    inside = np.zeros_like(ours)
    inside[y0:y1, x0:x1] = ours[y0:y1, x0:x1]
    np.testing.assert_array_equal(inside, ours)
    expect = np.array([[in_ellipse(x, y, (x0, y0, x1, y1)) for x in range(30)] for y in range(30)]) * 255
    np.testing.assert_array_equal(ours, expect.astype(np.uint8))
