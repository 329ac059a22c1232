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


def _locals(first: str, each: str, count: int) -> str:
    lines = [f"  a0 = {first}"] + [f"  a{i} = " + each.format(p=f"local.a{i - 1}") for i in range(1, count)]
    return "locals {\n" + "\n".join(lines) + "\n}\n"


def _bucket_with_acl(acl: str) -> str:
    return f'resource "aws_s3_bucket" "x" {{\n  bucket = "x"\n  acl    = {acl}\n}}\n'


def _verdict(findings, rule: str = "VC201") -> str | None:
    found = [f.extra.get("verdict", "fail") for f in findings if f.rule_id == rule]
    return found[0] if found else None


def test_locals_doubling_a_string_become_unknown_instead_of_exhausting_memory(run) -> None:
    text = _locals('"public-read"', '"${{{p}}}${{{p}}}"', 41) + _bucket_with_acl("local.a40")
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "unknown"


def test_locals_squaring_a_number_become_unknown_instead_of_running_for_ever(run) -> None:
    text = _locals("3", "{p} * {p}", 41) + _bucket_with_acl('local.a40 > 0 ? "public-read" : "private"')
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "unknown"


def test_a_small_number_is_still_computed(run) -> None:
    text = _locals("3", "{p} * {p}", 4) + _bucket_with_acl('local.a3 == 6561 ? "public-read" : "private"')
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "fail"


def test_a_long_chain_of_locals_written_last_first_is_resolved(run) -> None:
    # a0 reads a1, which reads a2, ... : locals are resolved in the order they read each other,
    # however long the chain and whatever order the file writes them in.
    lines = [f"  a{i} = local.a{i + 1}" for i in range(15_000)] + ['  a15000 = "public-read"']
    findings, _ = run({"main.tf": "locals {\n" + "\n".join(lines) + "\n}\n" + _bucket_with_acl("local.a0")})
    assert _verdict(findings) == "fail"


def test_locals_nesting_each_other_deeper_than_a_value_may_be_are_unknown(run) -> None:
    text = _locals('"public-read"', "[{p}]", 3000) + _bucket_with_acl("local.a2999[0]")
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "unknown"


def test_once_the_module_budget_is_spent_what_is_left_is_unknown(run, monkeypatch) -> None:
    from veilcv.linter.rules.storage import tf_eval

    monkeypatch.setattr(tf_eval, "_MAX_MODULE_STEPS", 500)  # the loop takes 1,000
    busy = "  n = 1\n  busy = length([for i in range(1000) : i + local.n])\n"
    text = "locals {\n" + busy + '  acl = "public-read"\n}\n' + _bucket_with_acl('"${local.acl}"')
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "unknown"
    monkeypatch.setattr(tf_eval, "_MAX_MODULE_STEPS", 2_000_000)
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "fail"


def _deep_file(depth_of_tags: str) -> str:
    return f'resource "aws_s3_bucket" "x" {{\n  bucket = "x"\n  tags = {depth_of_tags}\n}}\n' + PUBLIC


def test_a_value_nested_thousands_deep_is_vc004_at_its_line_and_the_rest_is_judged(run) -> None:
    findings, ctx = run({"main.tf": _deep_file("[" * 3000 + "]" * 3000)})
    assert [(f.rule_id, f.file, f.line) for f in ctx.unparsed] == [("VC004", "main.tf", 3)]
    assert "nested deeper than 64 levels" in ctx.unparsed[0].message
    assert _public(findings) == {"aws_s3_bucket.pub"}
    assert "aws_s3_bucket.x" not in {f.extra.get("bucket") for f in findings}


def test_nesting_up_to_the_limit_is_read(run) -> None:
    # the resource block is one level, so 63 lists fit
    findings, ctx = run({"main.tf": _deep_file("[" * 63 + '"a"' + "]" * 63)})
    assert ctx.unparsed == []
    assert "aws_s3_bucket.x" in {f.extra.get("bucket") for f in findings}
    _, ctx = run({"main.tf": _deep_file("[" * 64 + '"a"' + "]" * 64)})
    assert [f.line for f in ctx.unparsed] == [3]


