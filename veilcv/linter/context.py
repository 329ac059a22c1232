"""What a rule family gets to look at, and the shape every family module has.

A family module (``veilcv/linter/rules/<family>/__init__.py``) exposes::

    RULES: tuple[RuleMeta, ...]                  # every rule it can report, with stable IDs
    def check(ctx: LintContext) -> Iterable[Finding]
    def narrow(ctx: LintContext) -> LintContext  # optional, see below

and is listed once, by explicit import, in ``veilcv/linter/registry.py``. Families never read
files outside ``ctx.root`` and never print; the engine applies severities, suppressions and the
baseline and hands one immutable report to the reporters.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from veilcv.linter import unparseable
from veilcv.linter.finding import Finding, RuleMeta

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class Family(Protocol):
    RULES: tuple[RuleMeta, ...]

    def check(self, ctx: LintContext) -> Iterable[Finding]: ...


@dataclass
class LintContext:
    """The checked tree and the effective policy.

    ``files`` are the paths (relative, forward slashes) of every file under ``root`` that
    .gitignore does not exclude. In per-file mode (pre-commit passing filenames) ``targets`` holds
    the files named on the command line: families still see the whole tree, so cross-file rules
    stay right, may skip work outside ``targets``, and the engine drops findings outside it. A
    family whose findings in ``targets`` depend on a known part of the tree only (the storage
    family: the targets' Terraform modules and what links to them) exposes ``narrow(ctx)``, and the
    engine runs it on the context that returns (``files`` cut down, its own ``cache``), so a hook's
    cost follows the change, not the repository.
    ``cache`` lets one family share parsed data with another (e.g. the storage family's bucket
    model, read by the cross-file rules) so every file is parsed once per run: use
    ``ctx.memo(key, factory)``.
    """

    root: Path
    policy: dict[str, Any]
    files: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): reported, not hidden
    # Files a family must understand but cannot parse; the engine reports each as VC004.
    unparsed: list[Finding] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    targets: frozenset[str] | None = None  # per-file mode: only findings in these files are reported

    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = factory()
        return self.cache[key]

    def skip(self, file: str, reason: str) -> None:
        """``file`` is not something the family checks (e.g. a special file); listed, not a finding."""
        self.skipped.append((file, reason))

    def unparseable(
        self, file: str, reason: str, *, line: int | None = None, category: str | None = None
    ) -> None:
        """``file`` is a target the family must check but cannot read or parse: fail closed (VC004)."""
        self.unparsed.append(unparseable.finding(file, reason, line, category))

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read_bytes(self, rel: str, limit: int) -> bytes | None:
        """The bytes of ``rel`` when it holds at most ``limit`` of them; None when bigger or unreadable.

        Plain descriptor calls: scans over every file of a tree (suppression comments, the links
        between Terraform modules) pay as much again for a Python file object as for the read
        (``veilcv.safeio``'s reader took 25 ms for 2,010 small files, this one 14 ms). Like it, the
        open does not block and the open descriptor must be a regular file: a file swapped for a
        FIFO or device after the walk reads as None instead of holding the run up.
        """
        try:
            fd = os.open(self.root / rel, _READ_FLAGS)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            size = st.st_size
            if size > limit:
                return None
            chunks = []
            while chunk := os.read(fd, size + 1):
                chunks.append(chunk)
                size = sum(map(len, chunks))
                if size > limit:
                    return None
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)

    def wants(self, rel: str) -> bool:
        """Whether findings in ``rel`` will be reported (always true outside per-file mode)."""
        return self.targets is None or rel in self.targets
