"""`veil redact --engine ray`: the driver of a Ray run (streamed plan, progress, merged report).

The plan is walked lazily (:func:`veilcv.cli.redact_plan.iter_plan`) and fed to the workers as they
take files; refusals are printed as the walk finds them. The report has the local engine's schema:
one header (from a worker: the models it loaded), one record per file, the refused and skipped inputs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from veilcv.cli.redact_plan import PAIR, REFUSED, Plan, iter_plan
from veilcv.core.redact_types import FileResult, RedactOptions
from veilcv.engines.objstore import Location


class _Listing:
    """The plan's pairs as a stream; refused and skipped inputs collected as the walk passes them."""

    def __init__(self, inputs: list[Location], output: Location | None, in_place: bool) -> None:
        self._items = iter_plan(inputs, output, in_place)
        self.refused: list[str] = []
        self.skipped: list[str] = []
        self.planned = 0
        self.done = False

    def pairs(self) -> Iterator[tuple[Location, Location]]:
        for kind, item in self._items:
            if kind == PAIR:
                self.planned += 1
                yield item  # type: ignore[misc]
            elif kind == REFUSED:
                self.refused.append(item)  # type: ignore[arg-type]
                sys.stderr.write(f"veil: error: {item}\n")
            else:
                self.skipped.append(item)  # type: ignore[arg-type]
        self.done = True


def run_ray(
    opts: RedactOptions,
    inputs: list[Location],
    output: Location | None,
    in_place: bool,
    *,
    address: str | None,
    workers: int | None,
    report: Path | None,
    resume: Path | None,
    quiet: bool,
) -> None:
    """Redact on Ray; raise ``typer.Exit(2)`` when any file failed or was refused."""
    from veilcv.cli.main import Interrupted
    from veilcv.cli.redact_report import write_report
    from veilcv.engines.ray_engine import RayRedactor, RaySettings
    from veilcv.engines.resume import previous_records
    from veilcv.errors import RedactionError

    engine = RayRedactor(opts, RaySettings(address=address, workers=workers))
    if not quiet:
        where = address or "an embedded local Ray"
        sys.stderr.write(f"veil: starting the Ray workers on {where} (each loads the models once)…\n")
    try:
        engine.start()
        previous = previous_records(resume, engine.header) if resume is not None else None
        listing = _Listing(inputs, output, in_place)
        results: list[FileResult] = []
        start = time.perf_counter()
        try:
            stream = engine.run(listing.pairs(), previous=previous)
            _consume(stream, results, listing, quiet, engine.workers)
        except (KeyboardInterrupt, Interrupted, RedactionError):
            # Ctrl-C, or every worker died: the files the workers hold are let finish (whole outputs,
            # never half ones); the report lists what finished (outputs already written are never left
            # unreported), the rest of the plan as unfinished, and that it stopped.
            results += engine.finish()
            if report is not None:
                unfinished = engine.in_flight() + [str(s) for s, _ in listing.pairs()]
                write_report(
                    report, engine.header, results, refused=listing.refused, skipped=listing.skipped,
                    unfinished=unfinished, interrupted=True, setup_ms=engine.setup_ms,
                )  # fmt: skip
                sys.stderr.write(
                    f"veil: {report}: report of the {len(results)} finished file(s), marked interrupted\n"
                )
            raise
        elapsed = time.perf_counter() - start
    finally:
        engine.close()
    for line in dict.fromkeys(engine.unused):
        sys.stderr.write(f"veil: {line}\n")
    if report is not None:
        write_report(
            report, engine.header, results, refused=listing.refused, skipped=listing.skipped,
            unfinished=[], setup_ms=engine.setup_ms,
        )  # fmt: skip
    if not quiet:
        from rich.console import Console

        from veilcv.cli.redact import _summary

        plan = Plan(errors=listing.refused, skipped=listing.skipped)
        _summary(Console(stderr=True, highlight=False), results, plan, elapsed)
    if listing.refused or any(not r.ok for r in results):
        raise typer.Exit(2)


def _consume(
    stream: Iterator[FileResult], results: list[FileResult], listing: _Listing, quiet: bool, workers: int
) -> None:
    """Collect the results; unless ``quiet``, a progress line: files done (of how many, once the
    listing has ended), files/s, failures."""
    if quiet:
        for res in stream:
            results.append(res)
            if not res.ok:
                sys.stderr.write(f"veil: error: {res.error}\n")
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True, highlight=False)
    progress = Progress(
        TextColumn(f"[bold]redact[/] (ray, {workers} worker{'s' if workers != 1 else ''})"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    start = time.perf_counter()
    failed = 0
    with progress:
        task = progress.add_task("files", total=None, rate="", failed="")
        for res in stream:
            results.append(res)
            if not res.ok:
                failed += 1
                progress.console.print(
                    f"veil: error: {res.error}", markup=False, highlight=False, soft_wrap=True
                )
            elapsed = time.perf_counter() - start
            fields: dict[str, Any] = {
                "rate": f"{len(results) / elapsed:.2f} files/s" if elapsed > 0 else "",
                "failed": f"{failed} failed" if failed else "",
            }
            if listing.done:
                fields["total"] = listing.planned
            progress.update(task, advance=1, **fields)
        progress.update(task, total=listing.planned)  # also when the last result came before the walk ended
