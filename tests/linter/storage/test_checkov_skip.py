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


def _public(report: engine.Report) -> list:
    return sorted((f for f in report.findings if f.rule_id == "VC201"), key=lambda f: f.line)


POLICY_OPEN = """
resource "aws_s3_bucket_policy" "open" {
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::acme-site/*"
    }]
  })
}
"""


def test_a_skip_for_one_cause_does_not_hide_a_finding_raised_by_another(tmp_path: Path) -> None:
    text = BUCKET.format(comment="#checkov:skip=CKV_AWS_57:no public-write ACL here")
    text = text.replace('acl    = "public-read"', 'acl    = "private"') + POLICY_OPEN
    report = _check(tmp_path, text)
    (policy,) = _public(report)
    assert policy.resource == "aws_s3_bucket_policy.open" and policy.extra["cause"] == "policy"
    assert not [s for s in report.suppressed if s.finding.rule_id == "VC201"]
    # the check for that cause does hide it
    report = _check(tmp_path, text.replace("CKV_AWS_57:no public-write ACL here", "CKV_AWS_70:public site"))
    assert not _public(report)
    assert [s.finding.extra["cause"] for s in report.suppressed if s.finding.rule_id == "VC201"] == ["policy"]


def test_an_acl_and_a_policy_are_two_findings_each_hidden_only_by_its_own_check(tmp_path: Path) -> None:
    text = BUCKET.format(comment="#checkov:skip=CKV_AWS_20:public static website") + POLICY_OPEN
    report = _check(tmp_path, text)
    (policy,) = _public(report)  # the ACL's finding is hidden, the policy's is not
    assert policy.resource == "aws_s3_bucket_policy.open"
    (acl,) = [s.finding for s in report.suppressed if s.finding.rule_id == "VC201"]
    assert acl.resource == "aws_s3_bucket_acl.site" and acl.extra["cause"] == "acl_read"
    # Both named, each at its own resource, with today's single-cause messages (stable fingerprints).
    report = _check(tmp_path, BUCKET.format(comment="") + POLICY_OPEN)
    assert [(f.resource, f.message, f.extra["cause"]) for f in _public(report)] == [
        (
            "aws_s3_bucket_acl.site",
            "bucket acme-site (through aws_s3_bucket_acl.site) is public: acl public-read",
            "acl_read",
        ),
        (
            "aws_s3_bucket_policy.open",
            "bucket acme-site (through aws_s3_bucket_policy.open) is public:"
            " bucket policy allows Principal *",
            "policy",
        ),
    ]


def test_a_veil_suppression_still_hides_every_cause(tmp_path: Path) -> None:
    (tmp_path / "veil.yaml").write_text(
        "version: 1\nextends: default\nsuppressions:\n"
        '  - {rule: VC201, path: "main.tf", reason: "public website"}\n',
        encoding="utf-8",
    )
    (tmp_path / "main.tf").write_text(BUCKET.format(comment="") + POLICY_OPEN, encoding="utf-8")
    report = engine.check(tmp_path, load_policy_source(tmp_path / "veil.yaml"), only=["storage"])
    assert not _public(report)
    assert {s.finding.extra["cause"] for s in report.suppressed if s.finding.rule_id == "VC201"} == {
        "acl_read",
        "policy",
    }


def test_public_read_write_needs_both_acl_checks_skipped(tmp_path: Path) -> None:
    text = BUCKET.format(comment="#checkov:skip=CKV_AWS_57:uploads from anyone").replace(
        '"public-read"', '"public-read-write"'
    )
    (finding,) = _public(_check(tmp_path, text))  # Checkov would still report CKV_AWS_20
    assert finding.extra["cause"] == "acl_read_write"
    both = text.replace(
        "#checkov:skip=CKV_AWS_57", "#checkov:skip=CKV_AWS_20:public\n  #checkov:skip=CKV_AWS_57"
    )
    assert not _public(_check(tmp_path, both))


