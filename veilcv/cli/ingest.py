"""`veil ingest`: the fail-closed way into the store (licence → strip → redact → verify → store)."""

from __future__ import annotations

from pathlib import Path

import typer

from veilcv.cli.outputs import check_writable, write_error
from veilcv.cli.store_common import ACTOR_OPT, KEY_OPT, POLICY_OPT, actor_name, load_policy_dict
from veilcv.errors import InputError


def ingest(
    src: Path = typer.Argument(..., help="Folder (or file) of images to ingest."),
    manifest: Path = typer.Option(
        ..., "--manifest", "-m", help="Dataset manifest (CSV, JSON, JSONL, Croissant)."
    ),
    store: Path = typer.Option(
        ..., "--store", "-s", envvar="VEIL_STORE", help="Store folder (created if new)."
    ),
    policy: Path | None = POLICY_OPT,
    key_file: Path | None = KEY_OPT,
    mode: str = typer.Option(
        "box", "--mode", help="Redaction mode the policy allows: box, ellipse or pixelate."
    ),
    mask_scale: float | None = typer.Option(
        None,
        "--mask-scale",
        help="Grow each detected box by this factor (default 1.5, or the policy's min_mask_scale if larger).",
    ),
    threshold: str = typer.Option(
        "", "--threshold", help="Score thresholds, e.g. face=0.1,plate=0.5 (default: as `veil redact`)."
    ),
    jobs: int = typer.Option(2, "--jobs", "-j", min=1, max=64, help="Files processed at once."),
    telemetry_out: Path | None = typer.Option(
        None, "--telemetry-out", help="Write the run's gated telemetry events here (JSON lines)."
    ),
    actor: str | None = ACTOR_OPT,
) -> None:
    """Ingest images into the store: only licensed, stripped, redacted and verified images get in.

    Files without a manifest record or with a licence the policy refuses are rejected and logged;
    a file whose redaction or verification fails stores nothing. Re-running resumes without
    duplicates. Exit 1 when any file was rejected or failed.

    Example: veil ingest photos/ --manifest photos/manifest.csv --store ./vault --policy veil.yaml
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from veilcv.cli.redact import parse_thresholds
    from veilcv.core.defaults import DEFAULT_MASK_SCALE
    from veilcv.core.pipeline import RedactOptions, Redactor
    from veilcv.ingest import Ingestor
    from veilcv.linter.rules.manifest.reader import read_manifest
    from veilcv.store import Store, from_policy, load_master_key
    from veilcv.store.maintenance import recover
    from veilcv.telemetry.gate import JsonlSink, TelemetryGate

    if not src.exists():
        raise InputError(f"{src}: expected a folder or file to ingest, got nothing there")
    if not manifest.is_file():
        raise InputError(f"{manifest}: expected a manifest file, got nothing there; use --manifest FILE")
    records = read_manifest(manifest)  # a malformed manifest fails here, before models load
    if telemetry_out is not None:
        check_writable(telemetry_out)  # found out now, not after the whole ingest
    thresholds = parse_thresholds(threshold) if threshold else {}
    policy_dict = policy_dict_checked(policy, mode)
    redaction = policy_dict.get("redaction") or {}
    floor = float(redaction.get("min_mask_scale", 1.0))
    if mask_scale is not None and mask_scale < floor:
        raise InputError(
            f"--mask-scale: expected at least the policy's min_mask_scale {floor}, got {mask_scale}"
        )
    options = RedactOptions(
        what=tuple(redaction.get("classes", ("face", "plate"))),
        mode=mode,
        # The same default geometry as `veil redact`, so that ingest never redacts less than it.
        mask_scale=mask_scale if mask_scale is not None else max(DEFAULT_MASK_SCALE, floor),
        thresholds=thresholds,
        verify=True,
        strict=True,
        # Residuals of a crowd photo are redacted too and verified again, rather than refusing the
        # photo; whatever is still found after that fails the file (nothing of it is stored).
        fix_rounds=2,
    )
    redactor = Redactor(options)
    redactor.load()  # a missing or corrupt model fails here, before anything is touched
    sink = JsonlSink(telemetry_out) if telemetry_out is not None else None
    name = actor_name(actor)
    st = Store.open(
        store, load_master_key(key_file, store_root=store), from_policy(policy_dict), create=True, actor=name
    )
    with st:
        recover(st, actor=name)
        gate = TelemetryGate(st.policy, sink)
        ingestor = Ingestor(st, policy_dict, redactor, actor=name, gate=gate)
        console = Console(stderr=True)
        columns = (TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("ingest", total=None)
            report = ingestor.run(
                src, manifest, jobs=jobs, records=records, on_file=lambda _o: progress.advance(task)
            )
    for o in report.outcomes:
        if o.status in ("rejected", "failed"):
            typer.echo(f"{src / o.file}: {o.status}: {o.reason}", err=True)
    table = Table(*report.counts.keys(), title=f"ingest into {store}")
    table.add_row(*(str(v) for v in report.counts.values()))
    Console().print(table)
    if sink is not None:
        try:
            sink.close()
        except OSError as exc:
            raise write_error(telemetry_out, exc) from None
    typer.echo(
        f"telemetry: {gate.stats.sent} aggregate(s) released, {gate.stats.suppressed} below the minimum count"
    )
    if not report.ok:
        raise typer.Exit(1)


def policy_dict_checked(policy: Path | None, mode: str) -> dict:
    data = load_policy_dict(policy)
    modes = (data.get("redaction") or {}).get("modes")
    if modes and mode not in modes:
        raise InputError(f"--mode: expected one the policy allows ({', '.join(modes)}), got {mode!r}")
    return data


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("ingest")(ingest)
