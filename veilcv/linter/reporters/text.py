"""Plain text: findings grouped by file as ``file:line:col``, then skipped files, fixes and a summary."""

from __future__ import annotations

from itertools import groupby

from veilcv.linter.engine import Report


def one_line(text: str) -> str:
    """Control characters escaped: a newline or terminal escape in a file name, CSV cell or event
    key must not split a finding over lines or forge lines in a CI log. Lone surrogates (non-UTF-8
    file names) are left for the CLI to show as bytes."""
    return "".join(ch if ch.isprintable() or "\ud800" <= ch <= "\udfff" else repr(ch)[1:-1] for ch in text)


def render(report: Report) -> str:
    lines: list[str] = [policy_line(report)]
    for file, group in groupby(report.findings, key=lambda f: f.file):
        lines.append(one_line(file))
        for f in group:
            rule = report.rule(f.rule_id)
            where = f" [{f.resource}]" if f.resource else ""
            sev = f.severity.value if f.severity else rule.severity.value
            head = f"{f.file}:{f.line}:{f.column}: {f.rule_id} {sev} {rule.name}{where}"
            lines.append(f"  {one_line(head)}: {one_line(f.message)}")
        lines.append("")
    if report.skipped:
        lines.append("skipped (not checked):")
        lines.extend(f"  {one_line(file)}: {one_line(reason)}" for file, reason in report.skipped)
        lines.append("")
    used = sorted({f.rule_id for f in report.findings})
    if used:
        lines.append("how to fix:")
        lines.extend(f"  {rid} {report.rule(rid).name}: {report.rule(rid).fix}" for rid in used)
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def policy_line(report: Report) -> str:
    """Which policy the run enforced: ``policy: veil.yaml (extends pack:strict -> pack:default)``."""
    return chain_line(report.policy)


def chain_line(chain: tuple[str, ...] | list[str]) -> str:
    """A policy chain (the user's file first) as one line, for `veil check` and `veil policy explain`."""
    if not chain:
        return "policy: none"
    head, *rest = chain
    return one_line(f"policy: {head}" + (f" (extends {' -> '.join(rest)})" if rest else ""))


def summary(report: Report) -> str:
    n = len(report.findings)
    counts = ", ".join(f"{c} {sev}" for sev, c in report.counts().items() if c)
    head = f"{n} finding{'s' if n != 1 else ''}" + (f" ({counts})" if counts else "")
    tail = [f"{report.files_checked} file{'s' if report.files_checked != 1 else ''} checked"]
    if report.suppressed:
        tail.append(f"{len(report.suppressed)} suppressed")
    if report.baselined:
        tail.append(f"{len(report.baselined)} in baseline")
    if report.skipped:
        tail.append(f"{len(report.skipped)} skipped")
    return f"{head}; {', '.join(tail)}"
