"""The tree-sitter HCL reader: values, positions and recovery from syntax errors."""

from __future__ import annotations

import pytest

from veilcv.linter.rules.storage.hcl import HclSyntaxError, parse, parse_terraform, references


def test_values_become_python_data() -> None:
    (b,) = parse_terraform(
        'resource "aws_s3_bucket" "a" {\n'
        '  s = "k\\n\\"q\\u00e9 $${x}"\n'
        '  t = "acme-${var.env}"\n'
        "  n = 3\n"
        "  f = 1.5\n"
        "  y = true\n"
        "  z = null\n"
        '  l = [aws_s3_bucket.b.arn, "${aws_s3_bucket.b.arn}/*"]\n'
        '  o = { "aws:SecureTransport" = "false", Bool = 1 }\n'
        "  c = var.x ? 1 : 2\n"
        "  h = <<-EOT\n    one\n      two\n  EOT\n"
        "}\n"
    )
    assert b.attrs == {
        "s": 'k\n"qé ${x}',
        "t": "acme-${var.env}",
        "n": 3,
        "f": 1.5,
        "y": True,
        "z": None,
        "l": ["${aws_s3_bucket.b.arn}", "${aws_s3_bucket.b.arn}/*"],
        "o": {"aws:SecureTransport": "false", "Bool": 1},
        "c": "${var.x ? 1 : 2}",
        "h": "one\n  two\n",
    }
    assert (b.line, b.column, b.end_line) == (1, 1, 15)
    assert b.attr_lines["h"] == 11


def test_references_inside_function_calls_are_found() -> None:
    (b,) = parse_terraform('resource "x" "y" {\n  r = join("", [aws_s3_bucket.a.arn, "/*"])\n}\n')
    assert references(b.get("r")) == [("aws_s3_bucket", "a", "arn")]
    assert references("${var.name}") == []


def test_a_syntax_error_is_located_and_the_other_blocks_are_kept() -> None:
    text = (
        'resource "aws_s3_bucket" "a" {\n  bucket = "a"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  acl = \n}\n'
        'resource "aws_s3_bucket" "c" {\n  bucket = "c"\n}\n'
    )
    blocks, problems = parse(text)
    assert [b.address for b in blocks] == ["aws_s3_bucket.a", "aws_s3_bucket.c"]
    assert (problems[0].line, problems[0].column) == (5, 3)
    assert "'acl'" in problems[0].message
    with pytest.raises(HclSyntaxError, match="line 5, column 3"):
        parse_terraform(text)


def test_an_unclosed_block_is_an_error_not_a_silent_pass() -> None:
    blocks, problems = parse('resource "aws_s3_bucket" "a" {\n  bucket = "a"\n')
    assert problems and blocks == []


def test_dynamic_blocks_read_as_the_blocks_they_make() -> None:
    (b,) = parse_terraform(
        'resource "aws_s3_bucket" "a" {\n'
        '  dynamic "versioning" {\n    for_each = var.on ? [1] : []\n'
        "    content {\n      enabled = true\n    }\n  }\n"
        '  dynamic "logging" {\n    for_each = []\n    content {\n      target_bucket = "x"\n    }\n  }\n'
        "}\n"
    )
    assert b.first("versioning").attrs == {"enabled": True} and b.first("versioning").line == 2
    assert b.first("logging") is None and "dynamic" not in b.blocks


def test_numbers_with_exponents_parse_as_hcl_allows() -> None:
    (b,) = parse_terraform('resource "x" "y" {\n  days = 1e3\n  f    = [2.5E-1, 1]\n  s    = "ami-1e3"\n}\n')
    assert b.attrs == {"days": 1000, "f": [0.25, 1], "s": "ami-1e3"}
