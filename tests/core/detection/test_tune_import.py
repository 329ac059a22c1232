"""`veil tune` internals (measure, choose, profile round trip) and importing the user's own models."""

from __future__ import annotations

import numpy as np
import openvino as ov
import pytest
import yaml

from veilcv.core.detection import load_detector, registry, tune
from veilcv.core.detection.imports import import_model
from veilcv.core.detection.profile import load_profile
from veilcv.errors import InputError, ModelError, ValidationError


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    d = tmp_path / "models"
    monkeypatch.setenv(registry.ENV_MODEL_DIR, str(d))
    return d


def _row(prec, tiling, ips, agreement):
    return tune.Row(tune.Config(prec, "dynamic", 1, 2, tiling), ips, 1000 / ips, 3, agreement)


def test_choose_fastest_that_keeps_agreement():
    rows = [_row("f32", "auto", 10, 1.0), _row("bf16", "auto", 25, 0.99), _row("bf16", "off", 60, 0.7)]
    assert tune.choose(rows, min_agreement=0.98).config == tune.Config("bf16", "dynamic", 1, 2, "auto")
    assert tune.choose(rows, min_agreement=0.5).config.tiling == "off"
    with pytest.raises(ValidationError, match="no configuration reached agreement 0.999"):
        tune.choose(rows[1:], min_agreement=0.999)


def test_sample_images_generated_and_from_files(tmp_path):
    gen = tune.sample_images(limit=4)
    assert [im.shape for im in gen[:3]] == [(480, 640, 3), (720, 1280, 3), (1080, 1920, 3)]
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), gen[0])
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match=r"b\.jpg: cannot decode the image"):
        tune.sample_images([tmp_path])
    (tmp_path / "b.jpg").unlink()
    assert len(tune.sample_images([tmp_path])) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="found none"):
        tune.sample_images([tmp_path / "empty"])


@pytest.mark.model
def test_measure_write_profile_and_load_it(face_model, astronaut, tmp_path):
    images = [astronaut, np.ascontiguousarray(astronaut[::2, ::2])]
    configs = tune.grid(
        precisions=["f32"], shape_modes=["dynamic"], streams=[1], nireqs=[1, 2], tilings=["off"]
    )
    seen = []
    rows = tune.measure("face", images, configs, on_row=seen.append)
    assert len(rows) == len(seen) == 2
    assert all(r.agreement == 1.0 and r.regions == 2 and r.images_per_s > 0 for r in rows)
    best = tune.choose(rows)
    path = tmp_path / "profile.yaml"
    tune.write_profile(path, "face", "centerface", best, rows, len(images))
    data = yaml.safe_load(path.read_text())
    assert data["veilcv_profile"] == 1 and len(data["detectors"]["face"]["measured"]) == 2
    section = load_profile(path, "face", "centerface")
    assert section["precision"] == "f32" and section["tiling"] == {"enabled": False}
    det = load_detector("face", profile=path)
    assert (
        det.info["precision"] == "f32" and not det.tiling.enabled and det.adapter.nireq == best.config.nireq
    )
    assert load_profile(path, "plate", "ppocrv4-det") == {}


def test_bad_profiles_are_refused(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("veilcv_profile: 7\n")
    with pytest.raises(ModelError, match="expected veilcv_profile: 1, got 7"):
        load_profile(p, "face", "centerface")
    p.write_text("veilcv_profile: 1\ndetectors: {face: {precision: f32, turbo: true}}\n")
    with pytest.raises(ModelError, match=r"detectors\.face: unknown keys \['turbo'\]"):
        load_profile(p, "face", "centerface")
    with pytest.raises(ModelError, match="cannot read the profile"):
        load_profile(tmp_path / "missing.yaml", "face", "centerface")


def _yolo_ir(tmp_path, box=(32.0, 16.0, 16.0, 8.0)):
    """A real OpenVINO IR with a YOLO head [1, 4 + 2, 3]: one confident plate box, input-dependent."""
    from openvino import opset13 as ops

    x = ops.parameter([1, 3, 64, 64], ov.Type.f32, name="images")
    zero = ops.multiply(ops.reduce_sum(x, [1, 2, 3], keep_dims=False), np.float32(0.0))
    head = np.zeros((1, 6, 3), np.float32)
    head[0, :4, 0] = box
    head[0, 4, 0] = 0.9  # class 0
    head[0, :4, 1] = (5, 5, 4, 4)
    head[0, 5, 1] = 0.1  # below threshold
    out = ops.add(ops.constant(head), zero)
    model = ov.Model([out], [x], "tiny-yolo")
    path = tmp_path / "plates.xml"
    ov.save_model(model, str(path), compress_to_fp16=False)
    return path


@pytest.mark.model
def test_imported_yolo_plate_model_takes_the_plate_task_over(model_dir, tmp_path):
    src = _yolo_ir(tmp_path)
    spec = import_model(src, name="my-plates", task="plate", decoder="yolo", licence="MIT")
    assert spec.input.size == (64, 64) and spec.weights_file == "user/my-plates.bin"
    reg = registry.load_registry()
    assert reg.for_task("plate").name == "my-plates" and reg.for_task("text").name == "ppocrv4-det"
    det = load_detector("plate", precision="f32")
    # A 128 x 64 image is letterboxed into 64 x 64 at scale 0.5 (padded below, not stretched).
    dets = det.detect(np.zeros((64, 128, 3), np.uint8))
    np.testing.assert_allclose(dets.boxes, [[48, 24, 80, 40]], atol=1e-4)
    assert dets.labels == ("plate",) and det.info["name"] == "my-plates"
    # A tampered weights file is never loaded.
    bin_path = model_dir / "user" / "my-plates.bin"
    bin_path.write_bytes(bin_path.read_bytes()[:-4] + b"\0\0\0\1")
    with pytest.raises(ModelError, match="sha256 mismatch for the weights of model my-plates"):
        load_detector("plate")


def test_import_refuses_bad_files(model_dir, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(ModelError, match="junk.onnx: OpenVINO cannot read it"):
        import_model(junk, name="junk", task="plate", decoder="yolo")
    with pytest.raises(ModelError, match="expected a model file ending in .onnx"):
        import_model(junk.rename(tmp_path / "junk.pt"), name="junk", task="plate", decoder="yolo")
    with pytest.raises(ModelError, match="is a bundled model"):
        import_model(_yolo_ir(tmp_path), name="centerface", task="face", decoder="yolo")
    assert not registry.user_registry_path().exists()  # nothing recorded
