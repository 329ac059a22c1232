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

    real = terraform.parse_and_store

    def failing(text: str):
        if "boom" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real(text)

    monkeypatch.setattr(terraform, "parse_and_store", failing)
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


# Hostile inputs whose work an evaluation step did not measure: each one ran for minutes or took
# gigabytes. Run in a child process with a time and memory limit, so a regression fails the test
# instead of hanging the suite or the machine.
_MEMORY_LIMIT = 2 << 30


def _veil_check(tmp_path, files: dict[str, str]) -> str:
    import os
    import resource
    import subprocess
    import sys

    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))

    done = subprocess.run(
        [sys.executable, "-c", "import sys; from veilcv.cli.main import run; sys.exit(run())", "check", "."],
        cwd=tmp_path,
        env={**os.environ, "VEILCV_NO_CACHE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def _many_distinct_maps() -> str:
    """Locals holding 163,840 distinct maps, each within the limits on one expression."""
    lines = ['variable "v" {\n  default = 1\n}\n', "locals {\n  r20 = range(19 + var.v)\n"]
    for k in range(8):
        lines.append(f"  r{k} = [for i in range(1023 + var.v) : i * 20 + {k} * 20480]\n")
        lines.append(f"  p{k} = flatten([for i in local.r{k} : [for j in local.r20 : {{a = i + j}}]])\n")
    lines.append("  all = concat(" + ", ".join(f"local.p{k}" for k in range(8)) + ")\n")
    return "".join(lines)


def _unknown_acl(source: str) -> str:
    return _bucket_with_acl(f'length({source}) > 0 ? "public-read" : "private"')


def test_toset_of_many_distinct_maps_ends(tmp_path) -> None:
    text = _many_distinct_maps() + "  s = toset(local.all)\n}\n" + _unknown_acl("local.s")
    assert "may be public (unknown" in _veil_check(tmp_path, {"main.tf": text})


def test_toset_deduplicates_many_maps_in_linear_time() -> None:
    import subprocess
    import sys

    code = (
        "from veilcv.linter.rules.storage.tf_functions import FUNCTIONS\n"
        "items = [{'a': i} for i in range(160_000)] + [{'a': 7}, {'a': '7'}, ['x'], ['x']]\n"
        "out = FUNCTIONS['toset'](items)\n"
        "print(len(out), out[-2:])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split("\n")[0] == "160002 [{'a': '7'}, ['x']]", done.stderr


def test_distinct_keeps_the_first_of_equal_values(run) -> None:
    acl = 'length(distinct([{a = local.n}, {a = 1}, {a = "1"}, [1], [local.n]])) == 3 ? "public-read" : "x"'
    findings, _ = run({"main.tf": "locals {\n  n = 1\n}\n" + _bucket_with_acl(acl)})
    assert _verdict(findings) == "fail"


def test_contains_over_a_long_list_inside_a_for_ends(tmp_path) -> None:
    text = (
        _many_distinct_maps()
        + "  c = [for x in local.all : contains(local.all, {a = -1})]\n}\n"
        + _unknown_acl("local.c")
    )
    assert "may be public (unknown" in _veil_check(tmp_path, {"main.tf": text})


def test_a_function_is_charged_for_the_size_of_its_arguments(run, monkeypatch) -> None:
    from veilcv.linter.rules.storage import tf_eval

    monkeypatch.setattr(tf_eval, "_MAX_STEPS", 20_000)
    # 1,000 iterations of a few nodes each fit; 1,000 searches of 1,000 elements do not.
    text = "locals {\n  n = 1\n  all = range(999 + local.n)\n"
    scan = "[for x in local.all : contains(local.all, -1)]"
    findings, _ = run({"main.tf": text + f"  c = {scan}\n}}\n" + _unknown_acl("local.c")})
    assert _verdict(findings) == "unknown"
    cheap = "[for x in local.all : x + 1]"
    findings, _ = run({"main.tf": text + f"  c = {cheap}\n}}\n" + _unknown_acl("local.c")})
    assert _verdict(findings) == "fail"


def test_concat_of_hundreds_of_long_lists_is_unknown_within_memory(tmp_path) -> None:
    big = "concat(" + ", ".join(["local.all"] * 300) + ")"
    text = _many_distinct_maps() + f"  big = {big}\n}}\n" + _unknown_acl("local.big")
    assert "may be public (unknown" in _veil_check(tmp_path, {"main.tf": text})


def test_concat_is_measured_before_it_is_built() -> None:
    from veilcv.linter.rules.storage.tf_functions import FUNCTIONS, MAX_SIZE, Unknown

    half = [0] * (MAX_SIZE // 2)
    assert len(FUNCTIONS["concat"](half, half)) == MAX_SIZE
    try:
        FUNCTIONS["concat"](half, half, [0])
    except Unknown:
        pass
    else:
        raise AssertionError("a concat past MAX_SIZE elements must be unknown")


def test_a_template_of_thousands_of_long_interpolations_is_unknown_within_memory(tmp_path) -> None:
    text = (
        'variable "v" {\n  default = 1\n}\n'
        + 'locals {\n  s = join("", [for i in range(1024) : "'
        + "x" * 63
        + '${var.v}"])\n  t = "'
        + "${local.s}x" * 15_000
        + '"\n}\n'
        + _unknown_acl("local.t")
    )
    out = _veil_check(tmp_path, {"main.tf": text})
    assert "may be public (unknown" in out


def test_a_template_just_within_the_string_limit_is_computed(run) -> None:
    from veilcv.linter.rules.storage.tf_functions import MAX_STRING

    half = "x" * (MAX_STRING // 2 - 1)
    text = f'locals {{\n  s = "{half}"\n  t = "${{local.s}}${{local.s}}ab"\n}}\n'
    findings, _ = run({"main.tf": text + _bucket_with_acl('length(local.t) == 65536 ? "public-read" : "x"')})
    assert _verdict(findings) == "fail"
    findings, _ = run({"main.tf": text.replace("ab", "abc") + _unknown_acl("local.t")})
    assert _verdict(findings) == "unknown"


def _fan_out(count: int) -> dict[str, str]:
    def call(source: str) -> str:
        return f'module "a" {{\n  count  = {count}\n  source = "{source}"\n}}\n'

    return {
        "main.tf": call("./m1"),
        "m1/main.tf": call("../m2"),
        "m2/main.tf": call("../m3"),
        "m3/main.tf": PUBLIC,
    }


def test_module_instances_past_the_cap_are_vc221_once_per_call(run, monkeypatch) -> None:
    from veilcv.linter.rules.storage import tf_modules

    monkeypatch.setattr(tf_modules, "MAX_MODULE_INSTANCES", 5)
    files = _fan_out(3)
    del files["m2/main.tf"]
    files["m1/main.tf"] = files["m1/main.tf"].replace("../m2", "../m3")
    findings, _ = run(files)
    # module.a[0] and its three calls of m3 are judged; module.a[1] is the fifth instance
    assert _public(findings) == {f"module.a[0].module.a[{i}].aws_s3_bucket.pub" for i in range(3)}
    capped = [f for f in findings if f.rule_id == "VC221"]
    assert [(f.file, f.line, f.resource) for f in capped] == [
        ("m1/main.tf", 1, "module.a[1].module.a[0]"),
        ("main.tf", 1, "module.a[2]"),
    ]
    assert all("more than 5 module instances in one run" in f.message for f in capped)


def test_a_fan_out_of_module_calls_ends_with_the_rest_vc221(tmp_path) -> None:
    out = _veil_check(tmp_path, _fan_out(60))
    assert "more than 10,000 module instances in one run" in out
    assert out.count("VC201") <= 10_000


def test_a_tf_json_file_nested_too_deep_says_once_that_it_is_not_checked(run) -> None:
    deep = PUBLIC_JSON.replace('"public-read"}', '"public-read", "tags": ' + "[" * 100 + "]" * 100 + "}")
    _, ctx = run({"main.tf.json": deep})
    assert [(f.rule_id, f.file, f.line) for f in ctx.unparsed] == [("VC004", "main.tf.json", 4)]
    message = ctx.unparsed[0].message
    assert "nested deeper than 64 levels" in message
    assert message.endswith(": the value opened here; the file is not checked")
    assert message.count("not checked") + message.count("not judged") == 1


def test_a_tfvars_file_nested_too_deep_says_the_whole_file_is_ignored(run) -> None:
    text = 'variable "acl" {}\n' + _bucket_with_acl("var.acl")
    deep = 'acl = "public-read"\ntags = ' + "[" * 100 + "]" * 100 + "\n"
    findings, ctx = run({"main.tf": text, "terraform.tfvars": deep})
    assert [(f.rule_id, f.file, f.line) for f in ctx.unparsed] == [("VC004", "terraform.tfvars", 2)]
    message = ctx.unparsed[0].message
    assert "nested deeper than 64 levels" in message and "not judged" not in message
    assert message.endswith("the whole file is ignored (it sets no variables)")
    assert _verdict(findings) == "unknown"  # acl, set in the ignored file, is not taken from it
