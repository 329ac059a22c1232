"""Values the provider rejects are judged as such, conditions are judged as AWS judges them, and
buckets the files do not declare are judged on what their companions declare.

Written from the AWS provider's documentation: ``sse_algorithm`` is one of AES256, aws:kms and
aws:kms:dsse (required in ``apply_server_side_encryption_by_default``); ``acl`` is one of S3's eight
canned ACLs; a bucket policy is public unless each Allow for ``*`` is limited by a condition on fixed
values (no ``*``, ``?`` or policy variable) of a key that identifies the caller.
"""

from __future__ import annotations

import copy

import pytest

from .conftest import POLICY

_ALGOS = "(AES256, aws:kms, aws:kms:dsse)"
_CANNED = (
    "(private, public-read, public-read-write, aws-exec-read, authenticated-read, bucket-owner-read,"
    " bucket-owner-full-control, log-delivery-write)"
)


def _rule(findings, rule_id: str):
    return [f for f in findings if f.rule_id == rule_id]


def _sse_companion(default_block: str) -> str:
    return (
        'resource "aws_s3_bucket" "b" {\n  bucket = "acme-b"\n}\n'  # 1-3
        'resource "aws_s3_bucket_server_side_encryption_configuration" "e" {\n'  # 4
        "  bucket = aws_s3_bucket.b.id\n"  # 5
        "  rule {\n"  # 6
        "    apply_server_side_encryption_by_default {\n"  # 7
        f"{default_block}"  # 8...
        "    }\n  }\n}\n"
    )


@pytest.mark.parametrize(
    ("default_block", "line", "why"),
    [
        ('      sse_algorithm = "AES-256"\n', 8, f'sse_algorithm "AES-256" is not one S3 accepts {_ALGOS}'),
        (
            '      sse_algorithm = "metallica"\n',
            8,
            f'sse_algorithm "metallica" is not one S3 accepts {_ALGOS}',
        ),
        # the provider validates case-sensitively
        ('      sse_algorithm = "aes256"\n', 8, f'sse_algorithm "aes256" is not one S3 accepts {_ALGOS}'),
        (
            "      kms_master_key_id = aws_kms_key.k.arn\n",
            7,
            f"an encryption rule has no sse_algorithm (S3 requires one of {_ALGOS[1:-1]})",
        ),
    ],
)
def test_an_sse_algorithm_s3_rejects_fails_encryption_at_rest(run, default_block, line, why) -> None:
    findings, _ = run({"main.tf": _sse_companion(default_block)})
    (f,) = _rule(findings, "VC203")
    assert (f.line, f.extra["verdict"], f.extra["bucket"]) == (line, "fail", "aws_s3_bucket.b")
    assert f.message == (
        "bucket acme-b (through aws_s3_bucket_server_side_encryption_configuration.e)"
        f" has an invalid encryption configuration: {why}"
    )
    # fails under provider_default too: S3 refuses the configuration the code declares, and keeps
    # its default, S3-managed keys: no customer-managed key either
    lenient = copy.deepcopy(POLICY)
    lenient["storage"].update(encryption="provider_default", customer_managed_key=True)
    findings, _ = run({"main.tf": _sse_companion(default_block)}, lenient)
    assert [f.line for f in _rule(findings, "VC203")] == [line]
    assert [f.line for f in _rule(findings, "VC204")] == [line]


def test_valid_and_undetermined_algorithms_are_not_invalid(run) -> None:
    for algo in ("AES256", "aws:kms", "aws:kms:dsse"):
        findings, _ = run({"main.tf": _sse_companion(f'      sse_algorithm = "{algo}"\n')})
        assert _rule(findings, "VC203") == [], algo
    text = _sse_companion("      sse_algorithm = var.algo\n") + 'variable "algo" {\n  type = string\n}\n'
    findings, _ = run({"main.tf": text})
    (f,) = _rule(findings, "VC203")
    assert f.extra["verdict"] == "unknown" and "invalid" not in f.message


def test_aes256_with_a_key_is_s3_managed_encryption_not_a_customer_key(run) -> None:
    # S3 refuses a KMS key beside AES256 (the key applies to aws:kms and aws:kms:dsse only), so the
    # bucket keeps S3-managed keys: encrypted at rest, without a customer-managed key.
    text = _sse_companion('      sse_algorithm = "AES256"\n      kms_master_key_id = aws_kms_key.k.arn\n')
    cmk = copy.deepcopy(POLICY)
    cmk["storage"]["customer_managed_key"] = True
    findings, _ = run({"main.tf": text}, cmk)
    assert _rule(findings, "VC203") == []
    assert [f.line for f in _rule(findings, "VC204")] == [4]


