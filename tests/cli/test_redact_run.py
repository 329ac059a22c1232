"""`veil redact` runs with injected detectors (no model needed): refused output folders, the summary's
residual count, set-up steps reported apart from per-file timings, and Ctrl-C over a folder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import veilcv.core.detection as detection
from veilcv import setup_steps
from veilcv.cli.main import main
from veilcv.core.detection.types import Detections
from veilcv.core.media import decode_image, encode_image

BOX = (20, 20, 60, 60)
ELSEWHERE = (100, 100, 130, 130)


def image() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(64, 255, (160, 200, 3), dtype=np.uint8)


def photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = encode_image(image(), ".png")
    paths = [folder / f"p{i:03d}.png" for i in range(n)]
    for p in paths:
        p.write_bytes(data)
    return paths


def redacted(path: Path) -> bool:
    x0, y0, x1, y1 = BOX
    return int(decode_image(path.read_bytes())[y0:y1, x0:x1].max()) == 0


class Leaky:
    """Finds BOX; once BOX is black (the verification pass), finds a face ELSEWHERE: one residual."""

    info = {"name": "injected", "sha256": "0" * 64}

    def __init__(self) -> None:
        self.first_call: float | None = None

    def detect(self, img: np.ndarray) -> Detections:
        if self.first_call is None:
            self.first_call = time.perf_counter()
        x0, y0, x1, y1 = BOX
        box = ELSEWHERE if img[y0:y1, x0:x1].max() == 0 else BOX
        return Detections(np.array([box], np.float32), np.array([0.9], np.float32), ("face",))


def test_output_folder_that_is_the_input_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(detection, "load_detector", lambda *a, **k: Leaky())
    src = tmp_path / "same"
    photos(src, 2)
    before = {p: p.read_bytes() for p in src.iterdir()}
    for out in (src, tmp_path / "." / "same" / "x" / ".."):
        assert main(["redact", str(src), "-o", str(out), "--what", "faces", "-q"]) == 2
        lines = [ln for ln in capsys.readouterr().err.splitlines() if ln]
        assert lines == [
            f"veil: error: {src}: -o is this input folder itself, so the outputs would replace the "
            "inputs; use another -o folder or --in-place"
        ]
        assert {p: p.read_bytes() for p in src.iterdir()} == before
    # an output folder inside the input folder is not refused: it is not read as input
    assert main(["redact", str(src), "-o", str(src / "redacted"), "--what", "faces", "-q"]) == 0
    assert sorted(p.name for p in (src / "redacted").iterdir()) == ["p000.png", "p001.png"]


def test_strict_failure_counts_its_residuals_in_the_summary_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(detection, "load_detector", lambda *a, **k: Leaky())
    photos(tmp_path / "in", 1)
    report = tmp_path / "r.json"
    args = ["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--what", "faces"]
    assert main([*args, "--strict", "--report", str(report)]) == 2
    err = capsys.readouterr().err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("veil: error:")]
    assert re.search(r"p000\.png: 1 \D.*--strict", line), line  # the error line's count: 1
    row = next(ln for ln in err.splitlines() if "residual detections" in ln)
    assert [c.strip() for c in row.split("│") if c.strip()] == ["residual detections", "1"], row
    doc = json.loads(report.read_text())
    assert doc["summary"] == {"redacted": 0, "failed": 1, "skipped": 0, "residuals": 1}
    (failed,) = doc["files"]
    assert not failed["ok"] and failed["residuals"] == [
        {"label": "face", "score": 0.9, "box": list(ELSEWHERE)}
    ]
    assert not (tmp_path / "out" / "p000.png").exists()
    # without --strict the same residual is reported on a written file: the same count
    assert main([*args, "--report", str(report)]) == 0
    assert json.loads(report.read_text())["summary"]["residuals"] == 1


def test_one_time_steps_are_announced_and_timed_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    det = Leaky()
    ended: list[float] = []

    def build() -> None:  # a kernel build the warm-up started, still running when the models are loaded
        with setup_steps.step("kernel_build", "building redaction kernels (once per environment)"):
            time.sleep(0.3)
        ended.append(time.perf_counter())

    def load(*a: object, **k: object) -> Leaky:
        with setup_steps.step("model_fetch", "fetching model injected (first use)"):
            time.sleep(0.2)
        threading.Thread(target=build).start()
        return det

    monkeypatch.setattr(detection, "load_detector", load)
    photos(tmp_path / "in", 1)
    report = tmp_path / "r.json"
    assert main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(report),
                 "--what", "faces"]) == 0  # fmt: skip
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        "veil: fetching model injected (first use)…",
        "veil: building redaction kernels (once per environment)…",
    ]
    doc = json.loads(report.read_text())
    setup = doc["setup_ms"]
    assert set(setup) == {"model_fetch", "model_compile", "kernel_build"}
    assert setup["model_fetch"] >= 200 and setup["kernel_build"] >= 300  # sleeps: lower bounds only
    # no file started before the build ended, so no file's timings hold it
    assert det.first_call is not None and ended and det.first_call >= ended[0]
    assert doc["interrupted"] is False and doc["unfinished"] == []

    # -q: no announcements, the times are still reported
    monkeypatch.setattr(detection, "load_detector", load)
    assert main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out2"), "-q", "--report", str(report),
                 "--what", "faces"]) == 0  # fmt: skip
    assert capsys.readouterr().err == ""
    assert json.loads(report.read_text())["setup_ms"]["model_fetch"] >= 200


DRIVER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import veilcv.core.detection as detection
    from veilcv.cli.main import main
    from veilcv.core.detection.types import Detections

    class Slow:
        info = {"name": "slow", "sha256": "0" * 64}
        def detect(self, img):
            time.sleep(0.15)
            box = np.array([[20, 20, 60, 60]], np.float32)
            return Detections(box, np.array([0.9], np.float32), ("face",))

    detection.load_detector = lambda *a, **k: Slow()
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
@pytest.mark.parametrize("quiet", [False, True])
def test_ctrl_c_over_a_folder_writes_the_report_of_what_finished(tmp_path: Path, quiet: bool) -> None:
    inputs = photos(tmp_path / "in", 40)
    out, report = tmp_path / "out", tmp_path / "report.json"
    cmd = [sys.executable, "-c", DRIVER, "redact", str(tmp_path / "in"), "-o", str(out), "-j", "1",
           "--what", "faces", "--report", str(report), *(["-q"] if quiet else [])]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (
            out.is_dir() and any(p.suffix == ".png" and not p.name.startswith(".") for p in out.iterdir())
        ):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no output appeared"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "veil: error: interrupted"
    doc = json.loads(report.read_text())
    assert doc["interrupted"] is True
    listed = {f["input"] for f in doc["files"]}
    assert all(f["ok"] for f in doc["files"])
    written = sorted(p for p in out.iterdir() if p.is_file() and p.name != "report.json")
    # every output on disk is complete and in the report, and the rest are listed as unfinished
    assert not [p for p in written if p.name.startswith(".")]  # no temp files left
    assert {str(tmp_path / "in" / p.name) for p in written} == listed
    assert all(redacted(p) for p in written)
    assert 1 <= len(listed) < len(inputs)
    assert sorted(listed | set(doc["unfinished"])) == sorted(str(p) for p in inputs)
    assert not listed & set(doc["unfinished"])
    assert doc["summary"]["redacted"] == len(listed)
    assert f"report of the {len(listed)} finished file(s), marked interrupted" in err


def test_a_videos_truncated_residual_list_counts_in_full() -> None:
    from veilcv.cli.redact_report import residual_count, summary
    from veilcv.core.pipeline import FileResult

    listed = [{"frame": i, "label": "face", "score": 0.9, "box": [0, 0, 4, 4]} for i in range(3)]
    video = FileResult(input="v.mp4", kind="video", ok=True, residuals=[*listed, {"truncated": 5}])
    failed = FileResult(input="a.png", residuals=listed[:1])
    assert residual_count(video) == 8
    assert summary([video, failed], refused=2, skipped=1) == {
        "redacted": 1,
        "failed": 3,
        "skipped": 1,
        "residuals": 9,
    }
