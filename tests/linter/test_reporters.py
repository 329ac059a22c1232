"""One Report, three formats: SARIF validated against the official 2.1.0 schema, JSON, text."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from veilcv.linter import engine
from veilcv.linter.reporters import FORMATS, sarif, text

SARIF_SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def report(project: Path, default_policy) -> engine.Report:
    manifest = project / "data" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    lines.insert(3, '# veil:ignore VC103 reason="approved for research" until=2999-01-01')
    manifest.write_text("\n".join(lines) + "\n")
    (project / "infra" / "broken.tf").write_text("resource {\n")  # a VC004 finding, not a skip
    os.mkfifo(project / "infra" / "pipe.tf")  # never read: listed as skipped
    return engine.check(project, default_policy)


def test_sarif_is_valid_against_the_official_schema(report: engine.Report) -> None:
    doc = json.loads(FORMATS["sarif"](report))
    errors = sorted(Draft4Validator(SARIF_SCHEMA).iter_errors(doc), key=lambda e: e.path)
    assert [f"{e.json_path}: {e.message}" for e in errors] == []
    assert doc["version"] == "2.1.0"


def test_sarif_schema_check_can_fail(report: engine.Report) -> None:
    doc = json.loads(FORMATS["sarif"](report))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    assert not Draft4Validator(SARIF_SCHEMA).is_valid(doc)


def test_sarif_content(report: engine.Report) -> None:
    run = json.loads(sarif.render(report))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in report.rules]
    results = run["results"]
    active = [r for r in results if "suppressions" not in r]
    hidden = [r for r in results if "suppressions" in r]
    assert len(active) == len(report.findings) and len(hidden) == 1
    assert hidden[0]["ruleId"] == "VC103"
    assert hidden[0]["suppressions"][0]["justification"] == "approved for research"
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    tf = next(
        r
        for r in active
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/main.tf"
    )
    assert tf["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "aws_s3_bucket.frames"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == [
        "infra/pipe.tf"
    ]
    broken = [r for r in active if r["ruleId"] == "VC004"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in broken] == [
        "infra/broken.tf"
    ]
    assert broken[0]["level"] == "error"


def test_json_findings_carry_file_line_rule_category_resource(report: engine.Report) -> None:
    doc = json.loads(FORMATS["json"](report))
    assert doc["summary"]["findings"] == len(report.findings) and doc["summary"]["suppressed"] == 1
    for f in doc["findings"]:
        assert {"file", "line", "rule_id", "category", "resource", "severity", "message", "fix"} <= set(f)
    vc105 = next(f for f in doc["findings"] if f["rule_id"] == "VC105")
    assert (vc105["file"], vc105["line"], vc105["category"], vc105["resource"]) == (
        "data/manifest.csv",
        3,
        "licence",
        None,
    )
    tf = [f for f in doc["findings"] if f["file"] == "infra/main.tf"]
    assert tf and {f["resource"] for f in tf} == {"aws_s3_bucket.frames"}
    assert doc["skipped"] == [
        {"file": "infra/pipe.tf", "reason": "not a regular file (FIFO, socket or device)"}
    ]
    vc004 = next(f for f in doc["findings"] if f["rule_id"] == "VC004")
    assert (vc004["file"], vc004["line"], vc004["severity"], vc004["category"]) == (
        "infra/broken.tf",
        2,  # where the parser hit the end of the file
        "high",
        "public_access",
    )
    assert vc004["message"].startswith("cannot parse Terraform: ")


def test_text_is_grouped_by_file_with_locations(report: engine.Report) -> None:
    out = text.render(report)
    lines = out.splitlines()
    assert lines[:2] == [text.chain_line(report.policy), "data/manifest.csv"]
    assert lines[0].startswith("policy: ")
    assert (
        "  data/manifest.csv:3:1: VC105 medium missing-source: b.png: no source; say where the file came from"
        in lines
    )
    assert "infra/main.tf" in lines
    assert "skipped (not checked):" in lines
    assert any(line.startswith("  VC105 missing-source: ") for line in lines)
    assert lines[-1] == text.summary(report)
    assert "1 suppressed" in lines[-1] and "1 skipped" in lines[-1]


def test_clean_report_text(tmp_path: Path, default_policy) -> None:
    report = engine.check(tmp_path, default_policy)
    assert text.render(report) == "policy: pack:default\n0 findings; 0 files checked\n"
    assert report.exit_code == 0


def test_text_keeps_one_finding_per_line_whatever_the_input_holds(tmp_path: Path, default_policy) -> None:
    (tmp_path / "telemetry").mkdir()
    (tmp_path / "telemetry" / "e.jsonl").write_text(
        '{"event": "x", "count": 50, "ca\\nmera\\u001b[31m": "1"}\n'
    )
    (tmp_path / "manifest.csv").write_text('filename,source,license,attribution\n"a\nb.png",x,MIT,me\n')
    out = text.render(engine.check(tmp_path, default_policy))
    assert "  manifest.csv:2:1: VC106 medium listed-file-missing: a\\nb.png: listed in the manifest" in out
    assert "field ca\\nmera\\x1b[31m is not in telemetry.allowed_fields" in out
    assert "\x1b" not in out and not any(line.startswith(("b.png", "mera")) for line in out.splitlines())
