"""Live redaction: frame source → detect → carry boxes → redact → encode → check → sink, fail-closed.

Every frame is redacted with the same detectors, kernels and box carry-over as ``veil redact``
applies to a video file (:func:`veilcv.core.video.carry_boxes`): frame ``t`` is emitted once the
``carry`` frames after it have been detected, so a face missed in one frame is still covered by
its neighbours' boxes. A frame reaches the sink only as JPEG bytes whose redacted regions have been
decoded again and checked (:meth:`Redactor.check_written`); with the redactor's ``verify`` the face
detector also runs over the frame as sent, and faces outside the redacted footprint are counted as
residuals (a failure under ``strict``), as ``veil redact`` does. A frame that cannot be redacted in time
(the source delivered a newer one first, or it is older than the latency budget when ready) is
dropped, never passed through.

Fail-safe: the first detector, kernel, encoder or check failure ends what the sink gets. With
``on_failure="stop"`` the stream stops; with ``"blank"`` every later frame is sent as a black frame
of the same size (the downstream sees the camera alive, and nothing of the scene). Frames waiting
for their look-ahead at that moment are discarded. Counts go to a :class:`StreamObserver`
(``veilcv.telemetry.metrics`` turns them into Prometheus metrics) and per-interval aggregates go
through ``release`` (the telemetry gate).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from veilcv.core.media import decode_image, encode_image
from veilcv.core.stream_sinks import FrameSink, SinkError
from veilcv.core.stream_sources import Frame, Grabber, VideoSource
from veilcv.core.video import carry_boxes
from veilcv.errors import InputError, RedactionError, TelemetryRefused, VeilcvError

if TYPE_CHECKING:
    from veilcv.core.pipeline import Redactor

ON_FAILURE = ("stop", "blank")
#: Latency budget beyond the carry look-ahead when none is given (seconds).
DEFAULT_LATENCY_SLACK_S = 1.0
Release = Callable[[dict[str, Any], float], "dict[str, Any] | None"]


class StreamObserver:
    """Receives the stream's counts as they happen; every hook is a no-op here."""

    def detected(self, seconds: float) -> None: ...
    def sent(self, latency_s: float) -> None: ...
    def dropped(self, reason: str) -> None: ...
    def failed(self, stage: str) -> None: ...
    def blanked(self) -> None: ...
    def event_sent(self) -> None: ...
    def event_refused(self, reason: str) -> None: ...
    def event_failed(self) -> None: ...
    def residuals(self, n: int) -> None: ...


@dataclass(frozen=True)
class StreamOptions:
    """Settings of one stream run.

    Attributes
    ----------
    on_failure : {"stop", "blank"}
        What the sink gets after a redaction failure: nothing more, or black frames.
    max_latency : float or None
        Seconds from capture within which a frame must be ready, else it is dropped (paced and
        live sources only). None: the carry look-ahead plus ``DEFAULT_LATENCY_SLACK_S``.
    interval : float
        Seconds per event aggregate (the last, partial interval is released when the stream ends).
    heatmap : int
        Cells per side of the coarse grid of redacted-region centres released per interval (0: none).
    quality : int
        JPEG quality of the frames sent.
    max_frames : int or None
        Stop after this many source frames (None: until the source ends or the run is stopped).
    """

    on_failure: str = "stop"
    max_latency: float | None = None
    interval: float = 3600.0
    heatmap: int = 0
    quality: int = 85
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if self.on_failure not in ON_FAILURE:
            raise InputError(f"--on-failure: expected stop or blank, got {self.on_failure!r}")
        if self.max_latency is not None and not self.max_latency > 0:
            raise InputError(f"--max-latency: expected seconds > 0, got {self.max_latency}")
        if not self.interval > 0:
            raise InputError(f"--interval: expected seconds > 0, got {self.interval}")
        if not 0 <= self.heatmap <= 16:
            raise InputError(f"--heatmap: expected 0 (off) to 16 cells per side, got {self.heatmap}")
        if not 1 <= self.quality <= 100:
            raise InputError(f"--quality: expected 1 to 100, got {self.quality}")
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError(f"--max-frames: expected 1 or more, got {self.max_frames}")


