"""Terraform expressions evaluated where the code determines them, and rewritten where it does not.

Terraform decides ``count``, ``for_each`` and most settings at plan time from literals, variables,
locals and a handful of functions. :func:`evaluate` computes such a value (``toset(["raw",
"redacted"])``, ``{ for b in var.buckets : b.name => b }``, ``var.versioning ? 1 : 0``) and raises
:class:`Unknown` when the code does not determine it (a variable without value, a resource
attribute known only once applied). :func:`resolve` evaluates what it can inside a value and keeps
the rest as written, so ``aws_s3_bucket.b[each.key].id`` becomes ``aws_s3_bucket.b["raw"].id``
for the instance ``"raw"`` while the bucket's id stays a reference.

Values follow :mod:`hcl`'s conventions: literals are Python data, an expression is its source
wrapped as ``"${...}"``, a string with interpolations keeps them as written.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import tree_sitter
import tree_sitter_hcl

from veilcv.linter.rules.storage.tf_functions import (
    FUNCTIONS,
    Name,
    Ref,
    Unknown,
    binary,
    boolean,
    check,
    to_string,
)

__all__ = ["Ref", "Scope", "Unknown", "evaluate", "interpolations", "resolve"]


@dataclass(frozen=True)
class _Residual:
    text: str  # the expression's source with what is determined written in


@dataclass(frozen=True)
class Scope:
    """What an expression may read: ``var.x``/``local.y`` values, the instances of resources whose
    ``count``/``for_each`` is decided (``"aws_s3_bucket.b"`` -> ``{key: Ref}`` or ``[Ref]``), and
    ``each``/``count.index`` inside an instance."""

    values: Mapping[str, Any]
    resources: Mapping[str, Any] = field(default_factory=dict)
    each: tuple[Any, Any] | None = None
    index: int | None = None
    names: Mapping[str, Any] = field(default_factory=dict)  # for-expression variables

    def touches(self, text: str) -> bool:
        """Whether ``text`` may read something this scope determines (a cheap test before parsing)."""
        return (
            (self.each is not None and "each." in text)
            or (self.index is not None and "count." in text)
            or (bool(self.values) and ("var." in text or "local." in text))
            or any(name in text for name in self.resources)
        )


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


@functools.lru_cache(maxsize=8192)
def _tree(text: str) -> tuple[tree_sitter.Tree, bytes] | None:
    src = b"x = " + text.encode("utf-8", "surrogatepass") + b"\n"
    tree = _parser().parse(src)
    root = tree.root_node
    if root.has_error:
        return None
    body = root.named_children[0] if root.named_children else None
    if body is None or len(body.named_children) != 1 or body.named_children[0].type != "attribute":
        return None
    return tree, src


class _Eval:
    def __init__(self, src: bytes, scope: Scope) -> None:
        self.src, self.scope = src, scope
        self.steps = 0

    def text(self, node: tree_sitter.Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def value(self, node: tree_sitter.Node) -> Any:
        while node.type in _WRAPPERS and node.child_count == 1:
            node = node.children[0]
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise Unknown("too much work")  # nested for expressions over long ranges
        kind = node.type
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise Unknown(kind)
        return handler(self, node)

    # --- node kinds ---------------------------------------------------------------------------
    def expression(self, node: tree_sitter.Node) -> Any:
        kids = node.children
        if kids and kids[0].type == "(":
            return self.value(kids[1])
        return self.chain(kids)

    def chain(self, nodes: list[tree_sitter.Node]) -> Any:
        """A primary followed by suffixes: ``var.m["k"].name``, ``aws_s3_bucket.b[*].arn``."""
        if not nodes:
            raise Unknown("empty")
        current = self.value(nodes[0])
        for suffix in nodes[1:]:
            current = self.suffix(current, suffix)
        return current

    def suffix(self, current: Any, node: tree_sitter.Node) -> Any:
        kind = node.type
        if kind == "get_attr":
            return _attr(current, self.text(node.named_children[-1]), self.scope)
        if kind == "index":
            inner = node.named_children[0]
            if inner.type == "legacy_index":
                return _index(current, int(self.text(inner).lstrip(".")))
            return _index(current, self.value(inner.named_children[0]))
        if kind == "splat":
            splat = node.named_children[0]
            items = current if isinstance(current, list) else ([] if current is None else [current])
            if isinstance(current, (dict, Name, Ref)):
                raise Unknown("splat")
            out = []
            for item in items:
                for step in splat.named_children:
                    item = self.suffix(item, step)
                out.append(item)
            return out
        raise Unknown(kind)

    def variable(self, node: tree_sitter.Node) -> Any:
        name = self.text(node)
        if name in self.scope.names:
            return self.scope.names[name]
        return Name(name)

    def number(self, node: tree_sitter.Node) -> Any:
        raw = self.text(node)
        try:
            return int(raw)
        except ValueError:
            return float(raw)

    def template(self, node: tree_sitter.Node) -> str:
        parts: list[str] = []
        for child in node.named_children:
            kind = child.type
            if kind == "template_literal":
                parts.append(_unescape(self.text(child)))
            elif kind == "template_interpolation":
                parts.append(to_string(self.value(child.named_children[1])))
            elif kind not in ("quoted_template_start", "quoted_template_end"):
                raise Unknown(kind)  # template directives (%{ if }...)
        return "".join(parts)

    def tuple(self, node: tree_sitter.Node) -> list[Any]:
        if any(c.type == "ellipsis" for c in node.children):
            raise Unknown("ellipsis")
        return [self.value(c) for c in node.named_children if c.type == "expression"]

    def object(self, node: tree_sitter.Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.named_children if c.type == "expression"]
            if len(exprs) != 2:
                raise Unknown("object element")
            out[self.key(exprs[0])] = self.value(exprs[1])
        return out

    def key(self, node: tree_sitter.Node) -> str:
        inner = node
        while inner.type == "expression" and inner.child_count == 1:
            inner = inner.children[0]
        if inner.type == "variable_expr":
            return self.text(inner)  # a bare key: `name = ...`
        return to_string(self.value(node))

    def call(self, node: tree_sitter.Node) -> Any:
        name = self.text(node.named_children[0])
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise Unknown(name)
        args_node = next((c for c in node.named_children if c.type == "function_arguments"), None)
        args: list[Any] = []
        if args_node is not None:
            if any(c.type == "ellipsis" for c in args_node.children):
                raise Unknown("ellipsis")
            args = [self.value(c) for c in args_node.named_children if c.type == "expression"]
        for a in args:
            check(a)
        try:
            return fn(*args)
        except _FUNCTION_ERRORS as exc:  # arguments of the wrong type or size: an error in Terraform
            raise Unknown(name) from exc

    def conditional(self, node: tree_sitter.Node) -> Any:
        exprs = [c for c in node.children if c.type not in ("?", ":")]
        if len(exprs) != 3:
            raise Unknown("conditional")
        cond = boolean(self.value(exprs[0]))
        return self.value(exprs[1] if cond else exprs[2])

    def binary(self, node: tree_sitter.Node) -> Any:
        kids = node.children
        at = next((i for i, c in enumerate(kids) if i > 0 and c.type in _BINARY), None)
        if at is None:
            raise Unknown("operator")
        left, right = self.chain(kids[:at]), self.chain(kids[at + 1 :])
        return binary(kids[at].type, left, right)

    def unary(self, node: tree_sitter.Node) -> Any:
        kids = node.children
        operand = self.chain(kids[1:])
        if kids[0].type == "!":
            return not boolean(operand)
        if kids[0].type == "-" and isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand
        raise Unknown("unary")

    def for_expr(self, node: tree_sitter.Node) -> Any:
        intro = next(c for c in node.named_children if c.type == "for_intro")
        names = [self.text(c) for c in intro.named_children if c.type == "identifier"]
        source = self.value(next(c for c in intro.named_children if c.type == "expression"))
        check(source)
        body = [c for c in node.named_children if c.type == "expression"]
        cond = next((c for c in node.named_children if c.type == "for_cond"), None)
        grouped = any(c.type == "ellipsis" for c in node.children)
        if not isinstance(source, (dict, list)):
            raise Unknown("for")
        pairs = sorted(source.items()) if isinstance(source, dict) else list(enumerate(source))
        tuple_out: list[Any] = []
        object_out: dict[str, Any] = {}
        outer = self.scope
        try:
            for k, v in pairs:
                bound = {names[0]: k, names[1]: v} if len(names) == 2 else {names[0]: v}
                self.scope = replace(outer, names={**outer.names, **bound})
                if cond is not None and not boolean(self.value(cond.named_children[-1])):
                    continue
                if node.type == "for_tuple_expr":
                    tuple_out.append(self.value(body[0]))
                    continue
                key = to_string(self.value(body[0]))
                item = self.value(body[1])
                if grouped:
                    object_out.setdefault(key, []).append(item)
                elif key in object_out:
                    raise Unknown("duplicate key")  # an error in Terraform
                else:
                    object_out[key] = item
        finally:
            self.scope = outer
        return tuple_out if node.type == "for_tuple_expr" else object_out


_WRAPPERS = frozenset(
    {"expression", "literal_value", "collection_value", "template_expr", "operation", "for_expr"}
)
_MAX_STEPS = 200_000
_FUNCTION_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    StopIteration,
    OverflowError,
    ZeroDivisionError,
)
_BINARY = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%"})
_HANDLERS: dict[str, Callable[[_Eval, tree_sitter.Node], Any]] = {
    "expression": _Eval.expression,
    "variable_expr": _Eval.variable,
    "numeric_lit": _Eval.number,
    "bool_lit": lambda e, n: e.text(n) == "true",
    "null_lit": lambda e, n: None,
    "string_lit": _Eval.template,
    "quoted_template": _Eval.template,
    "tuple": _Eval.tuple,
    "object": _Eval.object,
    "function_call": _Eval.call,
    "conditional": _Eval.conditional,
    "binary_operation": _Eval.binary,
    "unary_operation": _Eval.unary,
    "for_tuple_expr": _Eval.for_expr,
    "for_object_expr": _Eval.for_expr,
}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    raw = raw.replace("$${", "${").replace("%%{", "%{")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), raw) if "\\" in raw else raw


def _attr(current: Any, name: str, scope: Scope) -> Any:
    if isinstance(current, Name):
        root = current.name
        if root in ("var", "local"):
            key = f"{root}.{name}"
            if key in scope.values:
                return scope.values[key]
            raise Unknown(key)
        if root == "each":
            if scope.each is None or name not in ("key", "value"):
                raise Unknown("each")
            return scope.each[0] if name == "key" else scope.each[1]
        if root == "count":
            if scope.index is None or name != "index":
                raise Unknown("count")
            return scope.index
        if root == "data":
            return Name(f"data.{name}")
        if root in ("module", "path", "terraform", "self") or root.startswith("data."):
            raise Unknown(root)
        key = f"{root}.{name}"
        if key in scope.resources:
            return scope.resources[key]
        raise Unknown(key)
    if isinstance(current, Ref):
        return Ref(f"{current.text}.{name}")
    if isinstance(current, dict) and name in current:
        return current[name]
    raise Unknown(name)


def _index(current: Any, key: Any) -> Any:
    check(key)
    if isinstance(key, (Ref, dict, list)) or key is None:
        raise Unknown("index")
    if isinstance(current, Ref):
        return Ref(f"{current.text}[{_hcl(key)}]")
    if isinstance(current, list) and not isinstance(key, bool):
        i = int(key) if isinstance(key, (int, float)) or str(key).isdigit() else None
        if i is not None and 0 <= i < len(current):
            return current[i]
    if isinstance(current, dict) and to_string(key) in current:
        return current[to_string(key)]
    raise Unknown("index")


def _hcl(value: Any) -> str:
    """A determined value written as HCL source, to splice into an expression that stays unknown."""
    if isinstance(value, Ref):
        return value.text
    if isinstance(value, _Residual):
        return value.text
    if isinstance(value, Name):
        raise Unknown(value.name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return to_string(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_hcl(v)}" for k, v in value.items())
            + "}"
        )
    raise Unknown(type(value).__name__)


def _render(e: _Eval, node: tree_sitter.Node) -> str:
    """``node``'s source with every determined sub-expression written in as its value."""
    if node.type in _HANDLERS or node.type in _WRAPPERS:
        try:
            return _hcl(e.value(node))
        except Unknown:
            pass
    if node.type == "template_interpolation":
        try:
            return to_string(e.value(node.named_children[1])).replace("${", "$${")
        except Unknown:
            pass
    if node.child_count == 0:
        return e.text(node)
    kids = node.children
    if node.type in ("binary_operation", "unary_operation"):
        # The grammar leaves an operand's parts side by side (`each`, `.key`): render each operand whole.
        at = next((i for i, c in enumerate(kids) if c.type in _BINARY or c.type == "!"), None)
        if at is not None:
            return _splice(e, node, [(kids[:at]), [kids[at]], kids[at + 1 :]])
    return _splice(e, node, [[c] for c in kids])


