"""A resource, data source or module call declared twice in one module: Terraform refuses the
configuration, so veil fails closed (VC004) instead of judging a mix of the two in silence."""

from __future__ import annotations


def test_a_resource_declared_twice_is_vc004_at_the_second_once_per_file_line(run) -> None:
    _, ctx = run(
        {
            "a.tf": 'resource "aws_s3_bucket" "x" {\n  acl = "public-read"\n}\n',
            "b.tf": '\nresource "aws_s3_bucket" "x" {\n  bucket = "b"\n}\n',
            "mod/main.tf": 'resource "aws_s3_bucket" "y" {}\nresource "aws_s3_bucket" "y" {}\n',
            "calls.tf": 'module "one" {\n  source = "./mod"\n}\nmodule "two" {\n  source = "./mod"\n}\n',
        }
    )
    found = sorted((f.file, f.line) for f in ctx.unparsed)
    assert found == [("b.tf", 2), ("mod/main.tf", 2)]  # once, though the module is called twice
    (message,) = [f.message for f in ctx.unparsed if f.file == "b.tf"]
    assert "aws_s3_bucket.x is declared twice (first at a.tf:1)" in message


def test_one_name_for_a_resource_and_a_data_source_is_no_duplicate(run) -> None:
    _, ctx = run(
        {
            "main.tf": 'data "aws_s3_bucket" "x" {\n  bucket = "shared"\n}\n'
            'resource "aws_s3_bucket" "x" {\n  bucket = "own"\n}\n'
        }
    )
    assert ctx.unparsed == []
