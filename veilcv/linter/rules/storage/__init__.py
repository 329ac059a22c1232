"""Storage rules (VC2xx) over the joined bucket model of Terraform and plain bucket configs.

Policy keys read (a key the policy lacks takes the default pack's value): ``storage.public_access``,
``storage.guarded_public_grants``, ``storage.encryption``, ``storage.customer_managed_key``,
``storage.kms_key``, ``storage.versioning``, ``storage.access_logging``, ``storage.lifecycle``,
``storage.tls``, ``storage.max_signed_url_seconds``, ``storage.unredacted_prefixes``, ``storage.roles``,
``storage.unknown_values``,
``storage.abort_incomplete_uploads``, ``storage.public_network_access``, ``storage.soft_delete``,
``storage.object_lock``, ``storage.replication``,
``retention.prefixes.<prefix>.max_days``.

Verdicts are three-valued. A setting a bucket lacks fails; a setting whose value the code does not
determine (a variable without default, a conditional, an unknown module input) is *unknown*: with
``storage.unknown_values: fail`` (the default) it is reported, its message and the finding's
``verdict`` saying unknown; with ``pass`` it is not reported. A bucket the checked files do not
declare (``external``: a data source, an unmatched name) is judged only on what its companions
declare.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from veilcv.linter import causes
from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta
from veilcv.linter.rules.storage import rules as R
from veilcv.linter.rules.storage.model import Bucket, GuardGap, Loc, PublicCause, index, load_buckets, resolve
from veilcv.linter.rules.storage.scope import narrow as narrow  # per-file mode: the changed modules
from veilcv.policies.loader import with_defaults

RULES: tuple[RuleMeta, ...] = R.RULES


def _on(storage: dict[str, Any], key: str, value: str) -> bool:
    setting = storage[key]
    return setting is True or setting == value


def _who(b: Bucket, loc: Loc) -> str:
    """The bucket, and the resource that sets what is judged when that is another one."""
    if loc.address and loc.address != b.address:
        return f"bucket {b.name} (through {loc.address})"
    return f"bucket {b.name}"


def _finding(
    rule: RuleMeta,
    b: Bucket,
    loc: Loc,
    message: str,
    unknown: str | None = None,
    why: str | None = None,
    *,
    cause: str | None = None,
    flags_off: tuple[str, ...] = (),
) -> Finding:
    extra = {
        "bucket": b.address,
        "bucket_name": b.name,
        "bucket_file": b.file,
        "bucket_line": str(b.line),
        "provider": b.provider,
        "verdict": "unknown" if unknown else "fail",
    }
    if cause:  # what raised it, where a rule has several causes (linter/causes.py)
        extra["cause"] = cause
    if flags_off:
        extra["flags_off"] = ",".join(flags_off)
    if b.module_call is not None:
        call = b.module_call
        extra.update(
            module_call=f"{call.address} ({call.file}:{call.line})",
            module_call_address=call.address,
            module_call_file=call.file,
            module_call_line=str(call.line),
        )
        if b.module_note:
            extra["module_note"] = b.module_note
    if unknown:
        message = f"{message} (unknown: {why or f'the code does not determine `{unknown}`'})"
    return Finding(
        rule_id=rule.id, message=message, file=loc.file, line=loc.line, resource=loc.address, extra=extra
    )


class _Judge:
    """Three-valued verdicts: a failing setting whose value the code leaves undetermined is
    "unknown"; the policy's ``storage.unknown_values`` says whether unknown fails (is reported,
    marked unknown) or passes (is not reported)."""

    def __init__(self, storage: dict[str, Any]) -> None:
        self.unknown_fails = storage.get("unknown_values") != "pass"

    def fail(
        self,
        rule: RuleMeta,
        b: Bucket,
        setting: str,
        message: str,
        loc: Loc | None = None,
        *,
        cause: str | None = None,
        flags_off: tuple[str, ...] = (),
    ) -> Iterator[Finding]:
        unknown = b.unknown.get(setting)
        if unknown is not None and not self.unknown_fails:
            return
        # A value the provider rejects leaves unknown what the code will say once it is fixed.
        yield _finding(
            rule,
            b,
            loc or b.where(setting),
            message,
            unknown,
            b.invalid.get(setting),
            cause=cause,
            flags_off=flags_off,
        )


def check(ctx: LintContext) -> Iterator[Finding]:
    buckets = load_buckets(ctx)
    policy = with_defaults(ctx.policy)
    storage, retention = policy["storage"], policy["retention"]["prefixes"]
    named = index(buckets)
    for b in buckets:
        yield from check_bucket(b, named, storage, retention)
    if storage.get("unknown_values") != "pass":
        for u in ctx.cache.get("storage.unchecked_modules", []):
            yield Finding(
                rule_id=R.MODULE_NOT_CHECKED.id,
                message=f"{u.address} (source {u.source}) was not checked: {u.reason} (unknown)",
                file=u.file,
                line=u.line,
                resource=u.address,
                extra={"verdict": "unknown", "module_call": f"{u.address} ({u.file}:{u.line})"},
            )


def _missing(b: Bucket, value: bool | None) -> bool:
    """A setting fails when it is off, or undeclared on a bucket the checked files declare; on an
    external bucket an undeclared setting may be set where the bucket is, so it is not judged."""
    return value is False or (value is None and not b.external)


def check_bucket(
    b: Bucket, named: dict[str, Bucket], storage: dict[str, Any], retention: dict[str, Any]
) -> Iterator[Finding]:
    judge = _Judge(storage)
    if _on(storage, "public_access", "forbidden"):
        if b.public is True:  # one finding per grant that opens it, at the resource that grants it
            kind = b.causes.get("public", "")
            for c in b.public_causes or [PublicCause(kind, b.public_reason, b.where("public"))]:
                message = f"{_who(b, c.loc)} is public: {c.reason}"
                yield _finding(R.PUBLIC_BUCKET, b, c.loc, message, cause=c.kind)
        elif "public" in b.unknown:  # an ACL or policy the code does not determine may open it
            loc = b.where("public")
            message = f"{_who(b, loc)} may be public"
            yield from judge.fail(R.PUBLIC_BUCKET, b, "public", message, cause=b.causes.get("public"))
        if b.public is False and storage["guarded_public_grants"] == "report":
            # Latent: the grant stands in the code and takes effect as soon as the guard is lifted.
            for c in b.guarded_public:
                message = f"{_who(b, c.loc)} grants public access: {c.reason}"
                yield _finding(R.PUBLIC_BUCKET, b, c.loc, message, cause=c.kind)
        # A public bucket lacks the guard too. One the files do not declare is judged only where a
        # companion declares its guard (a bucket-level public access block): its own may be elsewhere.
        if b.public is not False and (not b.external or "guard" in b.locs):
            loc = b.where("public") if b.public is None else b.where("guard")
            reason = b.public_reason if b.public is None else (b.unguarded or "nothing blocks it")
            # one finding per guard resource that leaves it open (two public access blocks may)
            for gap in b.guard_gaps or [GuardGap(b.causes.get("guard", ""), reason, loc, b.flags_off)]:
                yield from judge.fail(
                    R.PUBLIC_ACCESS_NOT_BLOCKED,
                    b,
                    "guard",
                    f"{_who(b, gap.loc)} does not block public access: {gap.reason}",
                    gap.loc,
                    cause=gap.kind,
                    flags_off=gap.flags_off,
                )
        if b.object_ownership is not None and b.object_ownership != "BucketOwnerEnforced":
            loc = b.where("object_ownership")
            yield from judge.fail(
                R.ACLS_ENABLED,
                b,
                "object_ownership",
                f"{_who(b, loc)} keeps ACLs enabled: object ownership {b.object_ownership},"
                " not BucketOwnerEnforced",
            )
        if b.provider == "gcp" and _missing(b, b.uniform_access):
            loc = b.where("uniform_access")
            yield from judge.fail(
                R.UNIFORM_ACCESS_DISABLED,
                b,
                "uniform_access",
                f"{_who(b, loc)} does not enable uniform bucket-level access (object ACLs apply)",
            )
    if _on(storage, "public_access", "forbidden"):
        for opened, loc in b.access_points:
            yield _finding(
                R.ACCESS_POINT_PUBLIC,
                b,
                loc,
                f"{_who(b, loc)}: access point {loc.address} turns off {opened}",
            )
    if (
        storage.get("abort_incomplete_uploads") == "required"
        and b.provider in ("aws", "gcp")
        and _missing(b, b.aborts_incomplete_uploads)
    ):
        loc = b.where("uploads")
        yield from judge.fail(
            R.INCOMPLETE_UPLOADS_KEPT,
            b,
            "uploads",
            f"{_who(b, loc)} has no whole-bucket lifecycle rule aborting incomplete multipart uploads",
        )
    if storage.get("public_network_access") == "forbidden" and b.public_network_access is True:
        loc = b.where("public_network_access")
        yield from judge.fail(
            R.PUBLIC_NETWORK_ACCESS,
            b,
            "public_network_access",
            f"{_who(b, loc)} accepts connections from public networks",
        )
    if (
        storage.get("soft_delete") == "required"
        and b.provider in ("azure", "gcp")
        and _missing(b, b.soft_delete)
    ):
        loc = b.where("soft_delete")
        yield from judge.fail(
            R.SOFT_DELETE_DISABLED,
            b,
            "soft_delete",
            f"{_who(b, loc)} does not keep deleted blobs recoverable",
        )
    if storage.get("object_lock") == "required" and _missing(b, b.immutable):
        loc = b.where("object_lock")
        why = b.immutable_reason or "no object lock, retention or immutability policy"
        yield from judge.fail(
            R.OBJECT_LOCK_DISABLED, b, "object_lock", f"{_who(b, loc)} does not lock objects: {why}"
        )
    if storage.get("replication") == "required":
        yield from _replication(b, judge)
    unencrypted = b.unencrypted(storage["encryption"])
    if unencrypted:
        loc = b.where("encryption")
        what = "disables encryption at rest" if b.encrypted is False else "declares no encryption at rest"
        if "encryption" in b.invalid:
            what = f"has an invalid encryption configuration: {b.invalid['encryption']}"
        yield from judge.fail(R.UNENCRYPTED_BUCKET, b, "encryption", f"{_who(b, loc)} {what}")
    # A bucket VC203 reports is not reported again for its key; one that relies on the provider's
    # default encryption (undeclared, accepted) uses a provider-managed key, and so does one whose
    # configuration S3 refuses (VC203 says it is invalid; S3 keeps its default, SSE-S3).
    encrypted = (
        b.encrypted
        or (b.encrypted is None and not b.external and not unencrypted)
        or "encryption" in b.invalid
    )
    has_key = b.kms_key or (storage["kms_key"] == "kms_enough" and b.kms)
    if storage["customer_managed_key"] and encrypted and not has_key:
        loc = b.where("encryption")
        yield from judge.fail(
            R.BUCKET_WITHOUT_CMK,
            b,
            "encryption",
            f"{_who(b, loc)} is not encrypted with a customer-managed key",
            cause=causes.BUCKET_KEY,
        )
    if storage["customer_managed_key"]:
        for loc in b.object_keys:
            yield _finding(
                R.BUCKET_WITHOUT_CMK,
                b,
                loc,
                f"{_who(b, loc)}: object {loc.address} is not encrypted with a customer-managed key",
                cause=causes.OBJECT_KEY,
            )
    if _on(storage, "versioning", "required") and _missing(b, b.versioning):
        loc = b.where("versioning")
        yield from judge.fail(
            R.UNVERSIONED_BUCKET, b, "versioning", f"{_who(b, loc)} does not enable versioning"
        )
    if _on(storage, "access_logging", "required"):
        if _missing(b, b.access_logging) and not b.is_log_sink:
            loc = b.where("logging")
            yield from judge.fail(
                R.BUCKET_WITHOUT_ACCESS_LOGS, b, "logging", f"{_who(b, loc)} has no access logging"
            )
        elif b.access_logging and b.log_sink_immutable is False:
            loc = b.where("logging")
            yield _finding(
                R.ACCESS_LOGS_TO_MUTABLE_SINK,
                b,
                loc,
                f"{_who(b, loc)} logs to {b.log_target}, which has no object lock or locked retention",
            )
    yield from _lifecycle(b, storage, retention, judge)
    yield from _locked_past_retention(b, retention)
    yield from _grants(b, storage)
    if _on(storage, "tls", "required") and _missing(b, b.tls_only):
        gaps = b.tls_gaps or [("", b.where("tls"))]
        for kind, loc in gaps:  # Azure: HTTP allowed and TLS below 1.2 are two findings
            message = f"{_who(b, loc)} does not refuse plain-HTTP/old-TLS requests"
            if len(gaps) > 1:
                message += f" ({causes.TLS[kind]})"
            yield from judge.fail(R.TLS_NOT_ENFORCED, b, "tls", message, loc, cause=kind or None)
    limit = storage["max_signed_url_seconds"]
    if isinstance(limit, int) and b.signed_url_max_seconds is not None and b.signed_url_max_seconds > limit:
        loc = b.where("signed_url")
        yield _finding(
            R.SIGNED_URL_TOO_LONG,
            b,
            loc,
            f"{_who(b, loc)} allows signed URLs for {b.signed_url_max_seconds} s,"
            f" above the policy's {limit} s",
        )
    for target in b.replication_targets:
        dest = resolve(named, target)
        if dest is not None and (dest.public is True or (not dest.encrypted and not dest.external)):
            weakness = "public" if dest.public is True else "unencrypted"
            loc = b.where("replication")
            yield _finding(
                R.REPLICATION_TO_WEAKER_BUCKET,
                b,
                loc,
                f"{_who(b, loc)} replicates to {dest.name}, which is {weakness}",
            )


def _replication(b: Bucket, judge: _Judge) -> Iterator[Finding]:
    loc = b.where("replication")
    if _missing(b, b.replicated):
        why = b.replicated_reason or "no replication configuration"
        yield from judge.fail(
            R.UNREPLICATED_BUCKET, b, "replication", f"{_who(b, loc)} is not replicated: {why}"
        )
    elif (
        b.replicated
        and b.provider == "aws"
        and not b.immutable  # object lock turns versioning on for good
        and (b.versioning is False or "versioning" in b.unknown)
    ):
        # S3 refuses a replication configuration on a bucket without versioning (terraform apply
        # fails), so what the code declares never replicates anything.
        yield from judge.fail(
            R.UNREPLICATED_BUCKET,
            b,
            "versioning",
            f"{_who(b, loc)} is not replicated: versioning is not enabled, and S3 refuses to"
            " replicate from an unversioned bucket",
            loc,
        )


def _lifecycle(
    b: Bucket, storage: dict[str, Any], retention: dict[str, Any], judge: _Judge
) -> Iterator[Finding]:
    expiring = [r for r in b.lifecycle if r.enabled and r.expiration_days is not None]
    declared = bool(b.lifecycle) or "lifecycle" in b.locs
    setting = storage["lifecycle"]
    # ``expiring``: some enabled rule must delete objects; ``any``: a lifecycle configuration of any
    # kind passes (Checkov's reading), and VC209 still judges the expiry of each retention prefix.
    missing = not expiring if setting == "expiring" else not declared if setting == "any" else False
    # Log sinks are not exempt: access logs name principals and addresses, personal data that must
    # expire too (object lock keeps each log only for its retention period).
    if missing:
        if declared or not b.external:
            loc = b.where("lifecycle")
            what = "no expiring lifecycle rule" if setting == "expiring" else "no lifecycle configuration"
            yield from judge.fail(R.MISSING_LIFECYCLE, b, "lifecycle", f"{_who(b, loc)} has {what}")
        return
    for prefix, max_days in _retained_prefixes(b, retention):
        days = b.expiry_for(prefix)
        rule = next((r for r in b.lifecycle if r.prefix and r.prefix.startswith(prefix)), None)
        loc = rule.loc if rule else b.where("lifecycle")
        if days is None:
            yield _finding(
                R.LIFECYCLE_EXCEEDS_RETENTION,
                b,
                loc,
                f"bucket {b.name}: objects under {prefix} never expire (policy: {max_days} days)",
            )
        elif days > max_days:
            yield _finding(
                R.LIFECYCLE_EXCEEDS_RETENTION,
                b,
                loc,
                f"bucket {b.name}: objects under {prefix} expire after {days} days (policy: {max_days} days)",
            )


def _retained_prefixes(b: Bucket, retention: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """Each retention prefix with a ``max_days`` that the bucket may hold (a prefix it declares is
    the prefix, above it or below it), with its max_days."""
    held = b.declared_prefixes()
    for prefix, spec in sorted(retention.items()):
        max_days = spec.get("max_days") if isinstance(spec, dict) else None
        if isinstance(max_days, int) and any(p.startswith(prefix) or prefix.startswith(p) for p in held):
            yield prefix, max_days


def _locked_past_retention(b: Bucket, retention: dict[str, Any]) -> Iterator[Finding]:
    """A retention lock (object lock's default retention, a GCS retention policy, an Azure
    immutability policy) longer than a prefix's max_days keeps its objects past the promised date:
    no lifecycle rule, and no erasure request, can delete them before the lock ends."""
    for prefix, max_days in _retained_prefixes(b, retention):
        for scope, days, loc in b.locks:
            if days > max_days and (prefix.startswith(scope) or scope.startswith(prefix)):
                yield _finding(
                    R.LIFECYCLE_EXCEEDS_RETENTION,
                    b,
                    loc,
                    f"{_who(b, loc)}: objects under {prefix} are locked for {days} days"
                    f" (policy: {max_days} days), so nothing can delete them in time",
                )


def _covers(allowed: list[str], prefix: str) -> bool:
    return "*" in allowed or (prefix != "*" and any(prefix.startswith(a) for a in allowed))


def _grants(b: Bucket, storage: dict[str, Any]) -> Iterator[Finding]:
    roles = storage["roles"] or {}
    unredacted = storage["unredacted_prefixes"] or []
    for g in b.grants:
        allowed = [str(p) for p in (roles.get(g.role) or {}).get("prefixes") or []] if g.role else []
        for prefix in g.prefixes:
            if prefix == "*" and not _covers(allowed, "*"):
                who = f"role {g.role}" if g.role else "no policy role"
                yield _finding(
                    R.BROAD_READ_GRANT,
                    b,
                    g.loc,
                    f"bucket {b.name}: {g.principal} ({who}) can read the whole bucket",
                )
            elif prefix != "*" and g.role and not _covers(allowed, prefix):
                yield _finding(
                    R.READ_GRANT_OUTSIDE_ROLE_PREFIX,
                    b,
                    g.loc,
                    f"bucket {b.name}: {g.principal} (role {g.role}) reads {prefix},"
                    f" outside {', '.join(allowed)}",
                )
            elif (
                prefix != "*"
                and not g.role
                and any(prefix.startswith(u) or u.startswith(prefix) for u in unredacted)
            ):
                yield _finding(
                    R.READ_GRANT_OUTSIDE_ROLE_PREFIX,
                    b,
                    g.loc,
                    f"bucket {b.name}: {g.principal} (no policy role) reads unredacted prefix {prefix}",
                )
