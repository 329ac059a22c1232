"""Module calls: vendored copies, models of registry modules, and never a silent call."""

from __future__ import annotations

import copy
import json

from .conftest import POLICY


def _vendored(run, tmp_path, manifest: list[dict], files: dict[str, str], policy=None):
    tree = {
        "main.tf": 'module "frames" {\n  source = "acme/bucket/aws"\n  name   = "acme-frames"\n}\n',
        ".terraform/modules/modules.json": json.dumps({"Modules": manifest}),
        **files,
    }
    return run(tree, policy)


def test_a_vendored_module_is_read_with_the_call_arguments(run, tmp_path) -> None:
    module = 'variable "name" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
    findings, ctx = _vendored(
        run, tmp_path, [{"Key": "frames", "Dir": ".terraform/modules/frames"}],
        {".terraform/modules/frames/main.tf": module},
    )  # fmt: skip
    assert {f.extra["bucket"] for f in findings} == {"module.frames.aws_s3_bucket.this"}
    assert {f.extra["bucket_name"] for f in findings} == {"acme-frames"}
    assert "VC221" not in {f.rule_id for f in findings}


def test_manifest_entries_leading_out_of_the_tree_are_not_followed(run, tmp_path) -> None:
    outside = tmp_path.parent / "outside-module"
    outside.mkdir(exist_ok=True)
    (outside / "main.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = "stolen"\n}\n')
    for folder in ("../outside-module", str(outside)):
        findings, _ = _vendored(run, tmp_path, [{"Key": "frames", "Dir": folder}], {})
        assert [f.rule_id for f in findings] == ["VC221"]
        assert "acme/bucket/aws" in findings[0].message


def test_a_broken_vendored_file_is_vc004_and_the_rest_is_judged(run, tmp_path) -> None:
    _, ctx = _vendored(
        run, tmp_path, [{"Key": "frames", "Dir": ".terraform/modules/frames"}],
        {".terraform/modules/frames/main.tf": 'resource "aws_s3_bucket" "this" {\n  bucket = \n'},
    )  # fmt: skip
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", ".terraform/modules/frames/main.tf")]


def test_unchecked_modules_follow_the_unknown_values_policy(run) -> None:
    call = 'module "assets" {\n  source = "cloudposse/s3-bucket/aws"\n  name   = "assets"\n}\n'
    findings, _ = run({"main.tf": call})
    (f,) = findings
    assert (f.rule_id, f.line, f.resource, f.extra["verdict"]) == ("VC221", 1, "module.assets", "unknown")
    lenient = copy.deepcopy(POLICY)
    lenient["storage"]["unknown_values"] = "pass"
    findings, _ = run({"main.tf": call}, lenient)
    assert findings == []


def test_a_modelled_module_names_the_call_and_the_bucket_inside_it(run) -> None:
    call = (
        'module "logs" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.1.2"\n'
        '  bucket  = "acme-logs"\n  versioning = {\n    enabled = false\n  }\n}\n'
    )
    findings, _ = run({"main.tf": call})
    (f,) = [f for f in findings if f.rule_id == "VC205"]
    assert (f.file, f.line, f.resource) == ("main.tf", 5, "module.logs")
    assert f.extra["bucket"] == "module.logs.aws_s3_bucket.this[0]"
    assert f.extra["module_call"] == "module.logs (main.tf:1)"


def test_a_vendored_module_hidden_by_gitignore_is_read_with_its_own_children(tmp_path) -> None:
    from veilcv.linter import engine
    from veilcv.policies.loader import load_policy_source

    files = {
        ".gitignore": ".terraform/\n",
        "main.tf": 'module "frames" {\n  source = "acme/bucket/aws"\n  name   = "acme-frames"\n}\n',
        ".terraform/modules/modules.json": json.dumps(
            {"Modules": [{"Key": "frames", "Dir": ".terraform/modules/frames"}]}
        ),
        ".terraform/modules/frames/main.tf": (
            'variable "name" {}\nmodule "inner" {\n  source = "./inner"\n  name   = var.name\n}\n'
        ),
        ".terraform/modules/frames/inner/main.tf": (
            'variable "name" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
        ),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    report = engine.check(tmp_path, load_policy_source(pack="default"), only=["storage"])
    assert {f.extra.get("bucket") for f in report.findings} == {
        "module.frames.module.inner.aws_s3_bucket.this"
    }
    assert "VC221" not in {f.rule_id for f in report.findings}
