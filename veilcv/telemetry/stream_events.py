"""`veil stream`'s aggregates leave through the telemetry gate (:func:`gated_release`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from veilcv.telemetry.gate import TelemetryGate, hour_of


def gated_release(gate: TelemetryGate) -> Callable[[dict[str, Any], float], dict[str, Any] | None]:
    """Release one interval aggregate through ``gate`` (its sink sends it).

    The interval's start hour is added as ``hour`` where the policy allows that field, as the
    gate's own hourly counts do. Returns the event sent, None when the gate held it back (a count
    under ``telemetry.min_aggregation_count``); raises ``TelemetryRefused`` when the policy forbids
    a field or value.
    """
    with_hour = "hour" in gate.policy.telemetry_fields

    def release(event: dict[str, Any], started: float) -> dict[str, Any] | None:
        return gate.emit({**event, "hour": hour_of(started)} if with_hour else event)

    return release
