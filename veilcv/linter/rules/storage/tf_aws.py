"""``aws_s3_bucket`` joined with its companion resources (AWS provider v4+) and legacy inline blocks.

A companion names its bucket by reference (``bucket = aws_s3_bucket.frames.id`` or ``.bucket``)
or by the literal bucket name; both are joined. A companion whose bucket the checked files do not
declare (a ``data "aws_s3_bucket"`` source, a name or reference nothing matches) is joined to an
*external* bucket, on which only what the companions declare is judged: a public ACL grant or a
policy open to everyone is still a finding. An account-wide ``aws_s3_account_public_access_block``
counts for every bucket of the module.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from veilcv.linter import causes
from veilcv.linter.rules.storage.hcl import Block, integer, is_literal, reference, references, truthy
from veilcv.linter.rules.storage.model import Bucket, Grant, GuardGap, LifecycleRule, Loc, PublicCause
from veilcv.linter.rules.storage.terraform import Module
from veilcv.linter.rules.storage.tf_iam import (
    as_list,
    condition_value,
    external_name,
    policy_statements,
    prefix_of_key_pattern,
    principals,
    reads_objects,
    role_of,
)
from veilcv.linter.rules.storage.tf_instances import labelled, targets, vague

#: S3's canned ACLs (case-sensitive, as the provider validates them).
CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "aws-exec-read",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)
_PUBLIC_GRANTEES = (
    "acs.amazonaws.com/groups/global/allusers",
    "acs.amazonaws.com/groups/global/authenticatedusers",
)
_FOR_EACH_BUCKET = re.compile(r"^\$\{aws_s3_bucket\.([A-Za-z_][\w-]*)\}$")
_EACH_VALUE = ("${each.value.id}", "${each.value.bucket}")
_PAB_FLAGS = causes.PAB_FLAGS
# The settings each companion decides. One that names a bucket's instance without the code saying
# which (aws_s3_bucket.b[each.key] under an undetermined for_each) makes them unknown on every
# instance it may name; the others (objects, access points) are joined to every such instance.
_DECIDES = {
    "aws_s3_bucket_public_access_block": ("guard",),
    "aws_s3_bucket_ownership_controls": ("object_ownership",),
    "aws_s3_bucket_acl": ("public",),
    "aws_s3_bucket_policy": ("public", "tls"),
    "aws_s3_bucket_server_side_encryption_configuration": ("encryption",),
    "aws_s3_bucket_versioning": ("versioning",),
    "aws_s3_bucket_logging": ("logging",),
    "aws_s3_bucket_lifecycle_configuration": ("lifecycle", "uploads"),
    "aws_s3_bucket_object_lock_configuration": ("object_lock",),
    "aws_s3_bucket_replication_configuration": ("replication",),
}


class _Join:
    def __init__(self, module: Module) -> None:
        self.module = module
        self.by_label: dict[str, Bucket] = {}
        self.by_name: dict[str, Bucket] = {}
        self.external: dict[str, Bucket] = {}
        self.statements: dict[str, list[tuple[dict[str, Any], Loc]]] = defaultdict(list)
        # bucket address -> each public access block naming it (two may: each is reported)
        self.pab: dict[str, list[tuple[dict[str, bool], Loc]]] = defaultdict(list)
        self.acl: dict[str, tuple[bool, str, Loc, str]] = {}  # (public, why, where, cause kind)

    def bucket_of(self, value: Any) -> Bucket | None:
        found = self.buckets_of(value)
        return found[0] if len(found) == 1 else None

    def buckets_of(self, value: Any) -> list[Bucket]:
        """The bucket (instance) a reference or name points to; every instance of a bucket for a
        splat or an index the code does not determine."""
        ref = reference(value)
        if ref and ref[0] == "aws_s3_bucket":
            return targets(self.by_label, value, "aws_s3_bucket")
        if is_literal(value):
            b = self.by_name.get(str(value).split(":::")[-1])
            return [b] if b is not None else []
        return []

    def external_of(self, value: Any, file: str, block: Block) -> Bucket | None:
        """The bucket a companion names that the checked files do not declare; None without a name."""
        if value is None or value == "":
            return None
        ref = reference(value)
        m = self.module
        if ref and ref[0] == "data.aws_s3_bucket":
            label, found = labelled(m.data.get("aws_s3_bucket", {}), value, ref[0], ref[1])
            address = f"{m.prefix}data.aws_s3_bucket.{label}"
            where_file, where_line = (found[0], found[1].line) if found else (file, block.line)
            literal = found[1].get("bucket") if found else None
            name = str(literal) if is_literal(literal) else label
        elif is_literal(value):
            name = address = str(value).split(":::")[-1]
            where_file, where_line = file, block.line
        else:
            name, address = external_name(value, m.prefix)
            where_file, where_line = file, block.line
        b = self.external.get(address)
        if b is None:
            b = Bucket(name=name, provider="aws", address=address, file=where_file, line=where_line)
            b.external, b.module_call = True, m.call
            self.external[address] = b
        return b

    def companions(self, rtype: str) -> list[tuple[Bucket, str, Block]]:
        out = []
        for file, block in self.module.of(rtype):
            unsure = vague(self.by_label, block.get("bucket"), "aws_s3_bucket", block)
            if unsure is not None and rtype in _DECIDES:
                for b in unsure[0]:
                    for setting in _DECIDES[rtype]:
                        b.unknown.setdefault(setting, unsure[1])
                        if setting == "public":
                            b.causes.setdefault(
                                "public", causes.ACL if rtype.endswith("_acl") else causes.POLICY
                            )
                        b.locs.setdefault(setting, self.module.loc(file, block))
                continue
            found = self.buckets_of(block.get("bucket"))
            each = _FOR_EACH_BUCKET.match(str(block.get("for_each", "")))
            if not found and each and block.get("bucket") in _EACH_VALUE:
                # for_each = aws_s3_bucket.x (instances undetermined); bucket = each.value.id
                found = targets(self.by_label, f"${{aws_s3_bucket.{each.group(1)}}}", "aws_s3_bucket")
            if not found:
                b = self.external_of(block.get("bucket"), file, block)
                found = [b] if b is not None else []
            out.extend((b, file, block) for b in found)
        return out


def buckets(module: Module) -> list[Bucket]:
    j = _Join(module)
    for file, block in module.of("aws_s3_bucket"):
        label = block.labels[1]
        name = block.get("bucket") if is_literal(block.get("bucket")) else label
        b = Bucket(name=str(name), provider="aws", address=module.address(block), file=file, line=block.line)
        b.module_call = module.call
        j.by_label[label] = b
        j.by_name[str(name)] = b
        b.versioning = False
        b.access_logging = False
        b.tls_only = False
        b.aborts_incomplete_uploads = False
        b.immutable_reason = "object lock is not enabled"
    for file, block in module.of("aws_s3_bucket"):  # after all buckets exist: logging may point ahead
        _inline(j, j.by_label[block.labels[1]], file, block)
    _companions(j)
    _iam(j)
    every = [*j.by_label.values(), *j.external.values()]
    for b in every:
        _decide_public(j, b)
        _decide_policy_settings(j, b)
    return every


def _unknown(b: Bucket, setting: str, value: Any) -> bool:
    """Record ``setting`` as undetermined when ``value`` is an expression; True if it is."""
    if isinstance(value, str) and "${" in value and not is_literal(value):
        b.unknown.setdefault(
            setting, value[2:-1] if value.startswith("${") and value.endswith("}") else value
        )
        return True
    return False


def invalid_acl(acl: Any) -> str | None:
    """Why S3 rejects a canned ``acl`` string (None: it is canned, or not a string at all)."""
    if not isinstance(acl, str) or acl in CANNED_ACLS:
        return None
    return f'acl "{acl}" is not a canned ACL S3 accepts ({", ".join(CANNED_ACLS)})'


def _invalid_acl(b: Bucket, acl: Any, loc: Loc) -> bool:
    """An acl S3 rejects leaves unknown what the code means the bucket's ACL to be (VC201 unknown,
    naming the value); True if it is one."""
    why = invalid_acl(acl)
    if why is None:
        return False
    b.unknown.setdefault("public", "acl")
    b.invalid.setdefault("public", why)
    b.locs.setdefault("public", loc)
    return True


def _inline(j: _Join, b: Bucket, file: str, block: Block) -> None:
    m = j.module
    if "acl" in block.attrs and not _unknown(b, "public", block.get("acl")):
        _invalid_acl(b, block.get("acl"), m.loc(file, block, "acl"))
        j.acl[b.address] = (
            str(block.get("acl")) in causes.S3_PUBLIC_ACLS,  # a list or map (a mistake) is not a canned ACL
            f"acl {block.get('acl')}",
            m.loc(file, block, "acl"),
            causes.canned_acl(str(block.get("acl"))),
        )
    if "policy" in block.attrs:
        loc = m.loc(file, block, "policy")
        j.statements[b.address].extend((s, loc) for s in policy_statements(m, block.get("policy")))
    v = block.first("versioning")
    if v is not None:
        b.versioning = truthy(v.get("enabled")) is True
        _unknown(b, "versioning", v.get("enabled"))
        b.locs["versioning"] = m.loc(file, block, "versioning")
    sse = block.first("server_side_encryption_configuration")
    if sse is not None:
        _sse(b, sse, m.loc(file, block, "server_side_encryption_configuration"))
    lg = block.first("logging")
    if lg is not None:
        _logging(j, b, lg.get("target_bucket"), m.loc(file, block, "logging"))
    for rule in block.all("lifecycle_rule"):
        b.lifecycle.append(
            _lifecycle(rule, str(rule.get("prefix") or ""), m.loc(file, block, "lifecycle_rule"))
        )
        if _aborts(rule, str(rule.get("prefix") or ""), "abort_incomplete_multipart_upload_days"):
            b.aborts_incomplete_uploads = True
            b.locs.setdefault("uploads", m.loc(file, block, "lifecycle_rule"))
    if block.all("lifecycle_rule"):
        b.locs.setdefault("uploads", m.loc(file, block, "lifecycle_rule"))
    if "object_lock_enabled" in block.attrs:  # provider v4+: chosen when the bucket is created
        b.immutable = truthy(block.get("object_lock_enabled")) is True
        if not _unknown(b, "object_lock", block.get("object_lock_enabled")):
            b.immutable_reason = "object_lock_enabled is not true"
        b.locs["object_lock"] = m.loc(file, block, "object_lock_enabled")
    olc = block.first("object_lock_configuration")
    if olc is not None:
        b.object_lock = _default_retention(olc)
        _lock_enabled(b, olc.get("object_lock_enabled"))
        b.locs["object_lock"] = m.loc(file, block, "object_lock_configuration")
        _lock_periods(b, olc, b.locs["object_lock"])
    for rc in block.all("replication_configuration"):
        b.locs["replication"] = m.loc(file, block, "replication_configuration")
        _replicates(b, rc.all("rules"))
        for rule in rc.all("rules"):
            for dest in rule.all("destination"):
                b.replication_targets.append(_target(j, dest.get("bucket")))


def _companions(j: _Join) -> None:
    m = j.module
    for b, file, block in j.companions("aws_s3_bucket_public_access_block"):
        flags = {f: truthy(block.get(f)) is True for f in _PAB_FLAGS}
        for f in _PAB_FLAGS:
            _unknown(b, "guard", block.get(f))
        j.pab[b.address].append((flags, m.loc(file, block)))
    for b, file, block in j.companions("aws_s3_bucket_ownership_controls"):
        for rule in block.all("rule"):
            value = rule.get("object_ownership")
            if not _unknown(b, "object_ownership", value):
                b.object_ownership = str(value)
        b.locs["object_ownership"] = m.loc(file, block)
    for b, file, block in j.companions("aws_s3_bucket_acl"):
        if "acl" in block.attrs and not _unknown(b, "public", block.get("acl")):
            _invalid_acl(b, block.get("acl"), m.loc(file, block, "acl"))
        public = str(block.get("acl")) in causes.S3_PUBLIC_ACLS
        reason = f"acl {block.get('acl')}"
        opened: list[tuple[bool, str]] = []  # (AuthenticatedUsers only, permission) of public grants
        for acp in block.all("access_control_policy"):
            for grant in acp.all("grant"):
                for grantee in grant.all("grantee"):
                    uri = str(grantee.get("uri", "")).lower()
                    if uri.endswith(_PUBLIC_GRANTEES):
                        public, reason = True, f"ACL grant to {grantee.get('uri')}"
                        opened.append((uri.endswith(_PUBLIC_GRANTEES[1]), str(grant.get("permission", ""))))
        kind = causes.acl_grants(opened) if opened else causes.canned_acl(str(block.get("acl")))
        j.acl[b.address] = (public, reason, m.loc(file, block), kind)
    for b, file, block in j.companions("aws_s3_bucket_policy"):
        loc = m.loc(file, block)
        j.statements[b.address].extend((s, loc) for s in policy_statements(m, block.get("policy")))
    for b, file, block in j.companions("aws_s3_bucket_server_side_encryption_configuration"):
        _sse(b, block, m.loc(file, block))
    for b, file, block in j.companions("aws_s3_bucket_versioning"):
        conf = block.first("versioning_configuration")
        b.versioning = conf is not None and str(conf.get("status", "")).lower() == "enabled"
        if conf is not None:
            _unknown(b, "versioning", conf.get("status"))
        b.locs["versioning"] = m.loc(file, block)
    for b, file, block in j.companions("aws_s3_bucket_logging"):
        _logging(j, b, block.get("target_bucket"), m.loc(file, block))
    for b, file, block in j.companions("aws_s3_bucket_lifecycle_configuration"):
        b.lifecycle = [r for r in b.lifecycle if r.loc.address != m.address(block)]
        b.aborts_incomplete_uploads = False
        for rule in block.all("rule"):
            b.lifecycle.append(_lifecycle(rule, _filter_prefix(rule), Loc(file, rule.line, m.address(block))))
            if _aborts(rule, _filter_prefix(rule), None):
                b.aborts_incomplete_uploads = True
        b.locs["lifecycle"] = b.locs["uploads"] = m.loc(file, block)
    for rtype in ("aws_s3_object", "aws_s3_bucket_object"):
        for b, file, block in j.companions(rtype):
            # An object's own SSE overrides the bucket default; without one it takes the bucket's.
            sse = str(block.get("server_side_encryption", "")).lower()
            if sse and (not sse.startswith("aws:kms") or not block.get("kms_key_id")):
                b.object_keys.append(m.loc(file, block, "server_side_encryption"))
    for b, file, block in j.companions("aws_s3_access_point"):
        conf = block.first("public_access_block_configuration")
        opened = [f for f in _PAB_FLAGS if conf is not None and truthy(conf.get(f)) is False]
        if opened:  # every flag defaults to true on an access point
            b.access_points.append(
                (", ".join(opened), m.loc(file, block, "public_access_block_configuration"))
            )
    for b, file, block in j.companions("aws_s3_bucket_object_lock_configuration"):
        b.object_lock = _default_retention(block)
        _lock_enabled(b, block.get("object_lock_enabled", "Enabled"))  # its only valid value
        b.locs["object_lock"] = m.loc(file, block)
        _lock_periods(b, block, b.locs["object_lock"])
    for b, file, block in j.companions("aws_s3_bucket_replication_configuration"):
        b.locs["replication"] = m.loc(file, block)
        _replicates(b, block.all("rule"))
        for rule in block.all("rule"):
            for dest in rule.all("destination"):
                b.replication_targets.append(_target(j, dest.get("bucket")))


def _default_retention(conf: Block) -> bool:
    """Object lock protects new log objects only with a default retention (COMPLIANCE or GOVERNANCE)."""
    return any(r.first("default_retention") is not None for r in conf.all("rule"))


def _lock_periods(b: Bucket, conf: Block, loc: Loc) -> None:
    """A default retention keeps every new object version from deletion for its days (or years)."""
    for rule in conf.all("rule"):
        for d in rule.all("default_retention"):
            days, years = integer(d.get("days")), integer(d.get("years"))
            period = days if days is not None else years * 365 if years is not None else None
            if period:
                b.locks.append(("", period, loc))


def _lock_enabled(b: Bucket, value: Any) -> None:
    """``object_lock_enabled = "Enabled"`` in a lock configuration (inline or companion)."""
    if not _unknown(b, "object_lock", value):
        b.immutable = bool(b.immutable) or str(value) == "Enabled"


def _replicates(b: Bucket, rules: list[Block]) -> None:
    """A replication configuration replicates through its enabled rules (``status = "Enabled"``)."""
    statuses = [r.get("status") for r in rules]
    for status in statuses:
        _unknown(b, "replication", status)
    b.replicated = bool(b.replicated) or any(str(s).lower() == "enabled" for s in statuses)
    if not b.replicated:
        b.replicated_reason = "every replication rule is disabled" if rules else "no replication rule"


def _target(j: _Join, value: Any) -> str:
    sink = j.bucket_of(value)
    return sink.name if sink is not None else str(value)


#: The values S3 (and the provider's validation, case-sensitive) accepts for sse_algorithm.
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


def invalid_sse(algorithm: Any, given: bool) -> str | None:
    """Why S3 rejects a default-encryption rule's ``sse_algorithm`` (None: it accepts it, or the code
    does not determine it). A rule without one is rejected too (the argument is required).

    AES256 with a ``kms_master_key_id`` is refused by S3 at apply time (the key applies to aws:kms
    and aws:kms:dsse only); objects then get S3-managed keys, S3's default, so it is read as SSE-S3:
    encrypted at rest, without a customer-managed key.
    """
    if not given or algorithm is None:
        return f"an encryption rule has no sse_algorithm (S3 requires one of {', '.join(SSE_ALGORITHMS)})"
    if isinstance(algorithm, str) and "${" in algorithm and not is_literal(algorithm):
        return None
    if algorithm not in SSE_ALGORITHMS:
        shown = f'"{algorithm}"' if isinstance(algorithm, str) else str(algorithm)
        return f"sse_algorithm {shown} is not one S3 accepts ({', '.join(SSE_ALGORITHMS)})"
    return None


def sse_keys(algorithm: Any, key_id: Any) -> tuple[bool, bool]:
    """Whether a default-encryption rule encrypts with a KMS key (aws:kms, aws:kms:dsse), and with a
    customer-managed one (``kms_master_key_id`` given, by value or by reference)."""
    kms = algorithm in SSE_ALGORITHMS and algorithm.startswith("aws:kms")
    return kms, kms and bool(key_id)


def _sse(b: Bucket, conf: Block, loc: Loc) -> None:
    if "encryption" not in b.invalid:
        b.locs["encryption"] = loc
    for rule in conf.all("rule"):
        for d in rule.all("apply_server_side_encryption_by_default"):
            algo = d.get("sse_algorithm")
            _unknown(b, "encryption", algo)
            why = invalid_sse(algo, "sse_algorithm" in d.attrs)
            if why is not None and "encryption" not in b.invalid:  # S3 refuses the whole configuration
                b.encrypted = False
                b.invalid["encryption"] = why
                b.locs["encryption"] = Loc(loc.file, d.line_of("sse_algorithm"), loc.address)
            elif why is None and algo in SSE_ALGORITHMS and "encryption" not in b.invalid:
                kms, customer_managed = sse_keys(algo, d.get("kms_master_key_id"))
                b.encrypted = True
                b.kms, b.kms_key = b.kms or kms, b.kms_key or customer_managed


def _logging(j: _Join, b: Bucket, target: Any, loc: Loc) -> None:
    b.access_logging = target is not None
    sink = j.bucket_of(target)
    b.log_target = sink.name if sink is not None else (str(target) if target is not None else None)
    b.locs["logging"] = loc


def _filter_prefix(rule: Block) -> str:
    for f in rule.all("filter"):
        if f.get("prefix"):
            return str(f.get("prefix"))
        for a in f.all("and"):
            if a.get("prefix"):
                return str(a.get("prefix"))
    return str(rule.get("prefix") or "")


def _aborts(rule: Block, prefix: str, inline_attr: str | None) -> bool:
    """An enabled whole-bucket rule that aborts incomplete multipart uploads."""
    status = rule.get("status", rule.get("enabled", True))
    if not (status is True or str(status).lower() in ("enabled", "true")) or prefix:
        return False
    if inline_attr is not None:
        return integer(rule.get(inline_attr)) is not None
    return any(
        integer(a.get("days_after_initiation")) is not None
        for a in rule.all("abort_incomplete_multipart_upload")
    )


def _lifecycle(rule: Block, prefix: str, loc: Loc) -> LifecycleRule:
    status = rule.get("status", rule.get("enabled", True))
    enabled = status is True or str(status).lower() in ("enabled", "true")
    days = None
    for e in rule.all("expiration"):
        days = integer(e.get("days"))
    return LifecycleRule(prefix=prefix, expiration_days=days, enabled=enabled, loc=loc)


def _iam(j: _Join) -> None:
    """Read grants from role policies (``aws_iam_role_policy``) whose resources are bucket ARNs."""
    for file, block in j.module.of("aws_iam_role_policy"):
        role_value = str(block.get("role", ""))
        ref = reference(role_value)
        principal = ref[1] if ref else role_value
        loc = j.module.loc(file, block)
        for st in policy_statements(j.module, block.get("policy")):
            if str(st.get("Effect", "Allow")).lower() == "allow" and reads_objects(st):
                _grant_from_resources(j, principal, st, loc)


def _grant_from_resources(j: _Join, principal: str, st: dict[str, Any], loc: Loc) -> None:
    for res in as_list(st.get("Resource")):
        text = str(res)
        refs = [r for r in references(text) if r[0] == "aws_s3_bucket"]
        if refs:
            found = targets(j.by_label, text, "aws_s3_bucket")
            key = text.split("}", 1)[-1]
        else:
            arn = text.split(":::", 1)[-1]
            named = j.by_name.get(arn.split("/", 1)[0])
            found = [named] if named is not None else []
            key = "/" + arn.split("/", 1)[1] if "/" in arn else ""
        if not found or not key.startswith("/"):
            continue  # bucket-level ARNs (ListBucket) do not give object reads
        prefix = prefix_of_key_pattern(key[1:])
        for b in found:
            b.grants.append(Grant(principal, role_of(principal, j.module.roles), (prefix,), loc))


def _decide_public(j: _Join, b: Bucket) -> None:
    blocks = j.pab.get(b.address, [])
    # Blocks on one bucket overwrite each other in turn: a flag holds only where every one sets it.
    open_block = next((loc for flags, loc in blocks if not all(flags.values())), None)
    pab = (
        ({f: all(p[0][f] for p in blocks) for f in _PAB_FLAGS}, open_block or blocks[0][1])
        if blocks
        else None
    )
    account = False
    for file, block in j.module.of("aws_s3_account_public_access_block"):
        flags = {f: truthy(block.get(f)) is True for f in _PAB_FLAGS}
        if pab is None or sum(flags.values()) > sum(pab[0].values()):
            pab, account = (flags, j.module.loc(file, block)), True
    flags = pab[0] if pab else dict.fromkeys(_PAB_FLAGS, False)
    missing = [f for f in _PAB_FLAGS if not flags[f]]
    b.unguarded = (
        "no public access block" if pab is None else "public access block leaves " + ", ".join(missing)
    )
    b.causes["guard"], b.flags_off = (causes.FLAGS if pab else causes.NO_BLOCK), tuple(missing)
    for own, loc in blocks if not account else ():  # each block leaving flags off, at its resource
        off = tuple(f for f in _PAB_FLAGS if not own[f])
        if off:
            b.guard_gaps.append(
                GuardGap(causes.FLAGS, "public access block leaves " + ", ".join(off), loc, off)
            )
    if pab and not (b.external and b.address not in j.pab):  # the account's block alone: unjudged
        b.locs["guard"] = pab[1]
    if "public" in b.unknown:  # what else leaves it undetermined: an ACL
        b.causes.setdefault("public", causes.ACL)
    acl = j.acl.get(b.address)
    if acl and acl[0]:
        if not flags["ignore_public_acls"]:
            b.add_public(acl[3], acl[1], acl[2])
        else:
            why = f"{acl[1]} (ignored while ignore_public_acls is true)"
            b.guarded_public.append(PublicCause(acl[3], why, acl[2]))
    policy_guard = next((f for f in ("restrict_public_buckets", "block_public_policy") if flags[f]), None)
    for st, loc in j.statements[b.address]:
        if public_statement(st):  # each policy resource that opens it is reported, once
            if policy_guard is None:
                b.add_public(causes.POLICY, "bucket policy allows Principal *", loc)
            elif not any(g.loc == loc for g in b.guarded_public):
                why = f"bucket policy allows Principal * (blocked while {policy_guard} is true)"
                b.guarded_public.append(PublicCause(causes.POLICY, why, loc))
    if b.public_causes:
        return
    if pab and all(flags.values()):
        b.public, b.locs["public"] = False, pab[1]
        return
    b.public, b.public_reason = None, b.unguarded
    if pab:
        b.locs["public"] = pab[1]


# Condition keys that narrow Principal "*" to known callers (a network, an account, an organisation,
# a principal), when compared for equality with a value that is not a wildcard.
_NARROWING_KEYS = frozenset(
    {
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "aws:username",
        "aws:principalservicename",
        "s3:dataaccesspointaccount",
        "s3:dataaccesspointarn",
    }
)
_NARROWING_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}
)
_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
# An IAM policy variable (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`): the value
# is chosen per request, so it is not fixed. A Terraform expression left undetermined (`${var.vpce}`)
# is fixed once applied: read as a value, as before.
_POLICY_VARIABLE = re.compile(r"\$\{\s*(?:[*?$]|[\w-]+:[^}]*)\}")


def _fixed(value: str) -> bool:
    """AWS calls a policy non-public only when its conditions compare against *fixed* values: no
    wildcard (``*``, ``?``) and no policy variable, whatever the operator (``ArnEquals`` matches
    wildcards as ``ArnLike`` does)."""
    if value in _OPEN_CIDRS or _POLICY_VARIABLE.search(value):
        return False
    plain = re.sub(r"\$\{[^}]*\}", "", value)  # a Terraform expression's own `?` is no wildcard
    return "*" not in plain and "?" not in plain


def _narrows(condition: Any) -> bool:
    """Whether a policy Condition really limits who can use an Allow for Principal "*".

    Only an equality test (``StringEquals``, ``ArnLike``, ``IpAddress``...) of a caller-identifying
    key (source VPC, IP, account, organisation, principal) against fixed values narrows it: a value
    with a wildcard or a policy variable matches callers the writer cannot list, so
    ``ArnLike {"aws:PrincipalArn": "arn:aws:iam::*"}`` leaves everyone in. ``...IfExists`` and
    ``ForAllValues:`` pass anonymous requests that lack the key; negated tests (``StringNotEquals``,
    ``ArnNotLike``, ``NotIpAddress``) leave everyone else in; ``aws:SecureTransport``,
    ``aws:Referer`` and ``aws:UserAgent`` are chosen by the caller.
    """
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        op = str(operator).lower()
        if op.endswith("ifexists") or op.startswith("forallvalues:") or not isinstance(tests, dict):
            continue
        op = op.removeprefix("foranyvalue:")
        if op not in _NARROWING_OPERATORS:  # the negated operators are not in it
            continue
        for key, values in tests.items():
            wanted = [str(v).strip().lower() for v in as_list(values)]
            if str(key).lower() == "aws:userid":  # "AROLEID:*" names one role's sessions (AWS)
                wanted = [v.removesuffix(":*") for v in wanted]
            if str(key).lower() in _NARROWING_KEYS and wanted and all(_fixed(v) for v in wanted):
                return True
    return False


def public_statement(st: dict[str, Any]) -> bool:
    if str(st.get("Effect", "Allow")).lower() != "allow":
        return False
    if not any(p in ("*", "arn:aws:iam::*:root") for p in principals(st)):
        return False
    return not _narrows(st.get("Condition"))


def _decide_policy_settings(j: _Join, b: Bucket) -> None:
    for st, loc in j.statements[b.address]:
        effect = str(st.get("Effect", "Allow")).lower()
        if effect == "deny" and "false" in condition_value(st, "Bool", "aws:SecureTransport"):
            b.tls_only = True
            b.locs["tls"] = loc
        age = condition_value(st, "NumericGreaterThan", "s3:signatureAge")
        if effect == "deny" and age and age[0].isdigit():
            b.signed_url_max_seconds = int(age[0]) // 1000
            b.locs["signed_url"] = loc
        if effect == "allow" and reads_objects(st) and not public_statement(st):
            for p in principals(st):
                if p != "*":
                    _grant_from_resources(j, p, st, loc)
