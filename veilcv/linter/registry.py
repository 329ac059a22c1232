"""The one list of rule families, by explicit import: `veil rules`, the docs, the hooks and the
engine all read it, and tests fail when any of them drifts from it."""

from __future__ import annotations

from functools import cache

from veilcv.linter import suppress, unparseable
from veilcv.linter.context import Family
from veilcv.linter.finding import RuleMeta
from veilcv.linter.rules import cross, manifest, repo, storage, telemetry

FAMILIES: tuple[Family, ...] = (manifest, storage, telemetry, repo, cross)  # type: ignore[assignment]

# Rules the engine itself reports (suppression problems, files families could not parse).
META_RULES: tuple[RuleMeta, ...] = (*suppress.RULES, *unparseable.RULES)


@cache
def all_rules() -> tuple[RuleMeta, ...]:
    """Every rule, sorted by ID; raises at import-time use when two rules share an ID or a name."""
    rules = [*META_RULES, *(r for family in FAMILIES for r in family.RULES)]
    ids = [r.id for r in rules]
    names = [r.name for r in rules]
    for label, values in (("ID", ids), ("name", names)):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise RuntimeError(f"rule {label}s used twice: {', '.join(dupes)}")
    return tuple(sorted(rules, key=lambda r: r.id))


def rule(rule_id: str) -> RuleMeta:
    for r in all_rules():
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def targets() -> tuple[str, ...]:
    """Rule targets in registry order (``manifest``, ``storage``...), for ``--only`` and the hooks."""
    return tuple(dict.fromkeys(r.target for r in all_rules() if r.target != "meta"))