def _splice(e: _Eval, node: tree_sitter.Node, groups: list[list[tree_sitter.Node]]) -> str:
    out: list[str] = []
    pos = node.start_byte
    for group in groups:
        if not group:
            continue
        out.append(e.src[pos : group[0].start_byte].decode("utf-8", "replace"))
        rendered = None
        if len(group) > 1:
            try:
                rendered = _hcl(e.chain(group))
            except Unknown:
                pass
        if rendered is None:
            parts = [_render(e, group[0])]
            for before, child in zip(group, group[1:], strict=False):
                parts.append(e.src[before.end_byte : child.start_byte].decode("utf-8", "replace"))
                parts.append(_render(e, child))
            rendered = "".join(parts)
        out.append(rendered)
        pos = group[-1].end_byte
    out.append(e.src[pos : node.end_byte].decode("utf-8", "replace"))
    return "".join(out)


def _expression(text: str, scope: Scope, partial: bool) -> Any:
    parsed = _tree(text)
    if parsed is None:
        raise Unknown("syntax")
    tree, src = parsed
    node = tree.root_node.named_children[0].named_children[0].named_children[-1]
    e = _Eval(src, scope)
    try:
        value = e.value(node)
        check(value)
        return value
    except Unknown:
        if not partial:
            raise
    except RecursionError as exc:  # an expression nested thousands deep: left as written
        if not partial:
            raise Unknown("too deep") from exc
        return _Residual(text)
    try:
        return _Residual(_render(e, node).strip())
    except RecursionError:
        return _Residual(text)


