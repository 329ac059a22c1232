"""Terraform files as plain Python data with exact positions, parsed by tree-sitter's HCL grammar.

tree-sitter parses a typical module file in well under a millisecond, gives a line and column for
every node and recovers from syntax errors: :func:`parse` returns the blocks that parsed cleanly
together with every syntax error (line, column, what was found), so one typo is reported where it
is (VC004) while the rest of the file is still judged.

Values become Python data: strings (unescaped), numbers, booleans, ``None``, lists and dicts;
``jsonencode({...})`` becomes the object it encodes; heredocs become their text; any other
expression (references, conditionals, function calls) becomes its source wrapped as ``"${...}"``,
so references read ``"${aws_s3_bucket.frames.id}"``; a string with interpolations keeps them as
written (``"logs-${var.env}"``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import tree_sitter
import tree_sitter_hcl

# `aws_s3_bucket.frames.id`, `aws_s3_bucket.frames[0].bucket`, `aws_s3_bucket.frames["a"].arn`,
# `data.aws_s3_bucket.frames.id`, `module.logs.bucket_id`
_REF = re.compile(r"^\$\{((?:data\.)?[a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([A-Za-z_]\w*)\}$")
_EMBEDDED_REF = re.compile(
    r"\$\{((?:data\.)?[a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([A-Za-z_]\w*)\}"
)
# Inside a larger expression: `"${aws_s3_bucket.a.arn}/*"`, `[aws_s3_bucket.a.arn, ...]`.
_BARE_REF = re.compile(
    r"(?<![\w.])((?:data\.)?[a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([A-Za-z_]\w*)"
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_NOT_REFS = frozenset({"var", "local", "each", "count", "path", "self", "terraform"})

#: Blocks and values (lists, maps) inside each other, all together, deeper than this are VC004
#: ("nested deeper than 64 levels") and their top-level block is not judged. Provider schemas nest
#: blocks five or six deep and hand-written policies a few more, so no real configuration comes
#: near it; every reader of the converted values (the evaluator, the joins, the parse cache) walks
#: them recursively with a few Python frames per level, and 64 keeps them far from Python's
#: recursion limit while a generated file thousands deep no longer crashes the family.
MAX_NESTING = 64


class _TooDeep(Exception):
    def __init__(self, node: tree_sitter.Node) -> None:
        super().__init__(node.start_point)
        self.line, self.column = node.start_point[0] + 1, node.start_point[1] + 1


@dataclass
class Block:
    """One HCL block: ``resource "aws_s3_bucket" "frames" { ... }`` or a nested ``rule { ... }``."""

    type: str
    labels: tuple[str, ...]
    line: int
    attrs: dict[str, Any] = field(default_factory=dict)
    attr_lines: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, list[Block]] = field(default_factory=dict)
    column: int = 1
    end_line: int = 0  # the line of the closing brace

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
        if self.type == "module":
            return "module." + ".".join(self.labels)
        return ".".join(self.labels)


@dataclass(frozen=True)
class SyntaxProblem:
    line: int
    column: int
    message: str
    kind: str = "syntax error"  # what went wrong, as a report's message says it

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class HclSyntaxError(ValueError):
    """Raised by :func:`parse_terraform` for a file with a syntax error."""


def parser_version() -> str:
    """The tree-sitter and grammar versions: what parse results depend on."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"tree-sitter {version('tree-sitter')}/tree-sitter-hcl {version('tree-sitter-hcl')}"
    except PackageNotFoundError:
        return "tree-sitter"


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


def _unescape(raw: str) -> str:
    def one(m: re.Match[str]) -> str:
        whole = m.group(0)
        if whole == "$${":
            return "${"
        if whole == "%%{":
            return "%{"
        code = m.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, "\\" + code)

    return _ESCAPE.sub(one, raw) if ("\\" in raw or "$${" in raw or "%%{" in raw) else raw


_WRAPPERS = frozenset({"expression", "literal_value", "template_expr", "collection_value"})
_PLAIN_STRING_PARTS = frozenset({"quoted_template_start", "quoted_template_end", "template_literal"})


