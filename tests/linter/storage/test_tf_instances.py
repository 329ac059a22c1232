"""count/for_each instances: the expressions that decide them, the references that name them."""

from __future__ import annotations

import pytest

from veilcv.linter.rules.storage.hcl import parse_terraform
from veilcv.linter.rules.storage.tf_expr import Ref, Scope, Unknown, evaluate, resolve
from veilcv.linter.rules.storage.tf_instances import MAX_INSTANCES, decide, expand, targets


def _attrs(body: str) -> dict:
    return parse_terraform(f"x {{\n{body}\n}}\n")[0].attrs


VALUES = {
    "var.zones": ["raw", "redacted"],
    "var.buckets": [{"name": "a", "on": True}, {"name": "b", "on": False}],
    "var.versioning": True,
    "local.tiers": {"site": {"public": True}, "archive": {"public": False}},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('toset(["raw", "redacted", "raw"])', ["raw", "redacted"]),
        ("toset(var.zones)", ["raw", "redacted"]),
        ("{ for b in var.buckets : b.name => b if b.on }", {"a": {"name": "a", "on": True}}),
        ("[for k, v in local.tiers : k if v.public]", ["site"]),
        ("var.versioning ? 1 : 0", 1),
        ("length(var.zones) > 1 && !var.versioning", False),
        ('merge(local.tiers, { extra = { public = false } })["extra"].public', False),
        ('"acme-${var.zones[0]}"', "acme-raw"),
        ("range(3)", [0, 1, 2]),
        ("{ for z in var.zones : z => upper(z)... }", {"raw": ["RAW"], "redacted": ["REDACTED"]}),
    ],
)
def test_determined_expressions_are_evaluated(expression: str, expected: object) -> None:
    value = _attrs(f"v = {expression}")["v"]
    assert evaluate(value, Scope(VALUES)) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "var.names",  # no value
        "aws_s3_bucket.b.id",  # known once applied
        "toset(var.names)",
        "var.nope ? 1 : 0",
        "data.aws_s3_bucket.b.id",
        "unknown_function(1)",
        "range(100000)",
        "[for a in range(1000) : [for b in range(1000) : a]]",
        # errors in Terraform: undetermined here, never a crash
        "coalesce()",
        "element({}, 1)",
        "range(1, 2, 0)",
        "1 % 0",
        '{ for z in var.zones : "same" => z }',
    ],
)
def test_undetermined_expressions_are_unknown(expression: str) -> None:
    value = _attrs(f"v = {expression}")["v"]
    with pytest.raises(Unknown):
        evaluate(value, Scope(VALUES))


def test_each_and_count_are_written_into_what_stays_a_reference() -> None:
    attrs = _attrs(
        """
bucket = aws_s3_bucket.b[each.key].id
name   = "acme-${each.key}-${count.index}"
arn    = "arn:aws:s3:::${aws_s3_bucket.b[each.key].id}/*"
acl    = each.value.public ? "public-read" : "private"
other  = var.unknown ? each.key : "z"
policy = <<EOT
{"Resource": "${aws_s3_bucket.b[each.key].arn}/*", "Sid": "${each.key}"}
EOT
"""
    )
    scope = Scope(VALUES, each=("site", {"public": True}), index=0)
    got = {k: resolve(v, scope) for k, v in attrs.items()}
    assert got["bucket"] == '${aws_s3_bucket.b["site"].id}'
    assert got["name"] == "acme-site-0"
    assert got["arn"] == 'arn:aws:s3:::${aws_s3_bucket.b["site"].id}/*'
    assert got["acl"] == "public-read"
    assert got["other"] == '${var.unknown ? "site" : "z"}'
    assert got["policy"] == '{"Resource": "${aws_s3_bucket.b["site"].arn}/*", "Sid": "site"}\n'


