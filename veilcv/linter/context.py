"""What a rule family gets to look at, and the shape every family module has.

A family module (``veilcv/linter/rules/<family>/__init__.py``) exposes::

    RULES: tuple[RuleMeta, ...]                  # every rule it can report, with stable IDs
    def check(ctx: LintContext) -> Iterable[Finding]

and is listed once, by explicit import, in ``veilcv/linter/registry.py``. Families never read
files outside ``ctx.root`` and never print; the engine applies severities, suppressions and the
baseline and hands one immutable report to the reporters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from veilcv.linter.finding import Finding, RuleMeta


class Family(Protocol):
    RULES: tuple[RuleMeta, ...]

    def check(self, ctx: LintContext) -> Iterable[Finding]: ...


@dataclass
class LintContext:
    """The checked tree and the effective policy.

    ``files`` are the paths (relative, forward slashes) of every file under ``root`` that
    .gitignore does not exclude, or just the files named on the command line in per-file mode.
    ``cache`` lets one family share parsed data with another (e.g. the storage family's bucket
    model, read by the cross-file rules) so every file is parsed once per run: use
    ``ctx.memo(key, factory)``.
    """

    root: Path
    policy: dict[str, Any]
    files: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): reported, not hidden
    cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = factory()
        return self.cache[key]

    def skip(self, file: str, reason: str) -> None:
        self.skipped.append((file, reason))

    def path(self, rel: str) -> Path:
        return self.root / rel
