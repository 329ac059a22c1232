"""``#checkov:skip=CKV_...:reason`` comments suppress the mapped veil rules: Checkov triage carries over."""

from __future__ import annotations

from pathlib import Path

from veilcv.linter import engine
from veilcv.linter.equivalents import EQUIVALENTS, checkov_to_veil
from veilcv.linter.rules.storage import RULES
from veilcv.policies.loader import load_policy_source

BUCKET = """resource "aws_s3_bucket" "site" {{
  {comment}
  bucket = "acme-site"
}}

resource "aws_s3_bucket_acl" "site" {{
  bucket = aws_s3_bucket.site.id
  acl    = "public-read"
}}
"""


def _check(tmp_path: Path, text: str) -> engine.Report:
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    return engine.check(tmp_path, load_policy_source(pack="default"), only=["storage"])


def _rules(findings) -> set[str]:
    return {f.rule_id for f in findings}


def test_skip_inside_the_bucket_block_covers_its_findings_and_its_companions(tmp_path: Path) -> None:
    report = _check(tmp_path, BUCKET.format(comment="#checkov:skip=CKV_AWS_20:public static website"))
    assert "VC201" not in _rules(report.findings)
    (hidden,) = [s for s in report.suppressed if s.finding.rule_id == "VC201"]
    assert hidden.finding.resource == "aws_s3_bucket_acl.site"  # a companion: covered through its bucket
    assert hidden.reason == "public static website" and hidden.line == 2
    assert "VC205" in _rules(report.findings)  # other rules are not touched


def test_skip_without_a_reason_is_refused_and_reported(tmp_path: Path) -> None:
    report = _check(tmp_path, BUCKET.format(comment="# checkov:skip=CKV_AWS_20"))
    assert {"VC201", "VC002"} <= _rules(report.findings)
    (bad,) = [f for f in report.findings if f.rule_id == "VC002"]
    assert bad.line == 2 and "checkov:skip=CKV_AWS_20:<reason>" in bad.message


def test_skips_of_unmapped_checks_or_that_hide_nothing_are_not_reported(tmp_path: Path) -> None:
    text = BUCKET.format(
        comment="#checkov:skip=CKV_AWS_144:no replication needed\n  #checkov:skip=CKV_AWS_21:x"
    )
    report = _check(tmp_path, text.replace('acl    = "public-read"', 'acl    = "private"'))
    assert not {"VC003", "VC005"} & _rules(report.findings)


def test_the_mapping_names_only_storage_rules_and_real_check_ids() -> None:
    ids = {r.id for r in RULES}
    assert set(EQUIVALENTS) <= ids
    assert checkov_to_veil()["CKV_AWS_20"] == frozenset({"VC201"})
    for eq in EQUIVALENTS.values():
        assert all(c.startswith(("CKV_", "CKV2_")) for c in eq.checkov)
        assert all(t.startswith("AVD-") for t in eq.trivy)
