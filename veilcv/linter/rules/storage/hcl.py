"""Terraform files as plain Python data with line numbers, on top of python-hcl2's parser.

python-hcl2 8.x accepts ``with_meta`` but no longer emits ``__start_line__``, and its rule
transformer costs as much as the parse itself, so this module runs python-hcl2's own grammar and
post-lexer through Lark without position propagation (lines come from the tokens, which always carry
them) and walks the raw parse tree: every block keeps its line, every attribute its line.

Values become Python data: strings (unescaped), numbers, booleans, lists and dicts;
``jsonencode({...})`` becomes the object it encodes; heredocs become their text; any other
expression (references, conditionals, function calls) becomes its source wrapped as ``"${...}"``,
the form python-hcl2's own serialiser uses, so references read ``"${aws_s3_bucket.frames.id}"``.

Two things make the parse cheaper without changing its result (tests compare the trees with Lark's
own parse on every Terraform fixture):

* Lark's own lexer expressions, tables and tree callbacks run in one tight loop (:func:`_driver`);
  anything it cannot handle, a syntax error included, is parsed again by Lark itself, which raises
  its usual errors.
* The compiled grammar (Lark's LALR tables) is kept in the user's cache directory instead of Lark's
  default, a predictable name in the shared temp folder that another local user could plant a pickle
  at. Building it takes over a second; loading it, about 60 ms.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import hcl2.parser
import lark
from hcl2.postlexer import OPERATOR_TYPES, PostLexer
from lark import Lark, Token, Tree
from lark.parse_tree_builder import ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

from veilcv.cachedir import cache_root

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


def _grammar_cache() -> str | bool:
    """Where Lark keeps the compiled grammar: a per-user file, or nowhere (``False``) when the cache
    folder cannot be made. Lark checks the grammar's hash before using the file and rebuilds on any
    mismatch or damage."""
    folder = cache_root() / "grammar"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    return str(folder / f"hcl2-{parser_version().replace('/', '-')}.lark-cache")


def parser_version() -> str:
    """python-hcl2 and Lark versions, ``"8.1.4/1.3.1"``: what parse results depend on."""
    return f"{getattr(hcl2, '__version__', 'unknown')}/{getattr(lark, '__version__', 'unknown')}"


@functools.cache
def _parser() -> Lark:
    # Position propagation decorates every tree node and roughly doubles the parse time.
    return Lark.open(
        "hcl2.lark", rel_to=hcl2.parser.__file__, parser="lalr", propagate_positions=False,
        postlex=PostLexer(), cache=_grammar_cache(),
    )  # fmt: skip


def _reduction(rule: Any, callback: Any) -> tuple[int, Any, str]:
    size = len(rule.expansion)
    keeps_child = size == 1 and type(callback) is ExpandSingleChild
    return size, None if keeps_child else callback, rule.origin.name


def _unit_run(rows: dict[Any, dict[str, tuple[bool, Any]]], below: Any, top: Any, kind: str) -> Any:
    """Where a run of one-child reductions ends: each pops ``top`` and pushes the goto from ``below``
    for its rule, so the run depends on nothing else."""
    while True:
        shift, arg = rows[top][kind]
        if shift or arg[1] is not None:
            return top
        top = rows[below][arg[2]][1]


@functools.cache
def _driver():
    """A ``parse(text) -> Tree`` function equivalent to ``_parser().parse``, or None.

    It runs Lark's own pieces (the LALR tables, the contextual lexer's per-state regular expressions
    and keyword callbacks, the tree-building callbacks, python-hcl2's post-lexer rule) in one loop.
    Lark spends most of a parse between those pieces: a generator per layer, a method call per
    match, a dict keyed by rule objects (hashed in Python) several times per token, as HCL's
    expression grammar reduces through many levels. Here every table entry is resolved to a tuple
    up front. Built from Lark internals: when they are not as expected, None (Lark parses instead).
    """
    lark = _parser()
    try:
        frontend = lark.parser
        inner = frontend.parser.parser
        table, callbacks = inner.parse_table, inner.callbacks
        (start,) = frontend.parser_conf.start
        start_state, end_state = table.start_states[start], table.end_states[start]
        connector = frontend.lexer
        if not isinstance(connector.postlexer, PostLexer) or frontend.lexer_conf.use_bytes:
            return None
        if any(isinstance(k, str) for k in callbacks):  # terminal callbacks: not handled here
            return None
        if frontend.lexer_conf.lexer_type != "contextual":
            return None
        state_lexers, states = connector.lexer.lexers, table.states

        class Lexers(dict):  # per parser state, built on first use (most states are never lexed in)
            def __missing__(self, state: Any) -> tuple:
                lexer = state_lexers[state]
                scanner = lexer.scanner  # compiles the state's expressions and sets lexer.callback
                entry = (tuple(scanner._mres), lexer.ignore_types, lexer.newline_types, dict(lexer.callback))
                self[state] = entry
                return entry

        # A reduction is (children, callback, rule name); a `?rule` of one child keeps that child as
        # it is (ExpandSingleChild returns it), so its callback is None and the value stack stays.
        class Rows(dict):
            def __missing__(self, state: Any) -> dict[str, tuple[bool, Any]]:
                row = {
                    sym: (True, arg) if action is Shift else (False, _reduction(arg, callbacks[arg]))
                    for sym, (action, arg) in states[state].items()
                }
                self[state] = row
                return row

        lexers, rows = Lexers(), Rows()
        lexers[start_state], rows[start_state]  # noqa: B018 - fails here, not mid-parse, on other internals
        new_token = Token._future_new
        end_token = Token("$END", "")
        merge_into = frozenset(OPERATOR_TYPES)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None

    # (state below, top state, lookahead) -> the top state after its run of one-child reductions.
    unit_runs: dict[tuple[Any, Any, str], Any] = {}

    def parse(text: str) -> Tree:
        stack = [start_state]
        values: list[Any] = []
        push, push_value = stack.append, values.append

        def feed(token: Token, at_end: bool = False) -> Any:
            """Shift ``token`` after the reductions it calls for; at the end of input (``$END``),
            reduce until the start rule is accepted and return the tree."""
            kind = token.type
            while True:
                top = stack[-1]
                shift, arg = rows[top][kind]
                if shift:
                    if at_end:
                        raise ValueError("unexpected end of input")
                    push(arg)
                    push_value(token)
                    return None
                size, callback, origin = arg
                if callback is None and not at_end:  # a run of one-child reductions: only the top changes
                    key = (stack[-2], top, kind)
                    last = unit_runs.get(key)
                    if last is None:
                        last = unit_runs[key] = _unit_run(rows, stack[-2], top, kind)
                    stack[-1] = last
                    continue
                if callback is None:
                    stack.pop()
                elif size:
                    children = values[-size:]
                    del stack[-size:]
                    del values[-size:]
                    push_value(callback(children))
                else:
                    push_value(callback([]))
                push(rows[stack[-1]][origin][1])
                if at_end and stack[-1] == end_state:
                    return values[-1]

        # The contextual lexer picks the expressions of the parser's current state; the post-lexer holds
        # back a newline-or-comment token until it sees the next one (lexed in the same parser state),
        # then merges it into that token when it is a binary operator.
        pos, line, line_start, end = 0, 1, 0, len(text)
        pending = None
        while pos < end:
            mres, ignore, multiline, token_callbacks = lexers[stack[-1]]
            for mre in mres:
                m = mre.match(text, pos, end)
                if m:
                    break
            else:
                raise ValueError("no terminal matches")  # Lark reports the error
            value, kind = m.group(0), m.lastgroup
            token_line, column = line, pos - line_start + 1
            if kind in multiline:
                breaks = value.count("\n")
                if breaks:
                    line += breaks
                    line_start = pos + value.rindex("\n") + 1
            start_pos, pos = pos, pos + len(value)
            ignored = kind in ignore
            if ignored and kind not in token_callbacks:
                continue
            token = new_token(kind, value, start_pos, token_line, column, line, pos - line_start + 1, pos)
            if kind in token_callbacks:
                token = token_callbacks[kind](token)
            if ignored:
                continue
            if token.type == "NL_OR_COMMENT":
                if pending is not None:
                    feed(pending)
                pending = token
                continue
            if pending is not None:
                if token.type in merge_into:
                    token = token.update(value=str(pending) + str(token))
                else:
                    feed(pending)
                pending = None
            feed(token)
        if pending is not None:
            feed(pending)
        return feed(end_token, True)

    return parse


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


# Exercises the lexer states most Terraform reaches, so that their regular expressions (compiled on
# first use) are ready before warm_parser's caller forks.
_WARM_UP = """resource "a" "b" {
  n = 1
  s = "x${var.y}"
  l = [aws_s3_bucket.b.arn, "${aws_s3_bucket.b.arn}/*"]
  p = jsonencode({ A = [{ B = "c", "d:e" = { F = "false" } }] })
  nested {
    t = true
    f = 1.5
  }
}
"""


def warm_parser() -> None:
    """Load the grammar, build the table driver and run it once (about 70 ms), e.g. before a fork."""
    parse_terraform(_WARM_UP)


def parse_terraform(text: str) -> list[Block]:
    """Top-level blocks of one ``.tf`` file. Raises whatever the parser raises on bad syntax."""
    # As python-hcl2 does: Lark has no EOF token, so the grammar needs a final newline.
    text_nl = text + "\n"
    fast = _driver()
    try:
        tree = fast(text_nl) if fast is not None else _parser().parse(text_nl)
    except Exception:  # bad syntax (or anything the driver missed): Lark parses it again and decides
        tree = _parser().parse(text_nl)
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
