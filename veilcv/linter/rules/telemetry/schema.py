"""Event JSON Schemas checked against the telemetry policy: what may an event that validates carry?

Every object schema (the root, nested ``properties``/``items``, ``$defs``, ``allOf``/``anyOf``/
``oneOf`` branches) must close itself with ``additionalProperties: false`` (or
``unevaluatedProperties: false``). The root's properties are the event's fields: each must be
allowed, typed as the policy says, and unable to carry forbidden content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from veilcv.linter.finding import Finding, RuleMeta
from veilcv.linter.located import line_of
from veilcv.linter.rules.telemetry import rules as R
from veilcv.telemetry.classify import classify_key, is_aggregate

_JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}
_FORMAT_KINDS = {"email": "identifier", "idn-email": "identifier", "ipv4": "identifier", "ipv6": "identifier"}
_SAFE_FORMATS = {"date-time", "date", "time", "duration", "uuid"}
_BRANCHES = ("allOf", "anyOf", "oneOf")


def _types(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return {x for x in t if isinstance(x, str)}
    return set()


def _objects(schema: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    if "properties" in schema or "object" in _types(schema):
        yield path, schema
    for key in ("properties", "$defs", "definitions", "patternProperties"):
        for name, sub in (schema.get(key) or {}).items() if isinstance(schema.get(key), dict) else []:
            yield from _objects(sub, (*path, key, name))
    for key in ("items", "additionalProperties", "not", "if", "then", "else"):
        if isinstance(schema.get(key), dict):
            yield from _objects(schema[key], (*path, key))
    for key in _BRANCHES:
        for i, sub in enumerate(schema.get(key) or []):
            yield from _objects(sub, (*path, key, i))


def _closed(schema: dict[str, Any]) -> bool:
    return schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False


def _finding(rule: RuleMeta, file: str, line: int, message: str, pointer: str) -> Finding:
    return Finding(rule_id=rule.id, message=message, file=file, line=line, extra={"json_path": pointer})


def _pointer(path: tuple[Any, ...]) -> str:
    return "#" + "".join(f"/{p}" for p in path) if path else "#"


def _constrained(prop: dict[str, Any]) -> bool:
    if "enum" in prop or "const" in prop or "pattern" in prop or prop.get("format") in _SAFE_FORMATS:
        return True
    max_len = prop.get("maxLength")
    return isinstance(max_len, int) and max_len <= 64


def check_schema(
    rel: str,
    schema: dict[str, Any],
    lines: dict[Any, int],
    allowed: dict[str, str],
    forbidden: set[str],
    min_count: int,
) -> Iterator[Finding]:
    for path, obj in _objects(schema, ()):
        if not _closed(obj):
            yield _finding(
                R.OPEN_SCHEMA,
                rel,
                line_of(lines, path),
                f"object schema {_pointer(path)} does not set additionalProperties: false",
                _pointer(path),
            )
    props = schema.get("properties")
    if not isinstance(props, dict):
        return
    for name, prop in props.items():
        path = ("properties", name)
        line = line_of(lines, path)
        ptr = _pointer(path)
        prop = prop if isinstance(prop, dict) else {}
        types = _types(prop) - {"null"}
        if allowed and name not in allowed:
            yield _finding(
                R.FIELD_NOT_ALLOWED,
                rel,
                line,
                f"schema declares field {name}, not in telemetry.allowed_fields",
                ptr,
            )
        elif name in allowed and types and not _type_fits(allowed[name], types):
            yield _finding(
                R.FIELD_WRONG_TYPE,
                rel,
                line,
                f"schema types field {name} as {'/'.join(sorted(types))}; the policy says {allowed[name]}",
                ptr,
            )
        kinds = [k for k in classify_key(name) if k in forbidden]
        media = str(prop.get("contentMediaType", "")).lower()
        if prop.get("contentEncoding") or media:
            encoded = "image_bytes" if media.startswith(("image/", "video/")) else "base64"
            if encoded in forbidden:
                kinds.append(encoded)
        fmt_kind = _FORMAT_KINDS.get(str(prop.get("format", "")))
        if fmt_kind and fmt_kind in forbidden:
            kinds.append(fmt_kind)
        if kinds:
            yield _finding(
                R.SCHEMA_PERMITS_FORBIDDEN,
                rel,
                line,
                f"schema field {name} can carry {', '.join(sorted(set(kinds))).replace('_', ' ')}",
                ptr,
            )
        elif "string" in types and not _constrained(prop) and forbidden & {"free_text", "path", "base64"}:
            yield _finding(
                R.SCHEMA_PERMITS_FORBIDDEN,
                rel,
                line,
                f"schema field {name} is an unconstrained string"
                " (no enum, pattern, format or maxLength <= 64)",
                ptr,
            )
        if is_aggregate(name) and types & {"integer", "number"}:
            minimum = prop.get("minimum", prop.get("exclusiveMinimum"))
            if not isinstance(minimum, (int, float)) or minimum < min_count:
                yield _finding(
                    R.SMALL_AGGREGATE,
                    rel,
                    line,
                    f"schema field {name} admits counts below the minimum aggregation count {min_count}"
                    f" (set minimum: {min_count})",
                    ptr,
                )


def _type_fits(expected: str, types: set[str]) -> bool:
    if expected == "number":
        return types <= {"number", "integer"}
    return types == {expected}
