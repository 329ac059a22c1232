"""`veil stream` on 720p and 1080p streams: frames/s, end-to-end latency p50/p99, frames dropped.

The streams are made from the EgoBlur demo footage (``../shared/data/video_smoke_egoblur``: a walk
past people, 30 fps), each frame letterboxed into 1280x720 and 1920x1080 (camera frames), and
written as MJPEG files into a temp folder; without the shared data, a pan across the astronaut photo
is used instead. Each size runs three ways with the default settings (faces and plates, carry 5,
the default precision):

- ``unpaced``: every frame redacted as fast as the machine can (the throughput ceiling, frames/s);
- ``paced``: the file played at 30 fps like a camera, frames the loop cannot take in time dropped:
  end-to-end latency (capture to sink, the carry look-ahead of 5 frames = 167 ms included) p50/p99
  and the fraction of frames sent;
- ``veil redact``: the same file redacted offline by the video path (the alternative a user has
  without streaming), frames/s.

The result is checked first: every run sends frames, and the faces the detector finds in the
source frames of an unpaced run are black in what was sent. Model loading is excluded from the
timings and reported separately.

Run: ``.venv/bin/python -m pytest benchmarks/bench_stream.py --benchmark-enable -s``, or
``.venv/bin/python benchmarks/bench_stream.py`` for the table alone.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.core.stream import StreamObserver, StreamOptions, run_stream
from veilcv.core.stream_sources import VideoSource

REPO = Path(__file__).resolve().parent.parent
FOOTAGE = REPO.parent / "shared" / "data" / "video_smoke_egoblur" / "gen1" / "test_video.mp4"
FRAMES = int(os.environ.get("VEILCV_BENCH_STREAM_FRAMES", "120"))
FPS = 30.0
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def _letterbox(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    scale = min(w / frame.shape[1], h / frame.shape[0])
    fw, fh = round(frame.shape[1] * scale), round(frame.shape[0] * scale)
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = (w - fw) // 2, (h - fh) // 2
    out[y0 : y0 + fh, x0 : x0 + fw] = cv2.resize(frame, (fw, fh), interpolation=cv2.INTER_AREA)
    return out


def _source_frames() -> tuple[str, list[np.ndarray]]:
    if FOOTAGE.is_file():
        cap = cv2.VideoCapture(str(FOOTAGE))
        frames = []
        while len(frames) < FRAMES:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()
        return "egoblur gen1", frames
    from veilcv.examples import example_path

    photo = cv2.imread(str(example_path("astronaut")))
    return "astronaut pan", [np.roll(photo, 4 * t, axis=1) for t in range(FRAMES)]


def make_stream(folder: Path, size: tuple[int, int], frames: list[np.ndarray]) -> Path:
    path = folder / f"stream-{size[0]}x{size[1]}.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, size)
    for frame in frames:
        writer.write(_letterbox(frame, size))
    writer.release()
    return path


class _Latencies(StreamObserver):
    def __init__(self) -> None:
        self.latency: list[float] = []
        self.detect: list[float] = []

    def sent(self, latency_s: float) -> None:
        self.latency.append(latency_s)

    def detected(self, seconds: float) -> None:
        self.detect.append(seconds)


class _Keep:
    """A sink that keeps the frames sent (for the check) and writes nothing."""

    def __init__(self) -> None:
        self.frames: dict[int, bytes] = {}

    def write(self, index: int, jpeg: bytes) -> None:
        self.frames[index] = jpeg

    def close(self) -> None:
        pass


def _check(redactor: Redactor, path: Path, sent: dict[int, bytes]) -> int:
    """Faces found in the source frames that were sent must be black there; returns faces checked."""
    cap = cv2.VideoCapture(str(path))
    checked, index = 0, 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index in sent and index % 10 == 0:
            out = cv2.imdecode(np.frombuffer(sent[index], np.uint8), cv2.IMREAD_COLOR)
            for x0, y0, x1, y1 in redactor.detect_boxes(frame)["face"]:
                region = out[int(y0) + 2 : int(y1) - 2, int(x0) + 2 : int(x1) - 2]
                if region.size:
                    assert region.mean() < 12, (path.name, index, region.mean())
                    checked += 1
        index += 1
    cap.release()
    return checked


def measure() -> list[dict[str, object]]:
    name, frames = _source_frames()
    print(f"\nsource: {name}, {len(frames)} frames at {FPS:g} fps; cpu count {os.cpu_count()}")
    t = time.perf_counter()
    redactor = Redactor(RedactOptions(verify=False))  # veil stream's default
    redactor.load(1)
    print(f"model load: {time.perf_counter() - t:.2f} s (excluded below)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            path = make_stream(Path(tmp), size, frames)
            for paced in (False, True):
                obs, sink = _Latencies(), _Keep()
                t = time.perf_counter()
                res = run_stream(
                    redactor, VideoSource(str(path), pace=paced), sink, StreamOptions(), observer=obs
                )
                wall = time.perf_counter() - t
                assert res.sent > 0 and res.failure is None, res
                faces = _check(redactor, path, sink.frames) if not paced else None
                lat = np.array(obs.latency) * 1000
                rows.append({
                    "size": label, "run": "paced 30 fps" if paced else "unpaced",
                    "fps": res.sent / wall, "sent": res.sent / res.frames_in,
                    "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
                    "detect_p50": float(np.percentile(np.array(obs.detect) * 1000, 50)),
                    "faces_checked": faces,
                })  # fmt: skip
            t = time.perf_counter()
            out = redactor.redact_file(path, Path(tmp) / f"redacted-{label}.mp4")
            wall = time.perf_counter() - t
            rows.append({"size": label, "run": "veil redact (file)", "fps": out.frames / wall, "sent": 1.0})
    print(
        f"{'size':6s} {'run':20s} {'frames/s':>8s} {'sent':>6s} {'p50 ms':>7s} {'p99 ms':>7s} {'det p50':>7s}"
        " faces checked"
    )
    for r in rows:
        lat = (
            f"{r['p50']:7.0f} {r['p99']:7.0f} {r['detect_p50']:7.0f}"
            if "p50" in r
            else f"{'-':>7s} {'-':>7s} {'-':>7s}"
        )
        checked = r.get("faces_checked") or "-"
        print(f"{r['size']:6s} {r['run']:20s} {r['fps']:8.2f} {r['sent'] * 100:5.0f}% {lat} {checked:>13}")
    return rows


def test_stream_throughput_and_latency(benchmark) -> None:
    rows = measure()
    for r in rows:
        key = f"{r['size']}_{r['run'].split()[0]}"
        benchmark.extra_info[f"{key}_fps"] = r["fps"]
        if "p50" in r:
            benchmark.extra_info[f"{key}_p50_ms"] = r["p50"]
            benchmark.extra_info[f"{key}_p99_ms"] = r["p99"]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


if __name__ == "__main__":
    measure()
