"""`veil check`: enforce the policy on a repository, its manifests, storage configs and telemetry."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import typer

from veilcv.atomic import write_text
from veilcv.cli.display import printable
from veilcv.errors import InputError
from veilcv.linter.finding import TARGETS

# Existing files with these suffixes are manifests, Terraform, configs, telemetry or images: a
# report written over one would destroy the user's data (.json is left out: reports use it).
_DATA_SUFFIXES = frozenset(".csv .tf .tfvars .yaml .yml .jsonl .ndjson .jsonld".split())
# What reports are written as; no image or video format uses these (a test keeps it so).
_REPORT_SUFFIXES = frozenset({".json", ".sarif", ".txt"})


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


def check(
    paths: list[Path] = typer.Argument(
        None,
        metavar="PATH",
        help="A folder to check (the default: the current folder), or files to check in per-file mode.",
    ),
    policy: str = typer.Option(
        None,
        "--policy",
        "-p",
        help="Policy file or bundled pack name (default: the nearest veil.yaml in the checked folder or "
        "above it, up to the repository root; else the 'default' pack).",
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Report format."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write the report here (atomically) instead of stdout."
    ),
    baseline: Path = typer.Option(
        None, "--baseline", help="Ignore findings whose fingerprints this file holds."
    ),
    write_baseline: Path = typer.Option(
        None, "--write-baseline", help="Record the current findings' fingerprints here and exit 0."
    ),
    only: list[str] = typer.Option(
        None,
        "--only",
        help="Run only rules for this target (repeatable): " + ", ".join(TARGETS) + ".",
    ),
    root: Path = typer.Option(
        None, "--root", help="The checked tree's root, when PATHS are files inside it."
    ),
) -> None:
    """Check a tree against the policy; exit 0 when clean, 1 on findings, 2 on a usage or config error.

    Example: veil check . --policy veil.yaml --format sarif --output veil.sarif
    """
    # The rule engine loads every family: import it only when a check really runs (fast --help).
    from veilcv.cli.policy import load_or_exit
    from veilcv.linter import baseline as baseline_mod
    from veilcv.linter import engine
    from veilcv.linter.reporters import FORMATS
    from veilcv.linter.reporters.text import policy_line, summary

    unknown = sorted(set(only or ()) - set(TARGETS))
    if unknown:
        raise InputError(f"--only: expected one of {', '.join(TARGETS)}, got {', '.join(unknown)}")
    for flag, dest in (("--output", output), ("--write-baseline", write_baseline)):
        if dest is not None and dest.is_dir():
            raise InputError(f"{flag} {dest}: expected a file path, got a folder")
        if dest is not None and dest.is_file() and _holds_data(dest.suffix.lower()):
            raise InputError(
                f"{flag} {dest}: expected a report path, got an existing {dest.suffix} file the check reads; "
                "use a new name such as veil.sarif"
            )
    tree, files = _root_and_files(paths or [], root)
    loaded = load_or_exit(policy, tree)
    report = engine.check(tree, loaded, paths=files, only=only or None, baseline=baseline)
    if write_baseline is not None:  # first: a failed write must not follow a printed report
        baseline_mod.write(write_baseline, [*report.findings, *report.baselined])
    rendered = printable(FORMATS[fmt.value](report))
    if output is not None:
        try:
            write_text(output, rendered)
        except OSError as exc:
            raise InputError(f"--output {output}: cannot write the report: {exc.strerror or exc}") from None
        sys.stderr.write(f"{policy_line(report)}\n{summary(report)}\n")
    else:
        sys.stdout.write(rendered)
    if write_baseline is not None:
        n = len(report.findings) + len(report.baselined)
        sys.stderr.write(f"veil: wrote {n} fingerprint{'s' if n != 1 else ''} to {write_baseline}\n")
        raise typer.Exit(0)
    raise typer.Exit(report.exit_code)


def _holds_data(suffix: str) -> bool:
    if suffix in _REPORT_SUFFIXES:  # a report written again: no need for the media formats (12 ms)
        return False
    from veilcv.core.metadata.api import METADATA_SUFFIXES

    return suffix in _DATA_SUFFIXES | METADATA_SUFFIXES


def _root_and_files(paths: list[Path], root: Path | None) -> tuple[Path, list[str] | None]:
    if root is not None:
        if not root.is_dir():
            raise InputError(
                f"--root {root}: expected a folder, got {'a file' if root.exists() else 'nothing'}"
            )
        return root, [str(p.resolve()) for p in paths] or None
    if not paths:
        return Path("."), None
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0], None
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: expected a file or folder, got nothing there")
    return Path("."), [str(p.resolve()) for p in paths]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("check")(check)
