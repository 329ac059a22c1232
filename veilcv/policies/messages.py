"""Schema errors as one-line messages in the "expected X, got Y; use Z" form, and JSON paths."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported only when a policy is validated (see the loader)
    from jsonschema.exceptions import ValidationError as SchemaViolation

JsonPath = tuple[str | int, ...]

_PATTERN_WORDS = {
    "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$": "a storage prefix ending in '/' such as 'raw/'",
    "^VC[0-9]{3}$": "a rule ID such as 'VC101'",
    "^[a-z][a-z0-9_]*$": "a lower_snake_case name",
    "^\\d{4}-\\d{2}-\\d{2}$": "a date YYYY-MM-DD",
    "^\\.[a-z0-9]+$": "a lower-case file extension such as '.jpg'",
    "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$": "an e-mail address such as 'privacy@example.org'",
}


def message(error: SchemaViolation) -> str:
    kind, inst, want = error.validator, error.instance, error.validator_value
    if kind in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        return message(best_match(error.context))
    if kind == "type":
        return f"expected {article(want)}, got {type_name(inst)} {short(inst)}"
    if kind == "enum":
        return f"expected one of {', '.join(map(str, want))}, got {short(inst)}"
    if kind == "const":
        return f"expected {want!r}, got {short(inst)}"
    if kind == "required":
        missing = [k for k in want if k not in inst]
        return f"missing required key {missing[0]!r}" if missing else error.message
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        hint = did_you_mean(str(extra[0]), allowed) or f"; expected one of {', '.join(allowed)}"
        return f"unknown key {extra[0]!r}{hint}"
    if kind == "pattern":
        return f"expected {_PATTERN_WORDS.get(want, 'a string matching ' + want)}, got {short(inst)}"
    if kind == "propertyNames" and error.context:
        from jsonschema.exceptions import best_match

        return f"invalid key {short(error.instance)}: {message(best_match(error.context))}"
    if kind in ("minimum", "maximum"):
        op = ">=" if kind == "minimum" else "<="
        return f"expected a number {op} {want}, got {short(inst)}"
    if kind == "minItems":
        return f"expected at least {want} item{'s' if want != 1 else ''}, got {len(inst)}"
    if kind == "minLength":
        return f"expected at least {want} character{'s' if want != 1 else ''}, got {short(inst)}"
    if kind == "minProperties":
        return f"expected at least {want} setting, got none"
    if kind == "uniqueItems":
        dupes = sorted({str(v) for v in inst if inst.count(v) > 1})
        return f"expected unique items, got {', '.join(dupes)} more than once"
    if kind == "format" and want == "date":
        return f"expected a date YYYY-MM-DD, got {short(inst)}"
    return error.message


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def json_path(path: JsonPath) -> str:
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def type_name(value: Any) -> str:
    return {
        dict: "mapping",
        list: "list",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
    }.get(type(value), "null" if value is None else type(value).__name__)


def article(want: str | list[str]) -> str:
    names = [want] if isinstance(want, str) else want
    words = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer"}
    words |= {"number": "a number", "boolean": "a boolean (true or false)", "null": "null"}
    return " or ".join(words.get(n, n) for n in names)


def short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
