"""Per-file mode (the pre-commit hook): the storage family reads the changed files' modules and
what links to them, judges them as a whole-tree check does, and parses nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from veilcv.linter import engine
from veilcv.linter.rules.storage import terraform
from veilcv.policies.loader import load_policy_source

BUCKET = 'resource "aws_s3_bucket" "{n}" {{\n  bucket = "{name}"\n}}\n'
GUARDED = """resource "aws_s3_bucket_public_access_block" "{n}" {{
  bucket                  = aws_s3_bucket.{n}.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}}
resource "aws_s3_bucket_versioning" "{n}" {{
  bucket = aws_s3_bucket.{n}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}
"""
LOGS_TO = """resource "aws_s3_bucket_logging" "{n}" {{
  bucket        = aws_s3_bucket.{n}.id
  target_bucket = "{sink}"
}}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def _findings(root: Path, paths: list[str] | None = None) -> set[tuple[str, str, int, str]]:
    report = engine.check(root, load_policy_source(None), paths=paths, only=["storage"])
    return {(f.rule_id, f.file, f.line, f.message) for f in report.findings}


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the storage family reads in this test (from the parse cache or parsing them)."""
    texts: list[str] = []
    real, real_cached = terraform.parse_and_store, terraform.cached
    monkeypatch.setattr(terraform, "parse_and_store", lambda text: texts.append(text) or real(text))
    monkeypatch.setattr(terraform, "cached", lambda text: texts.append(text) or real_cached(text))
    return texts


def test_one_changed_file_is_judged_with_its_siblings_and_nothing_else_is_parsed(
    tmp_path: Path, parsed: list[str]
) -> None:
    _write(
        tmp_path,
        {
            "frames/main.tf": BUCKET.format(n="frames", name="acme-frames"),
            "frames/guard.tf": GUARDED.format(n="frames"),  # a companion in a sibling file
            "frames/acl.tf": 'resource "aws_s3_bucket_acl" "frames" {\n'
            "  bucket = aws_s3_bucket.frames.id\n"
            '  acl    = "public-read"\n}\n',
            "other/main.tf": BUCKET.format(n="other", name="acme-other") + 'resource "broken" {\n',
        },
    )
    whole = _findings(tmp_path)
    changed = _findings(tmp_path, ["frames/main.tf"])
    assert changed == {f for f in whole if f[1] == "frames/main.tf"}
    rules = {f[0] for f in changed}
    assert "VC205" not in rules and "VC202" not in rules  # versioning and the guard are in guard.tf
    assert any(f[0] == "VC201" and f[1] == "frames/acl.tf" for f in whole)  # the guarded grant, acl.tf
    parsed.clear()
    _findings(tmp_path, ["frames/acl.tf"])
    assert parsed and all("acme-other" not in text for text in parsed)  # the other module: not read


def test_a_changed_module_is_judged_as_its_callers_instantiate_it(tmp_path: Path) -> None:
    module = 'variable "name" {}\n' + BUCKET.format(n="this", name="${var.name}")
    caller = 'module "raw" {\n  source = "../../modules/bucket"\n  name   = "acme-dev-raw"\n}\n'
    _write(tmp_path, {"modules/bucket/main.tf": module, "envs/dev/main.tf": caller})
    changed = _findings(tmp_path, ["modules/bucket/main.tf"])
    assert changed == {f for f in _findings(tmp_path) if f[1] == "modules/bucket/main.tf"}
    assert changed and all("acme-dev-raw" in f[3] for f in changed)  # the caller's name, not the default


def test_a_bucket_another_module_logs_to_by_name_stays_a_log_sink(tmp_path: Path) -> None:
    sink = BUCKET.format(n="central", name="acme-central-logs") + GUARDED.format(n="central")
    source = BUCKET.format(n="frames", name="acme-frames") + LOGS_TO.format(
        n="frames", sink="acme-central-logs"
    )
    _write(tmp_path, {"logging/main.tf": sink, "envs/prod/main.tf": source})
    changed = _findings(tmp_path, ["logging/main.tf"])
    assert changed == {f for f in _findings(tmp_path) if f[1] == "logging/main.tf"}
    assert "VC206" not in {f[0] for f in changed}  # a log sink needs no access logs of its own
    (tmp_path / "envs/prod/main.tf").unlink()  # nothing logs to it any more: now it needs them
    assert "VC206" in {f[0] for f in _findings(tmp_path, ["logging/main.tf"])}


def test_a_syntax_error_in_the_changed_file_is_still_reported(tmp_path: Path) -> None:
    _write(tmp_path, {"a/main.tf": BUCKET.format(n="a", name="acme-a") + "resource {\n"})
    assert {f[0] for f in _findings(tmp_path, ["a/main.tf"])} >= {"VC004"}


def test_a_module_a_monorepo_calls_through_git_is_judged_as_called(tmp_path: Path) -> None:
    module = 'variable "name" {}\n' + BUCKET.format(n="this", name="${var.name}")
    caller = (
        'module "frames" {\n'
        '  source = "git::https://github.com/acme/infra.git//modules/bucket?ref=v1.2.0"\n'
        '  name   = "acme-frames"\n}\n'
    )
    _write(tmp_path, {"modules/bucket/main.tf": module, "live/main.tf": caller})
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/infra.git\n')
    changed = _findings(tmp_path, ["modules/bucket/main.tf"])
    assert changed == {f for f in _findings(tmp_path) if f[1] == "modules/bucket/main.tf"}
    assert changed and all("acme-frames" in f[3] for f in changed)