def test_hundreds_of_nested_dynamic_blocks_are_vc004_and_the_rest_is_judged(run) -> None:
    body = "content {\n  a = 1\n}\n"
    for i in range(500):
        body = f'dynamic "rule{i}" {{\n  for_each = [1]\n  content {{\n{body}}}\n}}\n'
    text = 'resource "aws_s3_bucket" "x" {\n  bucket = "x"\n' + body + "}\n" + PUBLIC
    findings, ctx = run({"main.tf": text})
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", "main.tf")]
    assert "nested deeper than 64 levels" in ctx.unparsed[0].message
    assert _public(findings) == {"aws_s3_bucket.pub"}


def test_a_syntax_error_thousands_deep_is_vc004_not_a_crash(run) -> None:
    _, ctx = run({"main.tf": PUBLIC + _deep_file("[" * 3000 + "\n" + "{ a {" * 3000)})
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", "main.tf")]


def test_an_expression_thousands_deep_stays_unknown(run) -> None:
    text = "locals {\n  n = 1\n}\n" + _bucket_with_acl("(" * 3000 + "local.n" + ")" * 3000)
    findings, ctx = run({"main.tf": text})
    assert ctx.unparsed == []
    assert _verdict(findings) == "unknown"


PUBLIC_JSON = """{
  "resource": {
    "aws_s3_bucket": {
      "pub": {"bucket": "pub", "acl": "public-read"}
    }
  }
}
"""


def test_a_tf_json_file_is_read(run) -> None:
    findings, ctx = run({"main.tf.json": PUBLIC_JSON})
    assert ctx.unparsed == []
    assert [(f.file, f.line) for f in findings if f.rule_id == "VC201"] == [("main.tf.json", 4)]


def test_invalid_json_is_vc004_at_its_line(run) -> None:
    findings, ctx = run({"main.tf.json": PUBLIC_JSON.replace('"public-read"}', '"public-read",}')})
    assert [(f.rule_id, f.file, f.line) for f in ctx.unparsed] == [("VC004", "main.tf.json", 4)]
    assert "cannot parse Terraform JSON: invalid JSON at line 4" in ctx.unparsed[0].message


def test_json_blocks_as_arrays_dynamic_blocks_and_comments(run) -> None:
    text = """{
  "//": "versioning through a dynamic block, the public access block as an array of bodies",
  "resource": [
    {"aws_s3_bucket": {"b": {
      "//": "a comment, not an argument",
      "bucket": "b",
      "dynamic": {"versioning": {"for_each": [1], "content": {"enabled": true}}}
    }}},
    {"aws_s3_bucket_public_access_block": {"b": [{
      "bucket": "${aws_s3_bucket.b.id}", "block_public_acls": true, "block_public_policy": true,
      "ignore_public_acls": true, "restrict_public_buckets": true
    }]}}
  ]
}
"""
    findings, ctx = run({"main.tf.json": text})
    assert ctx.unparsed == []
    rules = {f.rule_id for f in findings if f.extra.get("bucket") == "aws_s3_bucket.b"}
    assert rules and not rules & {"VC202", "VC205", "VC004"}


def test_a_module_folder_of_json_files_is_read(run) -> None:
    findings, _ = run({"main.tf": 'module "m" {\n  source = "./m"\n}\n', "m/main.tf.json": PUBLIC_JSON})
    assert _public(findings) == {"module.m.aws_s3_bucket.pub"}
    assert "VC221" not in {f.rule_id for f in findings}


def test_tfvars_json_sets_variables_and_invalid_json_is_vc004_at_its_line(run) -> None:
    text = 'variable "acl" {}\n' + _bucket_with_acl("var.acl")
    findings, _ = run({"main.tf": text, "terraform.tfvars.json": '{"acl": "public-read"}'})
    assert _verdict(findings) == "fail"
    _, ctx = run({"main.tf": text, "terraform.tfvars.json": '{\n  "acl": "public-read",\n}'})
    assert [(f.file, f.line) for f in ctx.unparsed] == [("terraform.tfvars.json", 3)]


