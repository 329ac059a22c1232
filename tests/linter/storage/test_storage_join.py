"""Settings written as separate resources are joined to their bucket: the false positive other tools make.

A bucket hardened through companion resources has no finding at all; removing one companion
gives exactly the one finding that companion prevented, at the bucket's address.
"""

from __future__ import annotations

import pytest

from .storage_hardened import AWS_INLINE, AZURE, GCP, aws


def test_bucket_hardened_through_companions_has_no_findings(run) -> None:
    findings, ctx = run({"s3.tf": aws()})
    assert findings == []
    assert ctx.skipped == []


@pytest.mark.parametrize(
    ("companion", "rule_id", "line", "resource"),
    [
        ("public_access_block", "VC202", 2, "aws_s3_bucket.frames"),
        ("encryption", "VC203", 2, "aws_s3_bucket.frames"),
        ("versioning", "VC205", 2, "aws_s3_bucket.frames"),
        ("logging", "VC206", 2, "aws_s3_bucket.frames"),
        ("lifecycle", "VC208", 2, "aws_s3_bucket.frames"),
        ("policy", "VC212", 2, "aws_s3_bucket.frames"),
        ("logs_object_lock", "VC207", None, "aws_s3_bucket_logging.frames"),
    ],
)
def test_missing_one_companion_gives_exactly_that_finding(
    run, companion: str, rule_id: str, line: int | None, resource: str
) -> None:
    findings, _ = run({"s3.tf": aws(without=companion)})
    frames = [f for f in findings if f.extra["bucket"] == "aws_s3_bucket.frames"]
    assert [(f.rule_id, f.resource) for f in frames] == [(rule_id, resource)]
    if companion == "logging":
        # Without the logging resource the log bucket is no longer a sink: it needs logs itself.
        assert sorted((f.rule_id, f.resource) for f in findings if f not in frames) == [
            ("VC206", "aws_s3_bucket.logs"),
        ]
    else:
        assert findings == frames
    if line is not None:
        assert findings[0].line == line
    assert findings[0].extra["bucket"] == "aws_s3_bucket.frames"


def test_companions_in_other_files_of_the_module_are_joined(run) -> None:
    files = {"buckets.tf": aws(without="versioning")}
    files["versioning.tf"] = """
resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.bucket
  versioning_configuration {
    status = "Enabled"
  }
}
"""
    findings, _ = run(files)
    assert findings == []


def test_companions_in_another_module_are_not_joined(run) -> None:
    # Terraform references resolve only inside one directory (module).
    files = {
        "a/main.tf": aws(without="versioning"),
        "b/main.tf": 'resource "aws_s3_bucket_versioning" "frames" {\n'
        "  bucket = aws_s3_bucket.frames.id\n"
        '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n',
    }
    findings, _ = run(files)
    assert [(f.rule_id, f.file) for f in findings] == [("VC205", "a/main.tf")]


def test_legacy_inline_blocks_count_like_companions(run) -> None:
    logs = aws().split('resource "aws_s3_bucket" "logs"', 1)[1]
    findings, _ = run({"main.tf": AWS_INLINE + 'resource "aws_s3_bucket" "logs"' + logs})
    assert findings == []


def test_hardened_gcp_bucket_has_no_findings(run) -> None:
    findings, ctx = run({"gcs.tf": GCP})
    assert findings == []
    assert ctx.skipped == []


def test_hardened_azure_account_has_no_findings(run) -> None:
    findings, ctx = run({"azure.tf": AZURE})
    assert findings == []
    assert ctx.skipped == []


def test_azure_without_management_policy_misses_lifecycle_only(run) -> None:
    text = AZURE.split('resource "azurerm_storage_management_policy" "media"')[0]
    text += (
        "resource"
        + AZURE.split('resource "azurerm_storage_management_policy" "media"')[1].split("\nresource", 1)[1]
    )
    findings, _ = run({"azure.tf": text})
    assert [(f.rule_id, f.resource) for f in findings] == [("VC208", "azurerm_storage_account.media")]
