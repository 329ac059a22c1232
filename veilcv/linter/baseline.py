"""Baselines: the fingerprints of accepted findings, so a project fails only on new ones.

The file holds fingerprints and counts only (no messages, paths or content), so it can be
committed without leaking what it covers. Identical findings share a fingerprint; the count
lets a baseline of two such findings still catch a third.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from veilcv.atomic import write_text
from veilcv.errors import InputError
from veilcv.linter.finding import Finding
from veilcv.safeio import read_regular_file

FORMAT_VERSION = 1


def dumps(findings: Iterable[Finding]) -> str:
    counts = Counter(f.fingerprint() for f in findings)
    doc = {"version": FORMAT_VERSION, "tool": "veil", "fingerprints": dict(sorted(counts.items()))}
    return json.dumps(doc, indent=2) + "\n"


def write(path: str | Path, findings: Iterable[Finding]) -> None:
    if Path(path).is_dir():
        raise InputError(f"{path}: expected a baseline file path, got a folder")
    try:
        write_text(path, dumps(findings))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None


def load(path: str | Path) -> Counter[str]:
    raw = _read_regular(Path(path))
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: expected a JSON baseline, got binary (non-UTF-8) data") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}:{exc.colno}: expected a JSON baseline, got invalid JSON ({exc.msg})"
        ) from None
    prints = doc.get("fingerprints") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION or not isinstance(prints, dict):
        raise InputError(f"{path}: expected a veil baseline (version {FORMAT_VERSION}), got something else")
    if not all(isinstance(k, str) and isinstance(v, int) and v > 0 for k, v in prints.items()):
        raise InputError(f"{path}: $.fingerprints: expected fingerprint -> positive count, got other values")
    return Counter(prints)


def split(findings: Iterable[Finding], baseline: Counter[str]) -> tuple[list[Finding], list[Finding]]:
    """(new, baselined): each baseline fingerprint absorbs at most its count of findings."""
    left = Counter(baseline)
    new: list[Finding] = []
    old: list[Finding] = []
    for finding in findings:
        fp = finding.fingerprint()
        if left[fp] > 0:
            left[fp] -= 1
            old.append(finding)
        else:
            new.append(finding)
    return new, old


def _read_regular(path: Path) -> bytes:
    return read_regular_file(
        path,
        what="a baseline file",
        cannot_read="cannot read the baseline",
        label=f"{path}: ",
        missing_hint="use --write-baseline",
    )
