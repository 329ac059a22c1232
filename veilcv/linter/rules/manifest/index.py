"""Every manifest in the checked tree, read once per run and shared (``ctx.memo``) with other families."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import lru_cache

import pathspec

from veilcv.errors import InputError
from veilcv.linter.context import LintContext
from veilcv.linter.rules.manifest.reader import ManifestRecord, read_manifest
from veilcv.policies.loader import with_defaults

_RAW_MARKS = {"raw", "original", "originals", "unredacted"}
_FALSE = {"no", "n", "false", "0"}


@dataclass(frozen=True)
class LoadedManifest:
    file: str  # relative to the checked root
    records: tuple[ManifestRecord, ...] = ()
    error: str = ""  # why it could not be read; no records then

    @property
    def base(self) -> str:
        """Folder the manifest's file names are relative to ("" for the root)."""
        parent = posixpath.dirname(self.file)
        return parent + "/" if parent else ""

    def path_of(self, record: ManifestRecord) -> str | None:
        """The record's file relative to the root; None for URLs and paths that leave the tree."""
        name = record.filename.replace("\\", "/")
        if not name or "://" in name or name.startswith("/"):
            return None
        joined = posixpath.normpath(self.base + name)
        return None if joined.startswith("../") or joined == ".." else joined


@dataclass
class ManifestIndex:
    manifests: list[LoadedManifest]
    listed: dict[str, list[tuple[LoadedManifest, ManifestRecord]]] = field(default_factory=dict)
    patterns: list[tuple[LoadedManifest, ManifestRecord]] = field(default_factory=list)
    by_base: dict[str, list[LoadedManifest]] = field(default_factory=dict)  # readable manifests by folder

    def records_for(self, rel: str) -> list[tuple[LoadedManifest, ManifestRecord]]:
        found = list(self.listed.get(rel, []))
        found.extend(
            (m, r)
            for m, r in self.patterns
            if rel.startswith(m.base) and pattern_matches(r.filename, rel[len(m.base) :])
        )
        return found

    def covers(self, rel: str) -> bool:
        return bool(self.records_for(rel))

    def scopes(self, rel: str) -> list[LoadedManifest]:
        """Readable manifests whose folder contains ``rel`` (looked up per ancestor folder, not scanned)."""
        found = list(self.by_base.get("", ()))
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            found.extend(self.by_base.get("/".join(parts[:depth]) + "/", ()))
        return found


def manifest_files(ctx: LintContext) -> list[str]:
    patterns = with_defaults(ctx.policy)["manifests"]["patterns"]
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    return [f for f in ctx.files if spec.match_file(f)]


def load_manifest_records(ctx: LintContext) -> ManifestIndex:
    """Every manifest the policy's ``manifests.patterns`` match, read once per run."""
    return ctx.memo("manifest.index", lambda: _build(ctx))


def _build(ctx: LintContext) -> ManifestIndex:
    manifests = []
    for rel in manifest_files(ctx):
        try:
            manifests.append(LoadedManifest(rel, tuple(read_manifest(ctx.path(rel), display=rel))))
        except InputError as exc:
            manifests.append(LoadedManifest(rel, error=str(exc)))
    return index_manifests(manifests)


@lru_cache(maxsize=4096)
def _pattern_spec(pattern: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def pattern_matches(pattern: str, rel: str) -> bool:
    """Whether a record's file pattern (gitwildmatch, as in ``.gitignore``) matches ``rel``."""
    return _pattern_spec(pattern).match_file(rel)


def index_manifests(manifests: list[LoadedManifest]) -> ManifestIndex:
    """Which records list which files: `veil check` and `veil ingest` look files up here."""
    index = ManifestIndex(manifests)
    for manifest in manifests:
        if not manifest.error:
            index.by_base.setdefault(manifest.base, []).append(manifest)
        for record in manifest.records:
            if record.is_pattern:
                index.patterns.append((manifest, record))
                continue
            rel = manifest.path_of(record)
            if rel is not None:
                index.listed.setdefault(rel, []).append((manifest, record))
    return index


def under_prefix(rel: str, prefix: str) -> bool:
    """Whether ``rel`` lives under ``prefix`` at the root or below any folder (``data/raw/x.jpg``)."""
    return ("/" + rel).find("/" + prefix) >= 0


def prefix_of(rel: str | None, record: ManifestRecord, prefixes: list[str]) -> str | None:
    """The storage prefix a record's file belongs to: as the record says, else from its path."""
    if record.prefix:
        return record.prefix if record.prefix.endswith("/") else record.prefix + "/"
    if rel is None:
        return None
    matches = [p for p in prefixes if under_prefix(rel, p)]
    return max(matches, key=len) if matches else None


def marked_raw(record: ManifestRecord) -> bool:
    """The record says its file is not redacted (``redacted: no`` or ``stage: raw``)."""
    redacted = record.extra.get("redacted", "").strip().lower()
    stage = record.extra.get("stage", "").strip().lower()
    return redacted in _FALSE or stage in _RAW_MARKS
