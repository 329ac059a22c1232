"""Cross-file rules (VC5xx): manifests and storage configs must tell the same story.

They read the manifest index (``manifest.index``) and the storage family's bucket model
(``storage.buckets``) from ``ctx.memo``, so no file is parsed twice in a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta, Severity
from veilcv.linter.rules.manifest.index import load_manifest_records, prefix_of
from veilcv.linter.rules.storage.model import Bucket, load_buckets
from veilcv.policies.loader import with_defaults

_T = "cross"

LIFECYCLE_OUTLIVES = RuleMeta(
    "VC501",
    "lifecycle-outlives-record-retention",
    "retention",
    Severity.HIGH,
    "A manifest record promises how long its file is kept; the bucket's lifecycle rule for the file's prefix "
    "is what actually deletes it. When the lifecycle expires objects later than the record's retention (or "
    "never), personal data outlives the period the project declared, and the manifest gives reviewers a "
    "false picture of what is stored.",
    "Set the bucket's lifecycle expiration for the prefix to the records' `retention_days`, or raise the "
    "records' retention if the longer period is justified and allowed by the policy.",
    _T,
    summary="Reports a bucket whose lifecycle keeps a prefix longer than its manifest records allow.",
)
RETENTION_BEYOND_LIFECYCLE = RuleMeta(
    "VC502",
    "record-retention-beyond-lifecycle",
    "retention",
    Severity.LOW,
    "A manifest record's retention must not exceed the lifecycle expiry of the bucket prefix it is stored "
    "under: the bucket deletes the object first, so the manifest describes data that no longer exists and "
    "retention reports, exports and deletion receipts built from it are wrong.",
    "Lower the record's `retention_days` to the bucket's lifecycle expiry for the prefix, or lengthen the "
    "lifecycle rule within the policy's `retention.prefixes`.",
    _T,
    summary="Reports a record whose retention exceeds the bucket's lifecycle expiry for its prefix.",
)
UNREDACTED_PUBLIC = RuleMeta(
    "VC503",
    "unredacted-prefix-not-private",
    "public_access",
    Severity.CRITICAL,
    "A bucket holding an unredacted prefix (raw/, quarantine/) stores faces and plates in the clear. It must "
    "block public access explicitly: a bucket that is merely not public today becomes public with one ACL "
    "or policy change. This holds even where the policy relaxes public access for other buckets.",
    "Block public access on the bucket (e.g. `aws_s3_bucket_public_access_block` with all four flags, "
    '`public_access_prevention = "enforced"` on GCS, `allow_nested_items_to_be_public = false` on Azure).',
    _T,
    summary="Reports a bucket holding unredacted data that does not block public access.",
    options=("storage.unredacted_prefixes",),
)
UNREDACTED_UNENCRYPTED = RuleMeta(
    "VC504",
    "unredacted-prefix-not-encrypted",
    "encryption",
    Severity.CRITICAL,
    "Unredacted frames are the most sensitive data the project holds. Without encryption at rest, a leaked "
    "disk, snapshot or misrouted backup exposes every face and plate in them.",
    "Enable server-side encryption on the bucket (a customer-managed key where the policy requires it).",
    _T,
    summary="Reports a bucket holding unredacted data without encryption at rest.",
    options=("storage.unredacted_prefixes",),
)
UNREDACTED_UNLOGGED = RuleMeta(
    "VC505",
    "unredacted-prefix-not-logged",
    "logging",
    Severity.HIGH,
    "Access to unredacted data must be traceable: without access logs nobody can answer who read which raw "
    "frame, detect exfiltration, or honour a data subject's right to know who processed their images.",
    "Turn on access logging for the bucket, shipped to a separate, immutable log bucket.",
    _T,
    summary="Reports a bucket holding unredacted data without access logging.",
    options=("storage.unredacted_prefixes",),
)

RULES: tuple[RuleMeta, ...] = (
    LIFECYCLE_OUTLIVES,
    RETENTION_BEYOND_LIFECYCLE,
    UNREDACTED_PUBLIC,
    UNREDACTED_UNENCRYPTED,
    UNREDACTED_UNLOGGED,
)


def check(ctx: LintContext) -> Iterable[Finding]:
    buckets = load_buckets(ctx)
    if not buckets:
        return
    yield from _retention(ctx, buckets)
    yield from _unredacted(ctx, buckets)


def _holders(buckets: list[Bucket], prefix: str) -> list[Bucket]:
    """Buckets the configs show holding ``prefix``; the only bucket when there is just one."""
    holders = [b for b in buckets if any(prefix.startswith(p) for p in b.declared_prefixes())]
    return holders or (buckets if len(buckets) == 1 else [])


def _finding(rule: RuleMeta, bucket: Bucket, setting: str, message: str) -> Finding:
    loc = bucket.where(setting)
    return Finding(rule.id, message, loc.file, loc.line, resource=loc.address)


def _retention(ctx: LintContext, buckets: list[Bucket]) -> Iterator[Finding]:
    index = load_manifest_records(ctx)
    prefixes = list(ctx.policy.get("retention", {}).get("prefixes", {}))
    prefixes += ctx.policy.get("storage", {}).get("unredacted_prefixes", [])
    # Per (bucket, prefix) the shortest record retention: the lifecycle must not keep data longer.
    shortest: dict[tuple[str, str], tuple[int, str, int, Bucket]] = {}
    for manifest in index.manifests:
        for record in manifest.records:
            if record.retention_days is None:
                continue
            prefix = prefix_of(manifest.path_of(record), record, prefixes)
            if prefix is None:
                continue
            for bucket in _holders(buckets, prefix):
                expiry = bucket.expiry_for(prefix)
                if expiry is not None and record.retention_days > expiry:
                    msg = (
                        f"{record.filename}: retention_days {record.retention_days} exceeds the {expiry}-day "
                        f"lifecycle expiry of {bucket.address} for {prefix}"
                    )
                    yield Finding(
                        RETENTION_BEYOND_LIFECYCLE.id,
                        msg,
                        manifest.file,
                        record.line,
                        resource=bucket.address,
                    )
                key = (bucket.address, prefix)
                if key not in shortest or record.retention_days < shortest[key][0]:
                    shortest[key] = (record.retention_days, manifest.file, record.line, bucket)
    for (address, prefix), (days, file, line, bucket) in sorted(shortest.items(), key=lambda kv: kv[0]):
        expiry = bucket.expiry_for(prefix)
        if expiry is None or expiry > days:
            kept = "never expires objects" if expiry is None else f"expires objects after {expiry} days"
            msg = f"the lifecycle of {address} for {prefix} {kept}, but {file}:{line} keeps them {days} days"
            rule = next((r for r in bucket.lifecycle if r.enabled and r.expiration_days == expiry), None)
            loc = (
                rule.loc if rule is not None and prefix.startswith(rule.prefix) else bucket.where("lifecycle")
            )
            yield Finding(LIFECYCLE_OUTLIVES.id, msg, loc.file, loc.line, resource=loc.address)


def _unredacted(ctx: LintContext, buckets: list[Bucket]) -> Iterator[Finding]:
    unredacted = ctx.policy.get("storage", {}).get("unredacted_prefixes", [])
    # encryption at rest as VC203 judges it: the policy's reading (declared or provider default)
    setting = with_defaults(ctx.policy)["storage"]["encryption"]
    for bucket in buckets:
        held = sorted(
            p
            for p in unredacted
            if any(d.startswith(p) or p.startswith(d) for d in bucket.declared_prefixes())
        )
        if not held:
            continue
        what = f"bucket {bucket.name} holds unredacted data ({', '.join(held)})"
        if bucket.public is not False:
            state = "is public" if bucket.public else "does not block public access"
            yield _finding(UNREDACTED_PUBLIC, bucket, "public", f"{what} and {state}")
        if bucket.unencrypted(setting):
            yield _finding(
                UNREDACTED_UNENCRYPTED, bucket, "encryption", f"{what} and is not encrypted at rest"
            )
        if not bucket.access_logging:
            yield _finding(UNREDACTED_UNLOGGED, bucket, "logging", f"{what} and has no access logging")
