"""Manifest and licence rules (VC1xx): every file of a dataset is listed, licensed, sourced and kept
no longer than the policy allows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta
from veilcv.linter.rules.manifest.index import (
    LoadedManifest,
    ManifestIndex,
    load_manifest_records,
    pattern_matches,
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
from veilcv.policies import licences
from veilcv.policies.loader import with_defaults

__all__ = ["RULES", "RULE_OF_KIND", "ManifestRecord", "check", "load_manifest_records", "read_manifest"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_Make = Callable[[str, str], Finding]


def check(ctx: LintContext) -> Iterable[Finding]:
    index = load_manifest_records(ctx)
    policy = with_defaults(ctx.policy)
    for manifest in index.manifests:
        if manifest.error:
            yield Finding(UNREADABLE.id, manifest.error, manifest.file, _error_line(manifest.error))
            continue
        if not ctx.wants(manifest.file):
            continue
        for record in manifest.records:
            yield from _check_record(ctx, policy, manifest, record)
    yield from _unlisted(ctx, policy, index)


#: The rule that reports each kind of problem the policy's verdict on a record can find.
RULE_OF_KIND: dict[str, RuleMeta] = {
    "missing_field": MISSING_FIELD,
    "missing_licence": MISSING_LICENCE,
    "invalid_spdx": INVALID_SPDX,
    "disallowed": DISALLOWED,
    "attribution": ATTRIBUTION,
    "missing_source": MISSING_SOURCE,
    "missing_retention": MISSING_RETENTION,
}


def _check_record(
    ctx: LintContext, policy: dict[str, Any], manifest: LoadedManifest, record: ManifestRecord
) -> Iterator[Finding]:
    file, line = manifest.file, record.line

    def finding(rule_id: str, message: str) -> Finding:
        return Finding(rule_id, message, file, line)

    for problem in licences.record_problems(record, policy):
        yield finding(RULE_OF_KIND[problem.kind].id, problem.message)
    if not record.filename:
        return
    yield from _check_file(ctx, manifest, record, finding)
    yield from _check_retention(policy, manifest, record, finding)


def _check_file(
    ctx: LintContext, manifest: LoadedManifest, record: ManifestRecord, finding: _Make
) -> Iterator[Finding]:
    name = record.filename
    if record.is_pattern:
        base = manifest.base
        if not any(f.startswith(base) and pattern_matches(name, f[len(base) :]) for f in ctx.files):
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
    policy: dict[str, Any], manifest: LoadedManifest, record: ManifestRecord, finding: _Make
) -> Iterator[Finding]:
    if record.retention_days is None:  # reported by the record's verdict when the policy requires it
        return
    prefixes = policy["retention"]["prefixes"]
    prefix = prefix_of(manifest.path_of(record), record, list(prefixes))
    if prefix is None or prefix not in prefixes:
        return
    limit = prefixes[prefix]["max_days"]
    if record.retention_days > limit:
        days = record.retention_days
        msg = f"{record.filename}: retention_days {days} exceeds the policy's {limit} for {prefix}"
        yield finding(RETENTION_OVER.id, msg)


def _unlisted(ctx: LintContext, policy: dict[str, Any], index: ManifestIndex) -> Iterator[Finding]:
    exts = tuple(policy["manifests"]["image_extensions"])
    for rel in ctx.files:
        if not rel.lower().endswith(exts) or not ctx.wants(rel):
            continue
        scopes = index.scopes(rel)
        if scopes and not index.covers(rel):
            names = ", ".join(m.file for m in scopes)
            yield Finding(
                UNLISTED.id, f"image is inside the folder of {names} but no record lists it", rel, 1
            )


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
