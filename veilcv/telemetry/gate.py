"""The runtime telemetry gate: every outbound event passes through :class:`TelemetryGate`.

An event may leave only if every field is one the policy allows (``telemetry.allowed_fields``),
with the declared type, and no value is classified as content the policy forbids (image bytes,
base64 blobs, paths, coordinates, free text...). The value classifier is the one the telemetry
lint rules use, so the gate and ``veil check`` agree on what a forbidden value looks like.
Counts are released as hourly aggregates only, and an aggregate below
``telemetry.min_aggregation_count`` is suppressed (counted, never sent), so a rare event cannot
single anyone out. Refusal messages name the field and the reason, never the value.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from veilcv.atomic import write_text
from veilcv.errors import TelemetryRefused
from veilcv.store.policy import StorePolicy
from veilcv.telemetry.classify import POLICY_KINDS, classify_value

# Refused whatever the policy says: the gate exists to keep these out.
ALWAYS_FORBIDDEN = frozenset({"image_bytes", "base64", "path", "gps"})
MAX_STRING = 128
Sink = Callable[[dict[str, Any]], None]


def forbidden_kinds(policy: StorePolicy) -> frozenset[str]:
    """The classifier's kinds the gate refuses: the policy's ``telemetry.forbidden`` plus the floor."""
    return ALWAYS_FORBIDDEN | {POLICY_KINDS.get(name, name) for name in policy.telemetry_forbidden}


def hour_of(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:00Z")


@dataclass
class GateStats:
    sent: int = 0
    suppressed: int = 0
    refused: int = 0


@dataclass
class TelemetryGate:
    """Check, aggregate and release events for one policy; ``sink`` receives what passes."""

    policy: StorePolicy
    sink: Sink | None = None
    clock: Callable[[], float] = time.time
    stats: GateStats = field(default_factory=GateStats)
    _counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def min_count(self) -> int:
        return self.policy.min_aggregation_count

    def check(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of ``event`` if it may leave as is; raise :class:`TelemetryRefused` otherwise."""
        try:
            return self._check(event)
        except TelemetryRefused:
            self.stats.refused += 1
            raise

    def _check(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(event, Mapping) or not event:
            raise TelemetryRefused(
                f"telemetry event: expected a non-empty mapping, got {type(event).__name__}"
            )
        allowed = self.policy.telemetry_fields
        forbidden = forbidden_kinds(self.policy)
        out: dict[str, Any] = {}
        for name, value in event.items():
            if not isinstance(name, str) or name not in allowed:
                raise TelemetryRefused(
                    f"telemetry field {name!r}: not in the policy's telemetry.allowed_fields "
                    f"({', '.join(sorted(allowed)) or 'none'}); add it there or drop it"
                )
            _check_type(name, value, allowed[name])
            found = sorted(set(classify_value(name, value)) & forbidden)
            if found:
                raise TelemetryRefused(
                    f"telemetry field {name!r}: value looks like {', '.join(found)}; never sent"
                )
            out[name] = value
        return out

    def emit(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Check ``event`` and send it, unless it is an aggregate below the minimum count."""
        checked = self.check(event)
        counts = [v for k, v in checked.items() if k == "count" or k.endswith("_count")]
        if any(0 < c < self.min_count for c in counts):
            self.stats.suppressed += 1
            return None
        if self.sink is not None:
            self.sink(checked)
        self.stats.sent += 1
        return checked

    def count(self, event: str, n: int = 1) -> None:
        """Add ``n`` to this hour's count of ``event`` (released by :meth:`flush`)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TelemetryRefused(
                f"telemetry count for {event!r}: expected a non-negative integer, got {n!r}"
            )
        self._counts[(hour_of(self.clock()), event)] += n

    def flush(self) -> list[dict[str, Any]]:
        """Emit every accumulated hourly count that reaches the minimum; forget the rest."""
        sent = []
        for (hour, name), n in sorted(self._counts.items()):
            if n == 0:
                continue
            event: dict[str, Any] = {"event": name, "count": n}
            if "hour" in self.policy.telemetry_fields:
                event["hour"] = hour
            released = self.emit(event)
            if released is not None:
                sent.append(released)
        self._counts.clear()
        return sent


def _check_type(name: str, value: object, want: str) -> None:
    ok = {
        "string": isinstance(value, str) and len(value) <= MAX_STRING,
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value)),
        "boolean": isinstance(value, bool),
    }.get(want, False)
    if not ok:
        got = type(value).__name__ + (f" of {len(value)} chars" if isinstance(value, str) else "")
        limit = f" (at most {MAX_STRING} chars)" if want == "string" else ""
        raise TelemetryRefused(f"telemetry field {name!r}: expected {want}{limit}, got {got}")


class JsonlSink:
    """Collects released events and writes them as JSON lines, atomically, on :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def close(self) -> None:
        write_text(self.path, "".join(json.dumps(e, sort_keys=True) + "\n" for e in self.events))
