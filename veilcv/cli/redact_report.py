"""`veil redact`'s record of a run: one tally feeds the summary table and the JSON report.

Imported when a run starts (it subclasses the pipeline's ``Redactor``, which loads numpy, OpenCV
and OpenVINO), never by `veil --help`.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from veilcv.atomic import write_text
from veilcv.core.pipeline import FileResult, Redactor


class TallyRedactor(Redactor):
    """A ``Redactor`` that also keeps what a results stream alone would lose.

    * ``finished``: every file redacted, in the order they finished, including those that finish
      while a Ctrl-C waits for the running files: the interrupted report lists them too.
    * ``failed_residuals``: what the last verification of a file that then failed found (the
      ``--strict`` failures): the summary and the report count them, as the error line does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._tally_lock = threading.Lock()
        self.finished: list[FileResult] = []
        self.failed_residuals: dict[str, list[dict[str, Any]]] = {}

    def residuals(self, redacted: np.ndarray, applied: Any) -> list[dict[str, Any]]:
        found = super().residuals(redacted, applied)
        self._local.last = found
        return found

    def redact_file(self, src: str | Path, dst: str | Path) -> FileResult:
        self._local.last = []
        try:
            res = super().redact_file(src, dst)
        except BaseException:
            last = list(getattr(self._local, "last", []))
            if last:
                with self._tally_lock:
                    self.failed_residuals[str(src)] = last
            raise
        with self._tally_lock:
            self.finished.append(res)
        return res

    def complete(self, result: FileResult) -> FileResult:
        """``result`` with the residuals of a failed file filled in (see the class docstring)."""
        if not result.ok and not result.residuals:
            with self._tally_lock:
                result.residuals = list(self.failed_residuals.get(result.input, []))
        return result

    def unreported(self, results: Iterable[FileResult]) -> list[FileResult]:
        """Files redacted that are not in ``results`` (they finished after a Ctrl-C)."""
        seen = {id(r) for r in results}
        with self._tally_lock:
            return [r for r in self.finished if id(r) not in seen]


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
    interrupted: bool = False,
    setup_ms: dict[str, float] | None = None,
) -> None:
    """Write the JSON audit report atomically (a reader sees the old file or the whole new one)."""
    doc = {
        **header,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "setup_ms": setup_ms or {},
        "files": sorted((r.to_dict() for r in results), key=lambda d: d["input"]),
        "refused": refused,
        "skipped": skipped,
        "unfinished": unfinished,
        "summary": summary(results, len(refused), len(skipped)),
    }
    write_text(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")
