"""The one place that runs rule families and turns their findings into an immutable Report.

Order: walk the tree (``.gitignore`` respected) → run each family → drop disabled rules, apply
policy severities → apply suppressions (bad, expired or unused ones become findings) → split off the
baseline → keep only the targets in per-file mode. Reporters format the Report; they never
compute anything.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from veilcv import __version__
from veilcv.errors import InputError, VeilcvError
from veilcv.linter import baseline as baseline_mod
from veilcv.linter import registry, suppress, unparseable
from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta, Severity
from veilcv.policies.loader import LoadedPolicy

if TYPE_CHECKING:
    from pathspec import PathSpec

SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
_MAX_COMMENT_SCAN = 4 * 1024 * 1024
_MARKERS = tuple(m.encode() for m in suppress.MARKERS)
_OUTSIDE = "symbolic link to outside the checked folder; not followed"
# A suppression problem cannot itself be suppressed: that would hide the trace it exists to leave.
_UNSUPPRESSIBLE = frozenset(r.id for r in suppress.RULES)


@dataclass(frozen=True)
class SuppressedFinding:
    finding: Finding
    kind: str  # "inSource" | "external"
    reason: str
    file: str  # where the suppression is written
    line: int


@dataclass(frozen=True)
class Report:
    """Everything one run found; immutable, formatted by the reporters."""

    root: str
    policy: tuple[str, ...]  # the policy chain, the user's file first
    rules: tuple[RuleMeta, ...]  # every enabled rule, with the policy's severity
    findings: tuple[Finding, ...]
    suppressed: tuple[SuppressedFinding, ...]
    baselined: tuple[Finding, ...]
    skipped: tuple[tuple[str, str], ...]
    files_checked: int
    tool_version: str = __version__

    @property
    def exit_code(self) -> int:
        """What `veil check` exits with: 1 when findings remain (after suppressions, baseline), else 0."""
        return 1 if self.findings else 0

    def rule(self, rule_id: str) -> RuleMeta:
        """The enabled rule ``rule_id``, with the policy's severity."""
        return next(r for r in self.rules if r.id == rule_id)

    def counts(self) -> dict[str, int]:
        """Findings per severity, the highest first (every severity present, zero or not)."""
        counts = {s.value: 0 for s in sorted(SEVERITY_RANK, key=SEVERITY_RANK.get, reverse=True)}
        for f in self.findings:
            counts[(f.severity or Severity.MEDIUM).value] += 1
        return counts


def effective_rules(policy: dict) -> dict[str, RuleMeta]:
    """Enabled rules with the policy's severity overrides applied, by ID."""
    settings = policy.get("rules", {})
    out: dict[str, RuleMeta] = {}
    for rule in registry.all_rules():
        conf = settings.get(rule.id, {})
        if conf.get("enabled", True):
            out[rule.id] = replace(rule, severity=Severity(conf["severity"])) if "severity" in conf else rule
    return out


