"""`veil ingest`: the fail-closed way into the store (licence → strip → redact → verify → store)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

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
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (threads in this process) or ray (redaction on worker actors of a Ray cluster; the "
        "store, its keys and the audit log stay here; needs pip install 'veilcv[ray]').",
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        help="--engine ray: the cluster to join (auto, or ray://HOST:10001). Default: start a local Ray.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="--engine ray: worker actors, 1 CPU each (default: one per cluster CPU)."
    ),
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

    from veilcv.cli.display import announce_setup_steps
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
    from veilcv.cli.redact import check_engine

    check_engine(engine, address, workers, 0)  # ingest's --jobs sets the threads of either engine
    check_manifest_path(manifest, src)
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
    ray_engine = None
    if engine == "ray":
        from veilcv.engines.ray_bytes import RayBytesRedactor
        from veilcv.engines.ray_engine import RayRedactor, RaySettings

        ray_engine = RayRedactor(options, RaySettings(address=address, workers=workers))
        ray_engine.start()  # a missing or corrupt model fails here, on the workers, before anything
        redactor: Any = RayBytesRedactor(ray_engine)
        # Enough files in flight for every worker to have one queued behind the one it redacts.
        jobs = max(jobs, 2 * ray_engine.workers * (ray_engine.settings.cpus_per_worker + 1))
    else:
        redactor = Redactor(options)
        stop_announcing = announce_setup_steps(quiet=False)  # a first run fetches models: say so
        try:
            redactor.load()  # a missing or corrupt model fails here, before anything is touched
        finally:
            stop_announcing()
    sink = JsonlSink(telemetry_out) if telemetry_out is not None else None
    name = actor_name(actor)
    try:
        st = Store.open(
            store,
            load_master_key(key_file, store_root=store),
            from_policy(policy_dict),
            create=True,
            actor=name,
        )
    except BaseException:
        if ray_engine is not None:
            ray_engine.close()
        raise
    with st, contextlib.closing(ray_engine) if ray_engine is not None else contextlib.nullcontext():
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
    for line in telemetry_lines(report.counts, report.telemetry, gate.min_count, policy, telemetry_out):
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


def check_manifest_path(manifest: Path, src: Path) -> None:
    """Refuse a --manifest that is no file, saying what is there and naming a manifest nearby."""
    if manifest.is_file():
        return
    if manifest.is_dir():
        got = "a folder; name the manifest file inside it"
    elif manifest.exists():
        got = "a special file (FIFO, socket or device)"
    else:
        got = "nothing there"
    nearby = _manifests_near(manifest, src)
    hint = f"; found {', '.join(str(p) for p in nearby)}" if nearby else ""
    raise InputError(
        f"--manifest {manifest}: expected a manifest file (.csv, .json, .jsonl or .jsonld), got {got}{hint}"
    )


def _manifests_near(manifest: Path, src: Path) -> list[Path]:
    from veilcv.linter.rules.manifest.reader import is_manifest_like

    folders = [manifest] if manifest.is_dir() else []
    folders += [manifest.parent, src if src.is_dir() else src.parent]
    found: dict[Path, None] = {}
    for folder in folders:
        try:
            names = sorted(p for p in folder.iterdir() if p.name.lower().startswith("manifest"))
        except OSError:
            continue
        found.update((p, None) for p in names if is_manifest_like(p) and p.is_file())
    return list(found)[:3]


def telemetry_lines(
    counts: dict[str, int],
    released: list[dict[str, Any]],
    min_count: int,
    policy: Path | None,
    telemetry_out: Path | None,
) -> list[str]:
    """What the run's telemetry was, what left and why the rest did not, in words a user can act on.

    Ingest counts its outcomes per hour (``ingest_stored``, ``ingest_rejected``...); each hourly
    count is an aggregate that the telemetry gate releases only from the policy's
    ``telemetry.min_aggregation_count`` up, so that a count of one or two cannot single anyone out.
    """
    counted = {f"ingest_{status}": n for status, n in counts.items() if n > 0}
    if not counted:
        return ["telemetry: nothing counted (no file was ingested, rejected or failed)"]
    sent = {e.get("event") for e in released}
    held = [f"{name}={n}" for name, n in counted.items() if name not in sent]
    where = (
        f"written to {telemetry_out}"
        if telemetry_out is not None
        else "not written anywhere; use --telemetry-out FILE to keep them"
    )
    lines = [
        f"telemetry: {len(sent)} of {len(counted)} hourly ingest count(s) released ({where}); "
        f"counted: {', '.join(f'{k}={v}' for k, v in counted.items())}"
    ]
    if held:
        lines.append(
            f"telemetry: held back {', '.join(held)}: below telemetry.min_aggregation_count {min_count} "
            f"({_origin(policy)}), the smallest count the policy lets leave, so no count singles anyone out"
        )
    return lines


def _origin(policy: Path | None) -> str:
    """Where ``telemetry.min_aggregation_count`` is set: ``set in veil.yaml line 12`` or a pack."""
    from veilcv.errors import VeilcvError
    from veilcv.policies.loader import find_policy, load_policy_source

    try:
        loaded = load_policy_source(policy if policy is not None else find_policy(Path.cwd()))
    except VeilcvError:  # already loaded once for the run; a file changed meanwhile is no reason to fail
        return "from the policy"
    key = ("telemetry", "min_aggregation_count")
    if key not in loaded.sources:
        return f"not set in {' -> '.join(loaded.chain)}: veil's default"
    file, line = loaded.sources[key]
    return f"set in {file} line {line}"


def policy_dict_checked(policy: Path | None, mode: str) -> dict:
    data = load_policy_dict(policy)
    modes = (data.get("redaction") or {}).get("modes")
    if modes and mode not in modes:
        raise InputError(f"--mode: expected one the policy allows ({', '.join(modes)}), got {mode!r}")
    return data


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("ingest")(ingest)
