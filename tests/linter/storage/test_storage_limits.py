"""Inputs that once hid findings or crashed the family: module cycles through the root, values
that grow without bound, nesting thousands deep, JSON configuration syntax. Each must end quickly
with its buckets judged (or unknown) and every file it could not read named."""

from __future__ import annotations

PUBLIC = 'resource "aws_s3_bucket" "pub" {\n  bucket = "pub"\n  acl    = "public-read"\n}\n'


def _public(findings) -> set[str]:
    return {f.extra["bucket"] for f in findings if f.rule_id == "VC201"}


def test_a_cycle_through_the_root_still_judges_the_root(run) -> None:
    findings, _ = run(
        {
            "main.tf": 'module "m" {\n  source = "./mod"\n}\n' + PUBLIC,
            "mod/main.tf": 'module "back" {\n  source = "../"\n}\n',
        }
    )
    assert _public(findings) == {"aws_s3_bucket.pub"}
    cycles = [f for f in findings if f.rule_id == "VC221"]
    assert [(f.file, f.line) for f in cycles] == [("mod/main.tf", 1)]
    assert "module.m.module.back" in cycles[0].message and "(a cycle)" in cycles[0].message


def test_a_cycle_through_the_root_by_its_own_git_remote_still_judges_the_root(run, tmp_path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/infra.git\n')
    findings, _ = run(
        {
            "main.tf": 'module "a" {\n  source = "./modules/a"\n}\n' + PUBLIC,
            "modules/a/main.tf": (
                'module "back" {\n  source = "git::https://github.com/acme/infra.git?ref=v1.0.0"\n}\n'
            ),
        }
    )
    assert _public(findings) == {"aws_s3_bucket.pub"}
    cycles = [f for f in findings if f.rule_id == "VC221"]
    assert [(f.file, f.line) for f in cycles] == [("modules/a/main.tf", 1)]
    assert "(a cycle)" in cycles[0].message


def test_a_cycle_below_the_root_is_reported_the_same_way(run) -> None:
    findings, _ = run(
        {
            "main.tf": 'module "a" {\n  source = "./a"\n}\n',
            "a/main.tf": 'module "b" {\n  source = "../b"\n}\n' + PUBLIC,
            "b/main.tf": 'module "a" {\n  source = "../a"\n}\n',
        }
    )
    assert _public(findings) == {"module.a.aws_s3_bucket.pub"}
    cycles = [f for f in findings if f.rule_id == "VC221"]
    assert [(f.file, f.line) for f in cycles] == [("b/main.tf", 1)]
    assert "(a cycle)" in cycles[0].message


def test_a_cycle_nothing_calls_is_judged_from_its_outermost_folder(run) -> None:
    findings, _ = run(
        {
            "a/main.tf": 'module "b" {\n  source = "../b"\n}\n' + PUBLIC,
            "b/main.tf": 'module "a" {\n  source = "../a"\n}\n',
        }
    )
    assert _public(findings) == {"aws_s3_bucket.pub"}
    assert [(f.file, f.line) for f in findings if f.rule_id == "VC221"] == [("b/main.tf", 1)]


def test_a_module_called_with_count_zero_is_not_judged_as_a_root(run) -> None:
    findings, _ = run(
        {
            "main.tf": 'module "m" {\n  count  = 0\n  source = "./mod"\n}\n',
            "mod/main.tf": PUBLIC,
        }
    )
    assert findings == []
