"""`veil stream`: redact a live source frame by frame; only redacted frames and gated aggregates leave."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from veilcv.cli.redact import parse_thresholds
from veilcv.cli.store_common import POLICY_OPT, load_policy_dict
from veilcv.core.defaults import DEFAULT_MASK_SCALE


def _log(level: str, line: str) -> None:
    sys.stderr.write(f"veil: {level}: {line}\n" if level in ("error", "warning") else f"veil: {line}\n")
    sys.stderr.flush()


def stream(
    source: str = typer.Argument(
        ...,
        metavar="SOURCE",
        help="Camera index (0), V4L2 device (/dev/video0), rtsp:// or http(s):// URL, or a video file.",
    ),
    sink: str | None = typer.Option(
        None,
        "--sink",
        metavar="TARGET",
        help="Where redacted frames go: a folder (JPEG files), - (MJPEG on stdout) or an http(s):// URL "
        "(one POST per frame). Default: none (only events and metrics leave).",
    ),
    events: str | None = typer.Option(
        None,
        "--events",
        metavar="TARGET",
        help="Aggregate events released by the telemetry gate: a JSON-lines file or an http(s):// URL.",
    ),
    metrics: str | None = typer.Option(
        None,
        "--metrics",
        metavar="[HOST]:PORT",
        help="Serve Prometheus metrics at [HOST]:PORT/metrics (:9464 binds 127.0.0.1 only).",
    ),
    policy: Path | None = POLICY_OPT,
    interval: float = typer.Option(3600.0, "--interval", help="Seconds per aggregate event interval."),
    heatmap: int = typer.Option(
        0,
        "--heatmap",
        help="Also release a NxN grid of redacted-region counts (the policy must allow a 'cell' field).",
    ),
    on_failure: str = typer.Option(
        "stop",
        "--on-failure",
        help="After a redaction failure the sink gets nothing more: stop, or blank (black frames).",
    ),
    max_latency: float | None = typer.Option(
        None,
        "--max-latency",
        help="Seconds from capture a frame may take; later ones are dropped (default: look-ahead + 1 s).",
    ),
    pace: bool = typer.Option(
        True,
        "--pace/--no-pace",
        help="Files: play at the file's frame rate (default), or redact every frame as fast as possible.",
    ),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Stop after this many source frames."),
    keep: int = typer.Option(0, "--keep", help="Folder sink: keep only the newest N frames (0: all)."),
    quality: int = typer.Option(85, "--quality", help="JPEG quality of the frames sent."),
    what: str = typer.Option("faces,plates", "--what", help="Classes to redact: faces, plates, text."),
    mode: str = typer.Option(
        "box", "--mode", help="box (default), ellipse, or pixelate (weaker than a box)."
    ),
    mask_scale: float = typer.Option(
        DEFAULT_MASK_SCALE, "--mask-scale", help="Grow each face box by this factor."
    ),
    threshold: str = typer.Option("", "--threshold", help="Score thresholds, e.g. face=0.3,plate=0.5."),
    carry: int = typer.Option(
        5, "--carry", help="A box also covers this many frames before and after (adds look-ahead latency)."
    ),
    small_faces: bool | None = typer.Option(
        None,
        "--small-faces/--no-small-faces",
        help="Extra passes for small faces (default: the --profile's choice, else on).",
    ),
    precision: str = typer.Option(
        "auto", "--precision", help="Inference precision: auto, f32, f16, bf16, int8."
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="Tuning profile written by `veil tune` for this device."
    ),
    verify: bool = typer.Option(
        False,
        "--verify/--no-verify",
        help="Run the face detector once more over each frame as sent and count faces left outside the "
        "redacted regions (veil_stream_residual_faces_total). Off by default: it doubles the detector "
        "time per frame. The check that every redacted region is redacted in the JPEG always runs.",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="With --verify: a face left visible is a failure (the sink gets no more)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No start and summary lines."),
) -> None:
    """Redact a camera or stream live: every frame is redacted before it goes anywhere.

    Frames are redacted with the same detectors, kernels and box carry-over as `veil redact`, encoded
    as JPEG and checked before the sink gets them; a frame that cannot be redacted in time is dropped,
    never passed through, and nothing raw is written. If detection, redaction or the check fails,
    the sink gets nothing from that moment (--on-failure stop ends the run, blank sends black
    frames) and the run exits 2. Per-interval counts leave only through the telemetry gate of the
    policy. A camera or URL that stops delivering frames ends the run with exit 2 (for a supervisor
    to restart it). Ctrl-C stops cleanly (exit 0).

    Example: veil stream rtsp://camera.local/stream --sink frames/ --events events.jsonl --metrics :9464
    """
    from veilcv._api.options import redact_options
    from veilcv.cli.display import announce_setup_steps
    from veilcv.cli.main import Interrupted
    from veilcv.core.pipeline import Redactor
    from veilcv.core.stream import StreamOptions, StreamResult, run_stream
    from veilcv.core.stream_sinks import open_event_sink, open_frame_sink
    from veilcv.core.stream_sources import VideoSource, display_name
    from veilcv.errors import InputError
    from veilcv.store.policy import from_policy
    from veilcv.telemetry.gate import TelemetryGate
    from veilcv.telemetry.metrics import StreamMetrics, parse_listen, serve_metrics
    from veilcv.telemetry.stream_events import gated_release

    options = StreamOptions(
        on_failure=on_failure, max_latency=max_latency, interval=interval, heatmap=heatmap,
        quality=quality, max_frames=max_frames,
    )  # fmt: skip
    ropts = redact_options(  # as veil redact and veilcv.Redactor build them: one check of every value
        what, mode=mode, mask_scale=mask_scale, thresholds=parse_thresholds(threshold),
        verify=verify, strict=strict, carry=carry, precision=precision,
        profile=str(profile) if profile else None, small_faces=small_faces,
    )  # fmt: skip
    gate = TelemetryGate(from_policy(load_policy_dict(policy)))
    if heatmap and "cell" not in gate.policy.telemetry_fields:
        raise InputError(
            "--heatmap: the policy's telemetry.allowed_fields has no 'cell' field, so every heatmap event "
            "would be refused; add cell: string there or drop --heatmap"
        )
    if metrics:
        parse_listen(metrics)  # a typo fails now, not after the models have loaded
    src = VideoSource(source, pace=pace)
    closers: list[Any] = [src.close]
    try:
        redactor = Redactor(ropts)
        stop_announcing = announce_setup_steps(quiet)
        try:
            redactor.load(1)  # a missing or altered model fails here, before any frame leaves
        finally:
            stop_announcing()
        event_sink = open_event_sink(events) if events else None
        if event_sink is not None:
            closers.append(event_sink.close)
            gate.sink = event_sink
        frame_sink = open_frame_sink(sink, keep=keep) if sink else _Discard()
        closers.append(frame_sink.close)  # also if a later step fails (twice is fine)
        observer = StreamMetrics()
        if metrics:
            server = serve_metrics(observer.registry, metrics)
            closers.append(server.stop)
            if not quiet:
                _log("info", f"metrics at {server.url}")
        if not quiet:
            target = "no frame sink" if not sink else display_name(sink)
            _log("info", f"streaming {src.name} ({src.kind}, {src.fps:g} fps) to {target} (Ctrl-C to stop)")
        result = StreamResult()
        stop = threading.Event()
        try:
            with _first_ctrl_c_sets(stop):
                run_stream(
                    redactor, src, frame_sink, options, observer=observer,
                    release=gated_release(gate) if event_sink is not None else None, log=_log,
                    result=result, stop=stop,
                )  # fmt: skip
        except (KeyboardInterrupt, Interrupted):
            stopped = True  # a second Ctrl-C, or one outside the main thread: still a clean stop
        else:
            stopped = stop.is_set()  # the documented way to stop a live source: a clean stop
    finally:
        for close in reversed(closers):
            close()
    if not quiet:
        if stopped:
            _log("info", "stopped")
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(result.dropped.items()))
        refused = sum(result.events_refused.values())
        _log(
            "info",
            f"{result.frames_in} frame(s) in, {result.sent} sent, {sum(result.dropped.values())} dropped"
            f"{f' ({dropped})' if dropped else ''}, {result.blanked} blanked, {result.failures} failure(s); "
            f"events: {result.events_sent} sent, {refused} refused",
        )
    if stopped and not result.failure:
        return
    if result.source_error:
        raise InputError(result.source_error)
    if result.failure:
        raise typer.Exit(2)  # already said on its own line


class _Discard:
    """No frame sink: frames are redacted (so events count what was redacted) and go nowhere."""

    def write(self, index: int, jpeg: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("stream")(stream)


@contextlib.contextmanager
def _first_ctrl_c_sets(stop: threading.Event) -> Iterator[None]:
    """While the stream runs, Ctrl-C sets ``stop`` (taken at the next frame boundary, so the frames
    sent, the summary and the events agree); a second Ctrl-C interrupts at once."""

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = None
    with contextlib.suppress(ValueError):  # not in the main thread: Ctrl-C interrupts as before
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
