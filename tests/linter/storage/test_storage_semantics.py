"""Terraform's semantics: companions of buckets declared elsewhere, local modules, count, unknowns,
bucket policies whose conditions do not narrow Principal "*", and findings that name both the
bucket and the resource causing them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from jsonschema import Draft4Validator

from veilcv.linter import engine
from veilcv.linter.reporters import FORMATS
from veilcv.policies.loader import load_policy_source

from .conftest import POLICY

SARIF_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json").read_text("utf-8")
)


def _by_rule(findings, rule_id: str):
    return [f for f in findings if f.rule_id == rule_id]


def test_acl_on_a_data_source_bucket_granting_all_users_is_public(run) -> None:
    text = """data "aws_s3_bucket" "shared" {
  bucket = "acme-shared"
}

resource "aws_s3_bucket_acl" "shared" {
  bucket = data.aws_s3_bucket.shared.id
  access_control_policy {
    grant {
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
      }
      permission = "READ"
    }
  }
}
"""
    findings, _ = run({"main.tf": text})
    # Only what the companion declares is judged: no "no encryption" or "no versioning" guesses.
    assert [(f.rule_id, f.line, f.resource) for f in findings] == [("VC201", 5, "aws_s3_bucket_acl.shared")]
    (f,) = findings
    assert f.extra["bucket"] == "data.aws_s3_bucket.shared" and f.extra["bucket_name"] == "acme-shared"
    assert (f.extra["bucket_file"], f.extra["bucket_line"]) == ("main.tf", "1")


def test_gcs_iam_member_for_a_bucket_of_another_module_grants_the_public(run) -> None:
    text = (
        'resource "google_storage_bucket_iam_member" "m" {\n'
        "  bucket = var.bucket\n"
        '  role   = "roles/storage.admin"\n'
        '  member = "allUsers"\n'
        "}\n"
    )
    findings, _ = run({"grants.tf": text})
    assert [(f.rule_id, f.extra["bucket"]) for f in findings] == [("VC201", "var.bucket")]
    assert "roles/storage.admin" in findings[0].message


def test_local_module_calls_are_judged_with_their_arguments(run) -> None:
    module = (
        'variable "name" {}\nvariable "versioning" {\n  default = "Suspended"\n}\n'
        'resource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
        'resource "aws_s3_bucket_versioning" "this" {\n  bucket = aws_s3_bucket.this.id\n'
        "  versioning_configuration {\n    status = var.versioning\n  }\n}\n"
    )
    root = (
        'module "on" {\n  source     = "./modules/b"\n  name       = "acme-on"\n  versioning = "Enabled"\n}\n'
        'module "off" {\n  source = "./modules/b"\n  name   = "acme-off"\n}\n'
        'module "none" {\n  source = "./modules/b"\n  count  = 0\n  name   = "acme-none"\n}\n'
    )
    findings, _ = run({"main.tf": root, "modules/b/main.tf": module})
    buckets = {f.extra["bucket"] for f in findings}
    assert buckets == {"module.on.aws_s3_bucket.this", "module.off.aws_s3_bucket.this"}
    unversioned = _by_rule(findings, "VC205")
    assert [(f.extra["bucket_name"], f.resource) for f in unversioned] == [
        ("acme-off", "module.off.aws_s3_bucket_versioning.this")
    ]
    assert unversioned[0].extra["module_call"] == "module.off (main.tf:6)"


def test_unknown_values_are_reported_as_unknown_or_passed_by_policy(run) -> None:
    text = (
        'variable "status" {}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = "acme-b"\n}\n'
        'resource "aws_s3_bucket_versioning" "b" {\n  bucket = aws_s3_bucket.b.id\n'
        "  versioning_configuration {\n    status = var.status\n  }\n}\n"
    )
    findings, _ = run({"main.tf": text})
    (f,) = _by_rule(findings, "VC205")
    assert f.extra["verdict"] == "unknown" and "`var.status`" in f.message
    assert all(g.extra["verdict"] == "fail" for g in findings if g is not f)
    lenient = copy.deepcopy(POLICY)
    lenient["storage"]["unknown_values"] = "pass"
    findings, _ = run({"main.tf": text}, lenient)
    assert _by_rule(findings, "VC205") == []
    assert _by_rule(findings, "VC203")  # a setting that is missing still fails


def _policy_bucket(condition: str) -> str:
    return (
        'resource "aws_s3_bucket" "b" {\n  bucket = "acme-b"\n}\n'
        'resource "aws_s3_bucket_policy" "b" {\n  bucket = aws_s3_bucket.b.id\n'
        '  policy = jsonencode({Statement = [{Effect = "Allow", Principal = "*", Action = "s3:GetObject",\n'
        f'    Resource = "${{aws_s3_bucket.b.arn}}/*", Condition = {condition}}}]}})\n'
        "}\n"
    )


def test_conditions_that_do_not_narrow_principal_star_leave_the_bucket_public(run) -> None:
    loose = [
        '{Bool = {"aws:SecureTransport" = "true"}}',
        '{StringEqualsIfExists = {"aws:SourceVpce" = "vpce-1"}}',
        '{StringNotEquals = {"aws:SourceVpce" = "vpce-1"}}',
        '{IpAddress = {"aws:SourceIp" = "0.0.0.0/0"}}',
        '{StringLike = {"aws:PrincipalOrgID" = "*"}}',
        '{StringLike = {"aws:Referer" = "https://acme.example/*"}}',
        '{"ForAllValues:StringEquals" = {"aws:PrincipalOrgID" = ["o-1"]}}',
    ]
    for condition in loose:
        findings, _ = run({"main.tf": _policy_bucket(condition)})
        assert [f.line for f in _by_rule(findings, "VC201")] == [4], condition
    tight = [
        '{StringEquals = {"aws:SourceVpce" = "vpce-1"}}',
        '{IpAddress = {"aws:SourceIp" = ["10.0.0.0/8"]}}',
        '{StringEquals = {"aws:PrincipalOrgID" = "o-1"}}',
        '{ArnLike = {"aws:SourceArn" = "arn:aws:cloudfront::1:distribution/X"}}',
    ]
    for condition in tight:
        findings, _ = run({"main.tf": _policy_bucket(condition)})
        assert _by_rule(findings, "VC201") == [], condition


def test_messages_name_the_bucket_and_the_companion_that_configures_it(run) -> None:
    text = (
        'resource "aws_s3_bucket" "bucket_good" {\n  bucket = "bucket_good"\n}\n'
        'resource "aws_s3_bucket_server_side_encryption_configuration" "bucket_bad_3" {\n'
        "  bucket = aws_s3_bucket.bucket_good.id\n"
        '  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm = "none"\n'
        "    }\n  }\n}\n"
    )
    findings, _ = run({"main.tf": text})
    (f,) = _by_rule(findings, "VC203")
    assert f.resource == "aws_s3_bucket_server_side_encryption_configuration.bucket_bad_3"
    assert f.message == (
        "bucket bucket_good (through aws_s3_bucket_server_side_encryption_configuration.bucket_bad_3)"
        ' has an invalid encryption configuration: sse_algorithm "none" is not one S3 accepts'
        " (AES256, aws:kms, aws:kms:dsse)"
    )
    assert f.extra["bucket"] == "aws_s3_bucket.bucket_good"


def test_json_and_sarif_carry_the_bucket_beside_the_resource(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_bucket" "f" {\n  bucket = "acme-f"\n}\n\n'
        'resource "aws_s3_bucket_acl" "f" {\n  bucket = aws_s3_bucket.f.id\n  acl    = "public-read"\n}\n',
        encoding="utf-8",
    )
    report = engine.check(tmp_path, load_policy_source(pack="default"), only=["storage"])
    doc = json.loads(FORMATS["json"](report))
    public = next(f for f in doc["findings"] if f["rule_id"] == "VC201")
    assert (public["resource"], public["line"], public["verdict"]) == ("aws_s3_bucket_acl.f", 5, "fail")
    assert public["bucket"] == {"address": "aws_s3_bucket.f", "name": "acme-f", "file": "main.tf", "line": 1}
    sarif = json.loads(FORMATS["sarif"](report))
    assert [e.message for e in Draft4Validator(SARIF_SCHEMA).iter_errors(sarif)] == []
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "VC201")
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 1
    assert related["logicalLocations"] == [{"fullyQualifiedName": "aws_s3_bucket.f", "kind": "resource"}]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_a_module_made_bucket_names_the_call_in_json_and_sarif(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'module "logs" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  bucket  = "acme-logs"\n}\n',
        encoding="utf-8",
    )
    report = engine.check(tmp_path, load_policy_source(pack="default"), only=["storage"])
    doc = json.loads(FORMATS["json"](report))
    f = next(f for f in doc["findings"] if f["rule_id"] == "VC205")
    assert f["bucket"]["address"] == "module.logs.aws_s3_bucket.this[0]"
    # No version constraint: judged by the model of the latest release, and the finding says so.
    unpinned = (
        "module.logs version unpinned (no version constraint): judged by veil's model of the latest release"
    )
    assert f["bucket"]["module_call"] == {
        "address": "module.logs",
        "file": "main.tf",
        "line": 1,
        "note": unpinned,
    }
    sarif = json.loads(FORMATS["sarif"](report))
    assert [e.message for e in Draft4Validator(SARIF_SCHEMA).iter_errors(sarif)] == []
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "VC205")
    assert [r["logicalLocations"][0]["fullyQualifiedName"] for r in result["relatedLocations"]] == [
        "module.logs.aws_s3_bucket.this[0]",
        "module.logs",
    ]
    assert result["relatedLocations"][1]["message"]["text"] == f"module call module.logs ({unpinned})"
