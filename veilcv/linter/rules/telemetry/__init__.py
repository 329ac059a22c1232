"""Telemetry rules (VC3xx): event JSON Schemas and sample payloads against the policy's telemetry section.

Which files: anything under a folder named ``telemetry`` with extension ``.json``, ``.jsonl``
or ``.ndjson``, plus ``*.event.json``, ``*.events.jsonl``, ``*.event.schema.json`` and
``*.telemetry.json(l)`` anywhere. A JSON file is a schema when its name ends in ``.schema.json``
or it has a ``$schema`` key; otherwise it holds one event (an object) or several (a list).

Policy keys read (defaults in brackets): ``telemetry.allowed_fields``
[{event: string, count: integer, hour: string}], ``telemetry.forbidden``
[image_bytes, base64, paths, gps, free_text], ``telemetry.min_aggregation_count`` [10].
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta
from veilcv.linter.located import LocatedError, line_of, load_located, loads_json
from veilcv.linter.rules.telemetry import rules as R
from veilcv.linter.rules.telemetry.schema import check_schema
from veilcv.linter.textio import TextReadError, read_utf8
from veilcv.policies.loader import with_defaults
from veilcv.telemetry.classify import POLICY_KINDS, is_aggregate, scan

RULES: tuple[RuleMeta, ...] = R.RULES

_CAT = "telemetry"  # VC004 findings here block telemetry checks, whatever the rule's own category
_SUFFIXES = (".event.json", ".events.jsonl", ".event.schema.json", ".telemetry.json", ".telemetry.jsonl")


def is_telemetry_file(rel: str) -> bool:
    parts = rel.split("/")
    if rel.endswith(_SUFFIXES):
        return True
    return "telemetry" in parts[:-1] and rel.endswith((".json", ".jsonl", ".ndjson"))


def settings(policy: dict[str, Any]) -> tuple[dict[str, str], set[str], int]:
    """(allowed fields -> type, forbidden kinds, minimum aggregation count); the default pack fills gaps."""
    tel = with_defaults(policy)["telemetry"]
    forbidden = {POLICY_KINDS[k] for k in tel["forbidden"] if k in POLICY_KINDS}
    return dict(tel["allowed_fields"] or {}), forbidden, int(tel["min_aggregation_count"])


def type_ok(expected: str, value: Any) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    return True


def check(ctx: LintContext) -> Iterator[Finding]:
    allowed, forbidden, min_count = settings(ctx.policy)
    for rel in ctx.files:
        if not is_telemetry_file(rel):
            continue
        try:
            text = read_utf8(ctx.path(rel))
        except TextReadError as exc:
            ctx.unparseable(rel, f"cannot read telemetry file: {exc}", category=_CAT)
            continue
        if rel.endswith((".jsonl", ".ndjson")):
            yield from _check_jsonl(ctx, rel, text, allowed, forbidden, min_count)
            continue
        try:
            data, lines = load_located(text, json_fallback=True)
        except LocatedError as exc:
            ctx.unparseable(rel, f"cannot parse JSON: {exc}", category=_CAT)
            continue
        if data is None:
            ctx.unparseable(
                rel,
                "expected an event, a list of events or an event schema, got an empty file",
                category=_CAT,
            )
            continue
        if rel.endswith(".schema.json") or (isinstance(data, dict) and "$schema" in data):
            if not isinstance(data, dict):
                ctx.unparseable(
                    rel, f"expected a JSON Schema object, got {type(data).__name__}", category=_CAT
                )
                continue
            yield from check_schema(rel, data, lines, allowed, forbidden, min_count)
            continue
        events = data if isinstance(data, list) else [data]
        for i, event in enumerate(events):
            base: tuple[Any, ...] = (i,) if isinstance(data, list) else ()
            if not isinstance(event, dict):
                ctx.unparseable(
                    rel,
                    f"line {line_of(lines, base)}: expected an event object, got {type(event).__name__}",
                    category=_CAT,
                )
                break
            yield from check_event(
                rel, event, allowed, forbidden, min_count, lambda p, b=base, ls=lines: line_of(ls, b + p)
            )


def _check_jsonl(
    ctx: LintContext, rel: str, text: str, allowed: dict[str, str], forbidden: set[str], min_count: int
) -> Iterator[Finding]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            event = loads_json(raw)
        except LocatedError as exc:
            ctx.unparseable(rel, f"line {number}: {exc}", category=_CAT)
            return
        except ValueError as exc:
            ctx.unparseable(
                rel,
                f"line {number}: invalid JSON: {exc.msg}; each line must be one JSON object",
                category=_CAT,
            )
            return
        if not isinstance(event, dict):
            ctx.unparseable(
                rel, f"line {number}: expected an event object, got {type(event).__name__}", category=_CAT
            )
            return
        yield from check_event(rel, event, allowed, forbidden, min_count, lambda _p, n=number: n)


def _finding(rule: RuleMeta, file: str, line: int, message: str, json_path: str) -> Finding:
    return Finding(rule_id=rule.id, message=message, file=file, line=line, extra={"json_path": json_path})


def check_event(
    rel: str,
    event: dict[str, Any],
    allowed: dict[str, str],
    forbidden: set[str],
    min_count: int,
    line: Any,
) -> Iterator[Finding]:
    """Findings for one event; ``line(path_tuple)`` gives the line of a field."""
    for key, value in event.items():
        k = str(key)
        if allowed and k not in allowed:
            yield _finding(
                R.FIELD_NOT_ALLOWED,
                rel,
                line((key,)),
                f"field {k} is not in telemetry.allowed_fields",
                f"$.{k}",
            )
        elif k in allowed and not type_ok(allowed[k], value):
            yield _finding(
                R.FIELD_WRONG_TYPE,
                rel,
                line((key,)),
                f"field {k}: expected {allowed[k]}, got {type(value).__name__}",
                f"$.{k}",
            )
        if (
            is_aggregate(k)
            and isinstance(value, int)
            and not isinstance(value, bool)
            and 0 < value < min_count
        ):
            yield _finding(
                R.SMALL_AGGREGATE,
                rel,
                line((key,)),
                f"field {k} = {value} is below the minimum aggregation count {min_count}",
                f"$.{k}",
            )
    seen: set[tuple[str, str]] = set()
    for json_path, kind in scan(event):
        if kind not in forbidden or (json_path, kind) in seen:
            continue
        seen.add((json_path, kind))
        top = json_path[2:].split(".")[0].split("[")[0]
        yield _finding(
            R.KIND_RULES[kind], rel, line((top,)), f"{json_path} carries {kind.replace('_', ' ')}", json_path
        )
