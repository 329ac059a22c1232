"""The API is fail-closed: a redaction that cannot be verified raises, and no unredacted pixels leave.

Detectors are injected where the pipeline loads them (``veilcv.core.detection.load_detector``), so
these tests go through the public constructor exactly as a user's code does, without a model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import veilcv
from veilcv.core.detection.types import Detections
from veilcv.errors import (
    DetectionError,
    ModelError,
    RedactionError,
    ResidualsError,
    ValidationError,
    VeilcvError,
)

FACE = (40.0, 30.0, 80.0, 90.0)
ELSEWHERE = (150.0, 20.0, 190.0, 80.0)


def found(*boxes: tuple[float, float, float, float], score: float = 0.9) -> Detections:
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4),
        np.full(len(boxes), score, np.float32),
        ("face",) * len(boxes),
    )


class Scripted:
    """A face detector that answers each call from a script: a Detections, an exception, or anything."""

    info = {"name": "scripted", "sha256": "0" * 64}

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def detect(self, image_bgr: np.ndarray) -> Any:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def inject(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], list[str]]:
    """Make the pipeline load ``det`` for every task; returns the list of tasks it was loaded for."""

    def install(det: Any) -> list[str]:
        loaded: list[str] = []

        def load_detector(task: str, **kwargs: Any) -> Any:
            loaded.append(task)
            if isinstance(det, BaseException):
                raise det
            return det

        monkeypatch.setattr("veilcv.core.detection.load_detector", load_detector)
        return loaded

    return install


def image() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(30, 220, (120, 200, 3), dtype=np.uint8)


def is_black(pixels: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    x0, y0, x1, y1 = box
    return int(pixels[y0:y1, x0:x1].max()) == 0


def test_a_clean_run_redacts_what_was_found_and_leaves_the_input(inject) -> None:
    inject(Scripted(found(FACE), found()))
    src = image()
    before = src.copy()
    res = veilcv.Redactor(what="faces").redact(src)
    assert np.array_equal(src, before)  # never written to
    assert len(res.regions) == 1 and res.regions[0].label == "face" and not res.regions[0].fixed
    assert is_black(res.pixels, res.regions[0].box)
    x0, y0, x1, y1 = res.regions[0].box
    assert x0 <= 40 and y0 <= 30 and x1 >= 80 and y1 >= 90  # the detection, grown by mask_scale
    assert res.detections == (veilcv.Detection("face", FACE, 0.9),)
    assert res.residuals == () and set(res.timings_ms) == {"detect", "redact", "verify"}


@pytest.mark.parametrize(
    "answers, error, message",
    [
        ((RuntimeError("device lost"),), DetectionError, "face detector failed: RuntimeError: device lost"),
        ((found(FACE), RuntimeError("device lost")), DetectionError, "device lost"),  # during verification
        (([[1, 2, 3, 4]],), DetectionError, "returned list, expected Detections"),
        ((found((np.nan, 0.0, 10.0, 10.0)),), DetectionError, "non-finite"),
        ((found(FACE), "not detections"), DetectionError, "returned str"),
    ],
    ids=["detect-raises", "verify-raises", "wrong-type", "nan-box", "verify-wrong-type"],
)
def test_a_detector_failure_raises_and_returns_nothing(inject, answers, error, message) -> None:
    inject(Scripted(*answers))
    with pytest.raises(error, match=message):
        veilcv.Redactor(what="faces").redact(image())


def test_a_missing_model_is_a_model_error_at_load_and_at_first_use(inject) -> None:
    inject(ModelError("centerface: not in the model cache"))
    with pytest.raises(ModelError, match="not in the model cache"):
        veilcv.Redactor(what="faces").load()
    with pytest.raises(ModelError):
        veilcv.Redactor(what="faces").redact(image())


def test_a_kernel_failure_is_a_redaction_error(inject, monkeypatch: pytest.MonkeyPatch) -> None:
    from veilcv.core import kernels

    def broken(*args: Any, **kwargs: Any) -> None:
        raise MemoryError("no room")

    inject(Scripted(found(FACE), found()))
    monkeypatch.setattr(kernels, "black_box", broken)
    with pytest.raises(RedactionError, match="redaction kernel failed: MemoryError"):
        veilcv.Redactor(what="faces").redact(image())


def test_a_bug_below_the_api_surfaces_as_a_veilcv_error(inject, monkeypatch: pytest.MonkeyPatch) -> None:
    import veilcv.core.pipeline as pipeline

    def buggy(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise KeyError("face")

    inject(Scripted(found(FACE), found()))
    monkeypatch.setattr(pipeline.Redactor, "residuals", buggy)
    with pytest.raises(RedactionError, match="internal error: KeyError") as info:
        veilcv.Redactor(what="faces").redact(image())
    assert isinstance(info.value, VeilcvError) and isinstance(info.value.__cause__, KeyError)


def test_a_face_left_visible_is_reported_then_refused_under_strict_then_fixed(inject) -> None:
    # The verification pass finds a face the detection pass missed.
    inject(Scripted(found(FACE), found(ELSEWHERE)))
    res = veilcv.Redactor(what="faces").redact(image())
    assert [(r.label, r.score) for r in res.residuals] == [("face", 0.9)]
    assert not is_black(res.pixels, (150, 20, 190, 80))  # reported, as the caller asked

    inject(Scripted(found(FACE), found(ELSEWHERE)))
    with pytest.raises(
        ResidualsError, match=r"1 face\(s\) still visible .*strict=True.*fix_residuals=1"
    ) as info:
        veilcv.Redactor(what="faces", strict=True).redact(image())
    assert isinstance(info.value, RedactionError)
    assert info.value.residuals == [{"label": "face", "score": 0.9, "box": [150, 20, 190, 80]}]

    # A fix round redacts it too; verified again, it now lies inside a redacted region.
    inject(Scripted(found(FACE), found(ELSEWHERE), found(ELSEWHERE)))
    res = veilcv.Redactor(what="faces", strict=True, fix_residuals=1).redact(image())
    assert res.residuals == ()
    assert [r.fixed for r in res.regions] == [False, True]
    assert is_black(res.pixels, res.regions[1].box)


def test_redact_file_writes_nothing_when_verification_fails(inject, tmp_path: Path) -> None:
    from veilcv.core.media import encode_image

    src = tmp_path / "in.png"
    src.write_bytes(encode_image(image(), ".png"))
    inject(Scripted(found(FACE), RuntimeError("device lost")))
    with pytest.raises(DetectionError, match="device lost"):
        veilcv.Redactor(what="faces").redact_file(src, tmp_path / "out.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # no output, no temp file


def test_models_load_once_for_many_threads(inject) -> None:
    class Slow(Scripted):
        def detect(self, image_bgr: np.ndarray) -> Any:
            time.sleep(0.01)  # calls overlap
            return found(FACE) if self.calls % 2 == 0 else found()

    det = Slow()
    loaded = inject(det)
    redactor = veilcv.Redactor(what="faces,plates", verify=False)
    start = threading.Barrier(6)
    results: list[Any] = []

    def work() -> None:
        start.wait()
        for _ in range(3):
            results.append(redactor.redact(image()))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(loaded) == ["face", "plate"]  # once per task, not once per thread or call
    assert len(results) == 18


def test_bad_arrays_are_validation_errors_naming_the_fix(inject) -> None:
    inject(Scripted(found()))
    redactor = veilcv.Redactor(what="faces")
    cases = [
        ([[0, 1]], "expected a numpy array of shape (H, W, 3), got list"),
        (np.zeros((4, 4, 3), np.float32), "expected dtype uint8, got float32"),
        (np.zeros((4, 4), np.uint8), "got (4, 4); use cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)"),
        (np.zeros((4, 4, 2), np.uint8), "expected shape (H, W, 3) or (H, W, 4), got (4, 4, 2)"),
        (np.zeros((0, 4, 3), np.uint8), "got (0, 4, 3)"),
    ]
    for value, message in cases:
        with pytest.raises(ValidationError) as info:
            redactor.redact(value)  # type: ignore[arg-type]
        assert message in str(info.value)
        assert isinstance(info.value, ValueError)  # what Python code catches for a bad argument
    with pytest.raises(ValidationError, match="channels: expected 'bgr' or 'rgb', got 'BGR'"):
        redactor.redact(image(), channels="BGR")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"what": "faces,cats"}, "what: expected faces, plates or text, got 'cats'"),
        ({"mode": "blur"}, "mode: expected one of box, ellipse, pixelate, got 'blur'"),
        ({"mask_scale": 9}, "mask_scale: expected a factor in [1, 4], got 9.0"),
        ({"mask_scale": "2"}, "mask_scale: expected a number, got '2'"),
        ({"thresholds": [0.5]}, "thresholds: expected a mapping such as {'face': 0.3}, got [0.5]"),
        ({"thresholds": {"face": "low"}}, "thresholds face: expected a number, got 'low'"),
        ({"fix_residuals": 1.5}, "fix_residuals: expected an integer, got 1.5"),
        ({"thresholds": {"face": 1.5}}, "thresholds face: expected a value in (0, 1), got 1.5"),
        ({"thresholds": {"cat": 0.5}}, "thresholds: expected face, plate or text, got 'cat'"),
        ({"fix_residuals": 6}, "fix_residuals: expected 0 to 5 rounds, got 6"),
        ({"carry": -1}, "carry: expected frames ≥ 0, got -1"),
        ({"quality": 101}, "quality: expected an integer in [1, 100], got 101"),
    ],
)
def test_bad_options_name_the_keyword(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        veilcv.Redactor(**kwargs)
    assert str(info.value) == message


def test_channels_rgb_round_trips_and_alpha_is_made_opaque(inject) -> None:
    inject(Scripted(found(FACE), found()))
    rgba = np.dstack([image(), np.zeros((120, 200), np.uint8)])
    rgba[..., 0] = 7  # red, distinct from blue
    res = veilcv.Redactor(what="faces").redact(rgba, channels="rgb")
    x0, y0, x1, y1 = res.regions[0].box
    assert res.pixels.shape == rgba.shape
    assert int(res.pixels[0, 0, 0]) == 7  # still red first
    assert (res.pixels[y0:y1, x0:x1, 3] == 255).all() and (res.pixels[:, :x0, 3] == 0).all()


def test_a_pickled_redactor_carries_its_settings_and_loads_its_own_models(inject) -> None:
    import pickle

    loaded = inject(Scripted(found(FACE), found()))
    original = veilcv.Redactor(what="faces", mode="ellipse", thresholds={"face": 0.4}, strict=True)
    original.redact(image())
    copy = pickle.loads(pickle.dumps(original))  # what a DataLoader worker or a process pool receives
    assert repr(copy) == repr(original) and loaded == ["face"]
    copy.redact(image())
    assert loaded == ["face", "face"]  # the copy loaded its own
