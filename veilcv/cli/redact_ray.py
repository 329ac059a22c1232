"""`veil redact --engine ray`: the driver of a Ray run (streamed plan, progress, merged report).

The plan is walked lazily (:func:`veilcv.cli.redact_plan.iter_plan`) and fed to the workers as they
take files; refusals are printed as the walk finds them. The report has the local engine's schema:
one header (from a worker: the models it loaded), one record per file, the refused and skipped inputs.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from veilcv.cli.redact_plan import PAIR, REFUSED, Plan, iter_plan
from veilcv.core.redact_types import FileResult, RedactOptions
from veilcv.engines.objstore import Location

#: Seconds an interrupted run spends listing the inputs it did not start, for its report: the rest of
#: a huge tree or bucket listing would keep Ctrl-C waiting as long as the whole run's listing.
UNFINISHED_LISTING_S = 5.0
#: The most inputs an interrupted run lists as not started (a cap on the report's size).
UNFINISHED_LISTING_MAX = 100_000


class _Listing:
    """The plan's pairs as a stream; refused and skipped inputs collected as the walk passes them."""

    def __init__(self, inputs: list[Location], output: Location | None, in_place: bool) -> None:
        self._items = iter_plan(inputs, output, in_place)
        self.refused: list[str] = []
        self.skipped: list[str] = []
        self.planned = 0
        self.done = False
        #: Set (from another thread) to end the walk at its next input.
        self.halt = False

    def pairs(self) -> Iterator[tuple[Location, Location]]:
        for kind, item in self._items:
            if self.halt:
                return
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
        except (KeyboardInterrupt, Interrupted, RedactionError) as exc:
            # Ctrl-C, or every worker died: the files the workers hold are let finish (whole outputs,
            # never half ones; a second Ctrl-C stops the wait); the report lists what finished
            # (outputs already written are never left unreported), the rest of the plan as unfinished
            # as far as a bounded walk gets, and that it stopped.
            _finish(engine, results, quiet=quiet or isinstance(exc, RedactionError))
            if report is not None:
                rest, whole = _rest(listing, report)
                write_report(
                    report, engine.header, results, refused=list(listing.refused),
                    skipped=list(listing.skipped), unfinished=engine.in_flight() + rest,
                    unfinished_complete=whole, interrupted=True, setup_ms=engine.setup_ms,
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


def _finish(engine: Any, results: list[FileResult], quiet: bool) -> None:
    """Let the files the workers hold finish (up to the engine's ``FINISH_TIMEOUT_S``), into ``results``;
    a second Ctrl-C stops the wait and keeps those that came."""
    from veilcv.cli.main import Interrupted
    from veilcv.engines.ray_engine import FINISH_TIMEOUT_S

    held = len(engine.in_flight())
    if held and not quiet:
        sys.stderr.write(
            f"veil: letting the {held} file(s) in progress finish (up to {FINISH_TIMEOUT_S:.0f} s; "
            "Ctrl-C again to stop waiting)…\n"
        )
    try:
        engine.finish(on_result=results.append)
    except (KeyboardInterrupt, Interrupted):
        sys.stderr.write("veil: stopped waiting for the files in progress: they are reported unfinished\n")
        return
    left = len(engine.in_flight())
    if held and left and not quiet:
        sys.stderr.write(
            f"veil: {left} file(s) in progress did not finish within {FINISH_TIMEOUT_S:.0f} s or lost "
            "their worker: they are reported unfinished\n"
        )


def _rest(listing: _Listing, report: Path) -> tuple[list[str], bool]:
    """The inputs of the plan not yet started, and whether that list is whole.

    The walk runs in a thread, so that a listing call that blocks (a slow object store) cannot hold
    Ctrl-C either; it ends at ``UNFINISHED_LISTING_S`` seconds, ``UNFINISHED_LISTING_MAX`` inputs,
    an error of the listing or a second Ctrl-C, and then one line says where it stopped.
    """
    from veilcv.cli.main import Interrupted

    found: list[str] = []
    why: list[str] = []
    whole = threading.Event()

    def walk() -> None:
        try:
            for src, _ in listing.pairs():
                if len(found) >= UNFINISHED_LISTING_MAX:
                    why.append(f"the limit of {UNFINISHED_LISTING_MAX} inputs")
                    return
                found.append(str(src))
        except Exception as exc:  # the listing failed: what it listed stands, marked incomplete
            why.append(f"an error of the listing ({' '.join(str(exc).split())[:200]})")
            return
        if not listing.halt:
            whole.set()

    thread = threading.Thread(target=walk, name="veil-unfinished-listing", daemon=True)
    thread.start()
    try:
        thread.join(UNFINISHED_LISTING_S)
        if thread.is_alive():
            why.append(f"the {UNFINISHED_LISTING_S:g} s limit")
    except (KeyboardInterrupt, Interrupted):
        why.append("a second Ctrl-C")
    listing.halt = True
    rest, complete = list(found), whole.is_set()  # appends come before whole is set: rest is whole then
    if not complete:
        sys.stderr.write(
            f"veil: {report}: the list of unfinished inputs was cut short at {len(rest)} not started, by "
            f"{why[0] if why else 'a stop'}; the report marks it incomplete\n"
        )
    return rest, complete


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
