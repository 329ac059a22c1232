"""``google_storage_bucket`` joined with its IAM members/bindings and ACLs.

Cloud Storage always encrypts at rest (Google-managed keys unless ``encryption.default_kms_key_name``
names a customer-managed one) and its APIs for private data require HTTPS, so ``encrypted`` and
``tls_only`` are true by construction. A locked ``retention_policy`` makes a bucket an
immutable log sink.
"""

from __future__ import annotations

import re
from typing import Any

from veilcv.linter import causes
from veilcv.linter.rules.storage.hcl import Block, integer, is_literal, reference, truthy
from veilcv.linter.rules.storage.model import Bucket, Grant, LifecycleRule, Loc, PublicCause
from veilcv.linter.rules.storage.terraform import Module
from veilcv.linter.rules.storage.tf_iam import as_list, external_name, role_of
from veilcv.linter.rules.storage.tf_instances import labelled, targets, vague

#: IAM members and ACL entities that stand for everyone (lowercased).
PUBLIC_MEMBERS = ("allusers", "allauthenticatedusers")
#: Roles that let a member read a bucket's objects (lowercased).
READ_ROLES = frozenset(
    {
        "roles/storage.objectviewer",
        "roles/storage.legacyobjectreader",
        "roles/storage.objectadmin",
        "roles/storage.objectuser",
        "roles/storage.admin",
        "roles/storage.legacybucketowner",
    }
)
#: Why a public grant on a bucket with enforced public access prevention does not take effect (yet).
UNDER_PAP = " (blocked while public_access_prevention is enforced)"
# A CEL condition such as resource.name.startsWith("projects/_/buckets/frames/objects/redacted/")
_CEL_PREFIX = re.compile(r"startsWith\(\s*[\"']projects/_/buckets/[^/]+/objects/([^\"']*)[\"']\s*\)")


def buckets(module: Module) -> list[Bucket]:
    by_label: dict[str, Bucket] = {}
    by_name: dict[str, Bucket] = {}
    for file, block in module.of("google_storage_bucket"):
        label = block.labels[1]
        name = str(block.get("name")) if is_literal(block.get("name")) else label
        b = Bucket(name=name, provider="gcp", address=module.address(block), file=file, line=block.line)
        b.encrypted, b.tls_only = True, True
        enc = block.first("encryption")
        b.kms_key = enc is not None and bool(enc.get("default_kms_key_name"))
        if enc is not None:
            b.locs["encryption"] = module.loc(file, block, "encryption")
        v = block.first("versioning")
        b.versioning = v is not None and truthy(v.get("enabled")) is True
        if v is not None:
            b.locs["versioning"] = module.loc(file, block, "versioning")
        lg = block.first("logging")
        b.access_logging = lg is not None and bool(lg.get("log_bucket"))
        if lg is not None:
            b.locs["logging"] = module.loc(file, block, "logging")
        rp = block.first("retention_policy")
        b.object_lock = rp is not None and truthy(rp.get("is_locked")) is True
        if rp is not None or "enable_object_retention" in block.attrs:
            attr = "retention_policy" if rp is not None else "enable_object_retention"
            b.locs["object_lock"] = module.loc(file, block, attr)
        read_retention(b, rp, block.get("enable_object_retention"), b.where("object_lock"))
        # Without `location` (provider v3 only) a bucket was created in the US multi-region.
        read_placement(b, block.get("location", "US"), block.first("custom_placement_config"))
        if "location" in block.attrs:
            b.locs["replication"] = module.loc(file, block, "location")
        uniform = block.get("uniform_bucket_level_access")
        b.uniform_access = truthy(uniform) is True
        if "uniform_bucket_level_access" in block.attrs:
            b.locs["uniform_access"] = module.loc(file, block, "uniform_bucket_level_access")
            if isinstance(uniform, str) and "${" in uniform:
                b.unknown["uniform_access"] = uniform[2:-1]
        prevention = str(block.get("public_access_prevention", "")).lower()
        b.public = False if prevention == "enforced" else None
        b.public_reason = "" if b.public is False else "public_access_prevention is not enforced"
        b.unguarded = b.public_reason
        b.causes["guard"] = causes.PREVENTION
        if "public_access_prevention" in block.attrs:
            b.locs["public"] = b.locs["guard"] = module.loc(file, block, "public_access_prevention")
        b.aborts_incomplete_uploads = False
        for rule in block.all("lifecycle_rule"):
            b.lifecycle.extend(_lifecycle(rule, module.loc(file, block, "lifecycle_rule")))
            action = rule.first("action")
            if action is not None and str(action.get("type", "")).lower() == "abortincompletemultipartupload":
                b.aborts_incomplete_uploads = True
        if block.all("lifecycle_rule"):
            b.locs["uploads"] = b.locs["lifecycle"] = module.loc(file, block, "lifecycle_rule")
        soft = block.first("soft_delete_policy")
        seconds = integer(soft.get("retention_duration_seconds")) if soft is not None else None
        b.soft_delete = seconds is None or seconds > 0  # absent: Cloud Storage keeps deletes 7 days
        if soft is not None:
            b.locs["soft_delete"] = module.loc(file, block, "soft_delete_policy")
        by_label[label] = b
        by_name[name] = b
        if lg is not None:
            b.log_target = _name(lg.get("log_bucket"), by_label, by_name)

    external: dict[str, Bucket] = {}

    def buckets_of(value: Any, file: str, block: Block) -> list[Bucket]:
        ref = reference(value)
        if ref and ref[0] == "google_storage_bucket":
            found = targets(by_label, value, "google_storage_bucket")
            if found:
                return found
        if is_literal(value) and str(value) in by_name:
            return [by_name[str(value)]]
        b = _external(module, external, value, file, block)
        return [b] if b is not None else []

    def unsure(file: str, block: Block) -> bool:
        """A public grant on an instance the code does not say which: public is unknown on each."""
        found = vague(by_label, block.get("bucket"), "google_storage_bucket", block)
        if found is None or not _grants_public(block):
            return False
        kind = causes.IAM if block.labels[0].endswith(("_member", "_binding")) else _acl_cause(block)
        for b in found[0]:
            b.unknown.setdefault("public", found[1])
            b.causes.setdefault("public", kind)
            b.locs.setdefault("public", module.loc(file, block))
        return True

    for rtype in ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding"):
        for file, block in module.of(rtype):
            if not unsure(file, block):
                for b in buckets_of(block.get("bucket"), file, block):
                    _iam(module, b, file, block)
    for file, block in module.of("google_storage_bucket_acl"):
        if not unsure(file, block):
            for b in buckets_of(block.get("bucket"), file, block):
                _acl(module, b, file, block)
    for b in by_label.values():  # log targets may name a bucket declared later in the module
        if b.log_target and b.log_target not in by_name:
            b.log_target = _name(b.log_target, by_label, by_name)
    return [*by_label.values(), *external.values()]


