"""SPDX expressions and the policy's verdict on a manifest record's licence, in one place.

A licence's categories say what it permits or demands: ``commercial_use`` (commercial use is
permitted), ``attribution``, ``share_alike``, ``non_commercial``, ``no_derivatives``,
``proprietary``. A licence missing from the table has unknown categories: when the policy denies
any category such a licence is refused (fail closed) unless the policy allows it by ID.

:func:`record_problems` is the verdict on one manifest record: `veil check` turns each problem
into a finding of the manifest rules, and `veil ingest` refuses a file whose record has any, so
the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Protocol

from license_expression import ExpressionError, Licensing, get_spdx_licensing

_PERMISSIVE = frozenset({"commercial_use", "attribution"})
_COPYLEFT = frozenset({"commercial_use", "attribution", "share_alike"})


def _table() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for pd in ("CC0-1.0", "PDDL-1.0", "Unlicense", "0BSD", "CC-PDDC"):
        table[pd] = frozenset({"commercial_use"})
    cc = {
        "BY": _PERMISSIVE,
        "BY-SA": _COPYLEFT,
        "BY-ND": _PERMISSIVE | {"no_derivatives"},
        "BY-NC": frozenset({"attribution", "non_commercial"}),
        "BY-NC-SA": frozenset({"attribution", "non_commercial", "share_alike"}),
        "BY-NC-ND": frozenset({"attribution", "non_commercial", "no_derivatives"}),
    }
    for kind, cats in cc.items():
        for version in ("1.0", "2.0", "2.5", "3.0", "4.0"):
            table[f"CC-{kind}-{version}"] = cats
    for lic in ("MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "Zlib", "BSL-1.0", "PSF-2.0"):
        table[lic] = _PERMISSIVE
    for lic in ("CDLA-Permissive-1.0", "CDLA-Permissive-2.0", "ODC-By-1.0", "OGL-UK-3.0", "Python-2.0"):
        table[lic] = _PERMISSIVE
    copyleft = ("GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "AGPL-3.0-only")
    copyleft += (
        "AGPL-3.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
    )
    copyleft += ("MPL-2.0", "EPL-2.0", "CDLA-Sharing-1.0", "ODbL-1.0")
    for lic in copyleft:
        table[lic] = _COPYLEFT
    return table


CATEGORIES_BY_LICENCE: dict[str, frozenset[str]] = _table()


@cache
def licensing() -> Licensing:
    return get_spdx_licensing()


@dataclass(frozen=True)
class Parsed:
    normalized: str
    tree: Any  # license_expression's expression tree


@lru_cache(maxsize=4096)  # manifests repeat a handful of expressions thousands of times
def parse(expression: str) -> tuple[Parsed | None, str]:
    """(parsed, "") for a valid SPDX expression, else (None, why it is invalid)."""
    lic = licensing()
    try:
        tree = lic.parse(expression)
    except (ExpressionError, Exception) as exc:  # the library raises assorted types on bad input
        return None, str(exc) or type(exc).__name__
    if tree is None:
        return None, "empty expression"
    unknown = [
        s.key
        for s in lic.license_symbols(tree, decompose=True)
        if s.key not in lic.known_symbols and not s.key.startswith(("LicenseRef-", "DocumentRef-"))
    ]
    if unknown:
        return None, f"unknown SPDX licence ID {', '.join(sorted(set(unknown)))}"
    return Parsed(str(tree), tree), ""


def symbols(parsed: Parsed) -> list[str]:
    """Every licence ID in the expression (exceptions left out)."""
    return [s.key for s in licensing().license_symbols(parsed.tree, decompose=False)]


def categories(licence: str) -> frozenset[str] | None:
    if licence.startswith(("LicenseRef-", "DocumentRef-")):
        return None
    return CATEGORIES_BY_LICENCE.get(licence)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # why it is not allowed ("" when it is)


def judge(parsed: Parsed, allowed: list[str], denied: list[str], denied_categories: list[str]) -> Verdict:
    """Whether the policy allows ``parsed``: OR needs one acceptable choice, AND needs all parts."""
    if parsed.normalized in allowed:
        return Verdict(True, "")
    allowed_ids = {key for expr in allowed for key in _ids(expr)}
    denied_ids = {key for expr in denied for key in _ids(expr)}
    reasons: list[str] = []

    def leaf(key: str) -> bool:
        if key in denied_ids:
            reasons.append(f"{key} is denied by the policy")
            return False
        if allowed_ids and key not in allowed_ids:
            reasons.append(f"{key} is not in licences.allowed")
            return False
        cats = categories(key)
        if cats is None and denied_categories and key not in allowed_ids:
            reasons.append(f"{key} has unknown terms and the policy denies categories")
            return False
        bad = sorted((cats or frozenset()) & set(denied_categories))
        if bad:
            reasons.append(f"{key} is {', '.join(bad)}")
            return False
        return True

    ok = _evaluate(parsed.tree, leaf)
    return Verdict(ok, "" if ok else "; ".join(dict.fromkeys(reasons)))


def needs_attribution(parsed: Parsed) -> bool:
    """True when every way of complying with the expression requires attribution."""
    return _evaluate(
        parsed.tree, lambda key: "attribution" in (categories(key) or frozenset()), any_for_and=True
    )


def _ids(expression: str) -> list[str]:
    parsed, _ = parse(expression)
    return symbols(parsed) if parsed is not None else [expression]


def _evaluate(node: Any, leaf: Any, any_for_and: bool = False) -> bool:
    lic = licensing()
    if isinstance(node, lic.AND):
        results = [_evaluate(a, leaf, any_for_and) for a in node.args]
        return any(results) if any_for_and else all(results)
    if isinstance(node, lic.OR):
        results = [_evaluate(a, leaf, any_for_and) for a in node.args]
        return all(results) if any_for_and else any(results)
    key = getattr(node, "license_symbol", node).key  # `X WITH exception` is judged as X
    return bool(leaf(key))


#: What a problem of a record is about; the manifest rules map each kind to a rule.
PROBLEM_KINDS = (
    "missing_field",
    "missing_licence",
    "invalid_spdx",
    "disallowed",
    "attribution",
    "missing_source",
    "missing_retention",
)
#: Required fields that have a problem kind of their own (reported as that kind, not as missing).
_OWN_FIELDS = frozenset({"filename", "source", "license", "retention_days"})


class LicensedRecord(Protocol):
    """The fields of a manifest record the verdict reads."""

    @property
    def filename(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def license(self) -> str: ...
    @property
    def attribution(self) -> str: ...
    @property
    def attribution_needed(self) -> bool | None: ...
    @property
    def retention_days(self) -> int | None: ...
    @property
    def fields(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class RecordProblem:
    kind: str  # one of PROBLEM_KINDS
    message: str  # starts with the record's file name


def record_problems(record: LicensedRecord, policy: Mapping[str, Any]) -> list[RecordProblem]:
    """Every reason the policy refuses this record, in the order `veil check` reports them.

    ``policy`` is an effective policy (every key set: :func:`veilcv.policies.with_defaults`).
    """
    conf = policy["licences"]
    name = record.filename or "<no filename>"
    out: list[RecordProblem] = []
    for missing in [f for f in conf["required_fields"] if f not in _OWN_FIELDS]:
        if missing not in record.fields:
            out.append(RecordProblem("missing_field", f"{name}: missing required field {missing}"))
    if not record.filename:
        return [*out, RecordProblem("missing_field", "record has no filename")]
    parsed = None
    if not record.license:
        msg = f"{name}: no licence; expected an SPDX expression such as CC-BY-4.0"
        out.append(RecordProblem("missing_licence", msg))
    else:
        parsed, why = parse(record.license)
        if parsed is None:
            msg = f"{name}: {record.license!r} is not a valid SPDX expression ({why})"
            out.append(RecordProblem("invalid_spdx", msg))
        else:
            verdict = judge(parsed, conf["allowed"], conf["denied"], conf["denied_categories"])
            if not verdict.allowed:
                msg = f"{name}: licence {parsed.normalized} is not allowed: {verdict.reason}"
                out.append(RecordProblem("disallowed", msg))
    needed = record.attribution_needed
    if needed is None and parsed is not None:
        needed = needs_attribution(parsed)
    if needed and not record.attribution:
        out.append(RecordProblem("attribution", f"{name}: attribution is required but the record gives none"))
    if not record.source:
        out.append(RecordProblem("missing_source", f"{name}: no source; say where the file came from"))
    required = policy["retention"]["require_record_retention"] or "retention_days" in conf["required_fields"]
    if record.retention_days is None and required:
        out.append(RecordProblem("missing_retention", f"{name}: no retention_days"))
    return out
