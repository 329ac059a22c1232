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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tree_sitter
import tree_sitter_hcl

from veilcv.linter.rules.storage.tf_eval import BINARY, HANDLERS, WRAPPERS, Budget, Evaluator, Scope
from veilcv.linter.rules.storage.tf_functions import (
    MAX_STRING,
    Name,
    Ref,
    Unknown,
    bounded,
    check,
    to_string,
)

__all__ = ["Budget", "Ref", "Scope", "Unknown", "evaluate", "interpolations", "resolve"]


@dataclass(frozen=True)
class _Residual:
    text: str  # the expression's source with what is determined written in


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


def _hcl(value: Any) -> str:
    """A determined value written as HCL source, to splice into an expression that stays unknown;
    :class:`Unknown` when that source would pass :data:`MAX_STRING` (measured before it is built:
    a list of a million elements would make megabytes of text only to be thrown away)."""
    if _written_length(value, MAX_STRING) > MAX_STRING:
        raise Unknown("string too long")
    return _write(value)


def _written_length(value: Any, limit: int) -> int:
    """About how long ``value`` is as HCL source (at least that long), counted up to just past ``limit``."""
    length = 0
    stack = [value]
    while stack and length <= limit:
        v = stack.pop()
        if isinstance(v, (Ref, _Residual)):
            length += len(v.text)
        elif isinstance(v, str):
            length += len(v) + 2
        elif isinstance(v, list):
            length += 2 + 2 * len(v)
            stack.extend(v)
        elif isinstance(v, dict):
            length += 2 + sum(len(str(k)) + 7 for k in v)
            stack.extend(v.values())
        else:
            length += 1
    return length


def _write(value: Any) -> str:
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
        return "[" + ", ".join(_write(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_write(v)}" for k, v in value.items())
            + "}"
        )
    raise Unknown(type(value).__name__)


def _render(e: Evaluator, node: tree_sitter.Node) -> str:
    """``node``'s source with every determined sub-expression written in as its value."""
    if node.type in HANDLERS or node.type in WRAPPERS:
        try:
            text = _hcl(e.value(node))
            if len(text) <= MAX_STRING:  # else the parts are written in, or kept as written
                return text
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
        at = next((i for i, c in enumerate(kids) if c.type in BINARY or c.type == "!"), None)
        if at is not None:
            return _splice(e, node, [(kids[:at]), [kids[at]], kids[at + 1 :]])
    return _splice(e, node, [[c] for c in kids])


def _splice(e: Evaluator, node: tree_sitter.Node, groups: list[list[tree_sitter.Node]]) -> str:
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
    e = Evaluator(src, scope)
    try:
        value = e.value(node)
        check(value)
        return bounded(value)
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
    pos = length = 0
    for start, end in spans:
        parts.append(value[pos:start])
        length += len(parts[-1])
        found = _expression(value[start + 2 : end - 1], scope, partial)
        if isinstance(found, (Ref, _Residual, list, dict)) or found is None:
            if not partial:
                raise Unknown("template")
            parts.append("${" + found.text + "}" if isinstance(found, (Ref, _Residual)) else value[start:end])
        else:
            parts.append(to_string(found))
        length += len(parts[-1])
        if length > MAX_STRING:  # undetermined: kept as written (measured as it grows, not once built)
            if not partial:
                raise Unknown("string too long")
            return value
        pos = end
    parts.append(value[pos:])
    if length + len(parts[-1]) > MAX_STRING:
        if not partial:
            raise Unknown("string too long")
        return value
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
