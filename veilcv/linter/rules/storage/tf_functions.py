"""The operators and built-in functions of Terraform expressions, over determined values.

:mod:`tf_expr` evaluates an expression's tree with these; anything they cannot compute (a value of
the wrong type, an unknown function) raises :class:`Unknown`, which makes the whole expression
undetermined rather than wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from veilcv.linter.rules.storage.hcl import MAX_NESTING  # lists and maps inside each other


class Unknown(Exception):
    """The code does not determine this value."""


@dataclass(frozen=True)
class Ref:
    """A resource instance or one of its attributes, known only once applied: kept as its address
    (``aws_s3_bucket.b["raw"].id``) so joins can follow it."""

    text: str


@dataclass(frozen=True)
class Name:
    """The first name of a reference (``var``, ``each``, ``aws_s3_bucket``...), not a value itself."""

    name: str


def check(value: Any) -> None:
    """A value an operation can use: not a bare name (``var``), at any depth."""
    if isinstance(value, Name):
        raise Unknown(value.name)
    if isinstance(value, list):
        for v in value:
            check(v)
    elif isinstance(value, dict):
        for v in value.values():
            check(v)


#: Limits on what one expression may produce. Terraform has none, but a hand-written configuration
#: stays far below them, while a few generated or hostile lines exceed any memory (40 locals each
#: doubling a string) or run for ever (40 locals squaring a number: big integers). A value beyond
#: them is undetermined (:class:`Unknown`), so the settings it feeds are judged as unknown.
MAX_STRING = 64 << 10  # characters in one string
MAX_NUMBER = 2**63  # magnitude of a number (a 64-bit integer's range; also NaN and infinities)
MAX_SIZE = 1 << 20  # characters and elements of one value, all together


def weigh(value: Any, limit: int) -> int:
    """The work an operation over ``value`` may do: its strings, numbers and elements counted (a
    string by its length), checked as :func:`check` does. Stops once past ``limit``, before walking
    the rest (the weight returned is then over ``limit``). Without recursion."""
    weight = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Name):
            raise Unknown(v.name)
        if isinstance(v, str):
            weight += 1 + len(v) // 64
        elif isinstance(v, list):
            weight += 1
            stack.extend(v)
        elif isinstance(v, dict):
            weight += 1
            stack.extend(v.values())
        else:
            weight += 1
        if weight > limit:
            break
    return weight


def bounded(value: Any) -> Any:
    """``value`` itself when it stays within the limits above; :class:`Unknown` otherwise.
    Walks without recursion, and stops as soon as a limit is passed."""
    size = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, str):
            if len(v) > MAX_STRING:
                raise Unknown("string too long")
            size += len(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            if not abs(v) <= MAX_NUMBER:
                raise Unknown("number too large")
            size += 1
        elif isinstance(v, (list, dict)):
            if depth >= MAX_NESTING:
                raise Unknown("nested too deep")
            size += len(v)
            if isinstance(v, dict):
                size += sum(len(k) for k in v if isinstance(k, str))
                stack.extend((item, depth + 1) for item in v.values())
            else:
                stack.extend((item, depth + 1) for item in v)
        else:
            size += 1
        if size > MAX_SIZE:
            raise Unknown("value too large")
    return value


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise Unknown("condition")


def number(value: Any) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return bounded(float(value) if "." in value else int(value))
        except ValueError:
            pass
    raise Unknown("number")


def binary(op: str, left: Any, right: Any) -> Any:
    check(left)
    check(right)
    if isinstance(left, Ref) or isinstance(right, Ref):
        raise Unknown("reference")
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("&&", "||"):
        a, b = boolean(left), boolean(right)
        return (a and b) if op == "&&" else (a or b)
    a, b = number(left), number(right)
    if op in ("<", ">", "<=", ">="):
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    if op in ("/", "%") and b == 0:
        raise Unknown("division by zero")
    result = {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "/": lambda: a / b,
        "%": lambda: a % b,
    }
    out = bounded(result[op]())
    return int(out) if isinstance(out, float) and out.is_integer() and op != "/" else out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def to_string(value: Any) -> str:
    check(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Unknown("not a string")


def _set(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise Unknown("toset")
    if all(isinstance(i, (str, int, float, bool)) for i in items):
        strings = {to_string(i) for i in items}  # a set of mixed scalars is a set of strings
        return sorted(strings)
    # Deduplicated on a canonical form, in linear time (comparing each with those kept is quadratic).
    seen: set[str] = set()
    out: list[Any] = []
    for i in items:
        key = json.dumps(i, sort_keys=True, default=_canonical)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def _canonical(value: Any) -> Any:
    if isinstance(value, Ref):
        return ["\0ref", value.text]  # a reference is not equal to any string
    raise Unknown(type(value).__name__)


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise Unknown("merge")
        out.update(m)
    return out


def _flatten(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise Unknown("flatten")
    out: list[Any] = []
    for i in items:
        out.extend(_flatten(i) if isinstance(i, list) else [i])
    return out


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if isinstance(m, dict) and to_string(key) in m:
        return m[to_string(key)]
    if default:
        return default[0]
    raise Unknown("lookup")


#: More elements than a hand-written configuration makes (Terraform's own range() limit is 1024).
MAX_ELEMENTS = 1024


def _range(*bounds: Any) -> list[int]:
    steps = range(*(int(number(x)) for x in bounds))
    if len(steps) > MAX_ELEMENTS:
        raise Unknown("range")
    return list(steps)


def _join(sep: str, parts: list[str]) -> str:
    # Measured before joining: a long separator between many parts would build megabytes first.
    if len(sep) * max(0, len(parts) - 1) + sum(len(p) for p in parts) > MAX_STRING:
        raise Unknown("string too long")
    return sep.join(parts)


def _concat(*lists: Any) -> list[Any]:
    # Measured before building: hundreds of long lists would make millions of elements first.
    if not all(isinstance(lst, list) for lst in lists):
        raise Unknown("concat")
    if sum(len(lst) for lst in lists) > MAX_SIZE:
        raise Unknown("value too large")
    return [i for lst in lists for i in lst]


def _sized(value: Any) -> int:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise Unknown("length")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toset": _set,
    "distinct": _set,
    "tolist": lambda v: list(v) if isinstance(v, list) else _fail("tolist"),
    "tomap": lambda v: dict(v) if isinstance(v, dict) else _fail("tomap"),
    "length": _sized,
    "keys": lambda m: sorted(m) if isinstance(m, dict) else _fail("keys"),
    "values": lambda m: [m[k] for k in sorted(m)] if isinstance(m, dict) else _fail("values"),
    "concat": _concat,
    "merge": _merge,
    "flatten": _flatten,
    "range": _range,
    "lower": lambda s: to_string(s).lower(),
    "upper": lambda s: to_string(s).upper(),
    "tostring": to_string,
    "tonumber": number,
    "tobool": boolean,
    "lookup": _lookup,
    "contains": lambda lst, v: isinstance(lst, list) and v in lst,
    "coalesce": lambda *a: next(x for x in a if x not in (None, "")),
    "compact": lambda lst: [x for x in lst if x not in (None, "")],
    "zipmap": lambda ks, vs: dict(zip((to_string(k) for k in ks), vs, strict=True)),
    "element": lambda lst, i: lst[int(number(i)) % len(lst)],
    "join": lambda sep, lst: _join(to_string(sep), [to_string(x) for x in lst]),
    "split": lambda sep, s: to_string(s).split(to_string(sep)),
}


def _fail(name: str) -> Any:
    raise Unknown(name)
