"""The terraform-aws-modules/s3-bucket/aws model on the calls public scanners' fixtures make."""

from __future__ import annotations

import copy

import pytest

from veilcv.linter.rules.storage.tf_registry import _before

from .conftest import POLICY

BUCKET = "module.s3_bucket.aws_s3_bucket.this[0]"


def _call(*lines: str, version: str | None = "4.1.2", extra: str = "") -> str:
    head = ['module "s3_bucket" {', '  source = "terraform-aws-modules/s3-bucket/aws"']
    if version is not None:
        head.append(f'  version = "{version}"')
    return "\n".join([*head, '  bucket = "acme-x"', *(f"  {line}" for line in lines), "}", ""]) + extra


def _verdicts(run, text: str) -> dict[str, str]:
    findings, _ = run({"main.tf": text})
    assert "VC221" not in {f.rule_id for f in findings}, [f.message for f in findings]
    out: dict[str, str] = {}
    for f in findings:
        if f.extra.get("bucket") == BUCKET and out.get(f.rule_id) != "fail":
            out[f.rule_id] = f.extra["verdict"]
    return out


@pytest.mark.parametrize(
    ("constraint", "before"),
    [
        ("3.7.0", True),
        ("= 3.8.2", True),
        ("~> 3.7.0", True),
        ("~> 3.7", False),  # the newest 3.x
        ("< 3.9", True),
        ("<= 3.9.0", False),
        (">= 3.0, < 3.9.0", True),
        (">= 3.0", False),
        ("~> 3.15", False),
        ("4.1.2", False),
        ("v3.2.0", True),
        ("3", True),
        ("not a constraint", False),
        (None, False),
    ],
)
def test_the_newest_release_a_constraint_allows_decides_the_defaults(constraint, before: bool) -> None:
    assert _before(constraint, (3, 9, 0)) is before


def test_the_kics_private_bucket_pinned_before_the_secure_defaults(run) -> None:
    text = _call(
        'acl = "private"',
        "control_object_ownership = true",
        'object_ownership = "ObjectWriter"',
        "versioning = {",
        "  enabled = true",
        "}",
        version="3.7.0",
    )
    got = _verdicts(run, text)
    assert "VC201" not in got  # private
    assert got["VC202"] == "fail"  # 3.7.0 left every public access block flag off
    assert got["VC215"] == "fail"  # ObjectWriter keeps ACLs on
    assert "VC205" not in got


def test_control_object_ownership_alone_enables_acls_before_v3_9(run) -> None:
    assert _verdicts(run, _call("control_object_ownership = true", version="3.8.0"))["VC215"] == "fail"
    assert "VC215" not in _verdicts(run, _call("control_object_ownership = true", version="3.9.0"))


def test_one_flag_turned_off_leaves_public_access_unblocked(run) -> None:
    got = _verdicts(run, _call("block_public_acls = false"))
    assert got["VC202"] == "fail"
    assert "VC201" not in got


def test_a_public_acl_is_public_only_where_the_guard_is_lifted(run) -> None:
    guarded = _verdicts(run, _call('acl = "public-read"'))
    assert guarded["VC201"] == "fail"  # a latent grant, reported while ignore_public_acls holds
    assert "VC202" not in guarded
    open_ = _verdicts(
        run, _call('acl = "public-read"', "ignore_public_acls = false", "block_public_acls = false")
    )
    assert (open_["VC201"], open_["VC202"]) == ("fail", "fail")


def test_an_acl_given_as_a_list_is_no_canned_acl(run) -> None:
    """As on the resource, a list (a mistake) is not read as a canned ACL, and the check still runs."""
    assert "VC201" not in _verdicts(run, _call('acl = ["public-read"]'))


POLICY_DOC = """
data "aws_iam_policy_document" "x" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::acme-x/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}
"""


