"""JSON: a stable document (``version`` 1) with every finding's file, line, rule, category and resource."""

from __future__ import annotations

import json
from typing import Any

from veilcv.linter.engine import Report, SuppressedFinding
from veilcv.linter.finding import Finding

FORMAT_VERSION = 1


def finding_dict(report: Report, f: Finding) -> dict[str, Any]:
    rule = report.rule(f.rule_id)
    out = {
        "rule_id": f.rule_id,
        "rule": rule.name,
        "category": f.category or rule.category,
        "severity": (f.severity or rule.severity).value,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "resource": f.resource,
        "message": f.message,
        "fix": rule.fix,
        "fingerprint": f.fingerprint(),
    }
    bucket = related_bucket(f)
    if bucket is not None:  # storage findings: the bucket judged, beside the resource that causes it
        out["bucket"] = bucket
        out["verdict"] = f.extra.get("verdict", "fail")
        out.update(cause_fields(f))
    return out


def cause_fields(f: Finding) -> dict[str, Any]:
    """What raised a storage finding where its rule has several causes: ``cause`` and, for a public
    access block that leaves flags off, ``flags_off`` (the SARIF reporter puts them in properties)."""
    out: dict[str, Any] = {}
    if f.extra.get("cause"):
        out["cause"] = f.extra["cause"]
    if f.extra.get("flags_off"):
        out["flags_off"] = f.extra["flags_off"].split(",")
    return out


def related_bucket(f: Finding) -> dict[str, Any] | None:
    """The bucket a storage finding is about: address, name, file and line (None for other findings)."""
    if "bucket" not in f.extra or "bucket_file" not in f.extra:
        return None
    out: dict[str, Any] = {
        "address": f.extra["bucket"],
        "name": f.extra.get("bucket_name", ""),
        "file": f.extra["bucket_file"],
        "line": int(f.extra.get("bucket_line", "1") or 1),
    }
    if "module_call_file" in f.extra:  # a bucket made by a module call: where the call is
        out["module_call"] = {
            "address": f.extra.get("module_call_address", ""),
            "file": f.extra["module_call_file"],
            "line": int(f.extra.get("module_call_line", "1") or 1),
        }
        if f.extra.get("module_note"):  # how the module's code was found (unpinned, a checked-out copy)
            out["module_call"]["note"] = f.extra["module_note"]
    return out


def _suppressed(report: Report, s: SuppressedFinding) -> dict[str, Any]:
    out = finding_dict(report, s.finding)
    out["suppression"] = {"kind": s.kind, "reason": s.reason, "file": s.file, "line": s.line}
    return out


def document(report: Report) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "veil", "version": report.tool_version},
        "policy": list(report.policy),
        "summary": {
            "findings": len(report.findings),
            "by_severity": report.counts(),
            "files_checked": report.files_checked,
            "suppressed": len(report.suppressed),
            "baselined": len(report.baselined),
            "skipped": len(report.skipped),
        },
        "findings": [finding_dict(report, f) for f in report.findings],
        "suppressed": [_suppressed(report, s) for s in report.suppressed],
        "skipped": [{"file": file, "reason": reason} for file, reason in report.skipped],
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"
