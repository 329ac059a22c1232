"""Terraform's JSON configuration syntax (``main.tf.json``) read into the same :class:`Block` values
as the HCL reader gives, with the line of every key.

The top-level object's keys are block types: ``resource`` and ``data`` (type, then name, then the
body), ``module``, ``variable``, ``output`` and ``provider`` (name, then the body), ``locals``
(its arguments) and ``terraform``. Where a block takes labels, an array of objects declares several
blocks, and a body may be an array of bodies. Inside a resource or data source, a property is a
nested block where the provider's schema (:data:`tf_shapes.RESOURCES`) has a block of that name
(an object, or an array of objects, each one block); anything else is an argument.
``"dynamic": {"rule": {"for_each": ..., "content": {...}}}`` is read as HCL's ``dynamic`` block.
Keys named ``"//"`` in a body are comments. A string is a template: ``"${...}"`` alone is read as
the HCL reader reads that expression (``"${jsonencode({...})}"`` is the object it encodes), a
string with interpolations keeps them as written, ``$${`` is a literal ``${``.

Python's ``json`` module gives no positions, so a small scanner walks the text once (tokens by
regular expression, nesting by an explicit depth) and records the line of each key; a block's line
is the line of its innermost label's key (its name). Invalid JSON is a :class:`hcl.SyntaxProblem`
at its line, and the file gives no blocks (JSON has no recovery).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from veilcv.linter.rules.storage.hcl import MAX_NESTING, Block, SyntaxProblem, _expand_dynamic, parse
from veilcv.linter.rules.storage.tf_expr import interpolations
from veilcv.linter.unparseable import internal_error

#: Labels each top-level block type takes; other types (``moved``, ``import``, ``check``...) hold
#: nothing the storage rules read.
_LABELS = {
    "resource": 2,
    "data": 2,
    "module": 1,
    "variable": 1,
    "output": 1,
    "provider": 1,
    "locals": 0,
    "terraform": 0,
}
_COMMENT = "//"
_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
#: The objects around a resource's body (the file, ``resource``, its type) add three levels to the
#: nesting the HCL reader counts.
_MAX_JSON_NESTING = MAX_NESTING + 3


class _Invalid(Exception):
    def __init__(self, pos: int, message: str, kind: str = "invalid JSON") -> None:
        super().__init__(message)
        self.pos, self.message, self.kind = pos, message, kind


@dataclass
class _Object:
    """A JSON object as written: its members in order (duplicates kept), with each key's line."""

    members: list[tuple[str, int, Any]]
    line: int
    end_line: int


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.newlines, pos - 1) + 1 if pos else 1

    def column(self, pos: int) -> int:
        before = bisect.bisect_right(self.newlines, pos - 1)
        return pos - (self.newlines[before - 1] + 1 if before else 0) + 1

    def skip(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def document(self) -> Any:
        value, pos = self.value(self.skip(0), 0)
        pos = self.skip(pos)
        if pos != len(self.text):
            raise _Invalid(pos, "unexpected text after the JSON value")
        return value

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        text = self.text
        if pos >= len(text):
            raise _Invalid(pos, "unexpected end of file")
        c = text[pos]
        if c in "{[":
            if depth >= _MAX_JSON_NESTING:
                kind = f"nested deeper than {MAX_NESTING} levels (blocks, lists and maps)"
                raise _Invalid(pos, "the value opened here", kind)
            return (self.object if c == "{" else self.array)(pos, depth + 1)
        if c == '"':
            return self.string(pos)
        m = _SCALAR.match(text, pos)
        if m is None:
            raise _Invalid(pos, f"unexpected {text[pos : pos + 20].splitlines()[0]!r}")
        token = m.group(0)
        try:
            return json.loads(token), m.end()
        except ValueError:  # more digits than int() reads
            return float(token), m.end()

    def string(self, pos: int) -> tuple[str, int]:
        m = _STRING.match(self.text, pos)
        if m is None:
            raise _Invalid(pos, "invalid string (unterminated, a control character or a bad escape)")
        return json.loads(m.group(0)), m.end()

    def object(self, pos: int, depth: int) -> tuple[_Object, int]:
        out = _Object([], self.line(pos), 0)
        pos = self.skip(pos + 1)
        if self.text.startswith("}", pos):
            out.end_line = self.line(pos)
            return out, pos + 1
        while True:
            if not self.text.startswith('"', pos):
                raise _Invalid(pos, "expected a quoted key")
            key_line = self.line(pos)
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise _Invalid(pos, "expected ':' after the key")
            value, pos = self.value(self.skip(pos + 1), depth)
            out.members.append((key, key_line, value))
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if self.text.startswith("}", pos):
                out.end_line = self.line(pos)
                return out, pos + 1
            raise _Invalid(pos, "expected ',' or '}'")

    def array(self, pos: int, depth: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        pos = self.skip(pos + 1)
        if self.text.startswith("]", pos):
            return out, pos + 1
        while True:
            value, pos = self.value(pos, depth)
            out.append(value)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if self.text.startswith("]", pos):
                return out, pos + 1
            raise _Invalid(pos, "expected ',' or ']'")


def parse_json(text: str) -> tuple[list[Block], list[SyntaxProblem]]:
    """Top-level blocks of one ``.tf.json`` file, or none and the problem where it is invalid."""
    scanner = _Scanner(text)
    try:
        doc = scanner.document()
    except _Invalid as exc:
        where = scanner.line(exc.pos), scanner.column(exc.pos)
        return [], [SyntaxProblem(*where, exc.message, exc.kind)]
    if not isinstance(doc, _Object):
        return [], [SyntaxProblem(1, 1, "expected a JSON object at the top of the file", "invalid JSON")]
    blocks: list[Block] = []
    for kind, line, value in doc.members:
        labels = _LABELS.get(kind)
        if labels is None:
            continue
        for names, where, body in _labelled(value, labels, (), line):
            if kind == "locals":
                blocks.append(_arguments(Block("locals", (), where, end_line=body.end_line), body))
            else:
                shape = _shape(kind, names)
                blocks.append(_body(kind, names, where, body, shape))
    return blocks, []


def _objects(value: Any) -> Iterator[_Object]:
    """A block's body: one object, or an array of objects (several blocks of that name)."""
    if isinstance(value, _Object):
        yield value
    elif isinstance(value, list):
        yield from (v for v in value if isinstance(v, _Object))


def _labelled(
    value: Any, count: int, labels: tuple[str, ...], line: int
) -> Iterator[tuple[tuple[str, ...], int, _Object]]:
    """``(labels, line of the last label's key, body)`` for each block under a block-type key."""
    for obj in _objects(value):
        if count == 0:
            yield labels, line, obj
            continue
        for key, key_line, inner in obj.members:
            if key != _COMMENT:
                yield from _labelled(inner, count - 1, (*labels, key), key_line)


def _shape(kind: str, labels: tuple[str, ...]) -> Mapping[str, Any] | None:
    if kind not in ("resource", "data") or not labels:
        return None
    from veilcv.linter.rules.storage.tf_shapes import RESOURCES

    return RESOURCES.get(labels[0])


def _body(
    kind: str, labels: tuple[str, ...], line: int, obj: _Object, shape: Mapping[str, Any] | None
) -> Block:
    block = Block(kind, labels, line, end_line=obj.end_line)
    for key, key_line, value in obj.members:
        if key == _COMMENT:
            continue
        if key == "dynamic" and shape is not None:
            for (name,), where, body in _labelled(value, 1, (), key_line):
                made = _dynamic(name, where, body, shape.get(name))
                if made is not None:
                    block.blocks.setdefault(made.type, []).append(made)
            continue
        sub = shape.get(key) if shape is not None else None
        bodies = list(_objects(value))
        if isinstance(sub, Mapping) and len(bodies) == (1 if isinstance(value, _Object) else len(value)):
            if bodies:  # an empty array declares no block
                block.blocks.setdefault(key, []).extend(_body(key, (), key_line, b, sub) for b in bodies)
        else:
            block.attrs[key] = _value(value)
            block.attr_lines[key] = key_line
    return block


def _dynamic(name: str, line: int, obj: _Object, shape: Any) -> Block | None:
    """``"dynamic": {"rule": {"for_each": ..., "content": {...}}}`` as the blocks it makes."""
    made = Block("dynamic", (name,), line, end_line=obj.end_line)
    for key, key_line, value in obj.members:
        if key == "content":
            inner = shape if isinstance(shape, Mapping) else {}
            made.blocks["content"] = [_body("content", (), key_line, b, inner) for b in _objects(value)]
        elif key != _COMMENT:
            made.attrs[key] = _value(value)
            made.attr_lines[key] = key_line
    return _expand_dynamic(made)


def _arguments(block: Block, obj: _Object) -> Block:
    for key, key_line, value in obj.members:
        if key != _COMMENT:
            block.attrs[key] = _value(value)
            block.attr_lines[key] = key_line
    return block


def _value(value: Any) -> Any:
    if isinstance(value, _Object):
        return {k: _value(v) for k, _line, v in value.members}
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, str):
        return _template(value)
    return value


def _template(text: str) -> Any:
    """A JSON string as the HCL reader would give the same template written in HCL."""
    if "${" not in text and "%{" not in text:
        return text
    spans = list(interpolations(text))
    if spans == [(0, len(text))]:
        # One expression: read it as the HCL reader reads `x = <expression>`.
        blocks, problems = parse(f"json {{\n  x = {text[2:-1]}\n}}\n")
        if not problems and blocks and "x" in blocks[0].attrs:
            return blocks[0].attrs["x"]
        return text
    if spans or re.search(r"(?<!%)%\{", text):
        return text  # interpolations and directives kept as written, as the HCL reader keeps them
    return text.replace("$${", "${").replace("%%{", "%{")


TERRAFORM_SUFFIXES = (".tf", ".tf.json")  # configuration
VARIABLE_SUFFIXES = (".tfvars", ".tfvars.json")  # variable values
JSON_SUFFIXES = (".tf.json", ".tfvars.json")  # either, in Terraform's JSON syntax


def is_terraform(name: str) -> bool:
    """Whether ``name`` is a Terraform configuration file, in native or JSON syntax."""
    return name.endswith(TERRAFORM_SUFFIXES)


def is_json_syntax(name: str) -> bool:
    """Whether ``name`` is Terraform's JSON syntax (configuration or variables), never a plain
    bucket config."""
    return name.endswith(JSON_SUFFIXES)


def parse_file(
    name: str, text: str, parse_hcl: Callable[[str], tuple[list[Block], list[SyntaxProblem]]]
) -> tuple[list[Block], str | None]:
    """The blocks of one configuration file (``.tf`` by ``parse_hcl``, the parse cache;
    ``.tf.json`` as JSON) and, when it has problems, the VC004 reason naming the first (its line
    and column, which the finding is placed at)."""
    is_json = is_json_syntax(name)
    try:
        blocks, problems = parse_json(text) if is_json else parse_hcl(text)
    except Exception as exc:  # a reader's bug must name the file and fail closed
        return [], internal_error("read Terraform", exc)
    if not problems:
        return blocks, None
    first = problems[0]
    count = f" ({len(problems) - 1} more syntax errors)" if len(problems) > 1 else ""
    after = "the file is not checked" if is_json else "the blocks around it are still checked"
    what = "Terraform JSON" if is_json else "Terraform"
    return blocks, (
        f"cannot parse {what}: {first.kind} at line {first.line}, column {first.column}:"
        f" {first.message}{count}; {after}"
    )
