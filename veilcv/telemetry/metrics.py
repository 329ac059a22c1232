"""Runtime metrics in the Prometheus text format, each set on a registry of its own.

Every metrics object owns a fresh ``CollectorRegistry`` (never prometheus-client's global default),
so a library user's process keeps its own metrics unchanged and two streams in one process do not
collide. :func:`serve_metrics` exposes one registry over HTTP for a scraper. Metrics carry counts,
durations and refusal reasons from a fixed set: never a key, path, token or pixel.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from veilcv.errors import InputError

#: Detector and end-to-end latency buckets (seconds): 5 ms to 10 s, around a 25 fps frame (40 ms).
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24)
DEFAULT_HOST = "127.0.0.1"


class StreamMetrics:
    """The metrics of one `veil stream` run: the hooks of :class:`veilcv.core.stream.StreamObserver`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.frames = Counter(
            "veil_stream_frames_processed", "Frames redacted, checked and sent.", registry=r
        )
        self.dropped_frames = Counter(
            "veil_stream_frames_dropped",
            "Frames not sent: overrun (a newer frame came first), late (over the latency budget), "
            "sink (the sink refused it), failure (pending when redaction failed).",
            ["reason"],
            registry=r,
        )
        self.failures = Counter(
            "veil_stream_redaction_failures",
            "Redaction failures by stage (detection, redaction, encoding, output check).",
            ["stage"],
            registry=r,
        )
        self.blank_frames = Counter(
            "veil_stream_frames_blanked", "Black frames sent in place of frames after a failure.", registry=r
        )
        self.detector_latency = Histogram(
            "veil_stream_detector_latency_seconds",
            "Detection time per frame.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.latency = Histogram(
            "veil_stream_latency_seconds",
            "Capture to sink, per frame sent (includes the carry look-ahead).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_sent = Counter(
            "veil_stream_events_sent", "Aggregate events released by the gate.", registry=r
        )
        self.events_refused = Counter(
            "veil_stream_events_refused",
            "Aggregate events the telemetry gate refused: policy (a field or value it forbids) or "
            "min_count (a count under the policy's minimum).",
            ["reason"],
            registry=r,
        )
        self.events_failed = Counter(
            "veil_stream_events_failed", "Released events the event sink could not take.", registry=r
        )
        self.residual_faces = Counter(
            "veil_stream_residual_faces",
            "Faces the verification pass found on frames as sent, outside what was redacted (--verify).",
            registry=r,
        )
        for reason in ("overrun", "late", "sink", "failure"):
            self.dropped_frames.labels(reason)  # present at 0 from the first scrape
        for reason in ("policy", "min_count"):
            self.events_refused.labels(reason)

    def detected(self, seconds: float) -> None:
        self.detector_latency.observe(seconds)

    def sent(self, latency_s: float) -> None:
        self.frames.inc()
        self.latency.observe(latency_s)

    def dropped(self, reason: str) -> None:
        self.dropped_frames.labels(reason).inc()

    def failed(self, stage: str) -> None:
        self.failures.labels(stage).inc()

    def blanked(self) -> None:
        self.blank_frames.inc()

    def event_sent(self) -> None:
        self.events_sent.inc()

    def event_refused(self, reason: str) -> None:
        self.events_refused.labels(reason).inc()

    def event_failed(self) -> None:
        self.events_failed.inc()

    def residuals(self, n: int) -> None:
        self.residual_faces.inc(n)

    def text(self) -> str:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry).decode("utf-8")


class RedactMetrics:
    """The metrics of a long `veil redact` run: files by kind and outcome, residual faces, and the
    seconds each file took (all of its steps, and detection alone)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.files = Counter(
            "veil_redact_files",
            "Files finished, by kind (image, video) and outcome (redacted; failed: no output written).",
            ["kind", "outcome"],
            registry=r,
        )
        self.residual_faces = Counter(
            "veil_redact_residual_faces",
            "Faces verification found on outputs outside what was redacted (failed files included).",
            registry=r,
        )
        self.file_seconds = Histogram(
            "veil_redact_file_seconds", "Work per file, decode to write.", buckets=LATENCY_BUCKETS, registry=r
        )
        self.detector_seconds = Histogram(
            "veil_redact_detector_seconds", "Detection time per file.", buckets=LATENCY_BUCKETS, registry=r
        )
        for kind in ("image", "video"):
            for outcome in ("redacted", "failed"):
                self.files.labels(kind, outcome)  # present at 0 from the first scrape

    def file(self, kind: str, ok: bool, residuals: int, timings_ms: dict[str, float]) -> None:
        """One file finished (``timings_ms``: its steps, as the report records them)."""
        self.files.labels(
            kind if kind in ("image", "video") else "other", "redacted" if ok else "failed"
        ).inc()
        self.residual_faces.inc(residuals)
        if timings_ms:
            self.file_seconds.observe(sum(timings_ms.values()) / 1000.0)
        if "detect" in timings_ms:
            self.detector_seconds.observe(timings_ms["detect"] / 1000.0)

    def text(self) -> str:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry).decode("utf-8")


class StoreMetrics:
    """Metrics of `veil store serve`: refused requests by reason, objects past their retention.

    ``past_retention`` is called at each scrape (a count that purges change, read when asked).
    """

    def __init__(
        self, past_retention: Callable[[], int] | None = None, registry: CollectorRegistry | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.refused = Counter(
            "veil_store_refused_requests",
            "Requests refused by the store server, by reason (a burst is an access anomaly).",
            ["reason"],
            registry=self.registry,
        )
        self.served = Counter(
            "veil_store_served_objects", "Objects served for a valid token.", registry=self.registry
        )
        if past_retention is not None:
            gauge = Gauge(
                "veil_store_objects_past_retention",
                "Objects older than their prefix's retention period (purge pending).",
                registry=self.registry,
            )
            gauge.set_function(lambda: _count_or_nan(past_retention))

    def on_refused(self, reason: str) -> None:
        self.refused.labels(reason).inc()

    def on_served(self) -> None:
        self.served.inc()

    def text(self) -> str:
        return generate_latest(self.registry).decode("utf-8")


def _count_or_nan(count: Callable[[], int]) -> float:
    """``count()``, or NaN when it cannot be counted now (a store row failing its check): the scrape
    still answers, and the NaN shows that something needs looking at."""
    try:
        return float(count())
    except Exception:  # noqa: BLE001 - a scrape must not fail on it
        return float("nan")


def parse_listen(text: str) -> tuple[str, int]:
    """``:9464`` → (127.0.0.1, 9464); ``HOST:PORT`` and ``[::1]:PORT`` as written.

    A bare ``:PORT`` binds loopback only: publishing the endpoint on a network is the user's
    explicit choice (``0.0.0.0:9464``).
    """
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError(f"--metrics: expected [HOST]:PORT like :9464 or 127.0.0.1:9464, got {text!r}")
    host = host.strip("[]") or DEFAULT_HOST
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise InputError(f"--metrics: expected an IP address before the port, got {host!r}") from None
    return host, int(port)


@dataclass
class MetricsServer:
    """A running metrics endpoint (``GET /metrics``); :meth:`stop` closes it."""

    host: str
    port: int
    _server: Any
    _thread: Any

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(registry: CollectorRegistry, listen: str) -> MetricsServer:
    """Serve ``registry`` at ``http://LISTEN/metrics`` from a background thread (port 0: any free port)."""
    from prometheus_client import start_http_server

    host, port = parse_listen(listen)
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise InputError(f"--metrics: cannot listen on {listen}: {exc.strerror or exc}") from None
    return MetricsServer(host, int(server.server_address[1]), server, thread)