@dataclass
class StreamResult:
    """What a stream run did (counts only: no pixels, no positions)."""

    frames_in: int = 0
    sent: int = 0
    blanked: int = 0
    dropped: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: int = 0
    failure: str | None = None  # the first failure's one-line message
    source_error: str | None = None
    events_sent: int = 0
    events_refused: collections.Counter[str] = field(default_factory=collections.Counter)
    events_failed: int = 0
    regions: collections.Counter[str] = field(default_factory=collections.Counter)
    residuals: int = 0  # faces found on frames as sent, outside what was redacted (``verify``)


class IntervalCounts:
    """One interval's aggregates: frames sent and dropped, regions per class, optional heatmap."""

    def __init__(self, tasks: tuple[str, ...], heatmap: int) -> None:
        self.tasks, self.heatmap = tasks, heatmap
        self.reset(time.time())

    def reset(self, started: float) -> None:
        self.started = started
        self.frames = self.dropped = 0
        self.regions = {t: 0 for t in self.tasks}
        self.cells: collections.Counter[tuple[str, int, int]] = collections.Counter()

    def add(self, applied: Mapping[str, np.ndarray], shape: tuple[int, ...]) -> None:
        self.frames += 1
        h, w = shape[:2]
        for task, boxes in applied.items():
            boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
            self.regions[task] = self.regions.get(task, 0) + len(boxes)
            if self.heatmap and len(boxes):
                n = self.heatmap
                cols = np.clip((boxes[:, 0] + boxes[:, 2]) * n // (2 * max(w, 1)), 0, n - 1)
                rows = np.clip((boxes[:, 1] + boxes[:, 3]) * n // (2 * max(h, 1)), 0, n - 1)
                self.cells.update((task, int(r), int(c)) for r, c in zip(rows, cols, strict=True))

    def events(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"event": "frames", "count": self.frames},
            {"event": "frames_dropped", "count": self.dropped},
        ]
        out += [{"event": f"{t}_regions", "count": n} for t, n in self.regions.items()]
        out += [
            {"event": f"{t}_heatmap", "cell": f"r{r}c{c}", "count": n}
            for (t, r, c), n in sorted(self.cells.items())
        ]
        return out


class _Run:
    """The state of one stream run (see :func:`run_stream`)."""

    def __init__(
        self,
        redactor: Redactor,
        source: VideoSource,
        sink: FrameSink,
        options: StreamOptions,
        observer: StreamObserver,
        release: Release | None,
        log: Callable[[str, str], None],
        result: StreamResult,
    ) -> None:
        self.r, self.source, self.sink, self.o = redactor, source, sink, options
        self.obs, self.release, self.log = observer, release, log
        self.k = redactor.options.carry
        self.tasks = redactor.options.what
        self.res = result
        lookahead = self.k / source.fps
        if options.max_latency is not None and options.max_latency <= lookahead:
            raise InputError(
                f"--max-latency: {options.max_latency} s does not cover the carry look-ahead "
                f"({self.k} frames at {source.fps:g} fps = {lookahead:.3f} s); raise it or lower --carry"
            )
        self.budget = options.max_latency or lookahead + DEFAULT_LATENCY_SLACK_S
        self.window: collections.deque[tuple[Frame, dict[str, np.ndarray]]] = collections.deque()
        self.history: collections.deque[dict[str, np.ndarray]] = collections.deque(maxlen=self.k)
        self.counts = IntervalCounts(self.tasks, options.heatmap)
        self.interval_clock = time.monotonic()
        self.failed = False
        self.shape: tuple[int, ...] | None = None
        self._lock = threading.Lock()  # overruns are counted from the grabber's thread

    # -- dropping and failing ------------------------------------------------------------------
    def drop(self, reason: str) -> None:
        with self._lock:
            self.res.dropped[reason] += 1
            self.counts.dropped += 1
        self.obs.dropped(reason)

    def overrun(self, frame: Frame) -> None:
        """``frame`` was replaced by a newer one before the loop took it (grabber thread)."""
        with self._lock:
            self.res.frames_in += 1
        self.drop("overrun")

    def fail(self, stage: str, exc: BaseException) -> None:
        msg = " ".join(str(exc).split()) if isinstance(exc, VeilcvError) else f"{type(exc).__name__}: {exc}"
        msg = f"{self.source.name}: {stage} failed, the sink gets no more frames: {msg}"
        self.res.failures += 1
        self.obs.failed(stage)
        if self.res.failure is None:
            self.res.failure = msg
            self.log("error", msg)
        self.failed = True
        while self.window:  # their look-ahead is incomplete: never sent
            self.window.popleft()
            self.drop("failure")
        self.history.clear()

    # -- the frame path ------------------------------------------------------------------------
    def take(self, frame: Frame) -> None:
        with self._lock:
            self.res.frames_in += 1
        if self.failed:
            if self.o.on_failure == "blank":
                self.send(frame, np.zeros_like(frame.image), blank=True)
            return
        if self.shape is not None and frame.image.shape != self.shape:
            self.drain()  # a new resolution: boxes do not carry across it
            self.history.clear()
        self.shape = frame.image.shape
        t0 = time.perf_counter()
        try:
            dets = self.r.detect_boxes(frame.image)
        except Exception as exc:  # noqa: BLE001 - any detector failure ends what the sink gets
            self.fail("detection", exc)
            return
        self.obs.detected(time.perf_counter() - t0)
        self.window.append((frame, dets))
        if len(self.window) > self.k:
            self.emit()

    def drain(self) -> None:
        while self.window and not self.failed:
            self.emit()

    def emit(self) -> None:
        frame, _ = self.window[0]
        per_task = {}
        for task in self.tasks:
            seq = [h[task] for h in self.history] + [d[task] for _, d in self.window]
            per_task[task] = carry_boxes(seq, self.k)[len(self.history)]
        image = frame.image
        stage = "redaction"
        try:
            applied = self.r.redact_array(image, per_task)
            stage = "encoding"
            jpeg = encode_image(image, ".jpg", quality=self.o.quality)
            stage = "output check"
            name = f"frame {frame.index}"
            written = decode_image(jpeg, name=name)
            self.r.check_written(written, image, applied, name)
            if self.r.options.verify:
                stage = "verification"
                self.verify(written, applied, name)
        except Exception as exc:  # noqa: BLE001 - fail closed on bugs too
            self.fail(stage, exc)
            return
        _, dets = self.window.popleft()
        self.history.append(dets)
        for task, boxes in applied.items():
            self.res.regions[task] += len(boxes)
        if self.source.paced and time.monotonic() - frame.captured > self.budget:
            self.drop("late")
            return
        self.write(frame, jpeg, counted=(applied, image.shape))

    def verify(self, written: np.ndarray, applied: Mapping[str, np.ndarray], name: str) -> None:
        """The face detector once more over the frame as sent: faces outside the redacted footprint are
        residuals, counted; under ``strict`` the first one is a failure."""
        found = self.r.residuals(written, applied)
        if not found:
            return
        self.res.residuals += len(found)
        self.obs.residuals(len(found))
        if self.r.options.strict:
            top = max(found, key=lambda r: r["score"])
            raise RedactionError(
                f"{name}: {len(found)} face(s) still visible on the redacted frame (--strict; highest score "
                f"{top['score']}); lower --threshold or raise --mask-scale"
            )

    def send(self, frame: Frame, image: np.ndarray, *, blank: bool) -> None:
        try:
            jpeg = encode_image(image, ".jpg", quality=self.o.quality)
        except Exception as exc:  # noqa: BLE001
            self.res.failures += 1
            self.obs.failed("encoding")
            self.drop("failure")
            self.log("error", f"{self.source.name}: cannot encode a blank frame: {exc}")
            return
        if self.write(frame, jpeg, blank=blank) and blank:
            self.res.blanked += 1
            self.obs.blanked()

    def write(
        self,
        frame: Frame,
        jpeg: bytes,
        *,
        blank: bool = False,
        counted: tuple[Mapping[str, np.ndarray], tuple[int, ...]] | None = None,
    ) -> bool:
        """Send one frame; a redacted frame sent is counted for the events (``counted``: its regions
        and shape) and in the result next to each other, so a Ctrl-C between them is as unlikely as
        it can be without a signal handler: the summary and the events agree."""
        try:
            self.sink.write(frame.index, jpeg)
        except SinkError as exc:
            if self.res.dropped["sink"] == 0:
                self.log("warning", f"{exc} (frames are dropped while the sink refuses them)")
            self.drop("sink")
            return False
        if not blank:
            if counted is not None:
                self.counts.add(*counted)
            self.res.sent += 1
            self.obs.sent(time.monotonic() - frame.captured)
        return True

    # -- events --------------------------------------------------------------------------------
    def flush_events(self) -> None:
        with self._lock:
            events, started = self.counts.events(), self.counts.started
            self.counts.reset(time.time())
        self.interval_clock = time.monotonic()
        if self.release is None:
            return
        for event in events:
            try:
                released = self.release(event, started)
            except TelemetryRefused as exc:
                self.res.events_refused["policy"] += 1
                self.obs.event_refused("policy")
                self.log("warning", f"event not sent: {exc}")
                continue
            except SinkError as exc:
                self.res.events_failed += 1
                self.obs.event_failed()
                self.log("warning", f"event not sent: {exc}")
                continue
            if released is None:
                self.res.events_refused["min_count"] += 1
                self.obs.event_refused("min_count")
            else:
                self.res.events_sent += 1
                self.obs.event_sent()

    def run(self, stop: threading.Event | None) -> StreamResult:
        grabber = Grabber(self.source, on_overrun=self.overrun, max_frames=self.o.max_frames).start()
        try:
            while True:
                frame = grabber.get(stop)
                if frame is None or (stop is not None and stop.is_set()):
                    break  # a stop is taken between frames: what was sent is counted whole
                self.take(frame)
                if self.failed and self.o.on_failure == "stop":
                    break
                if time.monotonic() - self.interval_clock >= self.o.interval:
                    self.flush_events()
            if stop is None or not stop.is_set():
                self.drain()  # a stopped run drops its look-ahead window rather than wait on it
        finally:
            grabber.stop()
            self.source.close()
            self.res.source_error = grabber.error
            try:
                self.flush_events()
            finally:
                self.sink.close()
        return self.res


def run_stream(
    redactor: Redactor,
    source: VideoSource,
    sink: FrameSink,
    options: StreamOptions | None = None,
    *,
    observer: StreamObserver | None = None,
    release: Release | None = None,
    log: Callable[[str, str], None] | None = None,
    result: StreamResult | None = None,
    stop: threading.Event | None = None,
) -> StreamResult:
    """Redact ``source`` frame by frame into ``sink`` until the source ends, fails closed, or is stopped.

    Parameters
    ----------
    redactor : Redactor
        Loaded (``redactor.load()``) redactor: its options choose tasks, thresholds, mode and carry.
    source : VideoSource
        The frames (closed when the run ends).
    sink : FrameSink
        Receives encoded, redacted, checked JPEG frames (closed when the run ends).
    options : StreamOptions, optional
    observer : StreamObserver, optional
        Receives counts as they happen (metrics).
    release : callable, optional
        ``release(event, interval_start)`` sends one aggregate event: returns it when sent, None
        when it was held back (a count under the minimum), raises ``TelemetryRefused`` when the
        policy refuses it or ``SinkError`` when it could not be sent. None: no events.
    log : callable, optional
        ``log(level, line)`` with level ``"error"`` (the failure) or ``"warning"`` (a refused
        event, a sink refusing frames or events).
    result : StreamResult, optional
        Where the counts go (a new one by default): a caller interrupted by Ctrl-C still has them.
    stop : threading.Event, optional
        Set (from a signal handler or another thread) to stop at the next frame boundary: the frame
        being redacted is finished and counted, the look-ahead window is dropped, the events of the
        partial interval are released and the sink is closed; then the run returns normally.

    Returns
    -------
    StreamResult
        Counts of the run; ``failure`` holds the first redaction failure's message.

    Raises
    ------
    InputError
        A latency budget shorter than the carry look-ahead.
    KeyboardInterrupt
        Passed on after the source, events and sink are closed (the events of the partial
        interval are released first).
    """
    run = _Run(
        redactor,
        source,
        sink,
        options or StreamOptions(),
        observer or StreamObserver(),
        release,
        log or (lambda _level, _line: None),
        result if result is not None else StreamResult(),
    )
    return run.run(stop)