def test_invalid_algorithms_inline_dynamic_and_through_the_s3_module(run) -> None:
    text = """resource "aws_s3_bucket" "inline" {
  bucket = "acme-inline"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "metallica"
      }
    }
  }
}

resource "aws_s3_bucket" "dynamic" {
  bucket = "acme-dynamic"
  dynamic "server_side_encryption_configuration" {
    for_each = var.encrypt ? [1] : []
    content {
      rule {
        apply_server_side_encryption_by_default {
          sse_algorithm = "jack daniels"
        }
      }
    }
  }
}

module "frames" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.0"
  bucket  = "acme-frames"
  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = { sse_algorithm = "AES-256" }
    }
  }
}
"""
    findings, _ = run({"main.tf": text})
    got = {(f.extra["bucket"], f.line, f.extra["verdict"]) for f in _rule(findings, "VC203")}
    assert got == {
        ("aws_s3_bucket.inline", 6, "fail"),
        ("aws_s3_bucket.dynamic", 19, "fail"),
        ("module.frames.aws_s3_bucket.this[0]", 30, "fail"),
    }
    module = next(f for f in _rule(findings, "VC203") if f.extra["bucket"].startswith("module."))
    assert module.message.endswith(f'sse_algorithm "AES-256" is not one S3 accepts {_ALGOS}')


def _policy_bucket(condition: str, principal: str = '"*"') -> str:
    return (
        'resource "aws_s3_bucket" "b" {\n  bucket = "acme-b"\n}\n'
        'resource "aws_s3_bucket_policy" "b" {\n  bucket = aws_s3_bucket.b.id\n'
        f'  policy = jsonencode({{Statement = [{{Effect = "Allow", Principal = {principal},'
        ' Action = "s3:GetObject",\n'
        f'    Resource = "${{aws_s3_bucket.b.arn}}/*", Condition = {condition}}}]}})\n'
        "}\n"
    )


@pytest.mark.parametrize(
    "condition",
    [
        '{ArnLike = {"aws:PrincipalArn" = "arn:aws:iam::*"}}',
        '{ArnEquals = {"aws:PrincipalArn" = "arn:aws:iam::*"}}',  # ARN operators all match wildcards
        '{StringEquals = {"aws:SourceVpce" = "vpce-1*"}}',
        '{StringEquals = {"aws:PrincipalAccount" = ["111122223333", "4444?5555666"]}}',
        '{ArnLike = {"aws:SourceArn" = "arn:aws:cloudtrail:*:111122223333:trail/*"}}',
        '{StringEquals = {"aws:userid" = "$${aws:userid}"}}',  # a policy variable
        '{StringEquals = {"aws:PrincipalOrgID" = "$${aws:PrincipalTag/org, \'o-1\'}"}}',
        '{ArnNotEquals = {"aws:PrincipalArn" = "arn:aws:iam::111122223333:user/u"}}',
        '{ArnNotLike = {"aws:SourceArn" = "arn:aws:s3:::acme-logs"}}',
        '{StringNotEqualsIgnoreCase = {"aws:PrincipalOrgID" = "o-1"}}',
    ],
)
def test_a_condition_on_values_that_are_not_fixed_leaves_principal_star_public(run, condition) -> None:
    for principal in ('"*"', '{AWS = "*"}'):
        findings, _ = run({"main.tf": _policy_bucket(condition, principal)})
        assert [(f.line, f.extra["verdict"]) for f in _rule(findings, "VC201")] == [(4, "fail")], principal


@pytest.mark.parametrize(
    "condition",
    [
        '{ArnEquals = {"aws:PrincipalArn" = "arn:aws:iam::111122223333:user/u"}}',
        '{StringEquals = {"aws:userid" = "AROAEXAMPLEID:*"}}',  # one role's sessions (AWS: fixed)
        '{StringEquals = {"aws:SourceVpce" = var.vpce}}',  # fixed once applied
    ],
)
def test_a_condition_on_fixed_values_narrows_principal_star(run, condition) -> None:
    text = _policy_bucket(condition) + 'variable "vpce" {\n  type = string\n}\n'
    findings, _ = run({"main.tf": text})
    assert _rule(findings, "VC201") == []


_WEBSITE = f'acl "website" is not a canned ACL S3 accepts {_CANNED}'


