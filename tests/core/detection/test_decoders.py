"""Golden tests: every decoder on synthetic output tensors whose right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from veilcv.core.detection.decoders import (
    decode_centerface,
    decode_dbnet,
    decode_ssd,
    decode_yolo,
    plate_like,
)
from veilcv.core.detection.decoders.dbnet import grow_boxes, merge_text_lines
from veilcv.errors import ValidationError


def _centerface_maps(h: int = 16, w: int = 20):
    heat = np.zeros((1, 1, h, w), np.float32)
    scale = np.zeros((1, 2, h, w), np.float32)
    offset = np.zeros((1, 2, h, w), np.float32)
    lms = np.zeros((1, 10, h, w), np.float32)
    return heat, scale, offset, lms


def test_centerface_one_face_exact_box_and_landmarks():
    heat, scale, offset, lms = _centerface_maps()
    heat[0, 0, 5, 7] = 0.9
    scale[0, :, 5, 7] = [math.log(10.0), math.log(8.0)]  # h = 40 px, w = 32 px
    offset[0, :, 5, 7] = [0.25, -0.5]  # y, x
    lms[0, 0::2, 5, 7] = 0.5  # landmark y at half height
    lms[0, 1::2, 5, 7] = [0.0, 1.0, 0.5, 0.25, 0.75]  # landmark x fractions
    boxes, scores, pts = decode_centerface(heat, scale, offset, lms, threshold=0.5)
    cx, cy = (7 - 0.5 + 0.5) * 4, (5 + 0.25 + 0.5) * 4  # 28, 23
    np.testing.assert_allclose(boxes, [[cx - 16, cy - 20, cx + 16, cy + 20]], rtol=0, atol=1e-4)
    np.testing.assert_allclose(scores, [0.9], atol=1e-6)
    np.testing.assert_allclose(pts[0, :, 0], 12 + 32 * np.array([0.0, 1.0, 0.5, 0.25, 0.75]), atol=1e-4)
    np.testing.assert_allclose(pts[0, :, 1], 3 + 20.0, atol=1e-4)


def test_centerface_threshold_and_nms():
    heat, scale, offset, lms = _centerface_maps()
    scale[:] = math.log(8.0)  # 32 px boxes everywhere
    heat[0, 0, 5, 5] = 0.95
    heat[0, 0, 5, 6] = 0.8  # 4 px away: IoU 0.78 -> suppressed
    heat[0, 0, 12, 15] = 0.6  # far away: kept
    heat[0, 0, 1, 1] = 0.4  # below threshold
    boxes, scores, _ = decode_centerface(heat, scale, offset, lms, threshold=0.5, nms_iou=0.3)
    np.testing.assert_allclose(scores, [0.95, 0.6], atol=1e-6)
    np.testing.assert_allclose(boxes[:, 0], [(5.5 * 4) - 16, (15.5 * 4) - 16], atol=1e-4)


def test_centerface_empty_and_bad_shapes():
    heat, scale, offset, lms = _centerface_maps()
    boxes, scores, pts = decode_centerface(heat, scale, offset, lms)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and pts.shape == (0, 5, 2)
    with pytest.raises(ValidationError, match="expected shape"):
        decode_centerface(heat, scale[:, :1], offset, lms)
    with pytest.raises(ValidationError, match="expected all CenterFace maps"):
        decode_centerface(heat, scale[..., :-1], offset, lms)


def test_ssd_rows_scaled_thresholded_and_terminated():
    out = np.zeros((1, 1, 5, 7), np.float32)
    out[0, 0, 0] = [0, 1, 0.9, 0.1, 0.2, 0.5, 0.6]
    out[0, 0, 1] = [0, 2, 0.7, 0.0, 0.0, 1.0, 1.0]
    out[0, 0, 2] = [0, 1, 0.3, 0.1, 0.1, 0.2, 0.2]  # below threshold
    out[0, 0, 3] = [-1, 0, 0, 0, 0, 0, 0]  # end marker
    out[0, 0, 4] = [0, 1, 0.99, 0.0, 0.0, 0.5, 0.5]  # after the end: padding
    boxes, scores, ids = decode_ssd(out, input_hw=(100, 200), threshold=0.5)
    np.testing.assert_allclose(boxes, [[20, 20, 100, 60], [0, 0, 200, 100]], atol=1e-4)
    np.testing.assert_allclose(scores, [0.9, 0.7])
    assert ids.tolist() == [1, 2]
    boxes, _, ids = decode_ssd(out, input_hw=(100, 200), threshold=0.5, labels=(2,))
    assert ids.tolist() == [2] and boxes.shape == (1, 4)
    with pytest.raises(ValidationError, match=r"\(1, 1, N, 7\)"):
        decode_ssd(out[0], input_hw=(1, 1))


def test_yolo_centre_size_to_corners_class_aware_nms():
    # Columns: anchors. Rows: cx, cy, w, h, class0, class1.
    cols = [
        [50, 50, 20, 10, 0.9, 0.1],  # class 0, best
        [52, 50, 20, 10, 0.8, 0.0],  # class 0, overlaps the first: suppressed
        [51, 50, 20, 10, 0.0, 0.7],  # class 1 at the same place: kept (other class)
        [10, 10, 4, 4, 0.2, 0.1],  # below threshold
    ]
    out = np.asarray(cols, np.float32).T[None]
    boxes, scores, ids = decode_yolo(out, threshold=0.25, nms_iou=0.45)
    np.testing.assert_allclose(boxes, [[40, 45, 60, 55], [41, 45, 61, 55]], atol=1e-4)
    np.testing.assert_allclose(scores, [0.9, 0.7], atol=1e-6)
    assert ids.tolist() == [0, 1]
    _, _, ids = decode_yolo(out, threshold=0.25, labels=(1,))
    assert ids.tolist() == [1]
    with pytest.raises(ValidationError, match="4 \\+ classes"):
        decode_yolo(out[0])


def test_dbnet_rectangle_unclipped_by_ratio():
    prob = np.zeros((1, 1, 40, 100), np.float32)
    prob[0, 0, 10:20, 20:60] = 0.9  # a 40 x 10 px text kernel
    boxes, scores, quads = decode_dbnet(prob, unclip_ratio=1.6)
    d = 40 * 10 * 1.6 / (2 * (40 + 10))  # 6.4 px on every side
    np.testing.assert_allclose(boxes, [[20 - d, 10 - d, 60 + d, 20 + d]], atol=1e-3)
    np.testing.assert_allclose(scores, [0.9], atol=1e-5)
    assert quads.shape == (1, 4, 2)


def test_dbnet_rotated_region_gives_rotated_quad():
    import cv2

    mask = np.zeros((200, 200), np.uint8)
    corners = cv2.boxPoints(((100, 100), (120, 20), 30.0)).astype(np.int32)
    cv2.fillPoly(mask, [corners], 1)
    _, _, quads = decode_dbnet(mask.astype(np.float32), unclip_ratio=0.0)
    sides = sorted(np.linalg.norm(quads[0] - np.roll(quads[0], 1, axis=0), axis=1))
    assert abs(sides[-1] - 121) < 4 and abs(sides[0] - 21) < 4  # pixel squares add ~1 px


def test_dbnet_thresholds_and_small_regions():
    prob = np.zeros((50, 50), np.float32)
    prob[5:15, 5:40] = 0.4  # above bin_thresh, mean below box_thresh
    prob[30:32, 5:40] = 0.9  # 2 px high: below min_side
    boxes, _, _ = decode_dbnet(prob, bin_thresh=0.3, box_thresh=0.5, min_side=3)
    assert boxes.shape == (0, 4)
    boxes, _, _ = decode_dbnet(prob, bin_thresh=0.3, box_thresh=0.35, min_side=3)
    assert boxes.shape == (1, 4)
    with pytest.raises(ValidationError):
        decode_dbnet(np.zeros((2, 3, 4, 5), np.float32))


def test_plate_shape_filter_merge_and_grow():
    def quad(x0, y0, x1, y1):
        return [[x1, y1], [x0, y1], [x0, y0], [x1, y0]]

    quads = np.asarray(
        [quad(0, 0, 90, 30), quad(0, 0, 30, 30), quad(0, 0, 400, 20), quad(0, 0, 20, 4)], np.float32
    )
    assert plate_like(quads, min_aspect=1.5, max_aspect=8.0, min_height=6).tolist() == [
        True,
        False,
        False,
        False,
    ]
    # "ABC" and "1234" split by a gap: joined into one plate-shaped line; a far box is not.
    boxes = np.asarray([[10, 10, 40, 30], [50, 11, 90, 31], [300, 10, 330, 30]], np.float32)
    b, s, q = merge_text_lines(
        boxes, np.asarray([0.6, 0.9, 0.7], np.float32), np.zeros((3, 4, 2), np.float32)
    )
    np.testing.assert_allclose(b, [[10, 10, 90, 31], [300, 10, 330, 30]])
    np.testing.assert_allclose(s, [0.9, 0.7])
    assert plate_like(q).tolist() == [True, False]
    np.testing.assert_allclose(grow_boxes(b[:1], 0.1, 0.5), [[2, -0.5, 98, 41.5]])


def test_plate_lines_run_along_the_car_and_nested_lines_join_their_plate() -> None:
    from veilcv.core.detection.decoders.dbnet import merge_nested, plate_like

    def quad(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
        return [[x1, y1], [x0, y1], [x0, y0], [x1, y0]]

    flat = quad(0, 0, 80, 20)  # 4:1, horizontal: a plate's line
    upright = quad(0, 0, 20, 80)  # the same line standing up: vertical lettering
    banner = quad(0, 0, 200, 20)  # 10:1: a shop sign
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    tilted = [[80 * c, 80 * s], [80 * c - 20 * s, 80 * s + 20 * c], [-20 * s, 20 * c], [0, 0]]  # 30 degrees
    got = plate_like(np.array([flat, upright, banner, tilted], np.float64))
    assert got.tolist() == [True, False, False, False]
    assert plate_like(np.array([tilted]), max_tilt=45.0).tolist() == [True]

    # the main line 200x20 and a city band 60x30 mostly inside it: one region, their union
    boxes, keep = merge_nested(np.array([[0, 0, 200, 20], [50, 4, 110, 34], [300, 0, 360, 20]], np.float32))
    assert keep.tolist() == [True, False, True]
    assert boxes.tolist() == [[0, 0, 200, 34], [300, 0, 360, 20]]
