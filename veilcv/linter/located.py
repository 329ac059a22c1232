"""YAML/JSON loading that remembers the line of every value (JSON is read as YAML flow syntax).

``load_located(text)`` returns the data and a map from JSON path (a tuple of keys and indices)
to its 1-based line, so a finding in a plain bucket config or an event schema points at the
exact line. Files YAML cannot read as JSON (tabs, ``\\/`` escapes) fall back to :mod:`json`
with every line mapped to 1.

Shared by the rule families that read structured files (manifests, plain bucket configs, telemetry
samples and schemas), so it lives beside the engine rather than inside one family.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from veilcv.policies.yamlguard import yaml_too_big

Path = tuple[Any, ...]


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


#: Deeper documents are refused: no config, schema or event a person writes nests this far, and
#: the recursive parsers and rules would otherwise die with RecursionError on a hostile file.
MAX_DEPTH = 64
#: Values YAML aliases may add to a document (they can expand a small file exponentially).
MAX_NODES = 1_000_000
TOO_DEEP = f"expected at most {MAX_DEPTH} levels of nesting, got more"


class LocatedError(ValueError):
    """The text is neither valid YAML nor valid JSON; the message carries the line."""


def nesting_depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (iterative: safe on any depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_json(text: str) -> Any:
    """:func:`json.loads` that refuses over-deep documents with a ``ValueError`` (never RecursionError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise LocatedError(TOO_DEEP) from None
    if nesting_depth(value) > MAX_DEPTH:
        raise LocatedError(TOO_DEEP)
    return value


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, (*path, "\x00key"), {})
            out[key] = _convert(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1  # point at the key, not the value
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, (*path, i), lines) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode):
        value = _CONSTRUCTOR.construct_object(node, deep=True)
        _CONSTRUCTOR.constructed_objects.clear()
        return value
    return None


def load_located(text: str, *, json_fallback: bool = False) -> tuple[Any, dict[Path, int]]:
    lines: dict[Path, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise LocatedError(TOO_DEEP) from None
    except yaml.YAMLError as exc:
        if json_fallback:
            try:
                return loads_json(text), {}
            except LocatedError:
                raise
            except ValueError as jexc:
                raise LocatedError(f"line {jexc.lineno}: {jexc.msg}") from None
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LocatedError(f"{where}{problem}") from None
    if node is None:
        return None, {}
    refused = yaml_too_big(node, MAX_NODES)
    if refused is not None:
        raise LocatedError(refused)
    try:
        data = _convert(node, (), lines)
    except RecursionError:
        raise LocatedError(TOO_DEEP) from None
    if nesting_depth(data) > MAX_DEPTH:
        raise LocatedError(TOO_DEEP)
    return data, lines


def line_of(lines: dict[Path, int], path: Path) -> int:
    """Line of ``path``, or of its nearest located ancestor; 1 when nothing is known."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)
