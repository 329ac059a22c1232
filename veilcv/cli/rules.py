"""`veil rules`: list every rule the linter knows, from the registry."""

from __future__ import annotations

import enum
import json
import sys

import typer

from veilcv.errors import InputError
from veilcv.linter.finding import TARGETS


class RulesFormat(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def rules(
    fmt: RulesFormat = typer.Option(RulesFormat.table, "--format", "-f", help="table, json or markdown."),
    target: str = typer.Option(None, "--target", help="Only rules for this target: " + ", ".join(TARGETS)),
) -> None:
    """List every rule: ID, name, category, default severity, target and what it reports.

    Example: veil rules --target storage
    """
    from rich.console import Console
    from rich.table import Table

    from veilcv.linter import docs, registry

    selected = [r for r in registry.all_rules() if target is None or r.target == target]
    if target is not None and not selected:
        raise InputError(f"--target: expected one of {', '.join(TARGETS)}, got {target!r}")
    if fmt is RulesFormat.markdown:
        sys.stdout.write(docs.render())
        return
    if fmt is RulesFormat.json:
        doc = [
            {
                "id": r.id,
                "name": r.name,
                "category": r.category,
                "severity": r.severity.value,
                "target": r.target,
                "summary": docs.describe(r),
                "rationale": r.rationale,
                "fix": r.fix,
                "options": list(r.options),
            }
            for r in selected
        ]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(title=f"{len(selected)} rules")
    for column in ("ID", "Name", "Category", "Severity", "Target", "Reports"):
        table.add_column(column, overflow="fold")
    for r in selected:
        table.add_row(r.id, r.name, r.category, r.severity.value, r.target, docs.describe(r))
    Console(width=None if sys.stdout.isatty() else 200, soft_wrap=False).print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("rules")(rules)