def test_an_acl_outside_the_canned_list_may_be_public(run) -> None:
    text = """resource "aws_s3_bucket" "inline" {
  bucket = "acme-inline"
  acl    = "website"
}

resource "aws_s3_bucket" "split" {
  bucket = "acme-split"
}

resource "aws_s3_bucket_acl" "split" {
  bucket = aws_s3_bucket.split.id
  acl    = "Public-Read"
}

resource "aws_s3_bucket" "private" {
  bucket = "acme-private"
  acl    = "private"
}
"""
    findings, _ = run({"main.tf": text})
    got = {(f.extra["bucket"], f.line, f.extra["verdict"]) for f in _rule(findings, "VC201")}
    assert got == {("aws_s3_bucket.inline", 3, "unknown"), ("aws_s3_bucket.split", 12, "unknown")}
    inline = next(f for f in _rule(findings, "VC201") if f.line == 3)
    assert inline.message == f"bucket acme-inline may be public (unknown: {_WEBSITE})"
    lenient = copy.deepcopy(POLICY)
    lenient["storage"]["unknown_values"] = "pass"
    findings, _ = run({"main.tf": text}, lenient)
    assert _rule(findings, "VC201") == []


def test_an_acl_outside_the_canned_list_through_the_s3_module(run) -> None:
    text = (
        'module "site" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.1.0"\n'
        '  bucket  = "acme-site"\n  acl     = "website"\n}\n'
    )
    findings, _ = run({"main.tf": text})
    (f,) = _rule(findings, "VC201")
    assert f.extra["verdict"] == "unknown" and f.message.endswith(f"(unknown: {_WEBSITE})")


_OPEN_PAB = """  block_public_acls       = false
  block_public_policy     = false
  ignore_public_acls      = false
  restrict_public_buckets = false
}
"""


def test_a_guard_a_companion_turns_off_on_a_data_source_bucket_is_reported(run) -> None:
    text = (
        'data "aws_s3_bucket" "existing" {\n  bucket = "frames"\n}\n\n'
        'resource "aws_s3_bucket_public_access_block" "p" {\n'
        "  bucket                  = data.aws_s3_bucket.existing.id\n" + _OPEN_PAB
    )
    findings, _ = run({"main.tf": text})
    (f,) = _rule(findings, "VC202")
    assert (f.line, f.resource, f.extra["bucket"]) == (
        5,
        "aws_s3_bucket_public_access_block.p",
        "data.aws_s3_bucket.existing",
    )
    assert f.message.startswith("bucket frames (through aws_s3_bucket_public_access_block.p)")


def test_an_external_bucket_without_a_declared_guard_stays_unjudged(run) -> None:
    text = """data "aws_s3_bucket" "existing" {
  bucket = "frames"
}

resource "aws_s3_bucket_versioning" "v" {
  bucket = data.aws_s3_bucket.existing.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_account_public_access_block" "account" {
  block_public_acls = true
}
"""
    findings, _ = run({"main.tf": text})
    # the bucket's own public access block may be declared where the bucket is
    assert _rule(findings, "VC202") == []


def test_a_companion_naming_an_undeclared_resource_names_it_without_the_attribute(run) -> None:
    text = (
        'resource "aws_s3_bucket_public_access_block" "p" {\n'
        "  bucket                  = aws_s3_bucket.example.id\n" + _OPEN_PAB + "\n"
        'resource "google_storage_bucket_iam_member" "m" {\n'
        "  bucket = google_storage_bucket.default.name\n"
        '  role   = "roles/storage.objectViewer"\n'
        '  member = "allUsers"\n'
        "}\n"
    )
    findings, _ = run({"main.tf": text})
    assert {(f.rule_id, f.extra["bucket"], f.extra["bucket_name"]) for f in findings} == {
        ("VC202", "aws_s3_bucket.example", "example"),
        ("VC201", "google_storage_bucket.default", "default"),
    }


def test_companions_that_turn_settings_off_on_a_data_source_bucket_are_reported(run) -> None:
    text = """data "aws_s3_bucket" "existing" {
  bucket = "frames"
}

resource "aws_s3_bucket_versioning" "v" {
  bucket = data.aws_s3_bucket.existing.id
  versioning_configuration {
    status = "Suspended"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "e" {
  bucket = data.aws_s3_bucket.existing.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES-256"
    }
  }
}
"""
    findings, _ = run({"main.tf": text})
    got = {(f.rule_id, f.line, f.extra["bucket"]) for f in findings}
    assert got == {
        ("VC205", 5, "data.aws_s3_bucket.existing"),
        ("VC203", 16, "data.aws_s3_bucket.existing"),
    }


def _vc004(ctx):
    return [(f.file, f.line, f.message) for f in ctx.unparsed]


