"""`veil redact`'s record of a run: one tally feeds the summary table and the JSON report.

Imported when a run starts (it imports the pipeline, which loads numpy, OpenCV and OpenVINO),
never by `veil --help`.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from veilcv.atomic import write_text
from veilcv.core.pipeline import FileResult
from veilcv.errors import InputError


class FinishedFiles:
    """Every file's result as it ends, collected from the worker threads (``Redactor.run``'s
    ``on_result``): after a Ctrl-C the running files are let finish, and the report lists them too,
    although the interrupted loop never received them."""

    def __init__(self, observe: Callable[[FileResult], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._all: list[FileResult] = []
        self._observe = observe

    def add(self, result: FileResult) -> None:
        with self._lock:
            self._all.append(result)
        if self._observe is not None:  # e.g. the run's --metrics
            self._observe(result)

    def unreported(self, results: Iterable[FileResult]) -> list[FileResult]:
        """Files that ended but are not in ``results`` (they finished after a Ctrl-C)."""
        seen = {id(r) for r in results}
        with self._lock:
            return [r for r in self._all if id(r) not in seen]


def metrics_observer(metrics: Any) -> Callable[[FileResult], None]:
    """``FinishedFiles``' observer feeding a ``veilcv.telemetry.metrics.RedactMetrics``."""

    def observe(res: FileResult) -> None:
        metrics.file(res.kind, res.ok, residual_count(res), res.timings_ms)

    return observe


def residual_count(res: FileResult) -> int:
    """Residual detections of one file; a video's list is capped, its ``truncated`` entry counts the rest."""
    return sum(int(r["truncated"]) if "truncated" in r else 1 for r in res.residuals)


def summary(results: list[FileResult], refused: int, skipped: int) -> dict[str, int]:
    """The run's totals: the same numbers in the table and in the report. Residuals count failed
    files too (a ``--strict`` failure is a file whose residuals were found)."""
    redacted = sum(r.ok for r in results)
    return {
        "redacted": redacted,
        "failed": len(results) - redacted + refused,
        "skipped": skipped,
        "residuals": sum(residual_count(r) for r in results),
    }


def write_report(
    path: Path,
    header: dict[str, Any],
    results: list[FileResult],
    *,
    refused: list[str],
    skipped: list[str],
    unfinished: list[str],
    unfinished_complete: bool = True,
    interrupted: bool = False,
    setup_ms: dict[str, float] | None = None,
) -> None:
    """Write the JSON audit report atomically (a reader sees the old file or the whole new one).

    ``unfinished_complete`` is False when ``unfinished`` holds only the first of the inputs left (an
    interrupted run lists the rest of its plan for a bounded time only)."""
    doc = {
        **header,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "setup_ms": setup_ms or {},
        "files": sorted((r.to_dict() for r in results), key=lambda d: d["input"]),
        "refused": refused,
        "skipped": skipped,
        "unfinished": unfinished,
        "unfinished_complete": unfinished_complete,
        "summary": summary(results, len(refused), len(skipped)),
    }
    try:
        write_text(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")
    except OSError as exc:  # a full disk, a folder made read-only during the run: one line, not a bug
        raise InputError(f"{path}: cannot write the report: {exc.strerror or exc}") from None
