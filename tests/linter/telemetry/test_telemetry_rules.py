"""Telemetry payloads and event schemas against the policy; bad files fail closed (VC004), never crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from veilcv.linter.context import LintContext
from veilcv.linter.finding import CATEGORIES
from veilcv.linter.rules import telemetry

POLICY: dict[str, Any] = {
    "telemetry": {
        "allowed_fields": {"event": "string", "count": "integer", "hour": "string"},
        "forbidden": ["image_bytes", "base64", "paths", "gps", "free_text"],
        "min_aggregation_count": 10,
    }
}
OK = {"event": "ingest.summary", "count": 42, "hour": "2026-11-26T15"}


def _run(tmp_path: Path, files: dict[str, str], policy: dict[str, Any] | None = None):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    ctx = LintContext(tmp_path, policy or POLICY, sorted(files))
    return sorted(telemetry.check(ctx), key=lambda f: (f.file, f.line, f.rule_id)), ctx


def _jsonl(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def test_rules_metadata() -> None:
    ids = [r.id for r in telemetry.RULES]
    assert ids == [f"VC3{n:02d}" for n in range(1, len(ids) + 1)]
    assert all(r.category in CATEGORIES and r.target == "telemetry" and r.fix for r in telemetry.RULES)


@pytest.mark.parametrize(
    ("rel", "selected"),
    [
        ("telemetry/ingest.jsonl", True),
        ("app/telemetry/x.json", True),
        ("events/ingest.event.schema.json", True),
        ("logs/run.events.jsonl", True),
        ("ingest.telemetry.jsonl", True),
        ("telemetry.jsonl", False),
        ("data/manifest.jsonl", False),
        ("telemetry/readme.md", False),
    ],
)
def test_which_files_are_telemetry(rel: str, selected: bool) -> None:
    assert telemetry.is_telemetry_file(rel) is selected


def test_clean_samples_and_schema(tmp_path: Path) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "event": {"type": "string", "enum": ["ingest.summary"]},
            "count": {"type": "integer", "minimum": 10},
            "hour": {"type": "string", "format": "date-time"},
        },
    }
    findings, ctx = _run(
        tmp_path,
        {
            "telemetry/a.jsonl": _jsonl(OK, OK) + "\n",
            "telemetry/b.json": json.dumps([OK, OK]),
            "telemetry/ingest.schema.json": json.dumps(schema, indent=2),
        },
    )
    assert findings == [] and ctx.skipped == []


def test_payload_findings_with_lines(tmp_path: Path) -> None:
    events = [OK, {**OK, "count": 3, "frame": "/raw/cam1/f_01.jpg"}, {**OK, "hour": 15}]
    findings, _ = _run(tmp_path, {"telemetry/run.jsonl": _jsonl(*events)})
    assert [(f.rule_id, f.line, f.message) for f in findings] == [
        ("VC301", 2, "field frame is not in telemetry.allowed_fields"),
        ("VC305", 2, "$.frame carries path"),
        ("VC310", 2, "field count = 3 is below the minimum aggregation count 10"),
        ("VC302", 3, "field hour: expected string, got int"),
    ]
    assert findings[1].extra["json_path"] == "$.frame"


def test_json_payload_lines_come_from_the_document(tmp_path: Path) -> None:
    text = (
        '[\n  {"event": "a", "count": 50, "hour": "h"},\n'
        '  {"event": "a",\n   "count": 50,\n   "lat": 48.1}\n]\n'
    )
    findings, _ = _run(tmp_path, {"telemetry/x.json": text})
    assert [(f.rule_id, f.line) for f in findings] == [("VC301", 5), ("VC306", 5)]


def test_forbidden_list_and_allowed_fields_come_from_the_policy(tmp_path: Path) -> None:
    allowed = {"note": "string", "lat": "number", "count": "integer"}
    policy = {"telemetry": {"allowed_fields": allowed, "forbidden": ["gps"], "min_aggregation_count": 1}}
    text = _jsonl({"note": "a long free text message about the station", "lat": 1.5, "count": 1})
    findings, _ = _run(tmp_path, {"telemetry/x.jsonl": text}, policy)
    assert [f.rule_id for f in findings] == ["VC306"]


def test_schema_findings(tmp_path: Path) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "event": {"type": "string"},
            "count": {"type": ["integer", "null"]},
            "hour": {"type": "integer"},
            "gps": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"lat": {"type": "number"}},
            },
            "crop": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
        },
        "$defs": {"extra": {"type": "object"}},
    }
    findings, _ = _run(tmp_path, {"telemetry/e.event.schema.json": json.dumps(schema, indent=2)})
    got = [(f.rule_id, f.line, f.extra["json_path"]) for f in findings]
    assert got == [
        ("VC311", 1, "#"),
        ("VC312", 5, "#/properties/event"),
        ("VC310", 8, "#/properties/count"),
        ("VC302", 14, "#/properties/hour"),
        ("VC301", 17, "#/properties/gps"),
        ("VC312", 17, "#/properties/gps"),
        ("VC301", 26, "#/properties/crop"),
        ("VC312", 26, "#/properties/crop"),
        ("VC311", 33, "#/$defs/extra"),
    ]


@pytest.mark.parametrize(
    ("rel", "text", "reason", "line"),
    [
        ("telemetry/a.jsonl", '{"event": "a"}\n{"event": \n', "line 2: invalid JSON", 2),
        ("telemetry/b.jsonl", '["not", "an", "object"]\n', "line 1: expected an event object, got list", 1),
        ("telemetry/c.json", '{"event": ', "cannot parse JSON", 1),
        ("telemetry/d.schema.json", "[1, 2]", "expected a JSON Schema object, got list", 1),
        ("telemetry/e.json", '[\n  {"event": "a"},\n  1\n]', "line 3: expected an event object, got int", 3),
        ("telemetry/f.json", "", "got an empty file", 1),
    ],
)
def test_bad_files_fail_closed_with_a_reason(
    tmp_path: Path, rel: str, text: str, reason: str, line: int
) -> None:
    findings, ctx = _run(tmp_path, {rel: text})
    assert ctx.skipped == []
    [bad] = ctx.unparsed
    assert (bad.rule_id, bad.file, bad.line, bad.category) == ("VC004", rel, line, "telemetry")
    assert reason in bad.message and "\n" not in bad.message
    assert all(f.rule_id != "VC301" or f.line == 1 for f in findings)


def test_undecodable_file_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "telemetry").mkdir()
    (tmp_path / "telemetry" / "x.jsonl").write_bytes(b'{"event": "\xff"}\n')
    ctx = LintContext(tmp_path, POLICY, ["telemetry/x.jsonl"])
    assert list(telemetry.check(ctx)) == [] and ctx.skipped == []
    assert ctx.unparsed[0].message.startswith("cannot read telemetry file")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    findings, ctx = _run(tmp_path, {"telemetry/x.jsonl": "\ufeff" + _jsonl(OK, {**OK, "count": 2})})
    assert ctx.skipped == []
    assert [(f.rule_id, f.line) for f in findings] == [("VC310", 2)]