def test_the_hook_on_a_changed_tf_json_file_judges_it(tmp_path) -> None:
    from veilcv.linter import engine
    from veilcv.policies.loader import load_policy_source

    (tmp_path / "main.tf.json").write_text(PUBLIC_JSON)
    (tmp_path / "other.tf").write_text(PUBLIC.replace('"pub"', '"other"'))
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nextends: default\n")
    report = engine.check(tmp_path, load_policy_source(policy), paths=["main.tf.json"], only=["storage"])
    assert {(f.file, f.rule_id) for f in report.findings if f.rule_id == "VC201"} == {
        ("main.tf.json", "VC201")
    }


def test_an_unexpected_error_reading_one_file_is_vc004_naming_it(run, monkeypatch) -> None:
    from veilcv.linter.rules.storage import terraform

    real = terraform.parse_cached

    def failing(text: str):
        if "boom" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real(text)

    monkeypatch.setattr(terraform, "parse_cached", failing)
    findings, ctx = run({"a/main.tf": PUBLIC, "b/main.tf": PUBLIC.replace('"pub"', '"boom"', 1)})
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", "b/main.tf")]
    assert "internal error (RecursionError: maximum recursion depth exceeded)" in ctx.unparsed[0].message
    assert _public(findings) == {"aws_s3_bucket.pub"}
    assert {f.file for f in findings if f.rule_id == "VC201"} == {"a/main.tf"}


def test_an_unexpected_error_judging_one_module_is_vc004_naming_its_folder(run, monkeypatch) -> None:
    from veilcv.linter.rules.storage import terraform

    real = terraform.known_values

    def failing(blocks, inputs=None, budget=None):
        if any(b.type == "locals" for b in blocks):
            raise MemoryError
        return real(blocks, inputs, budget)

    monkeypatch.setattr(terraform, "known_values", failing)
    findings, ctx = run({"a/main.tf": PUBLIC, "b/main.tf": "locals {\n  x = 1\n}\n" + PUBLIC})
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", "b/main.tf")]
    assert "cannot judge the module in b: internal error (MemoryError)" in ctx.unparsed[0].message
    assert {f.file for f in findings if f.rule_id == "VC201"} == {"a/main.tf"}


def test_a_variables_file_nested_thousands_deep_is_vc004_not_a_crash(run) -> None:
    text = 'variable "acl" {}\n' + _bucket_with_acl("var.acl")
    deep = '{"acl": "public-read", "tags": ' + "[" * 100_000 + "]" * 100_000 + "}"
    findings, ctx = run({"main.tf": text, "terraform.tfvars.json": deep})
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", "terraform.tfvars.json")]
    assert _verdict(findings) == "unknown"
    shallow = '{"acl": "public-read", "tags": ' + "[" * 200 + "]" * 200 + "}"
    findings, ctx = run({"main.tf": text, "terraform.tfvars.json": shallow})
    assert ctx.unparsed == [] and _verdict(findings) == "fail"


def test_a_policy_heredoc_nested_thousands_deep_does_not_stop_the_module(run) -> None:
    policy = '{"Statement": ' + "[" * 5000 + "]" * 5000 + "}"
    text = (
        PUBLIC
        + 'resource "aws_s3_bucket_policy" "p" {\n  bucket = aws_s3_bucket.pub.id\n'
        + f"  policy = <<EOF\n{policy}\nEOF\n}}\n"
    )
    findings, ctx = run({"main.tf": text})
    assert ctx.unparsed == []
    assert _public(findings) == {"aws_s3_bucket.pub"}


def test_a_join_longer_than_a_string_may_be_is_unknown_and_a_short_one_is_computed(run) -> None:
    sep = "x" * 40_000  # 80,000 characters joined: over the 64 KiB a string may be
    text = f'locals {{\n  sep = "{sep}"\n}}\n' + _bucket_with_acl('join(local.sep, ["public", "read", "x"])')
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "unknown"
    text = 'locals {\n  sep = "-"\n}\n' + _bucket_with_acl('join(local.sep, ["public", "read"])')
    findings, _ = run({"main.tf": text})
    assert _verdict(findings) == "fail"
