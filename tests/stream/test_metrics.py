"""Prometheus metrics scraped over loopback, an HTTP frame sink, and `veil store serve`'s metrics."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from store.helpers import DAY, make_store, new_key
from store.helpers import Clock as StoreClock

from tests.stream.conftest import BoxDetector, source_frames
from tests.stream.test_stream import assert_redacted, gate_for, redactor
from veilcv.core.stream import StreamOptions, run_stream
from veilcv.core.stream_sinks import DirSink, HttpEvents, HttpSink
from veilcv.core.stream_sources import VideoSource
from veilcv.errors import InputError
from veilcv.store.access import sign
from veilcv.store.purge import due
from veilcv.store.server import StoreServer, refusal_reason
from veilcv.telemetry.metrics import StoreMetrics, StreamMetrics, parse_listen, serve_metrics
from veilcv.telemetry.stream_events import gated_release


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_stream_metrics_are_scraped_over_loopback(clip: Path, tmp_path: Path) -> None:
    metrics = StreamMetrics()
    server = serve_metrics(metrics.registry, "127.0.0.1:0")
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/metrics"
        gate, sink = gate_for(tmp_path, min_count=5)
        det = BoxDetector(fail_at=8)
        res = run_stream(
            redactor(det, carry=2), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"),
            StreamOptions(), observer=metrics, release=gated_release(gate),
        )  # fmt: skip
        sink.close()
        got = scrape(server.url)
    finally:
        server.stop()
    assert got[("veil_stream_frames_processed_total", ())] == res.sent == 6
    assert got[("veil_stream_redaction_failures_total", (("stage", "detection"),))] == 1
    assert got[("veil_stream_frames_dropped_total", (("reason", "failure"),))] == 2
    assert got[("veil_stream_frames_dropped_total", (("reason", "overrun"),))] == 0
    assert got[("veil_stream_detector_latency_seconds_count", ())] == 8  # the failed call has no latency
    assert got[("veil_stream_latency_seconds_count", ())] == 6
    # frames 6 and face_regions 6 pass; frames_dropped 2 is under the minimum of 5
    assert got[("veil_stream_events_sent_total", ())] == 2
    assert got[("veil_stream_events_refused_total", (("reason", "min_count"),))] == 1


def test_each_metrics_object_has_its_own_registry() -> None:
    a, b = StreamMetrics(), StreamMetrics()  # two streams in one process: no duplicate-name error
    a.sent(0.01)
    assert "veil_stream_frames_processed_total 1.0" in a.text()
    assert "veil_stream_frames_processed_total 0.0" in b.text()
    assert "veil_stream" not in prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()


def test_metrics_listen_addresses() -> None:
    assert parse_listen(":9464") == ("127.0.0.1", 9464)  # loopback unless a host is named
    assert parse_listen("0.0.0.0:9464") == ("0.0.0.0", 9464)
    assert parse_listen("[::1]:9") == ("::1", 9)
    for bad in ("9464", "localhost:9464", ":99999", "host:port"):
        with pytest.raises(InputError, match="--metrics"):
            parse_listen(bad)


class _Collector(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        frame = self.headers.get("X-Veil-Frame")
        self.server.got.append((None if frame is None else int(frame), self.headers["Content-Type"], body))
        status = 503 if self.server.refuse and len(self.server.got) == self.server.refuse else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.got, server.refuse = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_http_sink_posts_redacted_frames(clip: Path, collector) -> None:
    src = source_frames(clip)
    collector.refuse = 5  # the fifth POST is answered 503: that frame is dropped, the rest go on
    url = f"http://127.0.0.1:{collector.server_address[1]}/ingest"
    res = run_stream(redactor(BoxDetector()), VideoSource(str(clip), pace=False), HttpSink(url))
    assert len(collector.got) == 16 and res.sent == 15 and res.dropped["sink"] == 1
    for index, ctype, body in collector.got:
        assert ctype == "image/jpeg"
        assert_redacted(cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR), src[index])


def test_http_sink_that_cannot_connect_drops_frames(clip: Path) -> None:
    res = run_stream(
        redactor(BoxDetector()), VideoSource(str(clip), pace=False), HttpSink("http://127.0.0.1:9/x")
    )
    assert res.sent == 0 and res.dropped["sink"] == 16 and res.failure is None


def test_events_are_posted_as_json_to_a_url(clip: Path, tmp_path: Path, collector) -> None:
    gate, _ = gate_for(tmp_path, min_count=5)
    gate.sink = HttpEvents(f"http://127.0.0.1:{collector.server_address[1]}/events")
    res = run_stream(
        redactor(BoxDetector()), VideoSource(str(clip), pace=False), DirSink(tmp_path / "out"),
        release=gated_release(gate),
    )  # fmt: skip
    posted = [json.loads(body) for _, ctype, body in collector.got if ctype == "application/json"]
    assert {e["event"]: e["count"] for e in posted} == {"frames": 16, "frames_dropped": 0, "face_regions": 16}
    assert res.events_sent == 3


# --- veil store serve ---------------------------------------------------------------------------


def test_store_server_counts_refusals_by_reason_and_objects_past_retention(tmp_path: Path) -> None:
    clock = StoreClock()
    store = make_store(tmp_path / "vault", new_key(), clock)
    key = "redacted/p/1.jpg"
    store.put(key, b"redacted bytes", role="writer", actor="t")
    store.put("raw/p/1.jpg", b"raw", role="writer", actor="t")
    metrics = StoreMetrics(past_retention=lambda: len(due(store, store.clock())))
    scraper = serve_metrics(metrics.registry, "127.0.0.1:0")
    try:
        with StoreServer(store, "127.0.0.1", 0, metrics=metrics) as server:
            good = sign(store, key, role="reader", ttl=60, actor="t")

            def get(path: str, method: str = "GET") -> int:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                try:
                    conn.request(method, path)
                    resp = conn.getresponse()
                    resp.read()
                    return resp.status
                finally:
                    conn.close()

            q = urllib.parse.quote
            assert get(f"/o/{q(key)}?token={q(good)}") == 200
            assert get(f"/o/{q(key)}") == 403  # no token
            for _ in range(3):  # a burst of forged tokens
                assert get(f"/o/{q(key)}?token={q(good[:-4] + 'AAAA')}") == 403
            assert get(f"/o/{q('redacted/p/2.jpg')}?token={q(good)}") == 403
            assert get("/elsewhere") == 400
            assert get(f"/o/{q(key)}", method="DELETE") == 405
            clock.advance(120)
            assert get(f"/o/{q(key)}?token={q(good)}") == 403
            before = scrape(scraper.url)
            clock.advance(8 * DAY)  # the raw object (7 days) is now past its retention
            after = scrape(scraper.url)
    finally:
        scraper.stop()
        store.close()
    refused = {dict(labels)["reason"]: v for (name, labels), v in before.items()
               if name == "veil_store_refused_requests_total"}  # fmt: skip
    assert refused == {"missing_token": 1, "bad_signature": 3, "wrong_key": 1, "malformed_path": 1,
                       "method_not_allowed": 1, "expired": 1}  # fmt: skip
    assert before[("veil_store_served_objects_total", ())] == 1
    assert before[("veil_store_objects_past_retention", ())] == 0
    assert after[("veil_store_objects_past_retention", ())] == 1


def test_refusal_reasons_never_carry_the_key() -> None:
    assert refusal_reason("object redacted/token refused: expired: no such object") == "no_such_object"
    assert refusal_reason("role 'reader' may not read raw/x (scoped to redacted/)") == "role"
    assert refusal_reason("object raw/a.jpg: past its retention period (purge pending)") == "past_retention"
    assert refusal_reason("something new") == "other"
