"""Terraform files as plain Python data with line numbers, on top of python-hcl2's parser.

python-hcl2 8.x accepts ``with_meta`` but no longer emits ``__start_line__``, and its rule
transformer costs as much as the parse itself, so this module runs python-hcl2's own grammar and
post-lexer through Lark without position propagation (lines come from the tokens, which always carry
them) and walks the raw parse tree: every block keeps its line, every attribute its line.

Values become Python data: strings (unescaped), numbers, booleans, lists and dicts;
``jsonencode({...})`` becomes the object it encodes; heredocs become their text; any other
expression (references, conditionals, function calls) becomes its source wrapped as ``"${...}"``,
the form python-hcl2's own serialiser uses, so references read ``"${aws_s3_bucket.frames.id}"``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import hcl2.parser
from hcl2.postlexer import PostLexer
from lark import Lark, Token, Tree

# `aws_s3_bucket.frames.id`, `aws_s3_bucket.frames[0].bucket`, `aws_s3_bucket.frames["a"].arn`
_REF = re.compile(r"^\$\{([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([a-z_]+)\}$")
_EMBEDDED_REF = re.compile(r"\$\{([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([a-z_]+)\}")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


@dataclass
class Block:
    """One HCL block: ``resource "aws_s3_bucket" "frames" { ... }`` or a nested ``rule { ... }``."""

    type: str
    labels: tuple[str, ...]
    line: int
    attrs: dict[str, Any] = field(default_factory=dict)
    attr_lines: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, list[Block]] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def line_of(self, name: str) -> int:
        if name in self.attr_lines:
            return self.attr_lines[name]
        children = self.blocks.get(name)
        return children[0].line if children else self.line

    def first(self, name: str) -> Block | None:
        children = self.blocks.get(name)
        return children[0] if children else None

    def all(self, name: str) -> list[Block]:
        return self.blocks.get(name, [])

    @property
    def address(self) -> str:
        """Terraform address: ``aws_s3_bucket.frames`` (resources) or ``data.x.y`` (data sources)."""
        if self.type == "data":
            return "data." + ".".join(self.labels)
        return ".".join(self.labels)


def _unescape(raw: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, "\\" + code)

    return _ESCAPE.sub(one, raw) if "\\" in raw else raw


@functools.cache
def _parser() -> Lark:
    # Position propagation decorates every tree node and roughly doubles the parse time.
    return Lark.open(
        "hcl2.lark", rel_to=hcl2.parser.__file__, parser="lalr", propagate_positions=False,
        postlex=PostLexer(), cache=True,
    )  # fmt: skip


def _edge(node: Tree | Token, last: bool) -> Token:
    while isinstance(node, Tree):
        kids = [c for c in node.children if c is not None]
        node = kids[-1 if last else 0]
    return node


def _trees(node: Tree) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text

    def source(self, node: Tree) -> str:
        return self.text[_edge(node, False).start_pos : _edge(node, True).end_pos]

    def name(self, node: Tree | Token) -> str:
        if isinstance(node, Token):
            return str(node)
        if node.data == "string":
            value = self.value(node)
            return value if isinstance(value, str) else self.source(node)
        return str(node.children[0]) if node.children else self.source(node)

    def value(self, node: Tree | Token) -> Any:
        if isinstance(node, Token):
            return str(node)
        kind = node.data
        if kind == "expr_term":
            inner = _trees(node)
            has_parens = isinstance(node.children[0], Token) and node.children[0].type == "LPAR"
            return self.value(inner[0]) if len(inner) == 1 and not has_parens else self.wrap(node)
        if kind == "string":
            parts = [c for c in node.children if isinstance(c, Tree)]
            chars = [p.children[0] for p in parts if isinstance(p.children[0], Token)]
            if len(chars) == len(parts) and all(t.type == "STRING_CHARS" for t in chars):
                return _unescape("".join(str(t) for t in chars))
            return self.source(node)[1:-1]
        if kind == "int_lit":
            return int(str(node.children[0]))
        if kind == "float_lit":
            return float(str(node.children[0]))
        if kind == "literal_value":
            return {"true": True, "false": False}.get(str(node.children[0]))
        if kind == "tuple":
            return [self.value(c) for c in _trees(node)]
        if kind == "object":
            out: dict[str, Any] = {}
            for elem in _trees(node):
                key_node, value_node = _trees(elem)
                key = self.key(key_node)
                out[str(key)] = self.value(value_node)
            return out
        if kind in ("heredoc_template", "heredoc_template_trim"):
            raw = str(node.children[0])
            body = raw.split("\n", 1)[1] if "\n" in raw else ""
            body = body.rstrip("\r\n")
            body = body[: body.rfind("\n") + 1] if "\n" in body else ""
            if kind == "heredoc_template_trim":
                lines = body.splitlines(keepends=True)
                indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
                body = "".join(ln[indent:] for ln in lines)
            return body
        if kind == "function_call":
            ident = _trees(node)
            args = next((c for c in ident if c.data == "arguments"), None)
            if self.name(ident[0]) == "jsonencode" and args is not None and len(_trees(args)) == 1:
                return self.value(_trees(args)[0])
        return self.wrap(node)

    def key(self, node: Tree) -> str:
        """An object key: ``name = ...`` and ``"aws:SecureTransport" = ...`` give the bare text."""
        inner = _trees(node)
        if not inner:  # a keyword used as a key (`in = ...`)
            return str(node.children[0])
        term = inner[0]
        while term.data == "expr_term" and len(_trees(term)) == 1:
            term = _trees(term)[0]
        if term.data == "identifier":
            return self.name(term)
        value = self.value(term)
        return value if isinstance(value, str) else self.source(term)

    def wrap(self, node: Tree) -> str:
        return "${" + self.source(node) + "}"

    def block(self, node: Tree) -> Block:
        body = next(c for c in node.children if isinstance(c, Tree) and c.data == "body")
        labels = [self.name(c) for c in node.children if isinstance(c, Tree) and c is not body
                  and c.data != "new_line_or_comment"]  # fmt: skip
        out = Block(type=labels[0], labels=tuple(labels[1:]), line=_edge(node, False).line)
        for child in body.children:
            if not isinstance(child, Tree):
                continue
            if child.data == "attribute":
                parts = _trees(child)
                name = self.name(parts[0])
                out.attrs[name] = self.value(parts[-1])
                out.attr_lines[name] = _edge(child, False).line
            elif child.data == "block":
                nested = self.block(child)
                out.blocks.setdefault(nested.type, []).append(nested)
        return out


def parse_terraform(text: str) -> list[Block]:
    """Top-level blocks of one ``.tf`` file. Raises whatever the parser raises on bad syntax."""
    # As python-hcl2 does: Lark has no EOF token, so the grammar needs a final newline.
    tree = _parser().parse(text + "\n")
    walker = _Walker(text)
    body = tree.children[0]
    return [walker.block(c) for c in body.children if isinstance(c, Tree) and c.data == "block"]


def reference(value: Any) -> tuple[str, str, str] | None:
    """``"${aws_s3_bucket.frames.id}"`` -> ``("aws_s3_bucket", "frames", "id")``; else None."""
    if not isinstance(value, str):
        return None
    m = _REF.match(value)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def references(value: Any) -> list[tuple[str, str, str]]:
    """Every ``type.name.attr`` reference inside a string or nested structure."""
    if isinstance(value, str):
        return [(m.group(1), m.group(2), m.group(3)) for m in _EMBEDDED_REF.finditer(value)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def is_literal(value: Any) -> bool:
    return isinstance(value, str) and "${" not in value


def json_value(value: Any) -> Any:
    """A policy given as a decoded ``jsonencode`` object, a JSON string or a heredoc; else None."""
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                return json.loads(text)
            except ValueError:
                return None
    return None


def truthy(value: Any) -> bool | None:
    """HCL booleans may arrive as bools or as the strings ``"true"``/``"false"``; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
