"""`veil tune` in use: progress, bounded memory, and a profile whose every choice `veil redact` applies."""

from __future__ import annotations

import gc
import hashlib
import json
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from veilcv.cli.main import main
from veilcv.core.detection import tune
from veilcv.core.detection.profile import describe, tiling_choice
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.errors import ModelError


def _profile(path: Path, tiling: dict | None, precision: str = "f32") -> Path:
    section: dict = {"model": "centerface", "precision": precision}
    if tiling is not None:
        section["tiling"] = tiling
    path.write_text(yaml.safe_dump({"veilcv_profile": 1, "detectors": {"face": section}}))
    return path


def test_sample_is_capped_by_decoded_bytes(tmp_path: Path) -> None:
    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((100, 100, 3), i, np.uint8))  # 30 000 bytes each
    assert len(tune.sample_images([tmp_path], limit=8)) == 4
    assert len(tune.sample_images([tmp_path], limit=8, max_bytes=70_000)) == 2
    assert len(tune.sample_images([tmp_path], limit=8, max_bytes=1)) == 1  # never none


def test_tiling_choice_and_description(tmp_path: Path) -> None:
    on = _profile(tmp_path / "on.yaml", {"enabled": True, "max_pixels": 8_000_000})
    off = _profile(tmp_path / "off.yaml", {"enabled": False})
    none = _profile(tmp_path / "none.yaml", None)
    assert (tiling_choice(on, "face"), tiling_choice(off, "face"), tiling_choice(none, "face")) == (
        True,
        False,
        None,
    )
    assert tiling_choice(on, "plate") is None  # no section for plates
    assert describe(on) == {"path": str(on), "sha256": hashlib.sha256(on.read_bytes()).hexdigest()}
    with pytest.raises(ModelError, match="cannot read the profile"):
        describe(tmp_path / "missing.yaml")


def test_redact_options_take_the_profiles_tiling_unless_told(tmp_path: Path) -> None:
    on = str(_profile(tmp_path / "on.yaml", {"enabled": True}))
    off = str(_profile(tmp_path / "off.yaml", {"enabled": False}))
    assert RedactOptions(what=("face",)).small_faces is True  # on, gated, without a profile
    assert RedactOptions(what=("face",), profile=on).small_faces is True
    assert RedactOptions(what=("face",), profile=off).small_faces is False
    assert RedactOptions(what=("face",), profile=on, small_faces=False).small_faces is False
    assert RedactOptions(what=("face",), profile=off, small_faces=True).small_faces is True


@pytest.mark.model
def test_a_profiles_tiling_changes_the_passes_redact_plans(face_model, tmp_path: Path) -> None:
    def passes(**kw) -> int:
        return len(Redactor(RedactOptions(what=("face",), **kw)).detector("face").plan(1080, 1920))

    wide = {"enabled": True, "max_pixels": 8_000_000}
    assert passes() > 1  # small-face passes planned by default (run where the whole frame calls)
    assert passes(small_faces=False) == 1
    assert passes(profile=str(_profile(tmp_path / "off.yaml", {"enabled": False}))) == 1
    tiled = passes(profile=str(_profile(tmp_path / "auto.yaml", {"enabled": True})))
    assert tiled > 1
    assert passes(profile=str(_profile(tmp_path / "auto.yaml", {"enabled": True})), small_faces=False) == 1
    # the plan's parameters come from the profile too, not only whether it is on
    det = Redactor(RedactOptions(what=("face",), profile=str(_profile(tmp_path / "w.yaml", wide))))
    assert det.detector("face").tiling.max_pixels == 8_000_000