def test_a_policy_veil_cannot_read_is_never_a_pass(run) -> None:
    unread = _call("attach_policy = true", "policy = data.aws_iam_policy_document.x.json", version="3.7.0")
    assert _verdicts(run, unread)["VC201"] == "unknown"
    via_resource = _call("attach_policy = true", "policy = aws_iam_policy.x.policy", version="3.7.0")
    assert _verdicts(run, via_resource)["VC201"] == "unknown"


def test_a_policy_guard_keeps_an_unread_policy_from_opening_the_bucket(run) -> None:
    got = _verdicts(run, _call("attach_policy = true", "policy = data.aws_iam_policy_document.x.json"))
    assert "VC201" not in got and "VC202" not in got


def test_a_readable_public_policy_is_judged(run) -> None:
    text = _call(
        "attach_policy = true",
        "policy = data.aws_iam_policy_document.x.json",
        version="3.7.0",
        extra=POLICY_DOC,
    )
    assert _verdicts(run, text)["VC201"] == "fail"


def test_a_policy_the_module_does_not_attach_is_ignored(run) -> None:
    got = _verdicts(
        run, _call("policy = data.aws_iam_policy_document.x.json", version="3.7.0", extra=POLICY_DOC)
    )
    assert "VC201" not in got


@pytest.mark.parametrize(
    "rule",
    [
        "rule = {\n    apply_server_side_encryption_by_default = {\n"
        '      sse_algorithm = "aws:kms"\n      kms_master_key_id = aws_kms_key.x.arn\n    }\n  }',
        "rule = [{\n    apply_server_side_encryption_by_default = {\n"
        '      sse_algorithm = "aws:kms"\n      kms_master_key_id = aws_kms_key.x.arn\n    }\n  }]',
    ],
)
def test_a_key_given_by_reference_is_a_customer_managed_key(run, rule: str) -> None:
    got = _verdicts(run, _call("server_side_encryption_configuration = {", f"  {rule}", "}"))
    assert "VC203" not in got and "VC204" not in got


def test_an_undetermined_algorithm_is_unknown(run) -> None:
    text = _call(
        "server_side_encryption_configuration = {",
        "  rule = {",
        "    apply_server_side_encryption_by_default = {",
        "      sse_algorithm = var.algorithm",
        "    }",
        "  }",
        "}",
        extra='variable "algorithm" {}\n',
    )
    assert _verdicts(run, text)["VC203"] == "unknown"


def test_a_log_target_given_by_reference_is_logging(run) -> None:
    text = _call(
        "logging = {", "  target_bucket = module.log_bucket.s3_bucket_id", '  target_prefix = "x/"', "}"
    )
    assert "VC206" not in _verdicts(run, text)
    assert (
        _verdicts(run, _call("logging = var.logging", extra='variable "logging" {}\n'))["VC206"] == "unknown"
    )


def test_versioning_is_decided_by_enabled_or_status_alone(run) -> None:
    text = _call(
        "versioning = {", "  enabled    = true", "  mfa_delete = var.mfa", "}", extra='variable "mfa" {}\n'
    )
    assert "VC205" not in _verdicts(run, text)
    off = _call("versioning = {", "  enabled = false", "}")
    assert _verdicts(run, off)["VC205"] == "fail"


def test_a_key_beside_an_undetermined_algorithm_is_not_yet_a_customer_managed_key(run) -> None:
    """``"aws:kms${var.suffix}"`` may be no algorithm S3 accepts once applied: the key is unknown, not a
    pass (the resources read only an accepted aws:kms or aws:kms:dsse as using the key)."""
    text = _call(
        "server_side_encryption_configuration = {",
        "  rule = {",
        "    apply_server_side_encryption_by_default = {",
        '      sse_algorithm = "aws:kms${var.suffix}"',
        '      kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/x"',
        "    }",
        "  }",
        "}",
        extra='variable "suffix" {}\n',
    )
    policy = copy.deepcopy(POLICY)
    policy["storage"].update(customer_managed_key=True, encryption="provider_default")  # the default pack's
    findings, _ = run({"main.tf": text}, policy)
    assert {f.extra["verdict"] for f in findings if f.rule_id == "VC204"} == {"unknown"}
