"""The stream loop: every frame that reaches a sink is redacted; a failure ends what the sink gets.

Sources are small MJPEG files and detectors are injected (a box in every frame, one that dies
mid-stream); sink frames are compared with the source frames as OpenCV decodes them.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.stream.conftest import BOX, BoxDetector, make_video, source_frames
from veilcv.core import stream as stream_mod
from veilcv.core.media import encode_image
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.core.stream import StreamOptions, run_stream
from veilcv.core.stream_sinks import DirSink, JsonlEvents, StreamSink
from veilcv.core.stream_sources import Grabber, VideoSource, display_name
from veilcv.errors import InputError
from veilcv.store.policy import from_policy
from veilcv.telemetry.gate import TelemetryGate
from veilcv.telemetry.stream_events import gated_release


def redactor(det: BoxDetector, carry: int = 2, **options: object) -> Redactor:
    opts = RedactOptions(what=("face",), mask_scale=1.0, carry=carry, **({"verify": False} | options))
    r = Redactor(opts, detectors={"face": det})
    r.load()
    return r


def sink_frames(folder: Path) -> dict[int, np.ndarray]:
    out = {}
    for p in sorted(folder.glob("frame-*.jpg")):
        out[int(p.stem.split("-")[1])] = cv2.imread(str(p))
    return out


def assert_redacted(sent: np.ndarray, src: np.ndarray) -> None:
    """The box is black in what was sent, bright in the source; the rest is the source's picture."""
    x0, y0, x1, y1 = BOX
    assert src[y0:y1, x0:x1].mean() > 150  # the "face" is there in the source ...
    assert sent[y0:y1, x0:x1].mean() < 8  # ... and gone from what was sent
    outside = np.ones(src.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.abs(sent.astype(int) - src)[outside].mean() < 8  # JPEG noise only


def test_every_frame_sent_is_the_source_frame_redacted(clip: Path, tmp_path: Path) -> None:
    src = source_frames(clip)
    res = run_stream(redactor(BoxDetector()), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"))
    sent = sink_frames(tmp_path / "out")
    assert sorted(sent) == list(range(len(src))) and res.sent == len(src) == res.frames_in
    for i, frame in sent.items():
        assert_redacted(frame, src[i])
    assert res.failure is None and not res.dropped and res.regions["face"] == len(src)
    assert not list((tmp_path / "out").glob(".*"))  # no temp file left behind


@pytest.mark.parametrize("carry", [0, 3])
def test_a_detector_dying_mid_stream_stops_the_sink_and_nothing_unredacted_reaches_it(
    clip: Path, tmp_path: Path, carry: int
) -> None:
    src = source_frames(clip)
    logged: list[tuple[str, str]] = []
    det = BoxDetector(fail_at=9)  # frames 0-8 detected, frame 9 fails
    res = run_stream(
        redactor(det, carry), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"),
        log=lambda level, line: logged.append((level, line)),
    )  # fmt: skip
    sent = sink_frames(tmp_path / "out")
    # frames wait for `carry` later detections; those still waiting when it failed are never sent
    assert sorted(sent) == list(range(9 - carry))
    for i, frame in sent.items():
        assert_redacted(frame, src[i])
    assert res.failures == 1 and det.calls == 10  # stopped: no frame after the failure was read for it
    assert res.dropped["failure"] == carry
    assert res.failure and "detection failed" in res.failure and "inference device lost" in res.failure
    assert [level for level, _ in logged] == ["error"] and str(clip) in logged[0][1]


def test_blank_on_failure_sends_only_black_frames_after_it(clip: Path, tmp_path: Path) -> None:
    src = source_frames(clip)
    res = run_stream(
        redactor(BoxDetector(fail_at=6), carry=1), VideoSource(str(clip), pace=False),
        DirSink(tmp_path / "out"), StreamOptions(on_failure="blank"),
    )  # fmt: skip
    sent = sink_frames(tmp_path / "out")
    assert sorted(sent) == [i for i in range(len(src)) if i not in (5, 6)]  # 5 waited, 6 failed
    for i, frame in sent.items():
        if i < 5:
            assert_redacted(frame, src[i])
        else:
            assert frame.max() <= 8  # black: nothing of the scene
    assert res.blanked == len(src) - 7 and res.failures == 1 and res.sent == 5


def test_an_encoder_that_loses_the_redaction_is_caught_before_the_sink(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output check decodes each JPEG: an encoder writing the unredacted picture fails the stream."""
    src = source_frames(clip)
    calls = {"n": 0}

    def faulty(image: np.ndarray, suffix: str, *, quality: int = 95) -> bytes:
        calls["n"] += 1
        if calls["n"] == 4:  # the fourth frame's encoder "forgets" the box
            x0, y0, x1, y1 = BOX
            leaked = image.copy()
            leaked[y0:y1, x0:x1] = src[3][y0:y1, x0:x1]
            return encode_image(leaked, suffix, quality=quality)
        return encode_image(image, suffix, quality=quality)

    monkeypatch.setattr(stream_mod, "encode_image", faulty)
    res = run_stream(
        redactor(BoxDetector(), carry=0), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out")
    )
    assert sorted(sink_frames(tmp_path / "out")) == [0, 1, 2]
    assert res.failure and "output check failed" in res.failure


def test_a_kernel_failure_stops_the_sink(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = redactor(BoxDetector(), carry=0)
    real, calls = r.redact_array, {"n": 0}

    def broken(image, boxes):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("kernel out of memory")
        return real(image, boxes)

    monkeypatch.setattr(r, "redact_array", broken)
    res = run_stream(r, VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"))
    assert sorted(sink_frames(tmp_path / "out")) == [0, 1]
    assert res.failure and "redaction failed" in res.failure


class SlowDetector(BoxDetector):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def detect(self, image_bgr: np.ndarray):
        time.sleep(self.seconds)
        return super().detect(image_bgr)


def test_frames_older_than_the_latency_budget_are_dropped_not_passed(clip: Path, tmp_path: Path) -> None:
    # each detection takes longer than the whole budget, so no frame can be ready in time
    res = run_stream(
        redactor(SlowDetector(0.2), carry=0), VideoSource(str(clip), pace=True), DirSink(tmp_path / "out"),
        StreamOptions(max_latency=0.05),
    )  # fmt: skip
    assert sink_frames(tmp_path / "out") == {} and res.sent == 0
    assert res.dropped["late"] >= 1
    assert sum(res.dropped.values()) == res.frames_in == 16  # every source frame accounted for


def test_a_paced_source_drops_what_it_cannot_redact_and_sends_only_redacted_frames(
    clip: Path, tmp_path: Path
) -> None:
    src = source_frames(clip)
    res = run_stream(
        redactor(SlowDetector(0.15), carry=1), VideoSource(str(clip), pace=True), DirSink(tmp_path / "out"),
        StreamOptions(max_latency=30),
    )  # fmt: skip
    sent = sink_frames(tmp_path / "out")
    for i, frame in sent.items():
        assert_redacted(frame, src[i])
    assert res.sent == len(sent) and res.sent + sum(res.dropped.values()) == res.frames_in == len(src)


def test_a_latency_budget_under_the_carry_look_ahead_is_refused(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="look-ahead"):
        run_stream(
            redactor(BoxDetector(), carry=5), VideoSource(str(clip)), DirSink(tmp_path / "out"),
            StreamOptions(max_latency=0.1),
        )  # fmt: skip


def test_mjpeg_on_a_stream_is_one_jpeg_per_frame(clip: Path) -> None:
    buf = io.BytesIO()
    res = run_stream(redactor(BoxDetector()), VideoSource(str(clip), pace=False), StreamSink(buf))
    data = buf.getvalue()
    assert data.count(b"\xff\xd8\xff") == res.sent == 16
    first = cv2.imdecode(np.frombuffer(data[: data.index(b"\xff\xd9") + 2], np.uint8), cv2.IMREAD_COLOR)
    assert_redacted(first, source_frames(clip)[0])


def test_dir_sink_keeps_the_newest_frames(clip: Path, tmp_path: Path) -> None:
    run_stream(redactor(BoxDetector()), VideoSource(str(clip), pace=False), DirSink(tmp_path / "o", keep=4))
    assert sorted(sink_frames(tmp_path / "o")) == [12, 13, 14, 15]


def gate_for(tmp_path: Path, *, min_count: int = 3, cell: bool = False) -> tuple[TelemetryGate, JsonlEvents]:
    fields = {"event": "string", "count": "integer", "hour": "string"} | ({"cell": "string"} if cell else {})
    policy = from_policy({"telemetry": {"allowed_fields": fields, "min_aggregation_count": min_count}})
    sink = JsonlEvents(tmp_path / "events.jsonl")
    return TelemetryGate(policy, sink=sink), sink


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_aggregates_leave_through_the_gate_with_the_heatmap(clip: Path, tmp_path: Path) -> None:
    gate, sink = gate_for(tmp_path, cell=True)
    res = run_stream(
        redactor(BoxDetector()), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"),
        StreamOptions(heatmap=2), release=gated_release(gate),
    )  # fmt: skip
    sink.close()
    got = {(e["event"], e.get("cell")): e["count"] for e in read_events(tmp_path / "events.jsonl")}
    # BOX's centre (80, 64) of a 160x128 frame is in the lower-right cell of a 2x2 grid
    assert got == {("frames", None): 16, ("frames_dropped", None): 0, ("face_regions", None): 16,
                   ("face_heatmap", "r1c1"): 16}  # fmt: skip
    assert all(set(e) == {"event", "count", "hour"} | ({"cell"} if "cell" in e else set())
               for e in read_events(tmp_path / "events.jsonl"))  # fmt: skip
    assert res.events_sent == 4 and not res.events_refused


def test_an_event_the_gate_refuses_is_counted_not_sent(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "short.avi", frames=3)
    gate, sink = gate_for(tmp_path, min_count=5)  # no 'cell' field allowed; 3 frames < 5
    logged: list[tuple[str, str]] = []
    res = run_stream(
        redactor(BoxDetector(), carry=0), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"),
        StreamOptions(heatmap=2), release=gated_release(gate), log=lambda lv, ln: logged.append((lv, ln)),
    )  # fmt: skip
    sink.close()
    sent = read_events(tmp_path / "events.jsonl")
    assert [e["event"] for e in sent] == ["frames_dropped"]  # a zero count says nothing about anyone
    assert res.events_refused == {"min_count": 2, "policy": 1}  # frames 3, face_regions 3; the cell field
    assert any("'cell'" in line for level, line in logged if level == "warning")


def test_events_are_released_per_interval(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(1000))
    monkeypatch.setattr(stream_mod.time, "monotonic", lambda: float(next(ticks)) * 1000)
    gate, sink = gate_for(tmp_path, min_count=1)
    run_stream(
        redactor(BoxDetector(), carry=0), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"),
        StreamOptions(interval=1.0), release=gated_release(gate),
    )  # fmt: skip
    sink.close()
    frames = [e["count"] for e in read_events(tmp_path / "events.jsonl") if e["event"] == "frames"]
    assert len(frames) > 1 and sum(frames) == 16  # several intervals, nothing counted twice


def test_a_missing_source_and_a_url_with_credentials(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        VideoSource(str(tmp_path / "nope.mp4"))
    assert display_name("rtsp://admin:secret@10.0.0.5:554/live?token=abc") == "rtsp://10.0.0.5:554/live"
    with pytest.raises(InputError) as err:
        VideoSource("rtsp://admin:secret@127.0.0.1:1/live")
    assert "secret" not in str(err.value)


class NanDetector(BoxDetector):
    """From its fifth call on, returns a box the pipeline's output check refuses (non-finite)."""

    def detect(self, image_bgr: np.ndarray):
        found = super().detect(image_bgr)
        if self.calls >= 5:
            return type(found)(np.full((1, 4), np.nan, np.float32), found.scores, found.labels)
        return found


def test_a_detector_returning_invalid_output_stops_the_sink(clip: Path, tmp_path: Path) -> None:
    res = run_stream(
        redactor(NanDetector(), carry=0), VideoSource(str(clip), pace=False), DirSink(tmp_path / "o")
    )
    assert sorted(sink_frames(tmp_path / "o")) == [0, 1, 2, 3]
    assert res.failure and "non-finite" in res.failure


class InterruptingDetector(BoxDetector):
    def detect(self, image_bgr: np.ndarray):
        if self.calls == 7:
            raise KeyboardInterrupt
        return super().detect(image_bgr)


def test_ctrl_c_releases_the_partial_interval_and_closes_the_sinks(clip: Path, tmp_path: Path) -> None:
    src = source_frames(clip)
    gate, sink = gate_for(tmp_path, min_count=1)
    with pytest.raises(KeyboardInterrupt):
        run_stream(
            redactor(InterruptingDetector(), carry=2), VideoSource(str(clip), pace=False),
            DirSink(tmp_path / "o"), release=gated_release(gate),
        )  # fmt: skip
    sink.close()
    sent = sink_frames(tmp_path / "o")
    assert sorted(sent) == [0, 1, 2, 3, 4]  # frames 5 and 6 were waiting for their look-ahead
    for i, frame in sent.items():
        assert_redacted(frame, src[i])
    events = {e["event"]: e["count"] for e in read_events(tmp_path / "events.jsonl")}
    assert events["frames"] == 5 and events["face_regions"] == 5


def test_a_url_source_is_read_live_and_its_end_is_reported(clip: Path, tmp_path: Path) -> None:
    """An http:// source (OpenCV's FFmpeg backend) served over loopback: a live source has no end, so
    its end is reported (exit 2 in the CLI, for a supervisor to restart the stream)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(clip.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://user:secret@127.0.0.1:{server.server_address[1]}/{clip.name}"
        source = VideoSource(url)
        assert source.kind == "url" and source.live and "secret" not in source.name
        src = source_frames(clip)
        res = run_stream(redactor(BoxDetector()), source, DirSink(tmp_path / "out"))
    finally:
        server.shutdown()
        server.server_close()
    sent = sink_frames(tmp_path / "out")
    assert sent and res.sent == len(sent)
    for i, frame in sent.items():
        assert_redacted(frame, src[i])
    assert (
        res.source_error
        and "stopped delivering frames" in res.source_error
        and "secret" not in res.source_error
    )


class TwoFaces(BoxDetector):
    """Finds ``BOX`` for redaction; the verification pass (whole frame) also sees a second face."""

    def detect(self, image_bgr: np.ndarray):
        found = super().detect(image_bgr)
        if self.calls % 2 == 0:  # every second call is the verification pass of the frame just redacted
            boxes = np.array([BOX, (4, 4, 36, 36)], np.float32)
            return type(found)(boxes, np.array([0.9, 0.9], np.float32), ("face", "face"))
        return found


@pytest.mark.parametrize("strict", [False, True])
def test_verify_counts_faces_left_on_frames_as_sent_and_strict_stops(
    clip: Path, tmp_path: Path, strict: bool
) -> None:
    r = redactor(TwoFaces(), carry=0, verify=True, strict=strict)
    res = run_stream(r, VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"))
    sent = sink_frames(tmp_path / "out")
    if strict:
        assert sent == {} and res.failure and "still visible" in res.failure and "verification" in res.failure
        assert res.residuals == 1
    else:  # reported, as veil redact reports residuals; the face on the box itself is not one
        assert len(sent) == 16 and res.residuals == 16 and res.failure is None


class StoppingDetector(BoxDetector):
    """Sets the stop event while frame 7 is being redacted, as a Ctrl-C handler would."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop

    def detect(self, image_bgr: np.ndarray):
        if self.calls == 7:
            self.stop.set()
        return super().detect(image_bgr)


def test_a_stop_is_taken_between_frames_and_the_sent_frames_and_events_agree(
    clip: Path, tmp_path: Path
) -> None:
    src = source_frames(clip)
    gate, sink = gate_for(tmp_path, min_count=1)
    stop = threading.Event()
    res = run_stream(
        redactor(StoppingDetector(stop), carry=0), VideoSource(str(clip), pace=False),
        DirSink(tmp_path / "o"), release=gated_release(gate), stop=stop,
    )  # fmt: skip
    sink.close()
    sent = sink_frames(tmp_path / "o")
    assert sorted(sent) == list(range(8))  # the frame being redacted when stopped is finished
    for i, frame in sent.items():
        assert_redacted(frame, src[i])
    assert res.sent == 8 and not res.failure
    events = {e["event"]: e["count"] for e in read_events(tmp_path / "events.jsonl")}
    assert events["frames"] == res.sent


def test_a_stop_does_not_wait_for_a_stalled_source() -> None:
    grabber = Grabber(VideoSource.__new__(VideoSource))  # never started: no frame ever arrives
    stop = threading.Event()
    got: list[object] = []
    # In a thread, so that a regression (a wait that ignores stop) fails here instead of hanging.
    waiter = threading.Thread(target=lambda: got.append(grabber.get(stop)), daemon=True)
    waiter.start()
    threading.Timer(0.2, stop.set).start()  # set while get() waits, not before it first looks
    waiter.join(timeout=30)
    assert not waiter.is_alive(), "get() kept waiting for a frame after stop was set"
    assert got == [None]