def test_two_iam_members_are_two_findings(tmp_path: Path) -> None:
    text = """resource "google_storage_bucket" "b" {
  name     = "frames"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "a" {
  bucket = google_storage_bucket.b.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_iam_member" "c" {
  bucket = google_storage_bucket.b.name
  role   = "roles/storage.objectViewer"
  member = "allAuthenticatedUsers"
}
"""
    found = _public(_check(tmp_path, text))
    assert [(f.resource, f.line, f.extra["cause"]) for f in found] == [
        ("google_storage_bucket_iam_member.a", 6, "iam"),
        ("google_storage_bucket_iam_member.c", 12, "iam"),
    ]
    assert all(f.extra["bucket"] == "google_storage_bucket.b" for f in found)
    # CKV_GCP_28 on one member hides that member's finding only
    one = text.replace('member = "allUsers"', 'member = "allUsers"\n  #checkov:skip=CKV_GCP_28:public assets')
    assert [f.resource for f in _public(_check(tmp_path, one))] == ["google_storage_bucket_iam_member.c"]


PAB = """resource "aws_s3_bucket" "site" {{
  {bucket_skip}
  bucket = "acme-site"
}}

resource "aws_s3_bucket_public_access_block" "site" {{
  {block_skip}
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = {acls}
  ignore_public_acls      = {ignore}
  block_public_policy     = true
  restrict_public_buckets = true
}}
"""


def _guard(tmp_path: Path, **kw: str) -> list:
    args = {"bucket_skip": "", "block_skip": "", "acls": "true", "ignore": "true", **kw}
    return [f for f in _check(tmp_path, PAB.format(**args)).findings if f.rule_id == "VC202"]


def test_guard_findings_name_the_flags_off(tmp_path: Path) -> None:
    (finding,) = _guard(tmp_path, acls="false", ignore="false")
    assert finding.extra["cause"] == "flags"
    assert finding.extra["flags_off"] == "block_public_acls,ignore_public_acls"
    assert finding.resource == "aws_s3_bucket_public_access_block.site"


def test_a_flag_skip_hides_only_a_finding_whose_flags_it_covers(tmp_path: Path) -> None:
    # ignore_public_acls alone off: CKV_AWS_55 is the only check that fails
    assert not _guard(tmp_path, ignore="false", block_skip="#checkov:skip=CKV_AWS_55:legacy uploads")
    assert _guard(tmp_path, ignore="false", block_skip="#checkov:skip=CKV_AWS_53:wrong flag")
    # two flags off: skipping one leaves the finding
    assert _guard(tmp_path, acls="false", ignore="false", block_skip="#checkov:skip=CKV_AWS_55:legacy")
    # block_public_acls off fails CKV_AWS_53 on the block and CKV2_AWS_6 on the bucket: both hide it
    assert _guard(tmp_path, acls="false", block_skip="#checkov:skip=CKV_AWS_53:legacy")
    assert not _guard(
        tmp_path,
        acls="false",
        block_skip="#checkov:skip=CKV_AWS_53:legacy",
        bucket_skip="#checkov:skip=CKV2_AWS_6:legacy",
    )


def test_a_missing_block_is_hidden_by_its_own_check_only(tmp_path: Path) -> None:
    def guard(skip: str) -> list:
        text = BUCKET.format(comment=skip).replace('acl    = "public-read"', 'acl    = "private"')
        return [f for f in _check(tmp_path, text).findings if f.rule_id == "VC202"]

    (finding,) = guard("")
    assert finding.extra["cause"] == "no_block" and finding.extra["flags_off"].count(",") == 3
    assert guard("#checkov:skip=CKV_AWS_53:no block needed")  # a flag check: Checkov does not fail it
    assert not guard("#checkov:skip=CKV2_AWS_6:no block needed")


def test_two_public_access_blocks_are_each_judged(tmp_path: Path) -> None:
    second = """
resource "aws_s3_bucket_public_access_block" "other" {
  bucket            = aws_s3_bucket.site.id
  block_public_acls = true
}
"""
    text = PAB.format(bucket_skip="", block_skip="", acls="false", ignore="true") + second
    found = sorted(_guard_in(tmp_path, text), key=lambda f: f.line)
    assert [(f.resource, f.extra["flags_off"]) for f in found] == [
        ("aws_s3_bucket_public_access_block.site", "block_public_acls"),
        (
            "aws_s3_bucket_public_access_block.other",
            "ignore_public_acls,block_public_policy,restrict_public_buckets",
        ),
    ]


def _guard_in(tmp_path: Path, text: str) -> list:
    return [f for f in _check(tmp_path, text).findings if f.rule_id == "VC202"]


