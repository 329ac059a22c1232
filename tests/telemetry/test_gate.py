"""The runtime telemetry gate: only allowed fields and aggregates leave; content never does."""

from __future__ import annotations

import base64
import json

import pytest
from store.helpers import POLICY, Clock, jpeg_bytes

from veilcv.errors import TelemetryRefused
from veilcv.store import from_policy
from veilcv.telemetry.gate import JsonlSink, TelemetryGate, hour_of


def _gate(sent: list, **telemetry) -> TelemetryGate:
    pol = {**POLICY, "telemetry": {**POLICY["telemetry"], **telemetry}}
    return TelemetryGate(from_policy(pol), sent.append, Clock(1_800_000_000.0))


def test_allowed_aggregate_passes_unchanged() -> None:
    sent: list = []
    event = {"event": "ingest_stored", "count": 12, "hour": "2027-01-15T08:00Z"}
    assert _gate(sent).emit(event) == event
    assert sent == [event]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"event": "x", "count": 5, "file": "a.jpg"}, "not in the policy's telemetry.allowed_fields"),
        ({"event": "/data/raw/cam1/frame_0001.jpg", "count": 5}, "path"),
        (
            {"event": "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes()).decode()[:100], "count": 5},
            "image_bytes",
        ),
        ({"event": "e" * 129, "count": 5}, r"expected string \(at most 128 chars\), got str of 129 chars"),
        ({"event": base64.b64encode(jpeg_bytes())[:96].decode(), "count": 5}, "image_bytes"),
        ({"event": base64.b64encode(bytes(range(200))[:72]).decode(), "count": 5}, "base64"),
        ({"event": "48.85661,2.35222", "count": 5}, "gps"),
        ({"event": "person walking near the school gate", "count": 5}, "free_text"),
        ({"event": "x", "count": jpeg_bytes()}, "expected integer"),
        ({"event": "x", "count": [1, 2]}, "expected integer"),
        ({"event": "x", "count": True}, "expected integer"),
        ({"event": "x", "hour": {"nested": "dict"}}, "expected string"),
        ({}, "non-empty mapping"),
    ],
)
def test_forbidden_content_is_refused_without_echoing_it(event: dict, why: str) -> None:
    sent: list = []
    gate = _gate(sent)
    with pytest.raises(TelemetryRefused, match=why) as info:
        gate.emit(event)
    assert sent == [] and gate.stats.refused == 1
    for value in event.values():
        if isinstance(value, str) and len(value) > 12:
            assert value not in str(info.value)  # the refusal must not become the leak


def test_small_counts_are_suppressed() -> None:
    sent: list = []
    gate = _gate(sent, min_aggregation_count=5)
    assert gate.emit({"event": "ingest_failed", "count": 2}) is None
    assert gate.emit({"event": "ingest_failed", "count": 0}) is not None  # zero singles nobody out
    assert gate.emit({"event": "ingest_failed", "count": 5}) is not None
    assert (gate.stats.sent, gate.stats.suppressed) == (2, 1)


def test_hourly_counts_are_aggregated_and_thresholded() -> None:
    sent: list = []
    gate = _gate(sent, min_aggregation_count=3)
    clock: Clock = gate.clock  # type: ignore[assignment]
    for _ in range(4):
        gate.count("redacted_image")
    gate.count("rejected_image", 2)
    clock.advance(3600)
    gate.count("redacted_image", 3)
    released = gate.flush()
    h0, h1 = hour_of(1_800_000_000.0), hour_of(1_800_003_600.0)
    assert released == [
        {"event": "redacted_image", "count": 4, "hour": h0},
        {"event": "redacted_image", "count": 3, "hour": h1},
    ]
    assert gate.stats.suppressed == 1 and gate.flush() == []
    with pytest.raises(TelemetryRefused):
        gate.count("x", -1)


def test_policy_forbidden_kinds_are_added_to_the_floor() -> None:
    sent: list = []
    strict = _gate(
        sent,
        allowed_fields={"event": "string", "count": "integer", "user": "string"},
        forbidden=["identifiers"],
    )
    with pytest.raises(TelemetryRefused, match="identifier"):
        strict.emit({"event": "x", "count": 5, "user": "alice@example.org"})
    # paths are refused even by a policy that forgot to list them
    lax = _gate(sent, forbidden=[])
    with pytest.raises(TelemetryRefused, match="path"):
        lax.emit({"event": "/home/u/cam/frame.png", "count": 5})


def test_jsonl_sink_writes_atomically(tmp_path) -> None:
    out = tmp_path / "t.jsonl"
    sink = JsonlSink(out)
    gate = TelemetryGate(from_policy(POLICY), sink)
    gate.emit({"event": "a", "count": 9})
    assert not out.exists()
    sink.close()
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{"count": 9, "event": "a"}]
