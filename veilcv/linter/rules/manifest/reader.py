"""Read a dataset manifest (CSV, JSON, JSONL or Croissant JSON-LD) into uniform records.

Column names are matched loosely (``licence``/``license``/``spdx`` all mean ``license``) so the
simple ``filename, source, license, attribution_needed`` CSV and richer formats read the same.
Every record carries the line it was written on, for findings and error messages. Lines in a CSV
whose first cell starts with ``#`` are comments (that is where ``veil:ignore`` goes).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from veilcv.errors import InputError
from veilcv.linter.located import LocatedError, loads_json
from veilcv.linter.textio import TextReadError, read_utf8

FIELDS = ("filename", "source", "license", "attribution", "sha256", "retention_days", "subject_id")

_ALIASES = {
    "filename": (
        "filename",
        "file",
        "file_name",
        "path",
        "filepath",
        "file_path",
        "image",
        "name",
        "contenturl",
    ),
    "source": ("source", "source_url", "url", "origin", "provenance"),
    "license": ("license", "licence", "license_id", "licence_id", "spdx", "spdx_id", "license_expression"),
    "attribution": ("attribution", "attribution_text", "credit", "credits", "author", "creator", "citeas"),
    "attribution_needed": ("attribution_needed", "attribution_required", "requires_attribution"),
    "sha256": ("sha256", "sha_256", "checksum_sha256", "hash"),
    "retention_days": ("retention_days", "retention", "ttl_days", "retention_ttl_days"),
    "subject_id": ("subject_id", "subject", "data_subject"),
    "prefix": ("prefix", "storage_prefix"),
}
_LOOKUP = {alias: canonical for canonical, aliases in _ALIASES.items() for alias in aliases}
_TRUE = {"yes", "y", "true", "1", "required"}
_FALSE = {"no", "n", "false", "0", "not required"}
_CC = re.compile(r"/licenses/(by(?:-nc)?(?:-sa|-nd)?)/(\d\.\d)")
_CC0 = re.compile(r"/publicdomain/zero/1\.0")
_SPDX_URL = re.compile(r"/licenses/([A-Za-z0-9][A-Za-z0-9.+-]*?)(?:\.html|\.json)?/?$")
_LIST_KEYS = ("records", "files", "items", "images", "data", "entries")


@dataclass(frozen=True)
class ManifestRecord:
    """One file entry. Text fields are ``""`` when absent; ``fields`` names those the manifest gave."""

    filename: str
    source: str = ""
    license: str = ""
    attribution: str = ""
    attribution_needed: bool | None = None  # None: the manifest does not say
    sha256: str = ""
    retention_days: int | None = None
    subject_id: str = ""
    prefix: str = ""  # storage prefix the record says the file lives under, if it says
    line: int = 1
    is_pattern: bool = False  # Croissant FileSet: ``filename`` is a glob
    fields: frozenset[str] = frozenset()  # canonical names present and non-empty in the manifest
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def is_manifest_like(path: str | Path) -> bool:
    return str(path).lower().endswith((".csv", ".json", ".jsonl", ".jsonld"))


def read_manifest(path: str | Path, display: str | None = None) -> list[ManifestRecord]:
    """Every record of the manifest at ``path``; a malformed manifest raises :class:`InputError`."""
    path = Path(path)
    name = display or str(path)
    if path.exists() and not path.is_file() and not path.is_dir():  # reading a FIFO would block
        raise InputError(f"{name}: expected a manifest file, got a special file (FIFO, socket or device)")
    try:
        text = read_utf8(path)
    except TextReadError as exc:
        raise InputError(f"{name}: cannot read manifest: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(text, name)
    if suffix == ".jsonl":
        return _read_jsonl(text, name)
    if suffix in (".json", ".jsonld"):
        return _read_json(text, name)
    raise InputError(
        f"{name}: expected a .csv, .json, .jsonl or .jsonld manifest, got {suffix or 'no suffix'}"
    )


def _read_csv(text: str, name: str) -> list[ManifestRecord]:
    rows = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    records: list[ManifestRecord] = []
    last = 0
    try:
        for row in rows:
            start, last = last + 1, rows.line_num
            if not row or not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [_canonical(c) for c in row]
                if "filename" not in header:
                    cols = _shown(", ".join(c.strip() for c in row))
                    raise InputError(f"{name}:{start}: expected a header with a filename column, got {cols}")
                continue
            if len(row) != len(header):
                raise InputError(f"{name}:{start}: expected {len(header)} columns, got {len(row)}")
            records.append(_record(dict(zip(header, row, strict=True)), start, name))
    except csv.Error as exc:
        raise InputError(f"{name}:{rows.line_num}: invalid CSV: {exc}") from None
    if header is None:
        raise InputError(f"{name}: expected a CSV header and records, got an empty file")
    return records


def _shown(text: str, limit: int = 80) -> str:
    # The text goes to a terminal or CI log: escape control bytes and cut a binary blob short.
    safe = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[: limit + 1])
    return safe if len(safe) <= limit else safe[:limit] + "..."


def _read_jsonl(text: str, name: str) -> list[ManifestRecord]:
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = loads_json(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{lineno}: invalid JSON: {exc.msg}") from None
        except LocatedError as exc:
            raise InputError(f"{name}:{lineno}: {exc}") from None
        if not isinstance(obj, dict):
            raise InputError(f"{name}:{lineno}: expected a JSON object per line, got {type(obj).__name__}")
        records.append(_record(_canonical_keys(obj), lineno, name))
    return records


def _read_json(text: str, name: str) -> list[ManifestRecord]:
    if not text.strip():
        raise InputError(f"{name}: expected a JSON manifest, got an empty file")
    try:
        doc = loads_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except LocatedError as exc:
        raise InputError(f"{name}: {exc}") from None
    if isinstance(doc, dict) and ("@context" in doc or "distribution" in doc):
        return _read_croissant(doc, text, name)
    items: Any = doc
    if isinstance(doc, dict):
        items = next((doc[k] for k in _LIST_KEYS if isinstance(doc.get(k), list)), None)
    if not isinstance(items, list):
        keys = ", ".join(_LIST_KEYS)
        raise InputError(f"{name}: expected a list of records or an object with one of {keys}, got none")
    finder = _LineFinder(text)
    records = []
    for i, obj in enumerate(items):
        if not isinstance(obj, dict):
            raise InputError(f"{name}: $[{i}]: expected a JSON object, got {type(obj).__name__}")
        canon = _canonical_keys(obj)
        records.append(_record(canon, finder.line_of(canon.get("filename")), name))
    return records


def _read_croissant(doc: dict[str, Any], text: str, name: str) -> list[ManifestRecord]:
    dataset_license = _first_text(doc.get("license"))
    dataset_source = _first_text(doc.get("url")) or _first_text(doc.get("sameAs"))
    dataset_credit = _first_text(doc.get("citeAs")) or _creator(doc.get("creator"))
    dist = doc.get("distribution", [])
    if not isinstance(dist, list):
        raise InputError(
            f"{name}: $.distribution: expected a list of FileObject/FileSet, got {type(dist).__name__}"
        )
    finder = _LineFinder(text)
    records = []
    for obj in dist:
        if not isinstance(obj, dict):
            continue
        kind = str(obj.get("@type", ""))
        url = _first_text(obj.get("contentUrl"))
        if kind.endswith("FileSet"):
            target, pattern = _first_text(obj.get("includes")), True
        elif kind.endswith("FileObject"):
            target, pattern = url or _first_text(obj.get("name")), False
        else:
            continue
        if not target or "://" in target:  # remote archives are not files of this tree
            continue
        row = {
            "filename": target,
            "source": _first_text(obj.get("sameAs")) or dataset_source,
            "license": _first_text(obj.get("license")) or dataset_license,
            "attribution": dataset_credit,
            "sha256": _first_text(obj.get("sha256")),
        }
        rec = _record(row, finder.line_of(target), name)
        records.append(replace(rec, is_pattern=pattern))
    return records


def _record(row: dict[str, Any], line: int, name: str) -> ManifestRecord:
    values = {k: "" if v is None else str(v).strip() for k, v in row.items() if k in _ALIASES}
    extra = {k: "" if v is None else str(v) for k, v in row.items() if k not in _ALIASES}
    retention: int | None = None
    if values.get("retention_days"):
        raw = values["retention_days"]
        if not re.fullmatch(r"\d+", raw):
            raise InputError(f"{name}:{line}: retention_days: expected a whole number of days, got {raw!r}")
        retention = int(raw)
    needed: bool | None = None
    if values.get("attribution_needed"):  # an empty cell says nothing either way
        flag = values["attribution_needed"].lower()
        if flag not in _TRUE | _FALSE:
            raise InputError(f"{name}:{line}: attribution_needed: expected yes or no, got {flag!r}")
        needed = flag in _TRUE
    present = frozenset(k for k, v in values.items() if v)
    return ManifestRecord(
        filename=values.get("filename", ""),
        source=values.get("source", ""),
        license=spdx_from_url(values.get("license", "")),
        attribution=values.get("attribution", ""),
        attribution_needed=needed,
        sha256=values.get("sha256", "").lower(),
        retention_days=retention,
        subject_id=values.get("subject_id", ""),
        prefix=values.get("prefix", ""),
        line=line,
        fields=present,
        extra=extra,
    )


def spdx_from_url(value: str) -> str:
    """Licence URLs as Croissant and web manifests write them, turned into SPDX IDs."""
    if "://" not in value:
        return value
    if _CC0.search(value):
        return "CC0-1.0"
    cc = _CC.search(value)
    if cc:
        return f"CC-{cc.group(1).upper()}-{cc.group(2)}"
    spdx = _SPDX_URL.search(value)
    return spdx.group(1) if spdx else value


def _canonical(column: str) -> str:
    key = re.sub(r"[\s\-]+", "_", column.strip().lower())
    return _LOOKUP.get(key, key)


def _canonical_keys(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        canon = _canonical(str(key))
        if canon not in out:
            out[canon] = value if not isinstance(value, (dict, list)) else json.dumps(value)
    return out


def _first_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("name") or ""
    return "" if value is None else str(value).strip()


def _creator(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(_first_text(v.get("name") if isinstance(v, dict) else v) for v in items if v)


class _LineFinder:
    """Line numbers for JSON records: the line of each filename's first unclaimed occurrence."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0

    def line_of(self, value: Any) -> int:
        if not value:
            return self._text.count("\n", 0, self._pos) + 1
        needle = json.dumps(str(value))
        at = self._text.find(needle, self._pos)
        if at < 0:
            at = self._text.find(needle)
        if at < 0:
            return 1
        self._pos = at + len(needle)
        return self._text.count("\n", 0, at) + 1