def test_a_skip_of_another_providers_check_hides_nothing(tmp_path: Path) -> None:
    text = BUCKET.format(comment="#checkov:skip=CKV_GCP_62:logs elsewhere")
    assert "VC206" in _rules(_check(tmp_path, text).findings)
    text = BUCKET.format(comment="#checkov:skip=CKV_AWS_18:logs elsewhere")
    assert "VC206" not in _rules(_check(tmp_path, text).findings)


def test_causes_in_the_mapping_are_documented_ones() -> None:
    from veilcv.linter import causes

    for rule_id, eq in EQUIVALENTS.items():
        assert set(eq.causes) <= set(eq.checkov), rule_id
        known = set(causes.BY_RULE.get(rule_id, {})) | set(causes.PAB_FLAGS)
        for covered in eq.causes.values():
            assert set(covered) <= known, (rule_id, covered)


def test_json_and_sarif_name_the_cause_and_the_flags_off(tmp_path: Path) -> None:
    import json

    from jsonschema import Draft4Validator

    from veilcv.linter.reporters import json as json_reporter
    from veilcv.linter.reporters import sarif

    text = PAB.format(bucket_skip="", block_skip="", acls="true", ignore="false").replace(
        'bucket = "acme-site"', 'bucket = "acme-site"\n  acl    = "public-read"'
    )
    report = _check(tmp_path, text)
    doc = json.loads(json_reporter.render(report))
    got = {(f["rule_id"], f.get("cause"), tuple(f.get("flags_off", ()))) for f in doc["findings"]}
    assert ("VC201", "acl_read", ()) in got
    assert ("VC202", "flags", ("ignore_public_acls",)) in got
    log = json.loads(sarif.render(report))
    schema = json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json").read_text()
    )
    Draft4Validator(schema).validate(log)
    props = [r["properties"] for r in log["runs"][0]["results"] if r["ruleId"] == "VC202"]
    assert (
        props == [props[0]]
        and props[0]["cause"] == "flags"
        and props[0]["flags_off"] == ["ignore_public_acls"]
    )


def test_azure_http_and_old_tls_are_two_findings_each_with_its_check(tmp_path: Path) -> None:
    text = """resource "azurerm_storage_account" "media" {{
  {skip}
  name                       = "acmemedia"
  resource_group_name        = "rg"
  location                   = "westeurope"
  account_tier               = "Standard"
  account_replication_type   = "GRS"
  https_traffic_only_enabled = false
  min_tls_version            = "TLS1_0"
}}
"""

    def tls(skip: str) -> list:
        found = _check(tmp_path, text.format(skip=skip)).findings
        return sorted((f.extra["cause"], f.line) for f in found if f.rule_id == "VC212")

    assert tls("") == [("https", 8), ("min_tls", 9)]
    assert tls("#checkov:skip=CKV_AZURE_44:legacy clients") == [("https", 8)]
    assert tls("#checkov:skip=CKV_AZURE_3:internal network") == [("min_tls", 9)]


def test_an_undetermined_acl_is_hidden_only_when_both_acl_checks_are_skipped(tmp_path: Path) -> None:
    text = BUCKET.format(comment="{skip}").replace('"public-read"', "var.acl")

    def public(skip: str) -> list:
        return _public(_check(tmp_path, text.replace("{skip}", skip)))

    (finding,) = public("")
    assert finding.extra["cause"] == "acl" and finding.extra["verdict"] == "unknown"
    assert public("#checkov:skip=CKV_AWS_20:reviewed")
    assert not public("#checkov:skip=CKV_AWS_20:reviewed\n  #checkov:skip=CKV_AWS_57:reviewed")


def test_a_cause_no_checkov_check_judges_is_not_hidden_by_any_skip(tmp_path: Path) -> None:
    text = """resource "google_storage_bucket" "b" {
  #checkov:skip=CKV_GCP_28:public assets
  name     = "frames"
  location = "EU"
}

resource "google_storage_bucket_acl" "b" {
  bucket         = google_storage_bucket.b.name
  predefined_acl = "publicRead"
}
"""
    (finding,) = _public(_check(tmp_path, text))  # CKV_GCP_28 judges IAM members, not ACLs
    assert finding.extra["cause"] == "acl_read" and finding.resource == "google_storage_bucket_acl.b"
