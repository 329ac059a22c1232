"""Storage rules (VC2xx) over the joined bucket model of Terraform and plain bucket configs.

Policy keys read (a key the policy lacks takes the default pack's value): ``storage.public_access``,
``storage.encryption``, ``storage.customer_managed_key``, ``storage.versioning``,
``storage.access_logging``, ``storage.lifecycle``, ``storage.tls``, ``storage.max_signed_url_seconds``,
``storage.unredacted_prefixes``, ``storage.roles``, ``retention.prefixes.<prefix>.max_days``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding, RuleMeta
from veilcv.linter.rules.storage import rules as R
from veilcv.linter.rules.storage.model import Bucket, Loc, load_buckets, resolve
from veilcv.policies.loader import with_defaults

RULES: tuple[RuleMeta, ...] = R.RULES


def _on(storage: dict[str, Any], key: str, value: str) -> bool:
    setting = storage[key]
    return setting is True or setting == value


def _finding(rule: RuleMeta, b: Bucket, loc: Loc, message: str) -> Finding:
    return Finding(
        rule_id=rule.id,
        message=message,
        file=loc.file,
        line=loc.line,
        resource=loc.address,
        extra={"bucket": b.address, "bucket_name": b.name},
    )


def check(ctx: LintContext) -> Iterator[Finding]:
    buckets = load_buckets(ctx)
    policy = with_defaults(ctx.policy)
    storage, retention = policy["storage"], policy["retention"]["prefixes"]
    for b in buckets:
        yield from check_bucket(b, buckets, storage, retention)


def check_bucket(
    b: Bucket, buckets: list[Bucket], storage: dict[str, Any], retention: dict[str, Any]
) -> Iterator[Finding]:
    name = b.name
    if _on(storage, "public_access", "forbidden"):
        if b.public is True:
            yield _finding(
                R.PUBLIC_BUCKET, b, b.where("public"), f"bucket {name} is public: {b.public_reason}"
            )
        elif b.public is None:
            yield _finding(
                R.PUBLIC_ACCESS_NOT_BLOCKED,
                b,
                b.where("public"),
                f"bucket {name} does not block public access: {b.public_reason}",
            )
    if _on(storage, "encryption", "required") and not b.encrypted:
        yield _finding(
            R.UNENCRYPTED_BUCKET, b, b.where("encryption"), f"bucket {name} declares no encryption at rest"
        )
    if storage["customer_managed_key"] and b.encrypted and not b.kms_key:
        yield _finding(
            R.BUCKET_WITHOUT_CMK,
            b,
            b.where("encryption"),
            f"bucket {name} is not encrypted with a customer-managed key",
        )
    if _on(storage, "versioning", "required") and not b.versioning:
        yield _finding(
            R.UNVERSIONED_BUCKET, b, b.where("versioning"), f"bucket {name} does not enable versioning"
        )
    if _on(storage, "access_logging", "required"):
        if not b.access_logging and not b.is_log_sink:
            yield _finding(
                R.BUCKET_WITHOUT_ACCESS_LOGS, b, b.where("logging"), f"bucket {name} has no access logging"
            )
        elif b.access_logging and b.log_sink_immutable is False:
            yield _finding(
                R.ACCESS_LOGS_TO_MUTABLE_SINK,
                b,
                b.where("logging"),
                f"bucket {name} logs to {b.log_target}, which has no object lock or locked retention",
            )
    yield from _lifecycle(b, storage, retention)
    yield from _grants(b, storage)
    if _on(storage, "tls", "required") and not b.tls_only:
        yield _finding(
            R.TLS_NOT_ENFORCED,
            b,
            b.where("tls"),
            f"bucket {name} does not refuse plain-HTTP/old-TLS requests",
        )
    limit = storage["max_signed_url_seconds"]
    if isinstance(limit, int) and b.signed_url_max_seconds is not None and b.signed_url_max_seconds > limit:
        yield _finding(
            R.SIGNED_URL_TOO_LONG,
            b,
            b.where("signed_url"),
            f"bucket {name} allows signed URLs for {b.signed_url_max_seconds} s,"
            f" above the policy's {limit} s",
        )
    for target in b.replication_targets:
        dest = resolve(buckets, target)
        if dest is not None and (dest.public is True or not dest.encrypted):
            weakness = "public" if dest.public is True else "unencrypted"
            yield _finding(
                R.REPLICATION_TO_WEAKER_BUCKET,
                b,
                b.where("replication"),
                f"bucket {name} replicates to {dest.name}, which is {weakness}",
            )


def _lifecycle(b: Bucket, storage: dict[str, Any], retention: dict[str, Any]) -> Iterator[Finding]:
    expiring = [r for r in b.lifecycle if r.enabled and r.expiration_days is not None]
    if _on(storage, "lifecycle", "required") and not expiring and not b.is_log_sink:
        yield _finding(
            R.MISSING_LIFECYCLE, b, b.where("lifecycle"), f"bucket {b.name} has no expiring lifecycle rule"
        )
        return
    held = b.declared_prefixes()
    for prefix, spec in sorted(retention.items()):
        max_days = spec.get("max_days") if isinstance(spec, dict) else None
        if not isinstance(max_days, int) or not any(
            p.startswith(prefix) or prefix.startswith(p) for p in held
        ):
            continue
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
