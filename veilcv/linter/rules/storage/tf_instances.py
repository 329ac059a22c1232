"""``count`` and ``for_each``: one block per instance, addressed and filled in as Terraform plans them.

A resource (or module call) whose ``count`` or ``for_each`` the code determines becomes one block
per instance, labelled ``b[0]`` or ``b["raw"]`` (so its address is ``aws_s3_bucket.b["raw"]``)
with ``count.index``, ``each.key`` and ``each.value`` written into its arguments and nested
blocks: ``bucket = aws_s3_bucket.b[each.key].id`` reads ``aws_s3_bucket.b["raw"].id``, and a
companion with ``for_each = aws_s3_bucket.b`` gets one instance per bucket with ``each.value.id``
naming that bucket. ``for_each`` may also range over another resource whose instances are decided.

A block whose ``count``/``for_each`` the code does not determine stays one block (a template
standing for all its instances), as before; :func:`targets` joins references to it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from veilcv.linter.rules.storage.hcl import Block
from veilcv.linter.rules.storage.tf_expr import Budget, Ref, Scope, Unknown, evaluate, resolve
from veilcv.linter.rules.storage.tf_values import expressions, has_expression

T = TypeVar("T")
Key = str | int
_META = ("count", "for_each")


def instance_label(name: str, key: Key) -> str:
    """``b`` and ``"raw"`` -> ``b["raw"]``; ``b`` and ``0`` -> ``b[0]`` (Terraform's address form)."""
    return f"{name}[{_key_text(key)}]"


#: A block with more instances than this is judged once, as a template: hand-written configurations
#: stay far below it, and a generated ``count = 1000000`` must not make a million buckets.
MAX_INSTANCES = 256


def instance_keys(block: Block, scope: Scope) -> list[tuple[Key, Any]] | None:
    """``(key, each.value)`` per instance, ``[]`` for none; None when ``block`` has neither
    ``count`` nor ``for_each``. :class:`Unknown` when the code does not determine them (or they
    make more than :data:`MAX_INSTANCES`)."""
    keys = _keys(block, scope)
    if keys is not None and len(keys) > MAX_INSTANCES:
        raise Unknown("too many instances")
    return keys


def _keys(block: Block, scope: Scope) -> list[tuple[Key, Any]] | None:
    if "count" in block.attrs:
        count = evaluate(block.attrs["count"], scope)
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_INSTANCES:
            raise Unknown("count")
        return [(i, None) for i in range(count)]
    if "for_each" in block.attrs:
        each = evaluate(block.attrs["for_each"], scope)
        if isinstance(each, dict):
            return sorted(each.items())
        if isinstance(each, list):
            keys: list[str] = []
            for item in each:
                if isinstance(item, (dict, list, Ref)) or item is None:
                    raise Unknown("for_each")  # Terraform wants a map or a set of strings
                text = "true" if item is True else "false" if item is False else str(item)
                if text not in keys:
                    keys.append(text)
            return [(k, k) for k in sorted(keys)]
        raise Unknown("for_each")
    return None


def _fill(block: Block, scope: Scope) -> Block:
    return replace(
        block,
        attrs={k: resolve(v, scope) for k, v in block.attrs.items() if k not in _META},
        blocks={k: [_fill(c, scope) for c in v] for k, v in block.blocks.items()},
    )


def expand(block: Block, keys: list[tuple[Key, Any]] | None, scope: Scope) -> list[Block]:
    """``block`` once per instance (``keys`` from :func:`instance_keys`), or filled in once as a
    template when ``keys`` is None (no ``count``/``for_each``, or undetermined ones)."""
    if keys is None:
        return [_fill_template(block, scope)]
    out = []
    for key, value in keys:
        inner = replace(scope, index=key) if isinstance(key, int) else replace(scope, each=(key, value))
        filled = _fill(block, inner)
        out.append(replace(filled, labels=(*block.labels[:-1], instance_label(block.labels[-1], key))))
    return out


def _block_touched(block: Block, scope: Scope) -> bool:
    for value in block.attrs.values():
        if has_expression(value, scope.touches):
            return True
    return any(_block_touched(c, scope) for nested in block.blocks.values() for c in nested)


def _fill_template(block: Block, scope: Scope) -> Block:
    """Variables and locals written in; ``count``/``for_each`` kept, as joins still read them.
    A block that reads nothing the scope determines (most of them) is returned as it is."""
    if not _block_touched(block, scope):
        return block
    return replace(
        block,
        attrs={k: resolve(v, scope) for k, v in block.attrs.items()},
        blocks={k: [_fill(c, scope) for c in v] for k, v in block.blocks.items()},
    )


def decide(
    blocks: list[Block], values: Mapping[str, Any], budget: Budget | None = None
) -> tuple[list[list[tuple[Key, Any]] | None], Scope]:
    """The instances of each resource block (None: a single block or undetermined), and the scope
    with every decided resource's instances, for blocks whose ``for_each`` ranges over another.
    ``budget``: the module's evaluation steps left (a fresh one when None)."""
    resources: dict[str, Any] = {}
    decided: list[list[tuple[Key, Any]] | None] = [None] * len(blocks)
    pending = [i for i, b in enumerate(blocks) if "count" in b.attrs or "for_each" in b.attrs]
    scope = Scope(values, resources, budget=budget if budget is not None else Budget())
    progress = True
    while pending and progress:
        progress, rest = False, []
        for i in pending:
            b = blocks[i]
            try:
                keys = instance_keys(b, scope)
            except Unknown:
                rest.append(i)
                continue
            progress = True
            decided[i] = keys
            if b.type == "resource" and keys is not None:
                name = ".".join(b.labels)
                refs = {k: Ref(instance_label(name, k)) for k, _ in keys}
                resources[name] = list(refs.values()) if "count" in b.attrs else refs
        pending = rest
    return decided, scope


def _key_text(key: Key) -> str:
    return str(key) if isinstance(key, int) else json.dumps(key, ensure_ascii=False)


@functools.cache
def _reference(rtype: str) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w.])" + re.escape(rtype) + r'\.([A-Za-z_][\w-]*)(?:\[\s*("(?:[^"\\]|\\.)*"|[^\]]*?)\s*\])?'
    )


