"""Walking the values the HCL reader returns (strings, numbers, booleans, None, lists and maps): an
expression the code does not determine stays a string holding ``${...}``, however deep it sits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def has_expression(value: Any, test: Callable[[str], bool] | None = None) -> bool:
    """Whether ``value`` holds an expression anywhere (so the code does not determine all of it);
    with ``test``, one for which ``test(text)`` holds. Plain loops, no generators: every argument
    of every block passes through here."""
    if isinstance(value, str):
        return "${" in value and (test is None or test(value))
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    for item in value:
        if has_expression(item, test):
            return True
    return False
