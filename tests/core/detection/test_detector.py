"""The detectors with the real models: API contract, precision pinning, batching, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from veilcv.core.detection import Detections, TilingConfig, load_detector
from veilcv.core.detection.adapter import cpu_precisions, resolve_precision
from veilcv.errors import ModelError, ValidationError

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def face(face_model):
    return load_detector("face", threshold=0.5, precision="f32")


def test_face_on_a_public_domain_photo(face, astronaut):
    dets = face.detect(astronaut)
    assert isinstance(dets, Detections) and dets.labels == ("face",)
    assert dets.boxes.dtype == np.float32 and dets.landmarks.shape == (1, 5, 2)
    x0, y0, x1, y1 = dets.boxes[0]
    # The astronaut's face spans roughly x 175-275, y 55-180 of the 512 x 512 photo.
    assert 150 < x0 < 200 and 30 < y0 < 80 and 250 < x1 < 300 and 150 < y1 < 210
    assert dets.scores[0] > 0.8
    eyes = dets.landmarks[0, :2]
    assert ((eyes[:, 0] > x0) & (eyes[:, 0] < x1) & (eyes[:, 1] > y0) & (eyes[:, 1] < y1)).all()


def test_padding_not_stretching_keeps_boxes_in_place(face, astronaut):
    # Same face on a wide canvas whose size is not a multiple of 32: the box must move with it.
    canvas = np.zeros((530, 1111, 3), np.uint8)
    canvas[7 : 7 + 512, 301 : 301 + 512] = astronaut
    whole = load_detector("face", precision="f32", tiling=TilingConfig(enabled=False))
    a, b = whole.detect(astronaut), whole.detect(canvas)
    assert len(b) == 1
    np.testing.assert_allclose(b.boxes[0], a.boxes[0] + [301, 7, 301, 7], atol=2.0)
    tiled = face.detect(canvas)  # with fine tiles the merged box may come from another pass
    assert len(tiled) == 1
    np.testing.assert_allclose(tiled.boxes[0], a.boxes[0] + [301, 7, 301, 7], atol=12.0)


def test_whole_frame_pass_is_the_untiled_detector(face, astronaut):
    # A 1080p frame plans fine tiles; whole_frame=True must run the first pass only, i.e. give
    # what the same model without tiling gives, and skip work (fewer passes).
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    canvas[300 : 300 + 512, 700 : 700 + 512] = astronaut
    assert len(face.plan(1080, 1920)) > 1
    assert len(load_detector("face", precision="f32", small_objects=False).plan(1080, 1920)) == 1
    untiled = TilingConfig(enabled=False, max_side=face.tiling.max_side)
    whole = load_detector("face", threshold=0.5, precision="f32", tiling=untiled)
    a, b = face.detect(canvas, whole_frame=True), whole.detect(canvas)
    assert len(a) == len(b) == 1
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)


def test_detect_many_equals_detect_in_order(face, astronaut):
    rng = np.random.default_rng(0)
    images = [astronaut, rng.integers(0, 255, (240, 320, 3), np.uint8), astronaut[::2, ::2].copy(), astronaut]
    one = [face.detect(im) for im in images]
    many = list(face.detect_many(iter(images)))
    assert [len(d) for d in many] == [len(d) for d in one]
    for x, y in zip(one, many, strict=True):
        np.testing.assert_allclose(x.boxes, y.boxes, atol=1e-3)


def test_boxes_are_clipped_to_the_image(face, astronaut):
    crop = np.ascontiguousarray(astronaut[100:, 200:])  # face cut by the top-left edge
    dets = face.detect(crop)
    assert len(dets) >= 1
    h, w = crop.shape[:2]
    assert (dets.boxes[:, 0] >= 0).all() and (dets.boxes[:, 1] >= 0).all()
    assert (dets.boxes[:, 2] <= w).all() and (dets.boxes[:, 3] <= h).all()


def test_precision_is_pinned_and_reported(face):
    assert face.info["precision"] == "f32"
    assert face.adapter.actual_precision() == "f32"
    assert set(face.info) >= {"name", "sha256", "task", "precision", "input_policy"}
    auto = resolve_precision("auto", ("bf16", "f32"))
    assert auto == ("bf16" if "bf16" in cpu_precisions() else "f32")


def test_unsupported_precision_is_refused(face_model):
    missing = [p for p in ("bf16", "f16") if p not in cpu_precisions()]
    if not missing:
        pytest.skip("this CPU runs every precision natively")
    with pytest.raises(ModelError, match=f"precision {missing[0]} is not supported natively"):
        load_detector("face", precision=missing[0])
    with pytest.raises(ModelError, match="expected one of auto"):
        load_detector("face", precision="int4")


def test_bad_images_are_refused(face):
    with pytest.raises(ValidationError, match="expected a uint8 ndarray"):
        face.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValidationError, match=r"expected shape \(H, W, 3\)"):
        face.detect(np.zeros((10, 10, 2), np.uint8))
    assert len(face.detect(np.zeros((1, 1), np.uint8))) == 0  # grey and 1x1 are fine
    assert len(face.detect(np.zeros((20, 30, 4), np.uint8))) == 0


def test_static_shapes_and_no_tiling_agree_on_a_large_face(face_model, astronaut):
    static = load_detector("face", precision="f32", shape_mode="static", tiling=TilingConfig(enabled=False))
    dets = static.detect(astronaut)
    assert len(dets) == 1 and static.adapter.shape_mode == "static"
    assert static.plan(*astronaut.shape[:2])[0].scale == 1.0


def test_text_and_plate_detectors(text_model):
    import cv2

    img = np.full((200, 600, 3), 255, np.uint8)
    cv2.putText(img, "ABC 1234", (60, 130), cv2.FONT_HERSHEY_SIMPLEX, 2.5, (0, 0, 0), 6)
    text = load_detector("text", precision="f32").detect(img)
    plate = load_detector("plate", precision="f32").detect(img)
    assert len(text) >= 1 and set(text.labels) == {"text"}
    assert len(plate) == 1 and plate.labels == ("plate",)
    x0, y0, x1, y1 = plate.boxes[0]
    # The ink spans x 61-415, y 78-130; the plate box covers the whole line with a margin.
    assert x0 < 55 and x1 > 420 and y0 < 70 and y1 > 140
    blank = load_detector("plate", precision="f32").detect(np.full((200, 600, 3), 255, np.uint8))
    assert len(blank) == 0


def test_a_failing_decoder_in_detect_many_is_an_error_not_an_empty_result(face_model, astronaut, monkeypatch):
    from veilcv.errors import DetectionError

    det = load_detector("face", precision="f32", tiling=TilingConfig(enabled=False))

    def broken(*args, **kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(det, "_post", broken)
    with pytest.raises(DetectionError, match="decoder exploded"):
        list(det.detect_many([astronaut, astronaut]))


def test_static_mode_bounds_its_compiled_shapes(face_model):
    from veilcv.core.detection.adapter import MAX_STATIC_SHAPES

    det = load_detector("face", precision="f32", shape_mode="static", tiling=TilingConfig(enabled=False))
    for i in range(MAX_STATIC_SHAPES + 2):
        det.detect(np.zeros((32, 32 * (i + 1), 3), np.uint8))
    assert len(det.adapter._compiled) == MAX_STATIC_SHAPES
