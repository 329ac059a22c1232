"""The table driver in ``hcl`` must build exactly the tree Lark's own parser builds, and fail the same way."""

from __future__ import annotations

from pathlib import Path

import lark
import pytest

from veilcv.linter.rules.storage import hcl

TESTS = Path(__file__).resolve().parents[2]

# Syntax the fixtures use little of: operators after a newline (python-hcl2's post-lexer merges the
# newline into the operator), comments of every kind, heredocs, for expressions, splats, conditionals,
# unary minus on a new line (must not merge), empty blocks and bodies, nested objects and tuples.
EDGE_CASES = [
    "a = 1\nb = -2\n",
    'locals {\n  x = var.a\n    && var.b\n  y = (1\n    + 2)\n  z = var.c ? "p" : "q"\n}\n',
    '# hash\n// slashes\n/* block\ncomment */\nresource "a" "b" {}\n',
    'resource "aws_s3_bucket_policy" "p" {\n  policy = <<-EOT\n    {"Version": "2012-10-17"}\n  EOT\n}\n',
    'locals {\n  names = [for s in var.list : upper(s) if s != ""]\n'
    "  m = {for k, v in var.map : k => v}\n}\n",
    'output "ids" {\n  value = aws_s3_bucket.b[*].id\n}\n',
    'resource "x" "y" {\n  dynamic "rule" {\n    for_each = var.rules\n'
    "    content {\n      days = rule.value\n    }\n  }\n}\n",
    'locals {\n  o = { a = { b = [1, 2.5, true, null, "s${var.x}"] }, "quoted key" = 3 }\n}\n',
    'variable "v" {\n  default = "\\u00e9\\n\\"q\\""\n}\n',
    "",
    "\n\n",
]


def _fixture_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(TESTS.rglob("*.tf"))]


@pytest.mark.parametrize("text", EDGE_CASES + _fixture_texts())
def test_driver_builds_the_tree_lark_builds(text: str) -> None:
    fast = hcl._driver()
    assert fast is not None, "the table driver could not be built from this Lark version"
    try:
        expected = hcl._parser().parse(text + "\n")
    except lark.exceptions.UnexpectedInput:  # a deliberately broken fixture: the driver fails too
        with pytest.raises(Exception):  # noqa: B017 - parse_terraform then asks Lark for its error
            fast(text + "\n")
        return
    got = fast(text + "\n")
    assert got == expected
    # Tree equality compares token types and text only: the positions must agree too (lines are
    # what findings report).
    where = lambda tree: [  # noqa: E731
        (t.type, t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)
        for t in tree.scan_values(lambda v: isinstance(v, lark.Token))
    ]
    assert where(got) == where(expected)


def test_the_fixtures_include_real_terraform() -> None:
    texts = _fixture_texts()
    assert len(texts) >= 20 and sum('resource "aws_s3_bucket"' in t for t in texts) >= 10


@pytest.mark.parametrize(
    "bad",
    [
        'resource "a" "b" {\n  x = \n}\n',
        'resource "a" "b" {\n',
        "x = 1 +\n",
        "€ = 1\n",
        'a = "unterminated\n',
    ],
)
def test_bad_syntax_raises_what_lark_raises(bad: str) -> None:
    with pytest.raises(lark.exceptions.UnexpectedInput) as ours:
        hcl.parse_terraform(bad)
    with pytest.raises(lark.exceptions.UnexpectedInput) as theirs:
        hcl._parser().parse(bad + "\n")
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_grammar_cache_lives_in_the_users_cache_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VEILCV_CACHE_DIR", str(tmp_path))
    where = hcl._grammar_cache()
    assert isinstance(where, str) and Path(where).parent == tmp_path / "grammar"
    assert (tmp_path / "grammar").stat().st_mode & 0o077 == 0  # not readable or writable by others


def test_unusable_cache_folder_means_no_grammar_cache(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VEILCV_CACHE_DIR", str(blocker))
    assert hcl._grammar_cache() is False