@pytest.mark.model
def test_the_report_names_the_profile(face_model, astronaut, tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    cv2.imwrite(str(src), astronaut)
    prof = _profile(tmp_path / "veil-profile.yaml", {"enabled": True})
    report = tmp_path / "report.json"

    def run(out: str, *more: str) -> dict:
        argv = [
            "redact",
            str(src),
            "-o",
            str(tmp_path / out),
            "--what",
            "faces",
            "-q",
            "--report",
            str(report),
        ]
        assert main([*argv, *more]) == 0
        return json.loads(report.read_text())

    head = run("out", "--profile", str(prof))
    assert head["profile"] == {"path": str(prof), "sha256": hashlib.sha256(prof.read_bytes()).hexdigest()}
    assert head["small_faces"] is True
    head = run("plain")
    assert head["profile"] is None and head["small_faces"] is True
    assert run("flat", "--no-small-faces")["small_faces"] is False


@pytest.mark.model
def test_measure_releases_each_model_before_the_next(face_model, astronaut, monkeypatch) -> None:
    import veilcv.core.detection as detection

    made: list[weakref.ref] = []
    real = detection.load_detector

    def load(*args, **kwargs):
        det = real(*args, **kwargs)
        made.append(weakref.ref(det.adapter))
        return det

    monkeypatch.setattr(detection, "load_detector", load)
    configs = tune.grid(
        precisions=["f32"], shape_modes=["dynamic"], streams=[1], nireqs=[1, 2], tilings=["off"]
    )
    alive = []
    tune.measure(
        "face", [astronaut], configs, on_row=lambda _r: alive.append(sum(r() is not None for r in made))
    )
    gc.collect()
    assert len(made) == 3  # the reference and two settings
    assert alive == [0, 0]  # no compiled model outlives its own measurement
    assert all(r() is None for r in made)


@pytest.mark.model
def test_tune_prints_a_line_per_setting_unless_quiet(face_model, astronaut, tmp_path: Path, capsys) -> None:
    src = tmp_path / "a.png"
    cv2.imwrite(str(src), astronaut)
    argv = [
        "tune",
        str(src),
        "--precisions",
        "f32",
        "--shapes",
        "dynamic",
        "--streams",
        "1",
        "--requests",
        "1",
    ]
    assert main([*argv, "--tiling", "off,auto", "-o", str(tmp_path / "p.yaml")]) == 0
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert lines[0].startswith("veil tune: face (centerface) on 1 images, 2 settings")
    assert lines[1].startswith("reference (f32, dynamic, tiling auto): ")
    assert [line[:5] for line in lines[2:4]] == ["[1/2]", "[2/2]"]
    assert "tiling off" in lines[2] and "agreement" in lines[2]
    assert "wrote" in out.out
    assert main([*argv, "--tiling", "off", "-o", str(tmp_path / "q.yaml"), "-q"]) == 0
    out = capsys.readouterr()
    assert out.err == "" and out.out.strip() == f"wrote {tmp_path / 'q.yaml'}"
    assert tiling_choice(tmp_path / "q.yaml", "face") is False


def test_async_queue_is_freed_with_its_last_reference_and_reports_callback_errors() -> None:
    """OpenVINO holds the queue's callback out of the cycle collector's sight: if the callback
    reached the queue, neither (nor the compiled model) would ever be freed."""
    import openvino as ov
    from openvino import opset13 as ops

    from veilcv.core.detection.adapter import AsyncQueue

    x = ops.parameter([1, 3], np.float32)
    compiled = ov.Core().compile_model(ov.Model([ops.relu(x)], [x]), "CPU")
    got: list = []
    q = AsyncQueue(compiled, 2, lambda outs, ud: got.append((ud, outs[0].tolist())), 1)
    q.submit(np.array([[-1, 0, 2]], np.float32), "a")
    q.wait_all()
    assert got == [("a", [[0.0, 0.0, 2.0]])]
    gone = weakref.ref(q)
    del q
    assert gone() is None  # by reference counting alone, no collection needed

    def fail(outs, ud):
        raise ValueError("decoder broke")

    q = AsyncQueue(compiled, 1, fail, 1)
    q.submit(np.zeros((1, 3), np.float32), None)
    with pytest.raises(ValueError, match="decoder broke"):
        q.wait_all()
