"""Walking the values the HCL reader returns (strings, numbers, booleans, None, lists and maps): an
expression the code does not determine stays a string holding ``${...}``, however deep it sits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Arguments of a ``module`` block that are Terraform's own, not inputs of the module.
MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


def expressions(value: Any) -> Iterator[str]:
    """Each string in ``value``, lists and maps included, that holds an expression (``${...}``)."""
    if isinstance(value, str):
        if "${" in value:
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from expressions(v)


def has_expression(value: Any) -> bool:
    """Whether ``value`` holds an expression anywhere (so the code does not determine all of it)."""
    if isinstance(value, str):  # most values: no generator for them
        return "${" in value
    return next(expressions(value), None) is not None
