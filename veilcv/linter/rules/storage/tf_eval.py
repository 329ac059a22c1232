"""The evaluator of Terraform expression trees (tree-sitter's HCL grammar) over a :class:`Scope`.

Each node kind has a handler; a node that reads something the scope does not determine (a variable
without value, a resource attribute, an unknown function) raises :class:`Unknown`. :mod:`tf_expr`
parses expressions and writes what stays unknown back as source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import tree_sitter

from veilcv.linter.rules.storage.tf_functions import (
    FUNCTIONS,
    MAX_STRING,
    Name,
    Ref,
    Unknown,
    binary,
    boolean,
    bounded,
    check,
    to_string,
    weigh,
)


class Budget:
    """Evaluation steps left to one module instance, shared by every scope made from its first:
    a module of thousands of expressions, each within :data:`_MAX_STEPS`, still ends. Once spent,
    whatever is left to evaluate is undetermined."""

    def __init__(self, steps: int | None = None) -> None:
        self.left = _MAX_MODULE_STEPS if steps is None else steps

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            raise Unknown("the module's evaluation budget is spent")


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
    budget: Budget = field(default_factory=Budget, compare=False)  # shared by replace()

    def touches(self, text: str) -> bool:
        """Whether ``text`` may read something this scope determines (a cheap test before parsing)."""
        return (
            (self.each is not None and "each." in text)
            or (self.index is not None and "count." in text)
            or (bool(self.values) and ("var." in text or "local." in text))
            or any(name in text for name in self.resources)
        )


class Evaluator:
    """Evaluates one parsed expression's nodes against a :class:`Scope`."""

    def __init__(self, src: bytes, scope: Scope) -> None:
        self.src, self.scope = src, scope
        self.steps = 0

    def text(self, node: tree_sitter.Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def value(self, node: tree_sitter.Node) -> Any:
        while node.type in WRAPPERS and node.child_count == 1:
            node = node.children[0]
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise Unknown("too much work")  # nested for expressions over long ranges
        self.scope.budget.spend()
        kind = node.type
        handler = HANDLERS.get(kind)
        if handler is None:
            raise Unknown(kind)
        return handler(self, node)

    def charge(self, *values: Any) -> None:
        """Steps for the work an operation does over ``values`` (a function's arguments and result,
        an operator's operands): one node is one step, a comparison of two long lists is many."""
        for value in values:
            work = weigh(value, max(0, min(_MAX_STEPS - self.steps, self.scope.budget.left)))
            self.steps += work
            self.scope.budget.spend(work)  # spent once past it, as step by step
            if self.steps > _MAX_STEPS:
                raise Unknown("too much work")

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
            return bounded(int(raw))
        except ValueError:  # a fraction, an exponent, or more digits than int() reads
            return bounded(float(raw))

    def template(self, node: tree_sitter.Node) -> str:
        parts: list[str] = []
        length = 0  # measured as it grows: thousands of long interpolations would build megabytes
        for child in node.named_children:
            kind = child.type
            if kind == "template_literal":
                parts.append(_unescape(self.text(child)))
            elif kind == "template_interpolation":
                parts.append(to_string(self.value(child.named_children[1])))
            elif kind not in ("quoted_template_start", "quoted_template_end"):
                raise Unknown(kind)  # template directives (%{ if }...)
            else:
                continue
            length += len(parts[-1])
            if length > MAX_STRING:
                raise Unknown("string too long")
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
        self.charge(*args)  # checks them too
        try:
            result = bounded(fn(*args))
        except _FUNCTION_ERRORS as exc:  # arguments of the wrong type or size: an error in Terraform
            raise Unknown(name) from exc
        self.charge(result)
        return result

    def conditional(self, node: tree_sitter.Node) -> Any:
        exprs = [c for c in node.children if c.type not in ("?", ":")]
        if len(exprs) != 3:
            raise Unknown("conditional")
        cond = boolean(self.value(exprs[0]))
        return self.value(exprs[1] if cond else exprs[2])

    def binary(self, node: tree_sitter.Node) -> Any:
        kids = node.children
        at = next((i for i, c in enumerate(kids) if i > 0 and c.type in BINARY), None)
        if at is None:
            raise Unknown("operator")
        left, right = self.chain(kids[:at]), self.chain(kids[at + 1 :])
        self.charge(left, right)  # `==` compares long lists element by element
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
        self.charge(source)  # checks it too
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
        return bounded(tuple_out if node.type == "for_tuple_expr" else object_out)


WRAPPERS = frozenset(
    {"expression", "literal_value", "collection_value", "template_expr", "operation", "for_expr"}
)
_MAX_STEPS = 200_000
#: Steps of all expressions of one module instance together (a few seconds at most).
_MAX_MODULE_STEPS = 2_000_000
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
BINARY = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%"})
HANDLERS: dict[str, Callable[[Evaluator, tree_sitter.Node], Any]] = {
    "expression": Evaluator.expression,
    "variable_expr": Evaluator.variable,
    "numeric_lit": Evaluator.number,
    "bool_lit": lambda e, n: e.text(n) == "true",
    "null_lit": lambda e, n: None,
    "string_lit": Evaluator.template,
    "quoted_template": Evaluator.template,
    "tuple": Evaluator.tuple,
    "object": Evaluator.object,
    "function_call": Evaluator.call,
    "conditional": Evaluator.conditional,
    "binary_operation": Evaluator.binary,
    "unary_operation": Evaluator.unary,
    "for_tuple_expr": Evaluator.for_expr,
    "for_object_expr": Evaluator.for_expr,
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
        index = json.dumps(key, ensure_ascii=False) if isinstance(key, str) else to_string(key)
        return Ref(f"{current.text}[{index}]")
    if isinstance(current, list) and not isinstance(key, bool):
        i = int(key) if isinstance(key, (int, float)) or str(key).isdigit() else None
        if i is not None and 0 <= i < len(current):
            return current[i]
    if isinstance(current, dict) and to_string(key) in current:
        return current[to_string(key)]
    raise Unknown("index")