def read_retention(
    b: Bucket, policy: Block | dict[str, Any] | None, object_retention: Any, where: Loc | None = None
) -> None:
    """A retention policy keeps every object for its period, locked or not (an unlocked policy binds
    every writer, as S3's governance mode does); ``enable_object_retention`` lets writers lock
    objects one by one (as S3 object lock without a default retention)."""
    period = policy.get("retention_period") if policy is not None else None
    unknown = _undetermined(b, "object_lock", period)
    unknown = _undetermined(b, "object_lock", object_retention) or unknown
    seconds = integer(period)
    b.immutable = (seconds is not None and seconds > 0) or truthy(object_retention) is True
    if seconds:
        # No object is deleted before that age (a lifecycle rule's expiry waits for it).
        b.locks.append(("", -(-seconds // 86400), where or b.where("object_lock")))
    if unknown:
        b.immutable_reason = "its retention may be off"
    elif policy is None:
        b.immutable_reason = "no retention_policy and object retention is not enabled"
    else:
        b.immutable_reason = f"retention_policy has a retention_period of {period}"


def _undetermined(b: Bucket, setting: str, value: Any) -> bool:
    if isinstance(value, str) and "${" in value:
        whole = value.startswith("${") and value.endswith("}")
        b.unknown.setdefault(setting, value[2:-1] if whole else value)
        return True
    return False


def is_single_region(location: str) -> bool:
    """Cloud Storage region names have a hyphen (``europe-west1``); multi-regions (``EU``, ``US``,
    ``ASIA``) and predefined dual-regions (``EUR4``, ``NAM4``, ``ASIA1``) do not."""
    return "-" in location


def read_placement(b: Bucket, location: Any, custom: Block | dict[str, Any] | None) -> None:
    """A multi-region or dual-region bucket keeps a copy of every object in two regions or more."""
    unknown = _undetermined(b, "replication", location)
    locations = as_list(custom.get("data_locations")) if custom is not None else []
    # A configurable dual-region names its two regions in custom_placement_config.
    b.replicated = len(locations) >= 2 or (
        isinstance(location, str) and not unknown and not is_single_region(location)
    )
    if not isinstance(location, str):
        b.replicated_reason = "no location"
    elif unknown:
        b.replicated_reason = "the location may be a single region"
    else:
        b.replicated_reason = f"location {location} is a single region"


def _external(
    module: Module, external: dict[str, Bucket], value: Any, file: str, block: Block
) -> Bucket | None:
    """A bucket the checked files do not declare (a data source, a name or reference nothing
    matches): only what its IAM members and ACLs declare is judged."""
    if value is None or value == "":
        return None
    ref = reference(value)
    where_file, where_line = file, block.line
    if ref and ref[0] == "data.google_storage_bucket":
        label, found = labelled(module.data.get("google_storage_bucket", {}), value, ref[0], ref[1])
        address = f"{module.prefix}data.google_storage_bucket.{label}"
        literal = found[1].get("name") if found else None
        name = str(literal) if is_literal(literal) else label
        if found:
            where_file, where_line = found[0], found[1].line
    elif is_literal(value):
        name = address = str(value)
    else:
        name, address = external_name(value, module.prefix)
    b = external.get(address)
    if b is None:
        b = Bucket(name=name, provider="gcp", address=address, file=where_file, line=where_line)
        b.external, b.module_call = True, module.call
        b.encrypted, b.tls_only = True, True
        external[address] = b
    return b


def _name(value: Any, by_label: dict[str, Bucket], by_name: dict[str, Bucket]) -> str:
    ref = reference(value)
    found = targets(by_label, value, ref[0]) if ref and ref[0] == "google_storage_bucket" else []
    return found[0].name if len(found) == 1 else str(value)


def _grants_public(block: Block) -> bool:
    """Whether an IAM member/binding or ACL grants allUsers or allAuthenticatedUsers."""
    members = as_list(block.get("members")) + as_list(block.get("member"))
    entities = [str(e).lower() for e in as_list(block.get("role_entity"))]
    acl = str(block.get("predefined_acl", "")).lower()
    return (
        any(str(m).lower() in PUBLIC_MEMBERS for m in members)
        or acl in causes.GCS_PUBLIC_ACLS
        or any(e.endswith(PUBLIC_MEMBERS) for e in entities)
    )


def _acl_cause(block: Block) -> str:
    """The cause of a bucket ACL's public grants: its predefined ACL, else its public entities."""
    acl = str(block.get("predefined_acl", "")).lower()
    if acl in causes.GCS_PUBLIC_ACLS:
        return causes.canned_acl(acl)
    entities = [str(e).lower().split(":", 1) for e in as_list(block.get("role_entity"))]
    return causes.acl_grants(
        [(e[1] == "allauthenticatedusers", e[0]) for e in entities if len(e) == 2 and e[1] in PUBLIC_MEMBERS]
    )


def _acl(module: Module, b: Bucket, file: str, block: Block) -> None:
    acl = str(block.get("predefined_acl", "")).lower()
    entities = [str(e).lower() for e in as_list(block.get("role_entity"))]
    if acl in causes.GCS_PUBLIC_ACLS or any(e.endswith(PUBLIC_MEMBERS) for e in entities):
        if b.public is not False:
            b.add_public(_acl_cause(block), "bucket ACL grants allUsers", module.loc(file, block))
        else:
            why = f"bucket ACL grants allUsers{UNDER_PAP}"
            b.guarded_public.append(PublicCause(_acl_cause(block), why, module.loc(file, block)))


def _iam(module: Module, b: Bucket, file: str, block: Block) -> None:
    members = as_list(block.get("members")) + as_list(block.get("member"))
    role = str(block.get("role", "")).lower()
    loc = module.loc(file, block)
    prefixes: tuple[str, ...] = ("*",)
    for cond in block.all("condition"):
        found = _CEL_PREFIX.findall(str(cond.get("expression", "")))
        if found:
            prefixes = tuple(p or "*" for p in found)
    for member in members:
        text = str(member)
        if text.lower() in PUBLIC_MEMBERS:
            reason = f"IAM member {text} has {block.get('role')}"
            if b.public is not False:
                b.add_public(causes.IAM, reason, loc)
            else:
                b.guarded_public.append(PublicCause(causes.IAM, reason + UNDER_PAP, loc))
            continue
        if role in READ_ROLES:
            b.grants.append(Grant(text, role_of(text, module.roles), prefixes, loc))


def _lifecycle(rule: Block, loc: Loc) -> list[LifecycleRule]:
    action = rule.first("action")
    if action is None or str(action.get("type", "")).lower() != "delete":
        return []
    cond = rule.first("condition")
    age = integer(cond.get("age")) if cond is not None else None
    prefixes = as_list(cond.get("matches_prefix")) if cond is not None else []
    return [LifecycleRule(str(p), age, True, loc) for p in (prefixes or [""])]
