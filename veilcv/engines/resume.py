"""Resuming a run from its audit report: a file whose output and input still match their record is not
redacted again, and its record is carried into the new report.

A record is carried only when every one of these holds: the previous report was written with the same
settings and models (its header, tool version included, equals this run's), the file was redacted
(``ok``) into the same output path, the output on disk has the recorded ``output_sha256`` and the input
the recorded ``input_sha256`` (in place: the file has the recorded output hash). Anything else is
redacted again, so a resumed run never keeps an output that this run would not have written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from veilcv.core.redact_types import FileResult, sha256_file
from veilcv.engines.objstore import Location, is_url
from veilcv.errors import InputError, VeilcvError

_FIELDS = {f.name for f in dataclasses.fields(FileResult)}
#: Report keys that describe the run, not its settings.
_RUN_KEYS = {
    "created", "interrupted", "setup_ms", "files", "refused", "skipped", "unfinished",
    "unfinished_complete", "summary",
}  # fmt: skip


def previous_records(path: Path, header: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The redacted files of the report at ``path``, by input path.

    Raises
    ------
    InputError
        The report cannot be read, is not a `veil redact` report, or was written with other settings
        (the message names them).
    """
    try:
        doc = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"--resume {path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"--resume {path}: expected a veil redact JSON report, got invalid JSON ({exc})"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list) or "tool" not in doc:
        raise InputError(f"--resume {path}: expected a veil redact JSON report (--report), got other JSON")
    differ = sorted(k for k in set(header) | (set(doc) - _RUN_KEYS) if doc.get(k) != header.get(k))
    if differ:
        raise InputError(
            f"--resume {path}: expected a report written with this run's settings, got other "
            f"{', '.join(differ)}; rerun without --resume (or with the settings of that run)"
        )
    return {
        str(rec["input"]): rec
        for rec in doc["files"]
        if isinstance(rec, dict) and rec.get("ok") and rec.get("output") and "input" in rec
    }


def carried(src: Location, dst: Location, record: Mapping[str, Any] | None) -> FileResult | None:
    """``record`` as a result when ``dst`` and ``src`` (paths, or URLs) still match it, else None (redact
    again)."""
    if record is None or record.get("output") != str(dst) or not record.get("output_sha256"):
        return None
    if is_url(src) or is_url(dst):
        from veilcv.engines.objstore import sha256 as digest
    else:
        digest, src, dst = sha256_file, Path(src), Path(dst)
    try:
        if digest(dst) != record["output_sha256"]:
            return None
        if src != dst and digest(src) != record.get("input_sha256"):
            return None
    except (OSError, VeilcvError):
        return None
    return FileResult(**{k: v for k, v in record.items() if k in _FIELDS})