def test_a_companion_over_another_resource_gets_one_instance_per_key() -> None:
    blocks = parse_terraform(
        """
resource "aws_s3_bucket" "b" {
  for_each = toset(["raw", "redacted"])
  bucket   = "acme-${each.key}"
}
resource "aws_s3_bucket_versioning" "b" {
  for_each = aws_s3_bucket.b
  bucket   = each.value.id
}
resource "aws_s3_bucket_acl" "b" {
  count  = length(aws_s3_bucket.b)
  bucket = values(aws_s3_bucket.b)[count.index].bucket
}
"""
    )
    decided, scope = decide(blocks, {})
    versioning = expand(blocks[1], decided[1], scope)
    assert [b.labels[1] for b in versioning] == ['b["raw"]', 'b["redacted"]']
    assert [b.get("bucket") for b in versioning] == [
        '${aws_s3_bucket.b["raw"].id}',
        '${aws_s3_bucket.b["redacted"].id}',
    ]
    assert "for_each" not in versioning[0].attrs
    acls = expand(blocks[2], decided[2], scope)
    assert [b.labels[1] for b in acls] == ["b[0]", "b[1]"]
    assert acls[1].get("bucket") == '${aws_s3_bucket.b["redacted"].bucket}'
    assert scope.resources["aws_s3_bucket.b"] == {
        "raw": Ref('aws_s3_bucket.b["raw"]'),
        "redacted": Ref('aws_s3_bucket.b["redacted"]'),
    }


def test_undetermined_or_huge_counts_stay_one_template() -> None:
    blocks = parse_terraform(
        f"""
resource "aws_s3_bucket" "a" {{
  for_each = var.names
  bucket   = "acme-${{each.key}}"
}}
resource "aws_s3_bucket" "b" {{
  count = {MAX_INSTANCES + 1}
}}
resource "aws_s3_bucket" "c" {{
  count = 0
}}
"""
    )
    decided, scope = decide(blocks, {})
    assert decided[:2] == [None, None]
    template = expand(blocks[0], decided[0], scope)
    assert [(b.labels[1], b.get("for_each"), b.get("bucket")) for b in template] == [
        ("a", "${var.names}", "acme-${each.key}")
    ]
    assert expand(blocks[2], decided[2], scope) == []


def test_references_name_their_instance() -> None:
    table = {'b["raw"]': "raw", 'b["redacted"]': "redacted", "t": "template", "c[0]": "c0"}
    assert targets(table, '${aws_s3_bucket.b["raw"].id}', "aws_s3_bucket") == ["raw"]
    assert targets(table, "${aws_s3_bucket.c[0].id}", "aws_s3_bucket") == ["c0"]
    assert targets(table, '${aws_s3_bucket.b["gone"].id}', "aws_s3_bucket") == []
    # a splat, an undetermined index or no index: every instance
    assert targets(table, "${aws_s3_bucket.b[*].arn}", "aws_s3_bucket") == ["raw", "redacted"]
    assert targets(table, "${aws_s3_bucket.b[each.key].id}", "aws_s3_bucket") == ["raw", "redacted"]
    # a template stands for each of its instances
    assert targets(table, '${aws_s3_bucket.t["x"].id}', "aws_s3_bucket") == ["template"]
    assert targets(table, '${data.aws_s3_bucket.b["raw"].id}', "aws_s3_bucket") == []
    assert targets(table, ["x", {"k": '${aws_s3_bucket.b["redacted"].arn}/*'}], "aws_s3_bucket") == [
        "redacted"
    ]


def test_a_policy_per_instance_opens_only_its_bucket(run) -> None:
    text = """
locals {
  open = { site = true, frames = false }
}

resource "aws_s3_bucket" "b" {
  for_each = local.open
  bucket   = "acme-${each.key}"
}

resource "aws_s3_bucket_policy" "b" {
  for_each = { for k, v in local.open : k => v if v }
  bucket   = aws_s3_bucket.b[each.key].id
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.b[each.key].arn}/*"
    }]
  })
}
"""
    findings, ctx = run({"main.tf": text})
    assert ctx.skipped == []
    public = {(f.extra["bucket"], f.resource) for f in findings if f.rule_id == "VC201"}
    assert public == {('aws_s3_bucket.b["site"]', 'aws_s3_bucket_policy.b["site"]')}
    assert {f.extra["bucket"] for f in findings} == {'aws_s3_bucket.b["site"]', 'aws_s3_bucket.b["frames"]'}