def interpolations(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each ``${...}`` in a template (``$${`` is an escape), braces balanced."""
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return
        if start > 0 and text[start - 1] == "$":
            i = start + 2
            continue
        depth, j, quoted = 0, start + 1, False
        while j < len(text):
            ch = text[j]
            if quoted:
                if ch == "\\":
                    j += 1
                elif ch == '"':
                    quoted = False
            elif ch == '"':
                quoted = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(text):
            return
        yield start, j + 1
        i = j + 1


def _python(value: Any) -> Any:
    """An evaluated value in :mod:`hcl`'s conventions: references and residues as ``"${...}"``."""
    if isinstance(value, (Ref, _Residual)):
        return "${" + value.text + "}"
    if isinstance(value, list):
        return [_python(v) for v in value]
    if isinstance(value, dict):
        return {k: _python(v) for k, v in value.items()}
    return value


def _string(value: str, scope: Scope, partial: bool) -> Any:
    spans = list(interpolations(value))
    if not spans:
        return value
    if spans[0] == (0, len(value)):
        return _expression(value[2:-1], scope, partial)
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(value[pos:start])
        found = _expression(value[start + 2 : end - 1], scope, partial)
        if isinstance(found, (Ref, _Residual, list, dict)) or found is None:
            if not partial:
                raise Unknown("template")
            parts.append("${" + found.text + "}" if isinstance(found, (Ref, _Residual)) else value[start:end])
        else:
            parts.append(to_string(found))
        pos = end
    parts.append(value[pos:])
    return "".join(parts)


def evaluate(value: Any, scope: Scope) -> Any:
    """The value the code determines, with resource instances as :class:`Ref`; :class:`Unknown`
    when any part of it is not determined."""
    if isinstance(value, str):
        return _string(value, scope, partial=False) if "${" in value else value
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items()}
    return value


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every determined expression replaced by its value and the rest kept as written
    (with what is determined inside it written in)."""
    if isinstance(value, str):
        return (
            _python(_string(value, scope, partial=True)) if "${" in value and scope.touches(value) else value
        )
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    return value
