"""Suppressions: inline ``# veil:ignore VC201 reason="..." until=YYYY-MM-DD`` and policy entries.

An inline comment covers findings of the named rules on its own line and on the line after it
(so it can sit above a Terraform resource or a manifest row). A suppression without a reason,
with a malformed date, naming an unknown rule, or past its ``until`` date covers nothing and is
itself a finding (VC0xx), so silencing a problem always leaves a trace that someone must renew.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pathspec

from veilcv.linter.finding import Finding, RuleMeta, Severity

EXPIRED = RuleMeta(
    id="VC001",
    name="expired-suppression",
    category="logging",  # the fixed vocabulary has no "suppression"; an exception is an audit record
    severity=Severity.MEDIUM,
    summary="Reports an inline or policy suppression whose `until` date has passed.",
    rationale="A suppression is a promise that a known problem will be fixed by a date. Once the date has "
    "passed the promise is broken, and silently continuing to hide the finding turns a temporary exception "
    "into a permanent, unreviewed one. The expired suppression stops hiding anything and is reported itself.",
    fix="Fix the underlying finding and delete the suppression, or renew it with a new `until` date and a "
    "reason a reviewer can accept.",
    target="meta",
)
NO_REASON = RuleMeta(
    id="VC002",
    name="suppression-without-reason",
    category="logging",  # the fixed vocabulary has no "suppression"; an exception is an audit record
    severity=Severity.MEDIUM,
    summary='Reports a `veil:ignore` comment that has no `reason="..."`.',
    rationale="A suppression without a reason cannot be reviewed: nobody can tell later whether the hidden "
    "finding was a false positive, an accepted risk or a shortcut. veil therefore refuses to honour it and "
    "keeps the original finding visible.",
    fix='Add `reason="why this is acceptable"` (and usually `until=YYYY-MM-DD`) to the comment.',
    target="meta",
)
MALFORMED = RuleMeta(
    id="VC003",
    name="malformed-suppression",
    category="logging",  # the fixed vocabulary has no "suppression"; an exception is an audit record
    severity=Severity.MEDIUM,
    summary="Reports a `veil:ignore` comment with an unknown rule ID or an invalid `until` date.",
    rationale="A suppression naming a rule that does not exist, or carrying a date that is not a real "
    "calendar date, hides nothing and misleads reviewers into thinking a problem was handled.",
    fix="Use an ID listed by `veil rules` and a date written as YYYY-MM-DD.",
    target="meta",
)
RULES: tuple[RuleMeta, ...] = (EXPIRED, NO_REASON, MALFORMED)

# Files in which inline comments are looked for (plus any file that has a finding).
COMMENT_SUFFIXES = (".tf", ".tfvars", ".hcl", ".yaml", ".yml", ".csv", ".toml", ".py", ".sh", ".cfg", ".ini")
_INLINE = re.compile(r"(?:#|//)\s*veil:ignore\b(?P<body>.*)$")
_RULE_LIST = re.compile(r"\s*(?P<rules>VC\d{3}(?:\s*,\s*VC\d{3})*)")
_REASON = re.compile(r"""reason\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""")
_UNTIL = re.compile(r"until\s*=\s*(?P<date>\S+)")


@dataclass(frozen=True)
class Suppression:
    rules: frozenset[str]
    file: str  # where it is written (a source file, or the policy file)
    line: int
    reason: str
    until: dt.date | None
    kind: str  # "inSource" (a comment) or "external" (a policy entry), as SARIF names them
    applies_to: str | None = None  # policy entries: gitignore-style pattern of files it covers
    resource: str | None = None

    def covers(self, finding: Finding) -> bool:
        if finding.rule_id not in self.rules:
            return False
        if self.resource is not None and finding.resource != self.resource:
            return False
        if self.kind == "inSource":
            return finding.file == self.file and finding.line in (self.line, self.line + 1)
        return _spec(self.applies_to or "").match_file(finding.file)


def parse_inline(
    file: str, text: str, known: set[str], today: dt.date
) -> tuple[list[Suppression], list[Finding]]:
    """Every valid, current suppression comment in ``text``, and findings for the bad ones."""
    active: list[Suppression] = []
    problems: list[Finding] = []
    if "veil:ignore" not in text:
        return active, problems
    for lineno, line in enumerate(text.splitlines(), start=1):
        match = _INLINE.search(line)
        if match is None:
            continue
        column = match.start() + 1
        body = match.group("body")
        rules_match = _RULE_LIST.match(body)
        if rules_match is None:
            problems.append(
                _meta(MALFORMED, file, lineno, column, "expected a rule ID after veil:ignore, got none")
            )
            continue
        rules = frozenset(r.strip() for r in rules_match.group("rules").split(","))
        unknown = sorted(rules - known)
        if unknown:
            msg = f"expected rule IDs listed by `veil rules`, got unknown {', '.join(unknown)}"
            problems.append(_meta(MALFORMED, file, lineno, column, msg))
            continue
        rest = body[rules_match.end() :]
        reason_match = _REASON.search(rest)
        reason = (reason_match.group("dq") or reason_match.group("sq") or "").strip() if reason_match else ""
        if not reason:
            msg = f'suppression of {", ".join(sorted(rules))} has no reason; add reason="..."'
            problems.append(_meta(NO_REASON, file, lineno, column, msg))
            continue
        until, problem = _until(rest, file, lineno, column, rules, today)
        if problem is not None:
            problems.append(problem)
            continue
        active.append(Suppression(rules, file, lineno, reason, until, "inSource"))
    return active, problems


def from_policy(
    entries: Iterable[dict[str, str]], sources: list[tuple[str, int]], today: dt.date
) -> tuple[list[Suppression], list[Finding]]:
    """Policy ``suppressions:`` entries (already schema-checked); ``sources`` gives each entry's file/line."""
    active: list[Suppression] = []
    problems: list[Finding] = []
    for entry, (file, line) in zip(entries, sources, strict=True):
        until = dt.date.fromisoformat(entry["until"]) if entry.get("until") else None
        rule = entry["rule"]
        if until is not None and until < today:
            msg = f"suppression of {rule} for {entry['path']} expired on {until.isoformat()}; fix or renew it"
            problems.append(_meta(EXPIRED, file, line, 1, msg))
            continue
        active.append(
            Suppression(
                frozenset([rule]),
                file,
                line,
                entry["reason"],
                until,
                "external",
                applies_to=entry["path"],
                resource=entry.get("resource"),
            )
        )
    return active, problems


def _until(
    rest: str, file: str, line: int, column: int, rules: frozenset[str], today: dt.date
) -> tuple[dt.date | None, Finding | None]:
    match = _UNTIL.search(rest)
    if match is None:
        return None, None
    raw = match.group("date").strip("\"'")
    try:
        until = dt.date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
    except ValueError:
        until = None
    if until is None:
        return None, _meta(MALFORMED, file, line, column, f"expected until=YYYY-MM-DD, got until={raw}")
    if until < today:
        msg = f"suppression of {', '.join(sorted(rules))} expired on {until.isoformat()}; fix or renew it"
        return None, _meta(EXPIRED, file, line, column, msg)
    return until, None


def _meta(rule: RuleMeta, file: str, line: int, column: int, message: str) -> Finding:
    return Finding(rule_id=rule.id, message=message, file=file, line=line, column=column)


_SPECS: dict[str, pathspec.GitIgnoreSpec] = {}


def _spec(pattern: str) -> pathspec.GitIgnoreSpec:
    if pattern not in _SPECS:
        _SPECS[pattern] = pathspec.GitIgnoreSpec.from_lines([pattern])
    return _SPECS[pattern]
