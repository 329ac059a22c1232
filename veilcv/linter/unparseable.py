"""VC004: a file the checker must understand but cannot parse fails the run (fail closed).

Families record such files with :meth:`LintContext.unparseable` (the parsers are memoised and
shared between families, so the engine, not a family, turns each record into one finding).
Files that are merely irrelevant (special files, binaries that are no target, YAML that is no
bucket config) stay in the report's skipped list: they were never meant to be checked.
"""

from __future__ import annotations

import re

from veilcv.linter.finding import Finding, RuleMeta, Severity

UNPARSEABLE = RuleMeta(
    id="VC004",
    name="unparseable-config",
    category="public_access",
    severity=Severity.HIGH,
    summary="Reports a Terraform file, bucket config or telemetry file that cannot be read or parsed.",
    rationale="A storage config or telemetry file that the checker cannot parse (a syntax error, an "
    "encoding other than UTF-8, an unknown key in a bucket config, a payload line that is not a JSON "
    "object) is checked by no rule at all, so the public bucket or the leaked frame path it may declare "
    "would pass unseen; the check therefore fails closed instead of listing the file as skipped. The "
    "fixed category vocabulary has no 'parse error': findings in telemetry files carry `telemetry`, and "
    "the rule's own category is `public_access`, the gravest control an unread bucket config may lack.",
    fix="Fix the error at the reported line (`terraform validate` helps for .tf files) and save the file "
    "as UTF-8; for a file that is deliberately not valid (a template), add a policy `suppressions:` entry "
    "for VC004 with its path and a reason.",
    target="meta",
)
RULES: tuple[RuleMeta, ...] = (UNPARSEABLE,)

# Parsers say "line 3, column 9" (lark), "line 3 col 9" (lark lexer) or "line 3: ..." (ours).
_WHERE = re.compile(r"\bline (\d+)(?:,? col(?:umn)? (\d+))?")


def locate(reason: str) -> tuple[int, int]:
    """(line, column) named in a parser's message; (1, 1) when it names none."""
    match = _WHERE.search(reason)
    if match is None:
        return 1, 1
    return max(1, int(match.group(1))), max(1, int(match.group(2) or 1))


def finding(file: str, reason: str, line: int | None = None, category: str | None = None) -> Finding:
    """The VC004 finding for ``file``: one line, located where the parser says when ``line`` is unknown."""
    found_line, column = locate(reason)
    message = " ".join(reason.split())  # one line, whatever the parser's message held
    return Finding(
        rule_id=UNPARSEABLE.id,
        message=message,
        file=file,
        line=line if line is not None else found_line,
        column=1 if line is not None else column,
        category=category,
    )


def internal_error(doing: str, exc: BaseException) -> str:
    """The VC004 reason for an unexpected error (a bug, MemoryError, RecursionError) while reading
    or judging one file: said there, so the rest of the tree is still judged and nothing passes."""
    detail = " ".join(str(exc).split())[:200]
    return (
        f"cannot {doing}: internal error ({type(exc).__name__}{': ' + detail if detail else ''});"
        " nothing in it is checked (please report this)"
    )
