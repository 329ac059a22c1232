"""Repository rules (VC4xx): images in the tree carry no forbidden metadata, are covered by a
manifest, and raw (unredacted) frames stay under the raw prefix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta, Severity
from veilcv.linter.rules.manifest.index import load_manifest_records, marked_raw, under_prefix

_T = "repo"

FORBIDDEN_METADATA = RuleMeta(
    "VC401",
    "image-with-forbidden-metadata",
    "metadata",
    Severity.HIGH,
    "EXIF, XMP, IPTC, maker notes, thumbnails and text chunks carry GPS positions, camera serial numbers, "
    "owner names and timestamps, and embedded previews can show the unredacted picture. A committed image "
    "that still carries them leaks this to everyone who can read the repository, however well its pixels "
    "were redacted. Files under an unredacted prefix (raw/, quarantine/) are exempt: they are raw by design "
    "and protected by the storage rules instead.",
    "Run `veil meta strip FILE --in-place` (or the `veil-meta-strip` pre-commit hook), or allow the family "
    "in `metadata.allowed_families` if it is harmless (e.g. `icc_profile`).",
    _T,
    summary="Reports an image that carries metadata families the policy does not allow.",
    options=("metadata.allowed_families", "storage.unredacted_prefixes"),
)
UNVERIFIABLE = RuleMeta(
    "VC402",
    "image-metadata-unverifiable",
    "metadata",
    Severity.MEDIUM,
    "A file with an image extension whose structure the metadata parser cannot fully walk (truncated, "
    "malformed, or an unsupported variant) may hide metadata anywhere. Treating it as clean would be a "
    "silent pass; the safe default is to report that it could not be verified.",
    "Re-encode the image with a standard encoder (or strip it with `veil meta strip`), or remove it.",
    _T,
    summary="Reports an image whose metadata cannot be verified.",
)
NOT_IN_MANIFEST = RuleMeta(
    "VC403",
    "image-not-in-manifest",
    "licence",
    Severity.MEDIUM,
    "Every image of people or places in a repository needs a recorded licence, source and retention. An "
    "image outside every manifest's folder has none of them, so nobody can tell whether it may be kept or "
    "used.",
    "List the image in a manifest (a `manifest.csv` in its folder or above), or remove it from the "
    "repository.",
    _T,
    summary="Reports an image that no manifest covers.",
    options=("manifests.patterns",),
)
RAW_OUTSIDE_PREFIX = RuleMeta(
    "VC404",
    "raw-frame-outside-raw-prefix",
    "redaction",
    Severity.HIGH,
    "Unredacted frames (images a manifest marks as raw, and video files, which are raw unless a manifest "
    "marks them redacted) must live under the raw prefix, where short retention, private storage and "
    "narrow roles apply. A raw frame anywhere else escapes all of them and is one copy away from "
    "publication.",
    "Move the file under the raw prefix (e.g. `raw/`), or redact it with `veil redact` and mark the record "
    "`redacted: yes`.",
    _T,
    summary="Reports an unredacted frame stored outside the raw (unredacted) prefixes.",
    options=("storage.raw_prefix", "storage.unredacted_prefixes"),
)

RULES: tuple[RuleMeta, ...] = (FORBIDDEN_METADATA, UNVERIFIABLE, NOT_IN_MANIFEST, RAW_OUTSIDE_PREFIX)

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mts")
_REDACTED_MARKS = {"yes", "y", "true", "1"}


def check(ctx: LintContext) -> Iterable[Finding]:
    storage = ctx.policy.get("storage", {})
    unredacted = list(
        dict.fromkeys([storage.get("raw_prefix", "raw/"), *storage.get("unredacted_prefixes", [])])
    )
    exts = tuple(ctx.policy.get("manifests", {}).get("image_extensions", []))
    index = load_manifest_records(ctx)
    for rel in ctx.files:
        low = rel.lower()
        is_image, is_video = low.endswith(exts), low.endswith(VIDEO_EXTENSIONS)
        if not (is_image or is_video) or not ctx.wants(rel):
            continue
        in_raw = any(under_prefix(rel, p) for p in unredacted)
        if is_image:
            if not in_raw:
                yield from _metadata(ctx, rel)
            if not index.scopes(rel) and not index.covers(rel):
                yield Finding(NOT_IN_MANIFEST.id, "no manifest record covers this image", rel, 1)
        if not in_raw and _is_raw(index.records_for(rel), is_video):
            where = ", ".join(unredacted)
            msg = f"unredacted {'video' if is_video else 'frame'} outside the raw prefixes ({where})"
            yield Finding(RAW_OUTSIDE_PREFIX.id, msg, rel, 1)


def _is_raw(records: list[tuple[Any, Any]], is_video: bool) -> bool:
    if any(marked_raw(r) for _, r in records):
        return True
    if is_video:
        return not any(r.extra.get("redacted", "").strip().lower() in _REDACTED_MARKS for _, r in records)
    return False


def _metadata(ctx: LintContext, rel: str) -> Iterator[Finding]:
    from veilcv.core import metadata  # heavy-ish import, only when there are images to check

    allowed_names = ctx.policy.get("metadata", {}).get("allowed_families", [])
    allowed = metadata.parse_allowed(set(allowed_names))
    report = metadata.check_file(ctx.path(rel), allowed=allowed)
    if report.error is not None:
        reason = _strip_path(report.error).removeprefix("cannot verify: ")
        yield Finding(UNVERIFIABLE.id, f"metadata cannot be verified: {reason}", rel, 1)
        return
    if report.findings:
        families = ", ".join(sorted({f.family.value for f in report.findings}))
        yield Finding(FORBIDDEN_METADATA.id, f"image carries forbidden metadata: {families}", rel, 1)


def _strip_path(message: str) -> str:
    # The metadata module names absolute paths; findings name files relative to the root only.
    return message.split(": ", 1)[1] if message.startswith("/") and ": " in message else message
