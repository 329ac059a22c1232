"""Inputs sized to exhaust time or memory are refused up front with a clear reason."""

from __future__ import annotations

from pathlib import Path

from veilcv.linter import engine
from veilcv.linter.rules.storage.terraform import MAX_TERRAFORM_BYTES
from veilcv.policies.loader import load_policy_source

BUCKET = 'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n}}\n'


def test_a_huge_terraform_file_is_reported_not_parsed(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    blocks, size = [], 0
    while size <= MAX_TERRAFORM_BYTES:  # generated, as such files are: one bucket after another
        blocks.append(BUCKET.format(i=len(blocks)))
        size += len(blocks[-1])
    (tmp_path / "main.tf").write_text("".join(blocks))
    (tmp_path / "small.tf").write_text(BUCKET.format(i=0))
    report = engine.check(tmp_path, load_policy_source(pack="default"))
    reasons = [f.message for f in report.findings if f.file == "main.tf"] + [
        r for f, r in report.skipped if f == "main.tf"
    ]
    assert any("expected a Terraform file of at most 2 MiB" in r for r in reasons), reasons
    assert any(f.file == "small.tf" for f in report.findings)  # the rest of the tree is still checked