def check(
    root: str | Path,
    loaded: LoadedPolicy,
    *,
    paths: Sequence[str] | None = None,
    only: Iterable[str] | None = None,
    baseline: str | Path | None = None,
    today: dt.date | None = None,
) -> Report:
    """Check ``root`` against the policy. ``paths`` (relative to root) turns on per-file mode;
    ``only`` limits the run to rule targets (``manifest``, ``storage``...)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(
            f"{root}: expected a folder to check, got {'a file' if root.exists() else 'nothing'}"
        )
    today = today or dt.date.today()
    special: list[tuple[str, str]] = []
    files = walk(root, special)
    targets = None if paths is None else frozenset(_targets(root, paths, files))
    if targets is not None:
        files = sorted(set(files) | targets)
    ctx = LintContext(root=root, policy=loaded.data, files=files, targets=targets, skipped=special)
    rules = effective_rules(loaded.data)
    kinds = set(only) if only is not None else None
    raw: list[Finding] = []
    for family in registry.FAMILIES:
        if kinds is not None and not any(r.target in kinds for r in family.RULES):
            continue
        if not any(r.id in rules for r in family.RULES):
            continue
        raw.extend(_run(family, ctx))
    raw.extend(_unparsed(ctx, rules))
    kept = [_fill(f, rules) for f in raw if f.rule_id in rules and _in_kinds(rules[f.rule_id], kinds)]
    active, problems = _suppressions(ctx, loaded, {f.file for f in kept}, today)
    kept.extend(_fill(p, rules) for p in problems if p.rule_id in rules)
    findings, suppressed = _apply(kept, active)
    if suppress.UNUSED.id in rules:
        ran = {rid for rid, rule in rules.items() if _in_kinds(rule, kinds)}
        findings.extend(_fill(f, rules) for f in _unused(active, kept, ran, ctx, kinds is None))
    if targets is not None:
        findings = [f for f in findings if f.file in targets]
        suppressed = [s for s in suppressed if s.finding.file in targets]
    old: list[Finding] = []
    if baseline is not None:
        findings, old = baseline_mod.split(findings, baseline_mod.load(baseline))
    order = _order_key
    return Report(
        root=str(root),
        policy=loaded.chain,
        rules=tuple(sorted(rules.values(), key=lambda r: r.id)),
        findings=tuple(sorted(findings, key=order)),
        suppressed=tuple(sorted(suppressed, key=lambda s: order(s.finding))),
        baselined=tuple(sorted(old, key=order)),
        skipped=tuple(sorted(set(ctx.skipped))),
        files_checked=len(files) if targets is None else len(targets),
    )


def walk(root: Path, special: list[tuple[str, str]] | None = None) -> list[str]:
    """Every file under ``root`` that no ``.gitignore`` on its way excludes (``.git`` never).

    FIFOs, sockets, devices and broken links are left out (reading a FIFO would block the run), and
    so are symbolic links that lead out of ``root`` (a checked-out pull request must not make the run
    read, and echo, ``/etc/passwd``); they are appended to ``special`` as (file, reason) so that the
    report lists them as skipped. Linked folders are not entered. A folder's files come before its
    subfolders', each in name order. The kind of each entry comes with the folder listing, so a
    plain file costs no ``stat`` call (a tree of 2,000 files is walked twice as fast).
    """
    out: list[str] = []
    specs: list[tuple[str, PathSpec]] = []
    real_root = root.resolve()
    todo: list[tuple[str, str]] = [(os.fspath(root), "")]  # (folder on disk, its prefix), a stack
    while todo:
        dirpath, prefix = todo.pop()
        try:
            with os.scandir(dirpath) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            if special is not None:
                rel = os.path.relpath(exc.filename or dirpath, root).replace(os.sep, "/")
                special.append((rel + "/", f"cannot list the folder: {exc.strerror or exc}"))
            continue
        folders: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            (folders if _is_dir(entry) else files).append(entry)
        if any(e.name == ".gitignore" for e in files):
            specs.append((prefix, _gitignore(os.path.join(dirpath, ".gitignore"))))
        active = [(p, s) for p, s in specs if prefix.startswith(p)]

        def ignored(rel: str, is_dir: bool, active: list = active) -> bool:
            return any(s.match_file(rel[len(p) :] + ("/" if is_dir else "")) for p, s in active)

        folders = [d for d in folders if d.name != ".git" and not ignored(prefix + d.name, True)]
        for entry in files:
            rel = prefix + entry.name
            if ignored(rel, False):
                continue
            reason = _not_regular(entry, real_root)
            if reason is None:
                out.append(rel)
            elif special is not None:
                special.append((rel, reason))
        for entry in reversed(folders):  # a stack: the first folder is walked next
            if not entry.is_symlink():
                todo.append((entry.path, prefix + entry.name + "/"))
            elif special is not None and _leaves(Path(entry.path), real_root):
                special.append((prefix + entry.name + "/", _OUTSIDE))
    return out


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _gitignore(path: str) -> PathSpec:
    from pathspec import GitIgnoreSpec  # here: about 9 ms, for trees that have a .gitignore

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        lines = []
    return GitIgnoreSpec.from_lines(lines)


def _leaves(path: Path, real_root: Path) -> bool:
    return path.is_symlink() and not path.resolve().is_relative_to(real_root)


def _not_regular(entry: os.DirEntry[str], real_root: Path) -> str | None:
    if entry.is_symlink():
        if _leaves(Path(entry.path), real_root):
            return _OUTSIDE
        try:
            mode = os.stat(entry.path).st_mode
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        return None if stat.S_ISREG(mode) else "not a regular file (FIFO, socket or device)"
    try:
        return None if entry.is_file(follow_symlinks=False) else "not a regular file (FIFO, socket or device)"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


def _targets(root: Path, paths: Sequence[str], files: list[str]) -> list[str]:
    resolved_root = root.resolve()
    out: list[str] = []
    for raw in paths:
        full = (root / raw).resolve() if not Path(raw).is_absolute() else Path(raw).resolve()
        try:
            rel = full.relative_to(resolved_root).as_posix()
        except ValueError:
            raise InputError(
                f"{raw}: expected a path inside {root}, got one outside it; use --root"
            ) from None
        if full.is_dir():
            prefix = "" if rel == "." else rel + "/"
            out.extend(f for f in files if f.startswith(prefix))
        elif full.is_file():
            out.append(rel)
        elif full.exists():
            raise InputError(f"{raw}: expected a file or folder, got a special file (FIFO, socket or device)")
        else:
            raise InputError(f"{raw}: expected a file or folder, got nothing there")
    return out


def _run(family: object, ctx: LintContext) -> list[Finding]:
    name = getattr(family, "__name__", repr(family))
    narrow = getattr(family, "narrow", None)
    try:
        if narrow is not None and ctx.targets is not None:
            ctx = narrow(ctx)  # per-file mode: only what judging the targets needs
        return list(family.check(ctx))  # type: ignore[attr-defined]
    except VeilcvError:
        raise
    except Exception as exc:  # a rule bug must fail the run (exit 2), never pass it silently
        raise VeilcvError(f"internal error in rule family {name}: {type(exc).__name__}: {exc}") from exc


def _unparsed(ctx: LintContext, rules: dict[str, RuleMeta]) -> list[Finding]:
    """VC004 findings, once per file; with VC004 turned off the files are still listed as skipped."""
    seen: dict[str, Finding] = {}
    for f in ctx.unparsed:
        seen.setdefault(f.file, f)
    if unparseable.UNPARSEABLE.id in rules:
        return list(seen.values())
    ctx.skipped.extend((f.file, f.message) for f in seen.values())
    return []


def _fill(finding: Finding, rules: dict[str, RuleMeta]) -> Finding:
    rule = rules[finding.rule_id]
    return replace(finding, severity=rule.severity, category=finding.category or rule.category)


def _in_kinds(rule: RuleMeta, kinds: set[str] | None) -> bool:
    return kinds is None or rule.target in kinds or rule.target == "meta"


def _suppressions(
    ctx: LintContext, loaded: LoadedPolicy, with_findings: set[str], today: dt.date
) -> tuple[list[suppress.Suppression], list[Finding]]:
    known = {r.id for r in registry.all_rules()}
    entries = ctx.policy.get("suppressions", [])
    sources = [
        _policy_location(ctx.root, loaded, loaded.source("suppressions", i)) for i in range(len(entries))
    ]
    active, problems = suppress.from_policy(entries, sources, today)
    scan = with_findings | {f for f in ctx.files if f.endswith(suppress.COMMENT_SUFFIXES)}
    for rel in sorted(scan):
        if not ctx.wants(rel):
            continue
        data = ctx.read_bytes(rel, _MAX_COMMENT_SCAN)
        # Most files hold no suppression comment: look for the markers before decoding anything.
        if data is None or not any(marker in data for marker in _MARKERS):
            continue
        found, bad = suppress.parse_inline(rel, data.decode("utf-8", errors="replace"), known, today)
        active.extend(found)
        problems.extend(bad)
    return active, problems


def _unused(
    active: list[suppress.Suppression],
    candidates: list[Finding],
    ran: set[str],
    ctx: LintContext,
    whole_run: bool,
) -> list[Finding]:
    """VC005 for each suppression whose rules that ran matched no finding.

    A rule that did not run (disabled, or left out by ``--only``) cannot be judged. Policy entries
    are judged only when the whole tree was checked: per-file mode sees a part of what they cover.
    Every suppression that covers a finding counts as used, not only the first that hid it.
    """
    out: list[Finding] = []
    for sup in active:
        if sup.kind == "external" and (ctx.targets is not None or not whole_run):
            continue
        if sup.foreign:  # another tool's skip comment may be there for that tool alone
            continue
        idle = sorted(
            r
            for r in sup.rules
            if r in _UNSUPPRESSIBLE
            or (r in ran and not any(f.rule_id == r and sup.covers(f) for f in candidates))
        )
        if idle:
            out.append(suppress.unused(sup, idle, _UNSUPPRESSIBLE))
    return out


def _policy_location(root: Path, loaded: LoadedPolicy, source: tuple[str, int]) -> tuple[str, int]:
    display, line = source
    if loaded.path is not None and display == str(loaded.path):
        try:
            return loaded.path.resolve().relative_to(root.resolve()).as_posix(), line
        except ValueError:
            pass
    return display, line


def _apply(
    findings: list[Finding], active: list[suppress.Suppression]
) -> tuple[list[Finding], list[SuppressedFinding]]:
    kept: list[Finding] = []
    hidden: list[SuppressedFinding] = []
    for finding in findings:
        cover = suppress.cover(finding, active)
        if cover is None or finding.rule_id in _UNSUPPRESSIBLE:
            kept.append(finding)
        else:
            hidden.append(SuppressedFinding(finding, cover.kind, cover.reason, cover.file, cover.line))
    return kept, hidden


def _order_key(f: Finding) -> tuple[str, int, int, str, str]:
    return (f.file, f.line, f.column, f.rule_id, f.message)
