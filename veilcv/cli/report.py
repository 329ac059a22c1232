"""`veil report`: the compliance documents, generated from the policy and the tools' outputs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import typer

from veilcv.atomic import write_text
from veilcv.cli.outputs import check_folder, write_error
from veilcv.errors import InputError


def _load(path: Path | None, kind: str, parse: Any, provenance: dict[str, tuple[str, str]]) -> Any:
    from veilcv.reports import sources

    if path is None:
        return None
    doc, digest = sources.load_json(path, kind)
    provenance[kind] = (path.name, digest)
    return parse(doc, path)


def report(
    policy: Path = typer.Option(..., help="The project's policy file (YAML)."),
    check: Path | None = typer.Option(None, help="Output of `veil check --format json`."),
    redact: Path | None = typer.Option(None, help="Report of `veil redact --report`."),
    coverage: Path | None = typer.Option(None, help="JSON output of `veil coverage`."),
    fairness: Path | None = typer.Option(None, help="JSON output of `veil fairness --json`."),
    out: Path = typer.Option(..., "--output", "-o", help="Folder to write the Markdown documents into."),
) -> None:
    """Write the compliance documents (data map, retention, redaction SOP, incident checklist, fairness).

    Every figure is read from the inputs; an input not given yields a "Not provided" section.

    Example: veil report --policy veil.yaml --check check.json --redact report.json -o docs/compliance
    """
    from veilcv.policies import load_policy
    from veilcv.reports import sources
    from veilcv.reports.compliance import Sources, build_documents

    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: expected a folder for the documents, got a file; use -o DIR")
    check_folder(out, "--output")
    policy_data = load_policy(policy)
    provenance = {"policy": (policy.name, hashlib.sha256(policy.read_bytes()).hexdigest())}
    src = Sources(
        policy=policy_data,
        policy_file=policy.name,
        check=_load(check, "check", sources.parse_check, provenance),
        redact=_load(redact, "redact", sources.parse_redact, provenance),
        coverage=_load(coverage, "coverage", sources.parse_coverage, provenance),
        fairness=_load(fairness, "fairness", sources.parse_fairness, provenance),
        provenance=provenance,
    )
    docs = build_documents(src)  # all rendered before the first write: bad input leaves nothing behind
    for name, text in docs.items():
        try:
            write_text(out / name, text)
        except OSError as exc:
            raise write_error(out / name, exc) from None
    for name in docs:
        typer.echo(str(out / name))


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("report")(report)
