"""Manifest and licence rules (VC1xx): every file of a dataset is listed, licensed, sourced and kept
no longer than the policy allows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

import pathspec

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding
from veilcv.linter.rules.manifest import licences
from veilcv.linter.rules.manifest.index import (
    LoadedManifest,
    ManifestIndex,
    load_manifest_records,
    prefix_of,
)
from veilcv.linter.rules.manifest.reader import ManifestRecord, read_manifest
from veilcv.linter.rules.manifest.rules import (
    ATTRIBUTION,
    CHECKSUM,
    DISALLOWED,
    INVALID_SPDX,
    LISTED_MISSING,
    MISSING_FIELD,
    MISSING_LICENCE,
    MISSING_RETENTION,
    MISSING_SOURCE,
    RETENTION_OVER,
    RULES,
    UNLISTED,
    UNREADABLE,
)

__all__ = ["RULES", "ManifestRecord", "check", "load_manifest_records", "read_manifest"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_OWN_FIELDS = {"filename", "source", "license", "retention_days"}
_Make = Callable[[str, str], Finding]


def check(ctx: LintContext) -> Iterable[Finding]:
    index = load_manifest_records(ctx)
    for manifest in index.manifests:
        if manifest.error:
            yield Finding(UNREADABLE.id, manifest.error, manifest.file, _error_line(manifest.error))
            continue
        if not ctx.wants(manifest.file):
            continue
        for record in manifest.records:
            yield from _check_record(ctx, manifest, record)
    yield from _unlisted(ctx, index)


def _check_record(ctx: LintContext, manifest: LoadedManifest, record: ManifestRecord) -> Iterator[Finding]:
    policy = ctx.policy
    conf = policy.get("licences", {})
    file, line, name = manifest.file, record.line, record.filename or "<no filename>"

    def finding(rule_id: str, message: str) -> Finding:
        return Finding(rule_id, message, file, line)

    required = conf.get("required_fields", [])
    for missing in [f for f in required if f not in _OWN_FIELDS and f not in record.fields]:
        yield finding(MISSING_FIELD.id, f"{name}: missing required field {missing}")
    if not record.filename:
        yield finding(MISSING_FIELD.id, "record has no filename")
        return
    parsed = None
    if not record.license:
        yield finding(
            MISSING_LICENCE.id, f"{name}: no licence; expected an SPDX expression such as CC-BY-4.0"
        )
    else:
        parsed, why = licences.parse(record.license)
        if parsed is None:
            yield finding(
                INVALID_SPDX.id, f"{name}: {record.license!r} is not a valid SPDX expression ({why})"
            )
        else:
            verdict = licences.judge(
                parsed, conf.get("allowed", []), conf.get("denied", []), conf.get("denied_categories", [])
            )
            if not verdict.allowed:
                yield finding(
                    DISALLOWED.id, f"{name}: licence {parsed.normalized} is not allowed: {verdict.reason}"
                )
    needed = record.attribution_needed
    if needed is None and parsed is not None:
        needed = licences.needs_attribution(parsed)
    if needed and not record.attribution:
        yield finding(ATTRIBUTION.id, f"{name}: attribution is required but the record gives none")
    if not record.source:
        yield finding(MISSING_SOURCE.id, f"{name}: no source; say where the file came from")
    yield from _check_file(ctx, manifest, record, finding)
    yield from _check_retention(ctx, manifest, record, finding)


def _check_file(
    ctx: LintContext, manifest: LoadedManifest, record: ManifestRecord, finding: _Make
) -> Iterator[Finding]:
    name = record.filename
    if record.is_pattern:
        base = manifest.base
        if not any(f.startswith(base) and _glob(name, f[len(base) :]) for f in ctx.files):
            yield finding(LISTED_MISSING.id, f"{name}: the file set matches no file")
        return
    if "://" in name:
        return
    rel = manifest.path_of(record)
    if rel is None:
        yield finding(LISTED_MISSING.id, f"{name}: the path leaves the checked tree")
        return
    path = ctx.path(rel)
    listed = ctx.memo("files.set", lambda: frozenset(ctx.files))
    if rel not in listed and not path.is_file():  # a .gitignored file still exists
        yield finding(LISTED_MISSING.id, f"{name}: listed in the manifest but not present")
        return
    if record.sha256:
        if not _SHA256.fullmatch(record.sha256):
            yield finding(CHECKSUM.id, f"{name}: sha256 {record.sha256[:16]!r} is not a 64-digit hex digest")
        elif _sha256(ctx, path) != record.sha256:
            yield finding(CHECKSUM.id, f"{name}: sha256 does not match the file's content")


def _check_retention(
    ctx: LintContext, manifest: LoadedManifest, record: ManifestRecord, finding: _Make
) -> Iterator[Finding]:
    retention = ctx.policy.get("retention", {})
    required = retention.get("require_record_retention", False) or "retention_days" in ctx.policy.get(
        "licences", {}
    ).get("required_fields", [])
    if record.retention_days is None:
        if required:
            yield finding(MISSING_RETENTION.id, f"{record.filename}: no retention_days")
        return
    prefixes = retention.get("prefixes", {})
    prefix = prefix_of(manifest.path_of(record), record, list(prefixes))
    if prefix is None or prefix not in prefixes:
        return
    limit = prefixes[prefix]["max_days"]
    if record.retention_days > limit:
        days = record.retention_days
        msg = f"{record.filename}: retention_days {days} exceeds the policy's {limit} for {prefix}"
        yield finding(RETENTION_OVER.id, msg)


def _unlisted(ctx: LintContext, index: ManifestIndex) -> Iterator[Finding]:
    exts = tuple(ctx.policy.get("manifests", {}).get("image_extensions", []))
    for rel in ctx.files:
        if not rel.lower().endswith(exts) or not ctx.wants(rel):
            continue
        scopes = index.scopes(rel)
        if scopes and not index.covers(rel):
            names = ", ".join(m.file for m in scopes)
            yield Finding(
                UNLISTED.id, f"image is inside the folder of {names} but no record lists it", rel, 1
            )


@cache
def _spec(pattern: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def _glob(pattern: str, rel: str) -> bool:
    return _spec(pattern).match_file(rel)


def _sha256(ctx: LintContext, path: Path) -> str:
    def digest() -> str:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    return ctx.memo(f"sha256:{path}", digest)


def _error_line(message: str) -> int:
    match = re.match(r"[^:]+:(\d+):", message)
    return int(match.group(1)) if match else 1