def test_a_module_with_undetermined_for_each_is_judged_once(run) -> None:
    findings, _ = run(
        {
            "main.tf": 'module "m" {\n  for_each = var.names\n  source = "./mod"\n'
            '  name = "acme-${each.key}"\n}\nvariable "names" {}\n',
            "mod/main.tf": 'variable "name" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n',
        }
    )
    assert {f.extra["bucket"] for f in findings} == {"module.m.aws_s3_bucket.this"}


def test_a_policy_document_per_instance_is_read_for_its_bucket(run) -> None:
    text = """
resource "aws_s3_bucket" "b" {
  for_each = toset(["site", "frames"])
  bucket   = "acme-${each.key}"
}

data "aws_iam_policy_document" "read" {
  for_each = aws_s3_bucket.b
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${each.value.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = [each.key == "site" ? "*" : "arn:aws:iam::111122223333:root"]
    }
  }
}

resource "aws_s3_bucket_policy" "b" {
  for_each = aws_s3_bucket.b
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.read[each.key].json
}
"""
    findings, _ = run({"main.tf": text})
    public = {(f.extra["bucket"], f.resource) for f in findings if f.rule_id == "VC201"}
    assert public == {('aws_s3_bucket.b["site"]', 'aws_s3_bucket_policy.b["site"]')}


def test_companions_of_data_source_instances_name_the_instance(run) -> None:
    text = """
data "aws_s3_bucket" "shared" {
  for_each = { logs = "acme-logs", site = "acme-site" }
  bucket   = each.value
}

resource "aws_s3_bucket_acl" "shared" {
  bucket = data.aws_s3_bucket.shared["site"].id
  acl    = "public-read"
}

data "google_storage_bucket" "media" {
  count = 1
  name  = "acme-media-${count.index}"
}

resource "google_storage_bucket_iam_member" "media" {
  bucket = data.google_storage_bucket.media[0].name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
"""
    findings, _ = run({"main.tf": text})
    public = {(f.extra["bucket"], f.extra["bucket_name"]) for f in findings if f.rule_id == "VC201"}
    assert public == {
        ('data.aws_s3_bucket.shared["site"]', "acme-site"),
        ("data.google_storage_bucket.media[0]", "acme-media-0"),
    }


def test_an_azure_companion_on_an_undetermined_instance_leaves_its_setting_unknown(run) -> None:
    text = """
variable "names" {
  type = set(string)
}

resource "azurerm_storage_account" "a" {
  for_each                        = toset(["one", "two"])
  name                            = "acme${each.key}"
  allow_nested_items_to_be_public = false
}

resource "azurerm_storage_management_policy" "a" {
  for_each           = var.names
  storage_account_id = azurerm_storage_account.a[each.key].id
  rule {
    name    = "expire"
    enabled = true
    filters {
      blob_types = ["blockBlob"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = 7
      }
    }
  }
}

resource "azurerm_storage_container" "a" {
  for_each              = var.names
  name                  = "frames"
  storage_account_id    = azurerm_storage_account.a[each.key].id
  container_access_type = "private"
}
"""
    findings, _ = run({"main.tf": text})
    lifecycle = {
        (f.extra["bucket"], f.extra["verdict"], f.resource) for f in findings if f.rule_id == "VC208"
    }
    assert lifecycle == {
        ('azurerm_storage_account.a["one"]', "unknown", "azurerm_storage_management_policy.a"),
        ('azurerm_storage_account.a["two"]', "unknown", "azurerm_storage_management_policy.a"),
    }
    # a private container on an undetermined account opens nothing and makes no external account
    assert {f.extra["bucket"] for f in findings} == {
        'azurerm_storage_account.a["one"]',
        'azurerm_storage_account.a["two"]',
    }
    assert not [f for f in findings if f.rule_id == "VC201"]


def test_an_acl_that_is_a_list_is_not_a_crash(run) -> None:
    # `acl = toset(var.l)` (a mistake) evaluates to a list: not a canned ACL, never an internal error
    findings, _ = run(
        {
            "main.tf": 'variable "l" {\n  default = ["public-read"]\n}\n'
            'resource "aws_s3_bucket" "a" {\n  acl = toset(var.l)\n}\n'
            'resource "aws_s3_bucket_acl" "a" {\n  bucket = aws_s3_bucket.a.id\n  acl = {x = 1}\n}\n'
        }
    )
    assert "VC201" not in {f.rule_id for f in findings}
