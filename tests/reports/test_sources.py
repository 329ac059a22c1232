from __future__ import annotations

import json
from pathlib import Path

import pytest

from veilcv.errors import InputError
from veilcv.linter.engine import Report, SuppressedFinding
from veilcv.linter.finding import Finding, RuleMeta, Severity
from veilcv.linter.reporters import json as json_reporter
from veilcv.linter.reporters import sarif as sarif_reporter
from veilcv.reports import sources

P = Path("x.json")
RULES = (RuleMeta("VC101", "public-bucket", "public_access", Severity.CRITICAL, "r", "f", "storage"),)
OPEN = Finding("VC101", "bucket is public", "infra/my bucket.tf", 3, resource="aws_s3_bucket.b")
HIDDEN = Finding("VC101", "old bucket is public", "infra/old.tf", 9, resource="aws_s3_bucket.old")


def _report() -> Report:
    sup = SuppressedFinding(HIDDEN, "inSource", "accepted until migration", "infra/old.tf", 8)
    return Report(".", ("veil.yaml",), RULES, (OPEN,), (sup,), (), (), files_checked=4)


def test_check_json_and_sarif_give_the_same_open_findings():
    from_json = sources.parse_check(json.loads(json_reporter.render(_report())), P)
    from_sarif = sources.parse_check(json.loads(sarif_reporter.render(_report())), P)
    keys = ("rule_id", "severity", "category", "file", "line", "message", "resource")
    assert [{k: f[k] for k in keys} for f in from_json["findings"]] == [
        {k: f[k] for k in keys} for f in from_sarif["findings"]
    ]
    f = from_sarif["findings"][0]
    assert (
        f["file"] == "infra/my bucket.tf"
        and f["resource"] == "aws_s3_bucket.b"
        and f["severity"] == "critical"
    )
    assert from_sarif["summary"]["suppressed"] == 1 and from_json["summary"]["suppressed"] == 1
    assert from_json["findings"][0]["rule"] == "public-bucket"


def test_check_bare_list_and_errors():
    out = sources.parse_check([{"rule": "VC101", "file": "a", "line": 1, "message": "m"}], P)
    assert out["findings"][0]["rule_id"] == "VC101"
    with pytest.raises(InputError, match=r"x\.json: \$\.findings: expected a list of findings, got dict"):
        sources.parse_check({"results": []}, P)
    with pytest.raises(InputError, match=r"\$\.runs\[0\]\.results\[0\]\.ruleId: expected a rule ID"):
        sources.parse_check({"runs": [{"results": [{"message": {"text": "x"}}]}]}, P)


def test_redact_totals_without_summary_are_counted():
    doc = {
        "mode": "box",
        "models": [],
        "files": [
            {"input": "a", "ok": True, "regions": {"face": 2}, "residuals": [{}]},
            {"input": "b", "ok": False, "error": "b: boom", "regions": {}},
            {"input": "c", "regions": {"plate": 1}},  # older reports: no "ok", no error means success
        ],
    }
    r = sources.parse_redact(doc, P)
    assert (r["files"], r["ok"], r["failed"], r["residuals"]) == (3, 2, 1, 1)
    assert r["regions"] == {"face": 2, "plate": 1}
    with pytest.raises(InputError, match=r"\$\.files\[0\]\.regions\.face: expected an integer"):
        sources.parse_redact({"files": [{"regions": {"face": "2"}}]}, P)
    with pytest.raises(InputError, match=r"\$\.summary\.failed: expected an integer"):
        sources.parse_redact({"files": [], "summary": {"failed": "x"}}, P)


def test_coverage_as_list_of_buckets():
    doc = {"buckets": [{"bucket": "<16", "boxes": 3, "covered": None}], "overall": {"boxes": 3}, "images": 2}
    c = sources.parse_coverage(doc, P)
    assert c["buckets"] == [{"bucket": "<16", "boxes": 3, "covered": None}]
    assert c["overall"] == {"boxes": 3} and c["figures"] == {"images": 2} and c["errors"] is None


def test_load_json_errors(tmp_path):
    with pytest.raises(InputError, match="check file not found"):
        sources.load_json(tmp_path / "none.json", "check")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="expected UTF-8 JSON"):
        sources.load_json(tmp_path / "b.json", "check")
    (tmp_path / "c.json").write_text('{"a": 1}')
    doc, digest = sources.load_json(tmp_path / "c.json", "check")
    assert doc == {"a": 1} and len(digest) == 64
