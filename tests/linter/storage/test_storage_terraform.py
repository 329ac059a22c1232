"""Terraform parsing and joining: lines, references, bad files, memoised model."""

from __future__ import annotations

import copy
from pathlib import Path

from veilcv.linter.context import LintContext
from veilcv.linter.rules.storage import load_buckets
from veilcv.linter.rules.storage.hcl import json_value, parse_terraform, reference, references

from .conftest import POLICY
from .storage_hardened import aws


def test_blocks_and_attributes_keep_their_lines() -> None:
    blocks = parse_terraform(
        '\n# comment\nresource "aws_s3_bucket" "a" {\n  bucket = "x"\n\n'
        "  versioning {\n    enabled = true\n  }\n}\n"
    )
    (b,) = blocks
    assert (b.type, b.labels, b.line, b.address) == ("resource", ("aws_s3_bucket", "a"), 3, "aws_s3_bucket.a")
    assert b.attr_lines["bucket"] == 4
    assert b.first("versioning").line == 6
    assert b.first("versioning").attrs == {"enabled": True}


def test_jsonencode_and_heredoc_policies_decode_to_objects() -> None:
    text = (
        'resource "aws_s3_bucket_policy" "p" {\n'
        '  bucket = "b"\n'
        '  policy = jsonencode({Statement = [{Effect = "Deny",\n'
        '    Condition = {Bool = {"aws:SecureTransport" = "false"}}}]})\n'
        "}\n"
        'resource "aws_s3_bucket_policy" "q" {\n'
        '  bucket = "b"\n'
        "  policy = <<EOF\n"
        '{"Statement": [{"Effect": "Allow"}]}\n'
        "EOF\n"
        "}\n"
    )
    p, q = parse_terraform(text)
    assert p.get("policy")["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert json_value(q.get("policy")) == {"Statement": [{"Effect": "Allow"}]}
    assert json_value("not json") is None


def test_references() -> None:
    assert reference("${aws_s3_bucket.frames.id}") == ("aws_s3_bucket", "frames", "id")
    assert reference("${aws_s3_bucket.frames[0].bucket}") == ("aws_s3_bucket", "frames", "bucket")
    assert reference('${aws_s3_bucket.frames["a"].arn}') == ("aws_s3_bucket", "frames", "arn")
    assert reference("acme-frames") is None
    assert reference("${var.name}") is None
    assert references(["${aws_s3_bucket.a.arn}/raw/*", {"x": "${aws_s3_bucket.b.arn}"}]) == [
        ("aws_s3_bucket", "a", "arn"),
        ("aws_s3_bucket", "b", "arn"),
    ]


def test_companion_by_literal_name_and_by_indexed_reference(run) -> None:
    text = aws().replace(
        "bucket = aws_s3_bucket.frames.id\n  versioning_configuration",
        'bucket = "acme-frames"\n  versioning_configuration',
    )
    text = text.replace(
        "bucket                  = aws_s3_bucket.frames.id",
        "bucket                  = aws_s3_bucket.frames[0].id",
    )
    assert 'bucket = "acme-frames"\n  versioning_configuration' in text
    findings, _ = run({"main.tf": text})
    assert findings == []


def test_bad_terraform_fails_closed_with_the_parse_error_and_others_still_checked(run) -> None:
    findings, ctx = run(
        {
            "broken.tf": 'resource "aws_s3_bucket" "x" {\n  bucket = "a"\n  acl = \n}\n',
            "ok.tf": 'resource "aws_s3_bucket" "y" {\n  bucket = "acme-y"\n}\n',
        }
    )
    assert ctx.skipped == []
    [bad] = ctx.unparsed
    assert (bad.rule_id, bad.file, bad.line) == ("VC004", "broken.tf", 3)  # where the parser stopped
    assert bad.message.startswith("cannot parse Terraform: ") and "line 3, column 3" in bad.message
    assert bad.column == 3
    assert "\n" not in bad.message
    assert {f.file for f in findings} == {"ok.tf"}


def test_undecodable_terraform_fails_closed(run, tmp_path: Path) -> None:
    (tmp_path / "latin.tf").write_bytes(b'resource "aws_s3_bucket" "x" {\n  bucket = "\xff"\n}\n')
    from veilcv.linter.rules import storage

    ctx = LintContext(tmp_path, copy.deepcopy(POLICY), ["latin.tf"])
    assert list(storage.check(ctx)) == [] and ctx.skipped == []
    assert [(f.rule_id, f.file, f.line) for f in ctx.unparsed] == [("VC004", "latin.tf", 1)]
    assert ctx.unparsed[0].message == (
        "cannot read Terraform: expected UTF-8 text, got byte 0xff at offset 43; save the file as UTF-8"
    )


def test_bucket_model_is_memoised_and_each_file_parsed_once(tmp_path: Path, monkeypatch) -> None:
    from veilcv.linter.rules.storage import hcl

    (tmp_path / "main.tf").write_text(aws(), encoding="utf-8")
    calls = []
    real = hcl.parse
    monkeypatch.setattr(hcl, "parse", lambda text: calls.append(1) or real(text))
    ctx = LintContext(tmp_path, copy.deepcopy(POLICY), ["main.tf"])
    first = load_buckets(ctx)
    assert load_buckets(ctx) is first
    assert len(calls) == 1
    # A second run reads the parse cache: same model, no parse.
    again = load_buckets(LintContext(tmp_path, copy.deepcopy(POLICY), ["main.tf"]))
    assert len(calls) == 1
    assert again == first
    frames = next(b for b in first if b.address == "aws_s3_bucket.frames")
    assert (frames.name, frames.provider, frames.file, frames.line) == ("acme-frames", "aws", "main.tf", 2)
    assert frames.public is False and frames.encrypted and frames.kms_key and frames.versioning
    assert frames.access_logging and frames.log_target == "acme-access-logs" and frames.log_sink_immutable
    assert [(r.prefix, r.expiration_days) for r in frames.lifecycle] == [("raw/", 7), ("redacted/", 90)]
    assert frames.tls_only
    assert [(g.role, g.prefixes) for g in frames.grants] == [("reader", ("redacted/",))]
    logs = next(b for b in first if b.address == "aws_s3_bucket.logs")
    assert logs.is_log_sink and logs.object_lock


def test_account_block_weaker_than_bucket_block_does_not_override(run) -> None:
    text = aws() + ('resource "aws_s3_account_public_access_block" "acct" {\n  block_public_acls = true\n}\n')
    findings, _ = run({"main.tf": text})
    assert findings == []


def test_public_policy_with_condition_is_not_public(run) -> None:
    text = 'resource "aws_s3_bucket" "f" {\n  bucket = "acme-f"\n}\n' + (
        'resource "aws_s3_bucket_policy" "f" {\n  bucket = aws_s3_bucket.f.id\n'
        '  policy = jsonencode({Statement = [{Effect = "Allow", Principal = "*", Action = "s3:GetObject",\n'
        '    Resource = "${aws_s3_bucket.f.arn}/redacted/*",\n'
        '    Condition = {StringEquals = {"aws:SourceVpce" = "vpce-1"}}}]})\n'
        "}\n"
    )
    findings, _ = run({"main.tf": text})
    assert "VC201" not in {f.rule_id for f in findings}
    assert "VC202" in {f.rule_id for f in findings}


def test_for_each_companions_and_variable_defaults_are_resolved(run) -> None:
    text = """
variable "versioning" {
  default = true
}

variable "env" {
  default = "prod"
}

variable "days" {
  type = number
}

locals {
  status = var.versioning ? "Enabled" : "Suspended"
  sse    = "AES256"
}

resource "aws_s3_bucket" "many" {
  for_each = toset(["a", "b"])
  bucket   = "acme-${var.env}-${each.key}"
}

resource "aws_s3_bucket_versioning" "many" {
  for_each = aws_s3_bucket.many
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "many" {
  for_each = aws_s3_bucket.many
  bucket   = each.value.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = local.sse
    }
  }
}

resource "aws_s3_bucket" "plain" {
  bucket = "acme-${var.env}-plain"
}

resource "aws_s3_bucket_versioning" "plain" {
  bucket = aws_s3_bucket.plain.id
  versioning_configuration {
    status = local.status
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "plain" {
  bucket = aws_s3_bucket.plain.id
  rule {
    id     = "all"
    status = "Enabled"
    expiration {
      days = var.days
    }
  }
}
"""
    findings, ctx = run({"main.tf": text})
    assert ctx.skipped == []
    for key in ("a", "b"):  # one bucket per key, each joined through for_each = aws_s3_bucket.many
        many = {f.rule_id for f in findings if f.extra["bucket"] == f'aws_s3_bucket.many["{key}"]'}
        assert "VC202" in many and "VC203" not in many and "VC205" not in many
    assert not [f for f in findings if f.extra["bucket"] == "aws_s3_bucket.many"]
    plain = {f.rule_id for f in findings if f.extra["bucket"] == "aws_s3_bucket.plain"}
    # local.status is a conditional on a variable with a default: "Enabled", so versioned;
    # var.days has no default: the rule cannot be shown to expire anything.
    assert "VC208" in plain and "VC205" not in plain
    names = {f.extra["bucket_name"] for f in findings}
    assert {"acme-prod-plain", "acme-prod-a", "acme-prod-b"} <= names


def test_inline_logging_to_a_bucket_declared_later_is_joined(run) -> None:
    text = (
        'resource "aws_s3_bucket" "a" {\n  bucket = "acme-a"\n'
        "  logging {\n    target_bucket = aws_s3_bucket.z.id\n  }\n}\n"
        'resource "aws_s3_bucket" "z" {\n  bucket = "acme-z"\n}\n'
    )
    findings, _ = run({"main.tf": text})
    by_bucket = {(f.extra["bucket"], f.rule_id) for f in findings}
    assert ("aws_s3_bucket.a", "VC207") in by_bucket  # the sink has no object lock
    assert ("aws_s3_bucket.z", "VC206") not in by_bucket  # a log sink needs no access logs itself
    assert ("aws_s3_bucket.z", "VC208") in by_bucket  # but its logs (personal data) must expire


def test_byte_order_mark_and_crlf_are_accepted(run) -> None:
    text = '\ufeffresource "aws_s3_bucket" "a" {\r\n  bucket = "acme-a"\r\n}\r\n'
    findings, ctx = run({"main.tf": text})
    assert ctx.skipped == []
    assert {(f.line, f.resource) for f in findings} == {(1, "aws_s3_bucket.a")}


def test_files_that_cannot_concern_storage_are_neither_parsed_nor_vc004(run, monkeypatch) -> None:
    from veilcv.linter.rules.storage import terraform

    parsed: list[str] = []
    real = terraform.parse_and_store
    monkeypatch.setattr(terraform, "parse_and_store", lambda text: parsed.append(text) or real(text))
    compute = 'resource "aws_instance" "web" {\n  ami = "ami-1"\n}\n'
    findings, ctx = run(
        {
            "main.tf": aws(),
            "compute.tf": compute,
            "network.tf": 'resource "aws_vpc" "main" {\n  cidr_block = \n',  # broken, declares no storage
        }
    )
    assert findings == [] and ctx.unparsed == [] and ctx.skipped == []
    assert parsed == [aws()]


def test_a_broken_file_that_may_concern_storage_is_still_vc004(run) -> None:
    _, ctx = run(
        {
            "a.tf": "# the aws_s3_bucket for frames\nresource {\n",
            "b.tf": 'variable "status" {\n  default = \n',
            "c.tf": 'resource "aws_vpc" "v" {\n  name = "\\u0061ws"\n  x = \n',
            "d.tf": "resource {\n",  # no type named: what it declares is unknown
            "e.tf": 'resource "aws_vpc" "v" {}\ndata = {\n',
        }
    )
    assert sorted(f.file for f in ctx.unparsed) == ["a.tf", "b.tf", "c.tf", "d.tf", "e.tf"]
    assert {f.rule_id for f in ctx.unparsed} == {"VC004"}


def test_variables_in_a_file_without_storage_resources_still_resolve(run) -> None:
    main = aws().replace('status = "Enabled"', "status = var.versioning", 1)
    assert "var.versioning" in main
    findings, _ = run({"main.tf": main})
    assert [f.rule_id for f in findings] == ["VC205"]  # unknown value: not verifiable
    findings, _ = run(
        {"main.tf": main, "variables.tf": 'variable "versioning" {\n  default = "Enabled"\n}\n'}
    )
    assert findings == []


def test_every_type_the_providers_read_passes_the_relevance_filter() -> None:
    import inspect
    import re

    from veilcv.linter.rules.storage import terraform, tf_aws, tf_azure, tf_gcp, tf_iam

    source = "".join(inspect.getsource(m) for m in (terraform, tf_aws, tf_azure, tf_gcp, tf_iam))
    types = set(re.findall(r"\"((?:aws|google|azurerm)_[a-z0-9_]+)\"", source))
    assert {
        "aws_s3_bucket",
        "google_storage_bucket",
        "azurerm_storage_account",
        "aws_iam_role_policy",
    } <= types
    assert [t for t in sorted(types) if not terraform.may_concern_storage(f'resource "{t}" "x" {{}}')] == []
    assert not terraform.may_concern_storage('resource "aws_instance" "x" {}\ndata aws_ami "y" {\n')


def test_parse_cache_misses_on_edit_survives_corruption_and_can_be_off(tmp_path: Path, monkeypatch) -> None:
    from veilcv.linter.rules.storage import hcl, tfcache

    calls = []
    real = hcl.parse
    monkeypatch.setattr(hcl, "parse", lambda text: calls.append(text) or real(text))
    cache = tmp_path / "cache"
    text = 'resource "aws_s3_bucket" "a" {\n  bucket = "x"\n}\n'
    first = tfcache.parse_cached(text, cache)
    assert tfcache.parse_cached(text, cache) == first and len(calls) == 1
    assert first[0][0].end_line == 3  # positions survive the round trip
    assert tfcache.parse_cached(text.replace('"x"', '"y"'), cache)[0][0].attrs == {"bucket": "y"}
    assert len(calls) == 2
    for entry in cache.iterdir():
        entry.write_text("{not json", encoding="utf-8")
    assert tfcache.parse_cached(text, cache) == first and len(calls) == 3
    broken = 'resource "aws_s3_bucket" "a" {\n  bucket = \n}\n'
    assert tfcache.parse_cached(broken, cache)[1] and tfcache.parse_cached(broken, cache)[1]  # never cached
    assert len(calls) == 5
    monkeypatch.setenv("VEILCV_NO_CACHE", "1")
    assert tfcache.cache_dir() is None
    monkeypatch.delenv("VEILCV_NO_CACHE")
    monkeypatch.setenv("VEILCV_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert tfcache.cache_dir() == tmp_path / "elsewhere" / "terraform"


def test_unwritable_cache_does_not_fail_the_check(tmp_path: Path) -> None:
    from veilcv.linter.rules.storage import tfcache

    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    blocks, problems = tfcache.parse_cached('resource "aws_s3_bucket" "a" {}\n', blocker / "cache")
    assert [b.address for b in blocks] == ["aws_s3_bucket.a"] and problems == []


def test_tfvars_set_root_variables_and_a_broken_one_is_vc004(run) -> None:
    main = aws().replace('status = "Enabled"', "status = var.versioning", 1)
    variable = 'variable "versioning" {\n  type = string\n}\n'
    findings, _ = run({"main.tf": main + variable, "terraform.tfvars.json": '{"versioning": "Enabled"}'})
    assert findings == []
    findings, ctx = run({"main.tf": main + variable, "terraform.tfvars": 'versioning = "Enabled"\nbad = \n'})
    assert [(f.rule_id, f.file, f.line) for f in ctx.unparsed] == [("VC004", "terraform.tfvars", 2)]
    assert [(f.rule_id, f.extra["verdict"]) for f in findings] == [("VC205", "unknown")]  # nothing set
