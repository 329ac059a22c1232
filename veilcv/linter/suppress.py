"""Suppressions: inline ``# veil:ignore VC201 reason="..." until=YYYY-MM-DD`` and policy entries.

An inline comment covers findings of the named rules on its own line and on the line it sits
above (comment lines stacked under it are skipped, so several suppressions can share a target).
When that line opens a block, the comment covers the whole block: a Terraform block (``resource
"aws_s3_bucket" "x" {`` to its closing brace, plus findings elsewhere in the module that name that
resource) or a YAML mapping or list item (every line indented below it). A suppression without a
reason, with a malformed date, naming an unknown rule, or past its ``until`` date covers nothing
and is itself a finding (VC0xx); so is one that matched no finding (VC005), so silencing a problem
always leaves a trace that someone must renew, and a misplaced comment never passes unseen.

Checkov's ``#checkov:skip=CKV_AWS_20:reason`` comments are honoured too, as suppressions of the
veil rules that judge the same property (``veilcv.linter.equivalents``), so a team moving from
Checkov keeps its triage. As in Checkov, one inside a Terraform block covers that block (one above
a block covers it as a veil comment would); the reason is required as for ``veil:ignore``. A skip
of a check veil has no equivalent for is Checkov's business and is ignored, and a skip that hides
nothing is not VC005: it may be there for Checkov alone. Skips hide a finding only together: every
Checkov check that fails for the finding's cause must be skipped where it is (:func:`cover`), so
``checkov:skip=CKV_AWS_57`` (public-write ACL) does not hide a bucket policy open to everyone.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import tokenize
from collections.abc import Iterable, Sequence
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
UNUSED = RuleMeta(
    id="VC005",
    name="unused-suppression",
    category="logging",  # the fixed vocabulary has no "suppression"; an exception is an audit record
    severity=Severity.LOW,
    summary="Reports an inline or policy suppression that matched no finding.",
    rationale="A suppression that hides nothing is either misplaced (a comment two lines above the attribute "
    "it was meant for, or above a block whose finding is reported in another resource) or left over from a "
    "problem fixed long ago. In the first case the finding it was written for is still reported and the "
    "author believes it handled; in the second it waits to hide a new problem that nobody has reviewed. "
    "Either way the exception list no longer says what is really accepted.",
    fix="Delete the suppression if its finding is gone; otherwise move the comment to the line above the "
    "finding's line, or above the block (Terraform resource, YAML mapping) that holds it, or fix the rule "
    "ID or policy path. Only rules that ran are judged: with --only or a disabled rule nothing is reported.",
    target="meta",
)
RULES: tuple[RuleMeta, ...] = (EXPIRED, NO_REASON, MALFORMED, UNUSED)

# Files in which inline comments are looked for (plus any file that has a finding).
# Every suppression comment holds one of these: a file without any is not read further (engine).
MARKERS = ("veil:ignore", "checkov:skip")
COMMENT_SUFFIXES = (".tf", ".tfvars", ".hcl", ".yaml", ".yml", ".csv", ".toml", ".py", ".sh", ".cfg", ".ini")
_INLINE = re.compile(r"(?:#|//)\s*veil:ignore\b(?P<body>.*)$")
_CHECKOV_SKIP = re.compile(r"(?:#|//)\s*checkov:skip\s*=\s*(?P<check>[A-Za-z0-9_]+)(?:\s*:(?P<reason>.*))?$")
_RULE_LIST = re.compile(r"\s*(?P<rules>VC\d{3}(?:\s*,\s*VC\d{3})*)")
_REASON = re.compile(r"""reason\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""")
_UNTIL = re.compile(r"until\s*=\s*(?P<date>\S+)")
_HCL_SUFFIXES = (".tf", ".tfvars", ".hcl")
_YAML_SUFFIXES = (".yaml", ".yml")
_TF_RESOURCE = re.compile(r'^\s*resource\s+"(?P<type>[^"]+)"\s+"(?P<name>[^"]+)"')


@dataclass(frozen=True)
class Suppression:
    rules: frozenset[str]
    file: str  # where it is written (a source file, or the policy file)
    line: int
    reason: str
    until: dt.date | None
    kind: str  # "inSource" (a comment) or "external" (a policy entry), as SARIF names them
    applies_to: str | None = None  # policy entries: gitignore-style pattern of files it covers
    resource: str | None = None  # policy entries: only findings on this resource address
    end_line: int = 0  # inline: the last line covered (the end of the block it precedes)
    anchor: str | None = None  # inline: the Terraform resource it precedes, e.g. aws_s3_bucket.x
    foreign: str | None = None  # another tool's comment honoured for veil (e.g. "checkov:skip=CKV_AWS_20")
    check: str | None = None  # foreign: the check it skips (e.g. "CKV_AWS_20")

    def covers(self, finding: Finding) -> bool:
        if finding.rule_id not in self.rules:
            return False
        if self.resource is not None and finding.resource != self.resource:
            return False
        if self.kind == "inSource":
            if finding.file == self.file and self.line <= finding.line <= max(self.end_line, self.line + 1):
                return True
            # A resource's finding may sit in another file of the same module (Terraform reads a
            # folder as one configuration).
            # Checkov judges a bucket with its companions, so its skip on the bucket's block also
            # covers a storage finding that a companion causes (the finding names its bucket).
            named = (finding.resource, finding.extra.get("bucket")) if self.foreign else (finding.resource,)
            return (
                self.anchor is not None
                and self.anchor in named
                and posixpath.dirname(finding.file) == posixpath.dirname(self.file)
            )
        return _spec(self.applies_to or "").match_file(finding.file)

    def where(self) -> str:
        """The place it covers, in words, for the unused-suppression message."""
        if self.kind == "external":
            extra = f" resource {self.resource}" if self.resource else ""
            return f"in {self.applies_to}{extra}"
        span = f"lines {self.line}-{max(self.end_line, self.line + 1)}"
        return f"in resource {self.anchor} ({span})" if self.anchor else f"on {span}"


def cover(finding: Finding, active: Sequence[Suppression]) -> Suppression | None:
    """The suppression that hides ``finding``, if any.

    A veil comment or policy entry hides the findings of the rules it names. Checkov skips hide a
    finding only together: the checks skipped where it is (its block, or its bucket's) must include
    every check that fails for its cause (``equivalents.checkov_failing``); the first of them is
    named as the one that hid it.
    """
    from veilcv.linter.equivalents import checkov_failing

    own = next((s for s in active if s.foreign is None and s.covers(finding)), None)
    if own is not None:
        return own
    placed = [s for s in active if s.foreign is not None and s.covers(finding)]
    if not placed:
        return None
    failing = checkov_failing(finding)
    if not failing or not failing <= {s.check for s in placed}:
        return None
    return next(s for s in placed if s.check in failing)


def unused(suppression: Suppression, rules: Iterable[str], unsuppressible: frozenset[str]) -> Finding:
    """The VC005 finding for ``rules`` of ``suppression`` that matched nothing."""
    names = ", ".join(sorted(rules))
    if set(rules) <= unsuppressible:
        msg = f"suppression of {names} hides nothing: suppression problems cannot be suppressed; delete it"
    elif suppression.kind == "inSource":
        msg = (
            f"suppression of {names} matched no finding {suppression.where()}; delete it, or put it on "
            "the line above the finding or above the block that holds it"
        )
    else:
        msg = f"suppression of {names} matched no finding {suppression.where()}; delete it or fix its path"
    return _meta(UNUSED, suppression.file, suppression.line, 1, msg)


def parse_inline(
    file: str, text: str, known: set[str], today: dt.date
) -> tuple[list[Suppression], list[Finding]]:
    """Every valid, current suppression comment in ``text``, and findings for the bad ones."""
    active: list[Suppression] = []
    problems: list[Finding] = []
    has_checkov = "checkov:skip" in text and file.endswith(_HCL_SUFFIXES)
    if "veil:ignore" not in text and not has_checkov:
        return active, problems
    lines = text.splitlines()
    comments = _python_comment_lines(text) if file.endswith(".py") else None
    for lineno, line in enumerate(lines, start=1):
        if has_checkov:
            found, problem = _checkov_skip(file, lines, lineno, known)
            active.extend(found)
            problems.extend(problem)
        match = _INLINE.search(line)
        if match is None or (comments is not None and lineno not in comments):
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
        end, anchor = _extent(file, lines, lineno)
        active.append(
            Suppression(rules, file, lineno, reason, until, "inSource", end_line=end, anchor=anchor)
        )
    return active, problems


def _checkov_skip(
    file: str, lines: list[str], lineno: int, known: set[str]
) -> tuple[list[Suppression], list[Finding]]:
    """A ``checkov:skip`` comment on ``lineno`` as suppressions of the mapped veil rules."""
    from veilcv.linter.equivalents import checkov_to_veil

    match = _CHECKOV_SKIP.search(lines[lineno - 1])
    if match is None:
        return [], []
    check = match.group("check").upper()
    rules = frozenset(r for r in checkov_to_veil().get(check, ()) if r in known)
    if not rules:
        return [], []  # a check veil has no equivalent for
    column = match.start() + 1
    reason = (match.group("reason") or "").strip()
    if not reason:
        msg = (
            f"checkov:skip={check} (suppresses {', '.join(sorted(rules))}) has no reason;"
            f" write it as checkov:skip={check}:<reason>"
        )
        return [], [_meta(NO_REASON, file, lineno, column, msg)]
    end, anchor = _enclosing_block(lines, lineno - 1)
    if anchor is None:  # not inside a resource: it covers what a veil comment there would
        end, anchor = _extent(file, lines, lineno)
    foreign = f"checkov:skip={check}"
    sup = Suppression(
        rules,
        file,
        lineno,
        reason,
        None,
        "inSource",
        end_line=end,
        anchor=anchor,
        foreign=foreign,
        check=check,
    )
    return [sup], []


def _enclosing_block(lines: list[str], index: int) -> tuple[int, str | None]:
    """The Terraform resource block holding ``lines[index]``: its last line and its address (the
    block's findings anywhere in the module are covered through the address)."""
    for i in range(index - 1, -1, -1):
        match = _TF_RESOURCE.match(lines[i])
        if match is None:
            continue
        end = _hcl_block_end(lines, i)
        if end is not None and end >= index + 1:
            return end, f"{match['type']}.{match['name']}"
        break
    return index + 1, None


def _extent(file: str, lines: list[str], lineno: int) -> tuple[int, str | None]:
    """The last line an inline comment on ``lineno`` covers, and the Terraform resource it precedes.

    The target is the comment's own line when code precedes the comment there, else the first line
    below that is not a comment line. A target that opens a block extends the cover to its end.
    """
    index = lineno - 1
    if _comment_only(lines[index]):
        index += 1
        while index < len(lines) and _comment_only(lines[index]):
            index += 1
        if index >= len(lines) or not lines[index].strip():
            return lineno + 1, None  # nothing (or a blank line) below: the classic own-line-and-next
    target = index + 1
    if file.endswith(_HCL_SUFFIXES):
        end = _hcl_block_end(lines, index)
        match = _TF_RESOURCE.match(lines[index])
        anchor = f"{match['type']}.{match['name']}" if match and end is not None else None
        return max(lineno + 1, end or target), anchor
    if file.endswith(_YAML_SUFFIXES):
        return max(lineno + 1, _yaml_block_end(lines, index)), None
    return max(lineno + 1, target), None


def _comment_only(line: str) -> bool:
    return line.lstrip().startswith(("#", "//", "/*"))


def _hcl_block_end(lines: list[str], start: int) -> int | None:
    """1-based line of the brace that closes the block opened on ``lines[start]``, if it opens one."""
    depth = 0
    opened = False
    heredoc: str | None = None
    in_comment = False
    for i in range(start, len(lines)):
        line = lines[i]
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        j = 0
        in_string = False
        while j < len(line):
            ch = line[j]
            if in_comment:
                if line.startswith("*/", j):
                    in_comment = False
                    j += 1
            elif in_string:
                if ch == "\\":
                    j += 1
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#" or line.startswith("//", j):
                break
            elif line.startswith("/*", j):
                in_comment = True
                j += 1
            elif line.startswith("<<", j):
                match = re.match(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", line[j:])
                if match:
                    heredoc = match.group(1)
                    break
            elif ch in "{[(":
                depth += 1
                opened = opened or ch == "{"
            elif ch in "}])":
                depth -= 1
                if opened and depth == 0:
                    return i + 1
            j += 1
        if i == start and not (opened and depth > 0):
            return None  # the target line does not open a block that continues below
    return None


def _yaml_block_end(lines: list[str], start: int) -> int:
    """1-based last line of the mapping or list item that starts on ``lines[start]``."""
    head = lines[start]
    base = len(head) - len(head.lstrip())
    is_key = head.rstrip().endswith(":") and not head.lstrip().startswith("- ")
    end = start
    for i in range(start + 1, len(lines)):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        # `key:` may be followed by its list items at its own indentation (valid YAML).
        if indent > base or (is_key and indent == base and stripped.startswith("- ")):
            end = i
        else:
            break
    return end + 1


def _python_comment_lines(text: str) -> set[int] | None:
    """Lines holding a real comment token: ``"# veil:ignore"`` in a string literal is no suppression."""
    try:
        return {
            tok.start[0]
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.COMMENT
        }
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


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
