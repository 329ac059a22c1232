"""Number formatting shared by the Markdown and HTML reporters, so both print the same figures."""

from __future__ import annotations

from typing import Any


def pct(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage ("12.5 %"), or "n/a" when undefined."""
    return "n/a" if value is None else f"{100.0 * value:.{digits}f} %"


def interval(iv: list[float] | tuple[float, float] | None, digits: int = 1) -> str:
    """An interval as "[8.1, 18.9] %", or "" when there is none."""
    if not iv:
        return ""
    return f"[{100.0 * iv[0]:.{digits}f}, {100.0 * iv[1]:.{digits}f}] %"


def metric_cell(entry: dict[str, Any]) -> str:
    """One metric of one group: value, interval and fraction, or why it is missing."""
    status = entry.get("status")
    if status == "unavailable":
        return "not applicable"
    if status == "undefined":
        return "undefined (" + str(entry.get("reason", "")).split(" in this group")[0] + ")"
    text = f"{pct(entry['value'])} {interval(entry.get('interval'))} ({entry['k']}/{entry['n']})"
    if entry.get("bootstrap"):
        text += f", bootstrap {interval(entry['bootstrap'])}"
    if status == "small":
        text += " small n"
    return text


def signed_pct(value: float | None) -> str:
    """A difference in percentage points ("+3.2 pp")."""
    return "n/a" if value is None else f"{100.0 * value:+.1f} pp"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"
