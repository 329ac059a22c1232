"""`veil stream` as users run it: the real face model end to end, and bad input as one error line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.stream.conftest import source_frames
from veilcv.cli.main import main
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.examples import write_clip


def test_stream_of_a_file_redacts_every_face_with_the_real_model(tmp_path: Path, capsys) -> None:
    clip = write_clip(tmp_path / "clip.mp4")
    code = main([
        "stream", str(clip), "--sink", str(tmp_path / "frames"), "--events", str(tmp_path / "events.jsonl"),
        "--what", "faces", "--no-pace",
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "24 frame(s) in, 24 sent" in err
    src = source_frames(clip)
    sent = sorted((tmp_path / "frames").glob("frame-*.jpg"))
    assert [p.name for p in sent] == [f"frame-{i:08d}.jpg" for i in range(24)]
    # every face the same model finds in a source frame is black in the frame that was sent
    model = Redactor(RedactOptions(what=("face",)))
    model.load()
    faces = 0
    for path, frame in zip(sent, src, strict=True):
        out = cv2.imread(str(path))
        for x0, y0, x1, y1 in model.detect_boxes(frame)["face"]:
            box = out[int(y0) + 2 : int(y1) - 2, int(x0) + 2 : int(x1) - 2]
            faces += 1
            assert box.mean() < 10, (path.name, box.mean())
        assert np.abs(out.astype(int) - frame).mean() > 1  # something was redacted in every frame
    assert faces >= 20  # the astronaut's face is in (nearly) every frame
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    by_name = {e["event"]: e["count"] for e in events}
    assert by_name["frames"] == 24 and by_name["face_regions"] >= 20
    assert all(set(e) <= {"event", "count", "hour"} for e in events)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4"], "missing.mp4: no such file"),
        (["{clip}", "--on-failure", "retry"], "--on-failure: expected stop or blank"),
        (
            ["{clip}", "--heatmap", "4"],
            "--heatmap: the policy's telemetry.allowed_fields has no 'cell' field",
        ),
        (["{clip}", "--metrics", "localhost"], "--metrics: expected [HOST]:PORT"),
        (["{clip}", "--max-latency", "0"], "--max-latency: expected seconds > 0"),
        (["{folder}"], "expected a video file, camera index, device or URL, got a folder"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=2)
    argv = ["stream", *(a.format(clip=clip, folder=tmp_path) for a in args), "--sink", str(tmp_path / "out")]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("veil: error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_stops_a_stream_cleanly_with_its_summary_and_events(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "long.mp4", frames=600)  # 50 s at 12 fps: stopped long before its end
    proc = subprocess.Popen(
        [sys.executable, "-m", "veilcv", "stream", str(clip), "--sink", "frames", "--events", "events.jsonl",
         "--what", "faces"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # a guard against a stream that never starts, not a speed check
        # past the default policy's minimum count of 5, so the frames event is released
        while len(list((tmp_path / "frames").glob("frame-*.jpg"))) < 8 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == "" and "veil: stopped" in err and "error" not in err
    summary = re.search(r"(\d+) frame\(s\) in, (\d+) sent", err)
    assert summary and 8 <= int(summary[2]) < 600, err
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert {e["event"]: e["count"] for e in events}.get("frames") == int(summary[2])
    assert not list((tmp_path / "frames").glob(".*"))  # no half-written frame left behind
