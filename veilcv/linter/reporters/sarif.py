"""SARIF 2.1.0: one run, every enabled rule as a reportingDescriptor, findings as results.

Suppressed findings are kept as results with a ``suppressions`` entry (as SARIF intends), skipped
files become tool execution notifications, and the Terraform address of a finding is its logical
location. ``security-severity`` lets code-scanning UIs rank findings like other security tools.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from veilcv.linter.engine import Report
from veilcv.linter.finding import Finding, RuleMeta, Severity
from veilcv.linter.reporters.json import cause_fields

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}


def _descriptor(rule: RuleMeta) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name.replace("-", " ")},
        "fullDescription": {"text": rule.rationale},
        # No helpUri: SARIF consumers want absolute URIs and the rule reference ships in the repo
        # (docs/rules.md), so the fix text travels in the result file itself.
        "help": {"text": rule.fix, "markdown": f"**Fix:** {rule.fix}"},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "category": rule.category,
            "severity": rule.severity.value,
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "target": rule.target,
            "tags": ["privacy", rule.category],
        },
    }


def _result(f: Finding, index: dict[str, int], report: Report) -> dict[str, Any]:
    rule = report.rule(f.rule_id)
    severity = f.severity or rule.severity
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(f.file, errors="surrogateescape"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(1, f.line), "startColumn": max(1, f.column)},
        }
    }
    if f.resource:
        location["logicalLocations"] = [{"fullyQualifiedName": f.resource, "kind": "resource"}]
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": LEVEL[severity],
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {"veilFingerprint/v1": f.fingerprint()},
        "properties": {"category": f.category or rule.category, "severity": severity.value},
    }
    bucket = f.extra.get("bucket")
    if bucket and "bucket_file" in f.extra:  # storage findings: the bucket, where the cause is not it
        related = _where(f.extra["bucket_file"], int(f.extra.get("bucket_line", "1") or 1))
        related["id"] = 0
        related["message"] = {"text": f"bucket {f.extra.get('bucket_name') or bucket} ({bucket})"}
        related["logicalLocations"] = [{"fullyQualifiedName": bucket, "kind": "resource"}]
        result["relatedLocations"] = [related]
        if "module_call_file" in f.extra:  # the module call that makes the bucket
            call = _where(f.extra["module_call_file"], int(f.extra.get("module_call_line", "1") or 1))
            call["id"] = 1
            address = f.extra.get("module_call_address", "")
            note = f.extra.get("module_note")
            call["message"] = {"text": f"module call {address}" + (f" ({note})" if note else "")}
            call["logicalLocations"] = [{"fullyQualifiedName": address, "kind": "module"}]
            result["relatedLocations"].append(call)
        result["properties"]["verdict"] = f.extra.get("verdict", "fail")
        result["properties"].update(cause_fields(f))
    return result


def document(report: Report) -> dict[str, Any]:
    rules = list(report.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    results = [_result(f, index, report) for f in report.findings]
    for s in report.suppressed:
        result = _result(s.finding, index, report)
        result["suppressions"] = [
            {
                "kind": s.kind,
                "status": "accepted",
                "justification": s.reason,
                "location": _where(s.file, s.line),
            }
        ]
        results.append(result)
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"skipped: {reason}"},
            "locations": [_where(file, 1)],
            "descriptor": {"id": "skipped-file"},
        }
        for file, reason in report.skipped
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "veil",
                        "semanticVersion": report.tool_version,
                        "version": report.tool_version,
                        "rules": [_descriptor(r) for r in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The checked folder."}}},
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
                "properties": {"policy": list(report.policy), "filesChecked": report.files_checked},
            }
        ],
    }


def _where(file: str, line: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(file, errors="surrogateescape"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(1, line)},
        }
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"