def targets(table: Mapping[str, T], value: Any, rtype: str) -> list[T]:
    """What the first reference to an ``rtype`` in ``value`` that ``table`` (label -> item) holds
    names: the instance ``b["raw"]`` for ``aws_s3_bucket.b["raw"].id``; the template ``b`` for any
    reference to ``b`` when its instances are undetermined; every instance for a splat, an index the
    code does not determine, or no index."""
    for text in expressions(value):
        for m in _reference(rtype).finditer(text):
            name, index = m.group(1), m.group(2)
            found = _lookup(table, name, index)
            if found:
                return found
    return []


def undetermined(table: Mapping[str, T], value: Any, rtype: str) -> str | None:
    """The reference in ``value`` that names one of the instances ``table`` holds without saying
    which (``aws_s3_bucket.b[each.key]`` in a block whose ``for_each`` is undetermined); None when
    its first reference to ``rtype`` names one instance, a template, or all of them (a splat)."""
    for text in expressions(value):
        for m in _reference(rtype).finditer(text):
            name, index = m.group(1), m.group(2)
            if not _lookup(table, name, index):
                continue
            if name in table or index == "*" or _literal(index) is not None:
                return None
            return m.group(0)
    return None


def vague(table: Mapping[str, T], value: Any, rtype: str, block: Block) -> tuple[list[T], str] | None:
    """The instances a companion may name, and why it is undetermined which (its own ``for_each``
    or ``count``, else the reference), when its reference to ``rtype`` does not say which instance;
    None when it does. Such a companion decides nothing for sure: its settings are unknown on each."""
    reference = undetermined(table, value, rtype)
    if reference is None:
        return None
    why = reference
    for meta in _META:
        expr = block.attrs.get(meta)
        if isinstance(expr, str) and expr.startswith("${") and expr.endswith("}"):
            why = f"{meta} = {expr[2:-1]}"
    return targets(table, value, rtype), why


def _literal(index: str | None) -> Key | None:
    if index is None:
        return None
    if index.isdigit():
        return int(index)
    if index.startswith('"'):
        try:
            key = json.loads(index)
        except ValueError:
            return None
        return key if isinstance(key, str) else None
    return None


def _lookup(table: Mapping[str, T], name: str, index: str | None) -> list[T]:
    key = _literal(index)
    if key is not None:
        label = instance_label(name, key)
        if label in table:
            return [table[label]]
        return [table[name]] if name in table else []  # a template stands for each of its instances
    if name in table:
        return [table[name]]
    return [item for label, item in table.items() if label.startswith(name + "[")]


def labelled(table: Mapping[str, T], value: Any, rtype: str, name: str) -> tuple[str, T | None]:
    """The label and item of the one instance that ``value``'s reference to ``rtype`` names
    (``('x["raw"]', ...)`` for ``data.aws_s3_bucket.x["raw"].id``); else ``name`` and its item."""
    found = targets({label: (label, item) for label, item in table.items()}, value, rtype)
    return found[0] if len(found) == 1 else (name, table.get(name))
