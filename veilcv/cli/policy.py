"""`veil policy init | validate | explain`: write, check and explain a policy file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from veilcv.atomic import write_text
from veilcv.errors import InputError, PolicyError
from veilcv.policies.loader import LoadedPolicy, PolicySchemaError, bundled_packs, find_policy

policy_app = typer.Typer(
    help="Write, validate and explain the policy file.\n\nExample: veil policy init && veil policy explain",
    no_args_is_help=True,
)

TEMPLATE = """\
# veilcv policy: what this project may collect, keep and send. `veil policy explain` shows its effect.
# Only what differs from the pack below needs to be written here; see `veil policy explain --help`.
version: 1
extends: {pack}

# licences:
#   allowed: [CC0-1.0, CC-BY-4.0, MIT, Apache-2.0]
#   denied_categories: [non_commercial]
# retention:
#   prefixes:
#     raw/: {{max_days: 7}}
#     redacted/: {{max_days: 90}}
# incident:
#   contacts:
#     - {{role: data protection officer, name: Privacy team, email: privacy@example.org}}
#   notify_within_hours: 72
# rules:
#   VC403: {{severity: low}}
# suppressions:
#   - {{rule: VC201, path: "infra/site.tf", reason: "public website, no personal data", until: 2027-01-31}}
"""


def load_or_exit(policy: str | None, root: Path) -> LoadedPolicy:
    """The policy named on the command line (a file or a pack), else the nearest veil.yaml at or above
    ``root`` (up to its repository root, as git finds its own), else the 'default' pack: the public
    ``veilcv.load_policy``, so that the command line and the API resolve and refuse alike.

    Schema problems are printed one per line and end the command with exit 2.
    """
    from veilcv._api.checking import load_policy

    try:
        return load_policy(policy, root=root)
    except PolicySchemaError as exc:
        for issue in exc.issues:
            sys.stderr.write(f"veil: error: {issue}\n")
        raise typer.Exit(2) from None


@policy_app.command("init")
def init(
    path: Path = typer.Argument(Path("veil.yaml"), help="Where to write the policy."),
    pack: str = typer.Option(
        "strict", "--pack", help="Bundled pack to extend: " + ", ".join(bundled_packs())
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter policy that extends a bundled pack.

    Example: veil policy init veil.yaml --pack research
    """
    if pack not in bundled_packs():
        raise InputError(f"--pack: expected one of {', '.join(bundled_packs())}, got {pack!r}")
    if path.is_dir():
        raise InputError(f"{path}: expected a file path, got a folder; use {path / 'veil.yaml'}")
    if path.exists() and not force:
        raise InputError(f"{path}: expected a new file, got an existing one; use --force to overwrite")
    try:
        write_text(path, TEMPLATE.format(pack=pack))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the policy: {exc.strerror or exc}") from None
    load_or_exit(str(path), path.parent)
    sys.stdout.write(f"wrote {path} (extends {pack})\n")


@policy_app.command("validate")
def validate(
    path: Path = typer.Argument(
        None,
        help="The policy file (default: the nearest veil.yaml here or above, up to the repository root).",
    ),
) -> None:
    """Validate a policy file and the packs it extends; each problem is printed with file, line and JSON path.

    Example: veil policy validate veil.yaml
    """
    target = path if path is not None else find_policy(Path("."))
    if target is None:
        raise PolicyError(
            "expected a veil.yaml in this folder or one above it (up to the repository root), got none; "
            "name the file or use `veil policy init`"
        )
    loaded = load_or_exit(str(target), Path("."))
    sys.stdout.write(f"{target}: valid (extends {' -> '.join(loaded.chain[1:]) or 'nothing'})\n")


@policy_app.command("explain")
def explain(
    path: Path = typer.Argument(
        None,
        help="The policy file (default: the nearest veil.yaml here or above, up to the repository root; "
        "else the default pack).",
    ),
    pack: str = typer.Option(None, "--pack", help="Explain a bundled pack instead of a file."),
    as_json: bool = typer.Option(False, "--json", help="Print the effective policy and rules as JSON."),
) -> None:
    """Print every rule the policy turns on, with its severity and the settings it reads.

    Example: veil policy explain veil.yaml
    """
    if pack is not None and path is not None:
        raise InputError("expected a policy file or --pack, got both; use one of them")
    if pack is not None and pack not in bundled_packs():
        raise InputError(f"--pack: expected one of {', '.join(bundled_packs())}, got {pack!r}")
    from rich.console import Console
    from rich.table import Table

    from veilcv.linter import engine, registry
    from veilcv.linter.reporters.text import chain_line

    loaded = load_or_exit(pack if pack is not None else (str(path) if path else None), Path("."))
    rules = engine.effective_rules(loaded.data)
    disabled = [r.id for r in registry.all_rules() if r.id not in rules]
    if as_json:
        doc = {
            "policy": list(loaded.chain),
            "effective": loaded.data,
            "rules": [
                {
                    "id": r.id,
                    "name": r.name,
                    "severity": r.severity.value,
                    "settings": settings(loaded.data, r.options),
                }
                for r in rules.values()
            ],
            "disabled": disabled,
            "incident": loaded.data.get("incident", {}),
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    console = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)
    console.print(chain_line(loaded.chain), markup=False, highlight=False)
    table = Table(show_lines=False)
    for column in ("ID", "Rule", "Severity", "Category", "Settings"):
        table.add_column(column, overflow="fold")
    for r in rules.values():
        shown = settings(loaded.data, r.options)
        table.add_row(
            r.id,
            r.name,
            r.severity.value,
            r.category,
            "; ".join(f"{k}={_compact(v)}" for k, v in shown.items()),
        )
    console.print(table)
    console.print(f"disabled: {', '.join(disabled) if disabled else 'none'}")
    for line in incident_lines(loaded.data):
        console.print(line, markup=False, highlight=False)


def incident_lines(policy: dict[str, Any]) -> list[str]:
    """The incident section as `veil report` will use it: the deadline, then one line per contact."""
    incident = policy.get("incident") or {}
    hours = incident.get("notify_within_hours")
    contacts = incident.get("contacts") or []
    deadline = f"notify within {hours} hours" if hours is not None else "no notification deadline"
    if not contacts:
        return [f"incident: {deadline}; contacts: none (list them under incident.contacts)"]
    out = [f"incident: {deadline}; contacts:"]
    out += [f"  - {c['role']}: {c['name']} <{c['email']}>" for c in contacts]
    return out


def settings(policy: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of dotted policy ``keys`` (``retention.prefixes``) as the policy sets them."""
    out: dict[str, Any] = {}
    for key in keys:
        node: Any = policy
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        out[key] = node
    return out


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(policy_app, name="policy")