class _Walker:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.depth = 0  # blocks and collections entered (see MAX_NESTING)

    def enter(self, node: tree_sitter.Node) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _TooDeep(node)

    def text(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def wrap(self, node: tree_sitter.Node) -> str:
        return "${" + self.text(node) + "}"

    def value(self, node: tree_sitter.Node) -> Any:
        kind = node.type
        # Single-child wrappers, the most frequent nodes: step down without building child lists.
        while kind in _WRAPPERS and node.child_count == 1:
            node = node.child(0)
            kind = node.type
        if kind == "expression":  # an expression with a suffix: a reference, a call, an operation
            return self.wrap(node)
        if kind in ("string_lit", "quoted_template"):
            raw = self.source[node.start_byte + 1 : node.end_byte - 1]
            if b"${" in raw or b"%{" in raw:
                parts = [c.type for c in node.named_children]
                if any(t not in _PLAIN_STRING_PARTS for t in parts):
                    return raw.decode("utf-8", "replace")  # interpolations kept as written
            return _unescape(raw.decode("utf-8", "replace"))
        if kind == "numeric_lit":
            raw = self.text(node)
            try:
                return int(raw)
            except ValueError:
                return float(raw)
        if kind == "bool_lit":
            return self.text(node) == "true"
        if kind == "null_lit":
            return None
        if kind == "heredoc_template":
            return self.heredoc(node)
        if kind == "tuple":
            self.enter(node)
            items = [self.value(c) for c in node.named_children if c.type == "expression"]
            self.depth -= 1
            return items
        if kind == "object":
            self.enter(node)
            out: dict[str, Any] = {}
            for elem in node.named_children:
                if elem.type != "object_elem":
                    continue
                key_node, value_node = elem.child_by_field_name("key"), elem.child_by_field_name("val")
                if key_node is None or value_node is None:
                    exprs = [c for c in elem.named_children if c.type == "expression"]
                    if len(exprs) != 2:
                        continue
                    key_node, value_node = exprs
                out[self.key(key_node)] = self.value(value_node)
            self.depth -= 1
            return out
        if kind == "function_call":
            kids = node.named_children
            if kids and self.text(kids[0]) == "jsonencode":
                args = next((c for c in kids if c.type == "function_arguments"), None)
                exprs = [c for c in args.named_children if c.type == "expression"] if args else []
                if len(exprs) == 1 and not args.has_error:
                    return self.value(exprs[0])
        return self.wrap(node)

    def key(self, node: tree_sitter.Node) -> str:
        """An object key: ``name = ...`` and ``"aws:SecureTransport" = ...`` give the bare text."""
        inner = node
        while inner.type == "expression" and inner.child_count == 1:
            inner = inner.named_children[0]
        if inner.type == "variable_expr":
            return self.text(inner)
        value = self.value(inner)
        return value if isinstance(value, str) else self.text(node)

    def heredoc(self, node: tree_sitter.Node) -> str:
        raw = self.text(node)
        body = raw.split("\n", 1)[1] if "\n" in raw else ""
        body = body[: body.rfind("\n") + 1] if "\n" in body else ""
        if raw.startswith("<<-"):
            lines = body.splitlines(keepends=True)
            indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
            body = "".join(ln[indent:] for ln in lines)
        return body

    def block(self, node: tree_sitter.Node) -> Block:
        self.enter(node)
        labels: list[str] = []
        body = end = None
        for c in node.named_children:
            kind = c.type
            if kind == "body":
                body = c
            elif kind == "block_end":
                end = c
            elif kind in ("identifier", "string_lit"):
                labels.append(self.label(c))
        out = Block(
            type=labels[0],
            labels=tuple(labels[1:]),
            line=node.start_point[0] + 1,
            column=node.start_point[1] + 1,
            end_line=(end or node).end_point[0] + 1,
        )
        for child in body.named_children if body is not None else ():
            kind = child.type
            if kind == "attribute":
                name = self.text(child.child(0))
                value_node = child.child(2) if child.child_count == 3 else None
                if value_node is None or value_node.type != "expression":
                    value_node = next((c for c in child.named_children if c.type == "expression"), None)
                out.attrs[name] = self.value(value_node) if value_node is not None else None
                out.attr_lines[name] = child.start_point[0] + 1
            elif kind == "block":
                nested = _expand_dynamic(self.block(child))
                if nested is not None:
                    out.blocks.setdefault(nested.type, []).append(nested)
        self.depth -= 1
        return out

    def label(self, node: tree_sitter.Node) -> str:
        if node.type == "identifier":
            return self.text(node)
        value = self.value(node)
        return value if isinstance(value, str) else self.text(node)


def _expand_dynamic(block: Block) -> Block | None:
    """``dynamic "rule" { for_each = ...; content { ... } }`` read as the ``rule`` block it makes.

    Its values may name the iterator (``rule.value.days``) and stay unknown; a literal empty
    ``for_each`` makes no block (None).
    """
    if block.type != "dynamic" or len(block.labels) != 1:
        return block
    each = block.get("for_each")
    if isinstance(each, (list, dict)) and not each:
        return None
    content = block.first("content")
    if content is None:
        return None
    return Block(
        type=block.labels[0],
        labels=(),
        line=block.line,
        attrs=dict(content.attrs),
        attr_lines=dict(content.attr_lines),
        blocks=content.blocks,
        column=block.column,
        end_line=block.end_line,
    )


def _problems(node: tree_sitter.Node, walker: _Walker, out: list[SyntaxProblem]) -> None:
    """Every ERROR and MISSING node under ``node`` (not below an ERROR already reported), in
    document order, without recursion (an error may sit thousands of levels deep).

    An error inside an attribute's value (``acl =`` followed by nothing) is placed at the attribute,
    where the mistake is, rather than where the parser gave up (often the next line's brace).
    """
    todo: list[tuple[tree_sitter.Node, tree_sitter.Node | None]] = [(node, None)]
    while todo:
        node, attr = todo.pop()
        if node.is_missing or node.is_error:
            where = attr if attr is not None and attr.start_point[0] < node.start_point[0] else node
            line, column = where.start_point[0] + 1, where.start_point[1] + 1
            if node.is_missing:
                message = f"expected {node.type!r}, got none"
            else:
                snippet = walker.text(node).strip().splitlines()
                message = f"unexpected {snippet[0][:40]!r}" if snippet else "unexpected end of file"
            if where is attr:
                message = f"attribute {walker.text(attr.named_children[0])!r} has no valid value ({message})"
            out.append(SyntaxProblem(line, column, message))
            continue
        if node.type == "attribute":
            attr = node
        elif node.type in ("block", "body"):
            attr = None
        todo.extend((c, attr) for c in reversed(node.children) if c.has_error or c.is_missing)


# tree-sitter-hcl 1.2 does not accept exponents in numbers (`1e3`, valid HCL). Where a file does not
# parse, such literals after `=`, `,`, `[`, `(`, `:` or `?` are written out (`1000`) and the file is
# parsed again: lines stay where they are; only later columns on that line move.
_EXPONENT = re.compile(r"([=,\[(:?]\s*-?)(\d+(?:\.\d+)?[eE][+-]?\d+)(?![\w.])")


def _spelled_out(m: re.Match[str]) -> str:
    value = float(m.group(2))
    text = str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    return m.group(1) + (text if "e" not in text else m.group(2))


def parse(text: str) -> tuple[list[Block], list[SyntaxProblem]]:
    blocks, problems = _parse(text)
    if problems and _EXPONENT.search(text):
        retry = _EXPONENT.sub(_spelled_out, text)
        if retry != text:
            again, fewer = _parse(retry)
            if len(fewer) < len(problems):
                return again, fewer
    return blocks, problems


def _parse(text: str) -> tuple[list[Block], list[SyntaxProblem]]:
    """Top-level blocks of one ``.tf`` file that parsed without error, and the syntax errors.

    A top-level block holding an error is left out (its values cannot be trusted); the blocks
    around it are kept, so a caller reports the error and judges the rest.
    """
    source = text.encode("utf-8", "surrogatepass")
    tree = _parser().parse(source)
    walker = _Walker(source)
    root = tree.root_node
    problems: list[SyntaxProblem] = []
    if root.has_error:
        _problems(root, walker, problems)
        if not problems:  # tree-sitter flagged an error it did not place: say so at line 1
            problems.append(SyntaxProblem(1, 1, "syntax error"))
    blocks: list[Block] = []
    deep: list[SyntaxProblem] = []
    for body in root.named_children:
        if body.type == "body":
            _clean_blocks(body, walker, blocks, deep, top=True)
    if deep:
        problems = sorted(problems + deep, key=lambda p: (p.line, p.column))
    return blocks, problems


# Blocks that only stand at the top of a file: met inside a broken block, they are what error
# recovery swallowed after the error (an unclosed brace), and are judged as the top-level blocks
# they are.
_TOP_LEVEL = frozenset(
    {"resource", "data", "module", "variable", "locals", "output", "provider", "terraform"}
)


def _clean_blocks(
    body: tree_sitter.Node,
    walker: _Walker,
    out: list[Block],
    deep: list[SyntaxProblem],
    top: bool,
    depth: int = 0,
) -> None:
    """The clean blocks of ``body`` into ``out``; a block nested deeper than :data:`MAX_NESTING`
    is left out and said in ``deep`` (at the line where the limit is passed)."""
    for node in body.named_children:
        if node.type == "block":
            head = node.named_children[0] if node.named_children else None
            is_top = head is not None and walker.text(head) in _TOP_LEVEL
            if not node.has_error and (top or is_top):
                walker.depth = 0
                try:
                    out.append(walker.block(node))
                except _TooDeep as exc:
                    kind = f"nested deeper than {MAX_NESTING} levels (blocks, lists and maps)"
                    problem = SyntaxProblem(exc.line, exc.column, "the block holding it is not judged", kind)
                    deep.append(problem)
            elif node.has_error and depth < MAX_NESTING:  # deeper: its syntax error is reported
                inner = next((c for c in node.named_children if c.type == "body"), None)
                if inner is not None:
                    _clean_blocks(inner, walker, out, deep, top=False, depth=depth + 1)


def parse_terraform(text: str) -> list[Block]:
    """Top-level blocks of one ``.tf`` file; :class:`HclSyntaxError` on the first syntax error."""
    blocks, problems = parse(text)
    if problems:
        raise HclSyntaxError(f"cannot parse Terraform: {problems[0]}")
    return blocks


def reference(value: Any) -> tuple[str, str, str] | None:
    """``"${aws_s3_bucket.frames.id}"`` -> ``("aws_s3_bucket", "frames", "id")``; else None.

    Data sources keep their prefix: ``("data.aws_s3_bucket", "frames", "id")``.
    """
    if not isinstance(value, str):
        return None
    m = _REF.match(value)
    if not m or m.group(1) in _NOT_REFS:
        return None
    return (m.group(1), m.group(2), m.group(3))


def references(value: Any) -> list[tuple[str, str, str]]:
    """Every ``type.name.attr`` reference inside a string or nested structure."""
    if isinstance(value, str):
        if "${" not in value:
            return []
        found = [(m.group(1), m.group(2), m.group(3)) for m in _EMBEDDED_REF.finditer(value)]
        found += [
            (m.group(1), m.group(2), m.group(3))
            for m in _BARE_REF.finditer(value)
            if (m.group(1), m.group(2), m.group(3)) not in found
        ]
        return [r for r in found if r[0] not in _NOT_REFS]
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def is_literal(value: Any) -> bool:
    return isinstance(value, str) and "${" not in value


def json_value(value: Any) -> Any:
    """A policy given as a decoded ``jsonencode`` object, a JSON string or a heredoc; else None
    (also for JSON nested deeper than :data:`MAX_NESTING`, which no policy language allows)."""
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                doc = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: nested thousands deep
                return None
            return None if _deeper_than(doc, MAX_NESTING) else doc
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and maps more than ``limit`` deep (without recursion)."""
    todo = [(value, 0)]
    while todo:
        v, depth = todo.pop()
        if isinstance(v, (dict, list)):
            if depth >= limit:
                return True
            todo.extend((item, depth + 1) for item in (v.values() if isinstance(v, dict) else v))
    return False


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