def test_a_module_input_written_as_a_block_is_invalid_and_read_as_the_input(run) -> None:
    text = """module "frames" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.0"
  bucket  = "acme-frames"

  logging {
    target_bucket = "acme-logs"
  }
}
"""
    findings, ctx = run({"main.tf": text})
    assert _vc004(ctx) == [
        (
            "main.tf",
            6,
            'invalid Terraform at line 6: module.frames: expected an input argument "logging", got a block'
            " (a module call takes no blocks); write logging = { ... }; Terraform rejects it (veil reads"
            " it as meant and checks the rest)",
        )
    ]
    assert _rule(findings, "VC206") == []  # the target it names is read
    assert _rule(findings, "VC205")  # and the rest is judged


def test_a_provider_block_written_as_an_attribute_is_invalid_and_read_as_the_block(run) -> None:
    def bucket(enabled: str) -> str:
        return (
            'resource "google_storage_bucket" "b" {\n  name     = "acme-b"\n  location = "EU"\n\n'
            f"  versioning = {{\n    enabled = {enabled}\n  }}\n}}\n"
        )

    findings, ctx = run({"main.tf": bucket("true")})
    assert [(line, m.split(";")[0]) for _, line, m in _vc004(ctx)] == [
        (
            5,
            "invalid Terraform at line 5: google_storage_bucket.b:"
            ' expected a "versioning" block, got an attribute',
        )
    ]
    assert _rule(findings, "VC205") == []
    findings, ctx = run({"main.tf": bucket("false")})
    assert [f.line for f in _rule(findings, "VC205")] == [5] and len(ctx.unparsed) == 1


def test_shape_errors_nested_and_reversed_are_one_finding_per_file(run) -> None:
    text = """resource "aws_s3_bucket" "b" {
  bucket = "acme-b"
  count  = 2
}

resource "aws_s3_bucket_server_side_encryption_configuration" "e" {
  count  = 2
  bucket = aws_s3_bucket.b[count.index].id
  rule {
    apply_server_side_encryption_by_default = { sse_algorithm = "aws:kms" }
  }
}

resource "aws_s3_bucket_logging" "l" {
  count  = 2
  bucket = aws_s3_bucket.b[count.index].id
  target_bucket {
    name = "acme-logs"
  }
}
"""
    findings, ctx = run({"main.tf": text})
    ((file, line, message),) = _vc004(ctx)  # every instance says the same: reported once
    assert (file, line) == ("main.tf", 10)
    assert message.startswith(
        "invalid Terraform at line 10: aws_s3_bucket_server_side_encryption_configuration.e.rule: expected a"
        ' "apply_server_side_encryption_by_default" block, got an attribute;'
    )
    assert "(1 more, at line 17)" in message
    assert _rule(findings, "VC203") == []  # aws:kms, read as meant
    assert _rule(findings, "VC206") == []


def test_a_syntax_error_is_reported_before_a_shape_error(run) -> None:
    text = (
        'resource "google_storage_bucket" "b" {\n  name = "acme-b"\n  versioning = { enabled = true }\n}\n'
        'resource "google_storage_bucket" "c" {\n  name = \n}\n'
    )
    _, ctx = run({"main.tf": text})
    assert ctx.unparsed[0].message.startswith("cannot parse Terraform: syntax error at line 6")


def test_an_argument_a_closed_block_does_not_have_is_invalid(run) -> None:
    text = """resource "google_storage_bucket" "b" {
  name     = "acme-b"
  location = "EU"

  logging {
    logBucket = "acme-logs"
  }

  versioning {
    enabled = true
    keep    = 3
  }
}
"""
    findings, ctx = run({"main.tf": text})
    ((_, line, message),) = _vc004(ctx)
    assert line == 6
    assert message.startswith(
        'invalid Terraform at line 6: google_storage_bucket.b.logging: expected one of "log_bucket",'
        ' "log_object_prefix", got "logBucket"; write log_bucket (1 more, at line 11);'
    )
    # the misspelt argument is read as the one it spells; the unknown one changes nothing
    assert _rule(findings, "VC206") == [] and _rule(findings, "VC205") == []


def test_every_public_canned_acl_is_one_s3_accepts() -> None:
    """The public ACLs (with their causes) and the list S3 validates against must not drift apart: a
    public name S3 does not accept would be reported as invalid instead of public."""
    from veilcv.linter.causes import S3_PUBLIC_ACLS
    from veilcv.linter.rules.storage.tf_aws import CANNED_ACLS

    assert set(S3_PUBLIC_ACLS) <= set(CANNED_ACLS)
