"""Built-in models of the most used storage modules of the Terraform registry.

When a module call's source is one of these and its code is not on disk (no ``terraform init``
before the scan), the call's inputs are mapped to the bucket properties the rules judge, with the
module's own defaults. Each model states the module versions it follows. An input the model does
not know is reported (VC221): it might change a verdict, so it is never read as a pass. An input
whose value the code does not determine (a variable without default) makes the settings it feeds
unknown, as for resources.

Models:

* ``terraform-aws-modules/s3-bucket/aws`` v3.9-v5.x: one ``aws_s3_bucket.this[0]``; public access
  block attached with all four flags true by default, and ``control_object_ownership`` enforcing
  BucketOwnerEnforced (ACLs off). Releases before v3.9.0 had the flags false and ObjectWriter: a
  call whose ``version`` constraint (or git tag) allows only such releases gets those defaults;
  otherwise the newest release the constraint allows is judged, as Terraform installs it. No
  versioning, SSE, logging or lifecycle unless given; a caller's ``policy`` only with
  ``attach_policy = true``, and one veil cannot read leaves the bucket's publicity unknown unless a
  policy guard holds; no object lock unless ``object_lock_enabled``, replication from
  ``replication_configuration`` (a rule without ``status`` is enabled).
* ``terraform-google-modules/cloud-storage/google//modules/simple_bucket`` v6.x-v10.x: one
  ``google_storage_bucket.bucket``; versioning and uniform access (``bucket_policy_only``) on by
  default, ``public_access_prevention`` "inherited".
* ``terraform-google-modules/cloud-storage/google`` v6.x-v10.x: ``google_storage_bucket.buckets[name]``
  for each of ``names``; versioning off unless ``versioning[name]``, uniform access on unless
  ``bucket_policy_only[name]`` is false, public access prevention "inherited"; ``retention_policy``
  and ``custom_placement_config`` are maps keyed by bucket name.
* ``Azure/avm-res-storage-storageaccount/azurerm`` v0.2-v0.6: one ``azurerm_storage_account.this``;
  HTTPS only, TLS 1.2, nested items not public and public network access off by default;
  ``account_replication_type`` ZRS (one region) and no ``immutability_policy`` unless given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from veilcv.linter import causes
from veilcv.linter.rules.storage.hcl import Block, integer, is_literal, truthy
from veilcv.linter.rules.storage.model import Bucket, Grant, LifecycleRule, Loc, PublicCause
from veilcv.linter.rules.storage.terraform import Module
from veilcv.linter.rules.storage.tf_aws import (
    SSE_ALGORITHMS,
    invalid_acl,
    invalid_sse,
    public_statement,
    sse_keys,
)
from veilcv.linter.rules.storage.tf_azure import GEO_REDUNDANT, WEAK_TLS
from veilcv.linter.rules.storage.tf_gcp import PUBLIC_MEMBERS, READ_ROLES, read_placement, read_retention
from veilcv.linter.rules.storage.tf_gcp import UNDER_PAP as _UNDER_PAP
from veilcv.linter.rules.storage.tf_iam import as_list, policy_statements, role_of
from veilcv.linter.rules.storage.tf_sources import RELEASE
from veilcv.linter.rules.storage.tf_values import MODULE_META, has_expression

_PAB_FLAGS = causes.PAB_FLAGS


class _Inputs:
    """A module call's arguments, with where each is written and which are undetermined."""

    def __init__(self, call: Block, file: str, address: str, known: frozenset[str]) -> None:
        self.call, self.file, self.address = call, file, address
        self.unknown_names = sorted(
            k for k in call.attrs if k not in known and k not in MODULE_META
        ) + sorted(k for k in call.blocks if k not in known)

    def get(self, name: str, default: Any = None) -> Any:
        return self.call.attrs.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.call.attrs

    def loc(self, name: str | None = None) -> Loc:
        line = self.call.line_of(name) if name and name in self.call.attrs else self.call.line
        return Loc(self.file, line, self.address)

    def undetermined(self, b: Bucket, setting: str, *names: str) -> None:
        for name in names:
            value = self.get(name)
            if has_expression(value):
                b.unknown.setdefault(setting, _shown(value, name))


def _flag(value: Any, default: bool) -> bool:
    found = truthy(value)
    return default if found is None else found


_CONSTRAINT = re.compile(rf"^\s*(?P<op>=|!=|>=|<=|>|<|~>)?\s*{RELEASE}\s*$")


def _pad(parts: tuple[int, ...]) -> tuple[int, ...]:
    return (*parts, 0, 0, 0)[:3]


def _before(version: Any, release: tuple[int, int, int]) -> bool:
    """Whether every release a ``version`` constraint allows is older than ``release``.

    Terraform installs the newest release the constraint allows, so that is the one judged:
    ``"3.7.0"``, ``"~> 3.7.0"`` and ``"< 3.9"`` stay before 3.9.0; ``"~> 3.0"`` (the newest 3.x),
    ``">= 3.0"`` and no constraint at all reach it.
    """
    if not isinstance(version, str) or not is_literal(version):
        return False
    bound: tuple[tuple[int, ...], bool] | None = None  # (newest allowed, inclusive)
    for part in version.split(","):
        m = _CONSTRAINT.match(part)
        if m is None:
            return False  # a constraint veil cannot read: judged as the latest release
        op, numbers = m.group("op") or "=", tuple(int(n) for n in m.group("numbers").split("."))
        if op in ("=", "<="):
            upper = (_pad(numbers), True)
        elif op == "<":
            upper = (_pad(numbers), False)
        elif op == "~>":  # the last given component may grow: ~> 3.7.0 -> < 3.8.0, ~> 3.7 -> < 4.0.0
            at = max(len(numbers) - 2, 0)
            upper = (_pad((*numbers[:at], numbers[at] + 1)), False)
        else:
            continue  # >=, >, != set no upper bound
        if bound is None or upper[0] < bound[0] or (upper[0] == bound[0] and not upper[1]):
            bound = upper
    if bound is None:
        return False
    newest, inclusive = bound
    return newest < release if inclusive else newest <= release


def _new(provider: str, name: str, address: str, where: Loc) -> Bucket:
    b = Bucket(name=name, provider=provider, address=address, file=where.file, line=where.line)
    b.module_call = where
    return b


# --- terraform-aws-modules/s3-bucket/aws -----------------------------------------------------

_AWS_S3_KNOWN = frozenset(
    {
        "create_bucket", "bucket", "bucket_prefix", "acl", "policy", "attach_policy",
        "attach_deny_insecure_transport_policy", "attach_require_latest_tls_policy",
        "attach_public_policy", *_PAB_FLAGS, "versioning", "server_side_encryption_configuration",
        "logging", "lifecycle_rule", "object_lock_enabled", "object_lock_configuration",
        "control_object_ownership", "object_ownership", "grant", "owner", "replication_configuration",
        "expected_bucket_owner", "tags", "force_destroy", "request_payer", "acceleration_status",
        "website", "cors_rule", "intelligent_tiering", "metric_configuration",
        "inventory_configuration", "inventory_source_account_id", "inventory_source_bucket_arn",
        "inventory_self_source_destination", "analytics_configuration", "analytics_source_account_id",
        "analytics_source_bucket_arn", "analytics_self_source_destination",
        "attach_elb_log_delivery_policy", "attach_lb_log_delivery_policy",
        "attach_access_log_delivery_policy", "attach_cloudtrail_log_delivery_policy",
        "attach_deny_incorrect_encryption_headers", "attach_deny_incorrect_kms_key_sse",
        "allowed_kms_key_arn", "attach_deny_unencrypted_object_uploads",
        "attach_deny_ssec_encrypted_object_uploads", "attach_inventory_destination_policy",
        "attach_analytics_destination_policy", "attach_waf_log_delivery_policy",
        "access_log_delivery_policy_source_buckets", "access_log_delivery_policy_source_accounts",
        "access_log_delivery_policy_source_organizations", "lb_log_delivery_policy_source_organizations",
        "transition_default_minimum_object_size", "putin_khuylo", "is_directory_bucket",
        "data_redundancy", "type", "availability_zone_id", "location_type", "create_metadata_configuration",
    }
)  # fmt: skip


#: The release that turned the public access block flags on and ACLs off by default.
_S3_SECURE_DEFAULTS = (3, 9, 0)


def _whole_expr(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _shown(value: Any, name: str) -> str:
    whole = isinstance(value, str) and value.startswith("${") and value.endswith("}")
    return value[2:-1] if whole else f"input {name}"


def _s3_policy(inp: _Inputs, module: Module) -> tuple[list[dict[str, Any]], str]:
    """The statements of the policy the module attaches (``attach_policy = true``), and what makes it
    unreadable ("" when it is read or not attached): a document veil cannot see, an expression."""
    attach, policy = inp.get("attach_policy"), inp.get("policy")
    if policy is None or truthy(attach) is False or (attach is None and not inp.has("attach_policy")):
        return [], ""
    if has_expression(attach):
        return [], _shown(attach, "attach_policy")
    if isinstance(policy, str) and policy.startswith("${data.aws_iam_policy_document."):
        name = policy[len("${data.aws_iam_policy_document.") :].split(".")[0]
        if name not in module.data.get("aws_iam_policy_document", {}):
            return [], _shown(policy, "policy")
        return policy_statements(module, policy), ""
    statements = policy_statements(module, policy)
    if not statements and has_expression(policy):
        return [], _shown(policy, "policy")
    return statements, ""


def aws_s3_bucket(call: Block, file: str, address: str, module: Module) -> tuple[list[Bucket], list[str]]:
    inp = _Inputs(call, file, address, _AWS_S3_KNOWN)
    if truthy(inp.get("create_bucket")) is False:
        return [], inp.unknown_names
    name = inp.get("bucket") if is_literal(inp.get("bucket")) else call.labels[0]
    b = _new("aws", str(name), f"{address}.aws_s3_bucket.this[0]", inp.loc())
    # Public access block (attached by default). v3.9.0 turned the four flags on by default and made
    # BucketOwnerEnforced the default object ownership; a call pinned before it gets them off.
    attached = _flag(inp.get("attach_public_policy"), True)
    old_defaults = _before(inp.get("version"), _S3_SECURE_DEFAULTS)
    flags = {f: attached and _flag(inp.get(f), not old_defaults) for f in _PAB_FLAGS}
    inp.undetermined(b, "guard", "attach_public_policy", *_PAB_FLAGS)
    inp.undetermined(b, "public", "acl")
    missing = [f for f, on in flags.items() if not on]
    b.unguarded = (
        ("public access block leaves " + ", ".join(missing)) if attached else "attach_public_policy = false"
    )
    guard_attr = next((f for f in ("attach_public_policy", *_PAB_FLAGS) if inp.has(f)), None)
    b.locs["guard"] = inp.loc(guard_attr)
    # Without attach_public_policy the module creates no public access block at all.
    b.causes["guard"], b.flags_off = (causes.FLAGS if attached else causes.NO_BLOCK), tuple(missing)
    acl = inp.get("acl")
    acl_cause = causes.canned_acl(str(acl))
    public_acl = str(acl) in causes.S3_PUBLIC_ACLS  # a list or map (a mistake) is not a canned ACL
    b.causes["public"] = causes.ACL if has_expression(acl) or invalid_acl(acl) is not None else causes.POLICY
    if invalid_acl(acl) is not None:  # passed to aws_s3_bucket_acl, which S3 refuses
        b.unknown.setdefault("public", "input acl")
        b.invalid.setdefault("public", str(invalid_acl(acl)))
        b.locs.setdefault("public", inp.loc("acl"))
    statements, unread = _s3_policy(inp, module)
    if unread and not (flags["block_public_policy"] or flags["restrict_public_buckets"]):
        # A policy veil cannot read may open the bucket; with a policy guard on it cannot.
        b.unknown.setdefault("public", unread)
    if public_acl and flags["ignore_public_acls"]:
        why = f"acl {acl} (ignored while ignore_public_acls is true)"
        b.guarded_public.append(PublicCause(acl_cause, why, inp.loc("acl")))
    if (flags["block_public_policy"] or flags["restrict_public_buckets"]) and any(
        public_statement(st) for st in statements
    ):
        guard = "restrict_public_buckets" if flags["restrict_public_buckets"] else "block_public_policy"
        why = f"bucket policy allows Principal * (blocked while {guard} is true)"
        b.guarded_public.append(PublicCause(causes.POLICY, why, inp.loc("policy")))
    if public_acl and not flags["ignore_public_acls"]:
        b.add_public(acl_cause, f"acl {acl}", inp.loc("acl"))
    if not (flags["block_public_policy"] or flags["restrict_public_buckets"]) and any(
        public_statement(st) for st in statements
    ):
        b.add_public(causes.POLICY, "bucket policy allows Principal *", inp.loc("policy"))
    if b.public_causes:
        pass  # public: each grant is reported
    elif not missing:
        b.public, b.locs["public"] = False, inp.loc(guard_attr)
    else:
        b.public, b.public_reason, b.locs["public"] = None, b.unguarded, inp.loc(guard_attr)
    # Encryption: rule is one map or a list of them (the module flattens it); only the algorithm
    # decides, a key given by reference (kms_master_key_id = aws_kms_key.x.arn) is still a key.
    sse = inp.get("server_side_encryption_configuration") or {}
    rules = as_list(sse.get("rule")) if isinstance(sse, dict) else []
    defaults = [r.get("apply_server_side_encryption_by_default") for r in rules if isinstance(r, dict)]
    defaults = [d for d in defaults if isinstance(d, dict)]
    # The module passes each rule to aws_s3_bucket_server_side_encryption_configuration as it is: an
    # algorithm S3 does not know, or none, is refused (the module reads `.sse_algorithm` directly).
    invalid = [
        why for d in defaults if d and (why := invalid_sse(d.get("sse_algorithm"), "sse_algorithm" in d))
    ]
    algos = [str(d.get("sse_algorithm")) for d in defaults if d.get("sse_algorithm") in SSE_ALGORITHMS]
    b.encrypted = False if invalid else True if algos else None
    if invalid:
        b.invalid["encryption"] = invalid[0]
    keys = [sse_keys(d.get("sse_algorithm"), d.get("kms_master_key_id")) for d in defaults]
    b.kms = not invalid and any(kms for kms, _ in keys)
    b.kms_key = not invalid and any(customer_managed for _, customer_managed in keys)
    if (
        _whole_expr(sse)
        or any(has_expression(d.get("sse_algorithm")) for d in defaults)
        or any(has_expression(r) for r in rules if not isinstance(r, dict))
    ):
        b.unknown.setdefault("encryption", "input server_side_encryption_configuration")
    b.locs["encryption"] = inp.loc("server_side_encryption_configuration")
    # Versioning: {enabled = true} or {status = "Enabled" | true}; mfa_delete and the rest do not decide
    versioning = inp.get("versioning") or {}
    status = versioning.get("enabled", versioning.get("status")) if isinstance(versioning, dict) else None
    b.versioning = truthy(status) is True or str(status).lower() == "enabled"
    if _whole_expr(versioning) or has_expression(status):
        b.unknown.setdefault(
            "versioning", _shown(status if has_expression(status) else versioning, "versioning")
        )
    b.locs["versioning"] = inp.loc("versioning")
    # Logging: the module attaches aws_s3_bucket_logging whenever the map has keys; a target given by
    # reference (module.logs.s3_bucket_id) is a target all the same.
    logging = inp.get("logging") or {}
    target = logging.get("target_bucket") if isinstance(logging, dict) else None
    b.access_logging = isinstance(logging, dict) and bool(logging)
    b.log_target = str(target) if target else None
    if _whole_expr(logging):
        b.unknown.setdefault("logging", _shown(logging, "logging"))
    b.locs["logging"] = inp.loc("logging")
    # TLS: the module's deny-insecure-transport policy, or the caller's own policy
    b.tls_only = _flag(inp.get("attach_deny_insecure_transport_policy"), False) or any(
        str(st.get("Effect", "")).lower() == "deny"
        and "aws:securetransport" in str(st.get("Condition", "")).lower()
        for st in statements
    )
    inp.undetermined(b, "tls", "attach_deny_insecure_transport_policy")
    if unread and not b.tls_only:
        b.unknown.setdefault("tls", unread)  # the unread policy may deny plain HTTP
    b.locs["tls"] = inp.loc("attach_deny_insecure_transport_policy")
    # Lifecycle
    b.aborts_incomplete_uploads = False
    for r in as_list(inp.get("lifecycle_rule")):
        if not isinstance(r, dict):
            continue
        status = r.get("status", r.get("enabled", True))
        enabled = status is True or str(status).lower() in ("enabled", "true")
        flt = r.get("filter") if isinstance(r.get("filter"), dict) else {}
        prefix = str(flt.get("prefix") or r.get("prefix") or "")
        expiration = r.get("expiration") if isinstance(r.get("expiration"), dict) else {}
        days = integer(expiration.get("days"))
        b.lifecycle.append(LifecycleRule(prefix, days, enabled, inp.loc("lifecycle_rule")))
        if enabled and not prefix and integer(r.get("abort_incomplete_multipart_upload_days")) is not None:
            b.aborts_incomplete_uploads = True
    inp.undetermined(b, "lifecycle", "lifecycle_rule")
    if inp.has("lifecycle_rule"):
        b.locs["lifecycle"] = b.locs["uploads"] = inp.loc("lifecycle_rule")
    # Object ownership and object lock
    if _flag(inp.get("control_object_ownership"), False):
        default_ownership = "ObjectWriter" if old_defaults else "BucketOwnerEnforced"
        b.object_ownership = str(inp.get("object_ownership") or default_ownership)
        inp.undetermined(b, "object_ownership", "object_ownership")
        b.locs["object_ownership"] = inp.loc("object_ownership")
    lock = inp.get("object_lock_configuration")
    b.object_lock = (
        _flag(inp.get("object_lock_enabled"), False) and isinstance(lock, dict) and bool(lock.get("rule"))
    )
    b.immutable = _flag(inp.get("object_lock_enabled"), False)
    b.immutable_reason = "object_lock_enabled is not true"
    inp.undetermined(b, "object_lock", "object_lock_enabled")
    b.locs["object_lock"] = inp.loc("object_lock_enabled")
    _s3_replication(b, inp)
    return [b], inp.unknown_names


def _s3_replication(b: Bucket, inp: _Inputs) -> None:
    """``replication_configuration = {role, rule(s) = [{status, destination = {bucket}}]}``; a rule
    without ``status`` is enabled (the module's default)."""
    conf = inp.get("replication_configuration")
    if not isinstance(conf, dict):
        inp.undetermined(b, "replication", "replication_configuration")
    found = conf.get("rule", conf.get("rules")) if isinstance(conf, dict) else None
    if has_expression(found) and not isinstance(found, (dict, list)):
        b.unknown.setdefault("replication", "input replication_configuration")
    rules = [r for r in as_list(found) if isinstance(r, dict)]
    for r in rules:
        status = r.get("status", "Enabled")
        if has_expression(status):
            b.unknown.setdefault("replication", "input replication_configuration")
        elif truthy(status) is True or str(status).lower() == "enabled":
            b.replicated = True
        dest = r.get("destination")
        if isinstance(dest, dict) and dest.get("bucket"):
            b.replication_targets.append(str(dest["bucket"]))
    b.replicated = bool(b.replicated)
    b.replicated_reason = "every replication rule is disabled" if rules else "no replication_configuration"
    b.locs["replication"] = inp.loc("replication_configuration")


# --- terraform-google-modules/cloud-storage/google -------------------------------------------

_GCS_SIMPLE_KNOWN = frozenset(
    {
        "name", "project_id", "location", "storage_class", "labels", "force_destroy",
        "bucket_policy_only", "versioning", "autoclass", "retention_policy", "custom_placement_config",
        "cors", "encryption", "lifecycle_rules", "log_bucket", "log_object_prefix", "iam_members",
        "public_access_prevention", "soft_delete_policy", "website", "internal_encryption_config",
        "hierarchical_namespace", "default_event_based_hold", "requester_pays", "enable_object_retention",
    }
)  # fmt: skip


def _gcs_common(b: Bucket, inp: _Inputs, prevention: Any) -> None:
    b.encrypted, b.tls_only = True, True
    enforced = str(prevention or "inherited").lower() == "enforced"
    b.public = False if enforced else None
    b.public_reason = b.unguarded = "" if enforced else "public_access_prevention is not enforced"
    b.locs["public"] = b.locs["guard"] = inp.loc("public_access_prevention")
    b.causes["guard"] = causes.PREVENTION
    inp.undetermined(b, "guard", "public_access_prevention")


def _gcs_lifecycle(b: Bucket, rules: Any, loc: Loc) -> None:
    b.aborts_incomplete_uploads = False
    for r in as_list(rules):
        if not isinstance(r, dict):
            continue
        action = r.get("action") if isinstance(r.get("action"), dict) else {}
        cond = r.get("condition") if isinstance(r.get("condition"), dict) else {}
        kind = str(action.get("type", "")).lower()
        if kind == "delete":
            prefixes = as_list(cond.get("matches_prefix")) or [""]
            b.lifecycle.extend(LifecycleRule(str(p), integer(cond.get("age")), True, loc) for p in prefixes)
        elif kind == "abortincompletemultipartupload":
            b.aborts_incomplete_uploads = True


def _members_unread(b: Bucket, inp: _Inputs, name: str) -> None:
    """Members the code does not determine may include allUsers: unknown, unless prevention holds."""
    if b.public is not False and has_expression(inp.get(name)):
        b.unknown.setdefault("public", _shown(inp.get(name), name))
        b.causes.setdefault("public", causes.IAM)
        b.locs.setdefault("public", inp.loc(name))


def _gcs_members(b: Bucket, members: list[tuple[str, str]], loc: Loc, roles: dict[str, Any]) -> None:
    for role, member in members:
        if member.lower() in PUBLIC_MEMBERS:
            if b.public is not False:
                b.add_public(causes.IAM, f"IAM member {member} has {role}", loc)
            else:
                why = f"IAM member {member} has {role}{_UNDER_PAP}"
                b.guarded_public.append(PublicCause(causes.IAM, why, loc))
        elif role.lower() in READ_ROLES:
            b.grants.append(Grant(member, role_of(member, roles), ("*",), loc))


def gcs_simple_bucket(call: Block, file: str, address: str, module: Module) -> tuple[list[Bucket], list[str]]:
    inp = _Inputs(call, file, address, _GCS_SIMPLE_KNOWN)
    name = inp.get("name") if is_literal(inp.get("name")) else call.labels[0]
    b = _new("gcp", str(name), f"{address}.google_storage_bucket.bucket", inp.loc())
    _gcs_common(b, inp, inp.get("public_access_prevention"))
    b.uniform_access = _flag(inp.get("bucket_policy_only"), True)
    b.locs["uniform_access"] = inp.loc("bucket_policy_only")
    inp.undetermined(b, "uniform_access", "bucket_policy_only")
    b.versioning = _flag(inp.get("versioning"), True)
    b.locs["versioning"] = inp.loc("versioning")
    inp.undetermined(b, "versioning", "versioning")
    enc = inp.get("encryption")
    b.kms_key = isinstance(enc, dict) and bool(enc.get("default_kms_key_name"))
    b.locs["encryption"] = inp.loc("encryption")
    b.access_logging = bool(inp.get("log_bucket"))
    b.log_target = str(inp.get("log_bucket")) if inp.get("log_bucket") else None
    b.locs["logging"] = inp.loc("log_bucket")
    _gcs_lifecycle(b, inp.get("lifecycle_rules"), inp.loc("lifecycle_rules"))
    if inp.has("lifecycle_rules"):
        b.locs["lifecycle"] = b.locs["uploads"] = inp.loc("lifecycle_rules")
    retention = inp.get("retention_policy")
    b.object_lock = isinstance(retention, dict) and truthy(retention.get("is_locked")) is True
    read_retention(b, retention if isinstance(retention, dict) else None, inp.get("enable_object_retention"))
    inp.undetermined(b, "object_lock", "retention_policy")
    lock_input = "enable_object_retention" if inp.has("enable_object_retention") else "retention_policy"
    b.locs["object_lock"] = inp.loc(lock_input)
    placement = inp.get("custom_placement_config")
    read_placement(b, inp.get("location"), placement if isinstance(placement, dict) else None)
    b.locs["replication"] = inp.loc("location")
    soft = inp.get("soft_delete_policy")
    seconds = integer(soft.get("retention_duration_seconds")) if isinstance(soft, dict) else None
    b.soft_delete = seconds is None or seconds > 0
    members = [
        (str(m.get("role", "")), str(m.get("member", "")))
        for m in as_list(inp.get("iam_members"))
        if isinstance(m, dict)
    ]
    _gcs_members(b, members, inp.loc("iam_members"), module.roles)
    _members_unread(b, inp, "iam_members")
    return [b], inp.unknown_names


_GCS_ROOT_KNOWN = frozenset(
    {
        "names", "prefix", "randomize_suffix", "project_id", "location", "storage_class", "labels",
        "force_destroy", "bucket_policy_only", "versioning", "autoclass", "retention_policy",
        "custom_placement_config", "cors", "encryption_key_names", "lifecycle_rules",
        "bucket_lifecycle_rules", "logging", "public_access_prevention", "soft_delete_policy", "website",
        "set_admin_roles", "admins", "bucket_admins", "set_creator_roles", "creators", "bucket_creators",
        "set_viewer_roles", "viewers", "bucket_viewers", "set_hmac_key_admin_roles", "hmac_key_admins",
        "bucket_hmac_key_admins", "set_storage_admin_roles", "storage_admins", "bucket_storage_admins",
        "folders", "default_event_based_hold", "hierarchical_namespace", "internal_encryption_config",
    }
)  # fmt: skip


def gcs_buckets(call: Block, file: str, address: str, module: Module) -> tuple[list[Bucket], list[str]]:
    inp = _Inputs(call, file, address, _GCS_ROOT_KNOWN)
    names = inp.get("names")
    if not isinstance(names, list):
        return [], [*inp.unknown_names, "names (not a literal list)"]
    prefix = inp.get("prefix")
    out = []
    for raw in names:
        key = str(raw)
        full = f"{prefix}-{key}" if is_literal(prefix) and prefix else key
        b = _new("gcp", full, f'{address}.google_storage_bucket.buckets["{key}"]', inp.loc())
        _gcs_common(b, inp, inp.get("public_access_prevention"))
        per = {
            n: (inp.get(n) if isinstance(inp.get(n), dict) else {})
            for n in ("versioning", "bucket_policy_only")
        }
        b.versioning = _flag(per["versioning"].get(key), False)
        b.locs["versioning"] = inp.loc("versioning")
        inp.undetermined(b, "versioning", "versioning")
        b.uniform_access = _flag(per["bucket_policy_only"].get(key), True)
        b.locs["uniform_access"] = inp.loc("bucket_policy_only")
        # retention_policy and custom_placement_config are maps keyed by bucket name
        retention, placement = (
            (v.get(key) if isinstance(v, dict) else None)
            for v in (inp.get("retention_policy"), inp.get("custom_placement_config"))
        )
        read_retention(b, retention if isinstance(retention, dict) else None, None)
        b.object_lock = isinstance(retention, dict) and truthy(retention.get("is_locked")) is True
        inp.undetermined(b, "object_lock", "retention_policy")
        b.locs["object_lock"] = inp.loc("retention_policy")
        read_placement(b, inp.get("location"), placement if isinstance(placement, dict) else None)
        b.locs["replication"] = inp.loc("location")
        keys = inp.get("encryption_key_names")
        b.kms_key = isinstance(keys, dict) and bool(keys.get(key))
        logging = inp.get("logging")
        sink = logging.get(key) if isinstance(logging, dict) else None
        b.access_logging = isinstance(sink, dict) and bool(sink.get("log_bucket"))
        b.log_target = str(sink.get("log_bucket")) if b.access_logging else None
        b.locs["logging"] = inp.loc("logging")
        per_bucket = inp.get("bucket_lifecycle_rules")
        rules = as_list(inp.get("lifecycle_rules")) + as_list(
            per_bucket.get(key) if isinstance(per_bucket, dict) else None
        )
        _gcs_lifecycle(b, rules, inp.loc("lifecycle_rules"))
        if rules:
            b.locs["lifecycle"] = b.locs["uploads"] = inp.loc("lifecycle_rules")
        if _flag(inp.get("set_viewer_roles"), False):
            viewers = as_list(inp.get("viewers"))
            _gcs_members(
                b, [("roles/storage.objectViewer", str(m)) for m in viewers], inp.loc("viewers"), module.roles
            )
            _members_unread(b, inp, "viewers")
        out.append(b)
    return out, inp.unknown_names


# --- Azure/avm-res-storage-storageaccount/azurerm ---------------------------------------------

_AZURE_AVM_KNOWN = frozenset(
    {
        "name", "location", "resource_group_name", "account_kind", "account_tier",
        "account_replication_type", "access_tier", "https_traffic_only_enabled", "min_tls_version",
        "allow_nested_items_to_be_public", "public_network_access_enabled", "shared_access_key_enabled",
        "infrastructure_encryption_required", "customer_managed_key", "blob_properties", "containers",
        "tags", "managed_identities", "role_assignments", "network_rules", "private_endpoints", "lock",
        "enable_telemetry", "diagnostic_settings_storage_account", "diagnostic_settings_blob",
        "cross_tenant_replication_enabled", "default_to_oauth_authentication", "edge_zone",
        "is_hns_enabled", "large_file_share_enabled", "local_user_enabled", "nfsv3_enabled",
        "queue_encryption_key_type", "table_encryption_key_type", "sftp_enabled", "queues", "tables",
        "shares", "timeouts", "allowed_copy_scope", "immutability_policy", "sas_policy",
        "static_website", "share_properties", "queue_properties", "azure_files_authentication",
        "routing", "custom_domain", "private_endpoints_manage_dns_zone_group",
        "storage_management_policy_rule",
    }
)  # fmt: skip


def azure_storage_account(
    call: Block, file: str, address: str, module: Module
) -> tuple[list[Bucket], list[str]]:
    inp = _Inputs(call, file, address, _AZURE_AVM_KNOWN)
    name = inp.get("name") if is_literal(inp.get("name")) else call.labels[0]
    b = _new("azure", str(name), f"{address}.azurerm_storage_account.this", inp.loc())
    b.encrypted = True
    b.kms_key = isinstance(inp.get("customer_managed_key"), dict)
    nested = _flag(inp.get("allow_nested_items_to_be_public"), False)
    b.public = None if nested else False
    b.public_reason = b.unguarded = "allow_nested_items_to_be_public is not false" if nested else ""
    b.locs["public"] = b.locs["guard"] = inp.loc("allow_nested_items_to_be_public")
    b.causes["guard"] = causes.NESTED_PUBLIC
    inp.undetermined(b, "guard", "allow_nested_items_to_be_public")
    containers = inp.get("containers")
    # Public containers open the account only where nested items may be public; where the code does
    # not determine either, the account may be public.
    may_nest = nested or has_expression(inp.get("allow_nested_items_to_be_public"))
    if may_nest and _whole_expr(containers):
        b.unknown.setdefault("public", _shown(containers, "containers"))
        b.causes.setdefault("public", causes.CONTAINER)
    for key, c in containers.items() if isinstance(containers, dict) else ():
        access = str(c.get("public_access", "None")).lower() if isinstance(c, dict) else "none"
        cname = str(c.get("name", key)) if isinstance(c, dict) else str(key)
        b.prefixes = (*b.prefixes, cname + "/")
        if access in ("blob", "container") and nested:
            # One input holds them all: one finding, at the input, naming the first public container.
            b.add_public(
                causes.CONTAINER, f"container {cname} has public_access {access}", inp.loc("containers")
            )
        elif may_nest and (access in ("blob", "container") or has_expression(c)):
            b.unknown.setdefault("public", f"input containers ({cname})")
            b.causes.setdefault("public", causes.CONTAINER)
            b.locs["public"] = inp.loc("containers")
    props = inp.get("blob_properties")
    props = props if isinstance(props, dict) else {}
    b.versioning = truthy(props.get("versioning_enabled")) is True
    b.locs["versioning"] = b.locs["soft_delete"] = inp.loc("blob_properties")
    retention = props.get("delete_retention_policy")
    b.soft_delete = isinstance(retention, dict) and (integer(retention.get("days")) or 7) > 0
    https = _flag(inp.get("https_traffic_only_enabled"), True)
    tls = str(inp.get("min_tls_version") or "TLS1_2").lower()
    b.tls_only = https and tls not in WEAK_TLS
    b.tls_gaps = [(causes.HTTPS, inp.loc("https_traffic_only_enabled"))] if not https else []
    if tls in WEAK_TLS:
        b.tls_gaps.append((causes.MIN_TLS, inp.loc("min_tls_version")))
    b.locs["tls"] = inp.loc("min_tls_version" if inp.has("min_tls_version") else "https_traffic_only_enabled")
    inp.undetermined(b, "tls", "https_traffic_only_enabled", "min_tls_version")
    b.public_network_access = _flag(inp.get("public_network_access_enabled"), False)
    b.locs["public_network_access"] = inp.loc("public_network_access_enabled")
    b.access_logging = bool(inp.get("diagnostic_settings_blob"))
    b.locs["logging"] = inp.loc("diagnostic_settings_blob")
    immutability = inp.get("immutability_policy")
    state = immutability.get("state") if isinstance(immutability, dict) else None
    b.immutable = str(state).lower() in ("unlocked", "locked")
    b.object_lock = str(state).lower() == "locked"
    b.immutable_reason = f"immutability_policy state is {state}" if state else "no immutability_policy"
    inp.undetermined(b, "object_lock", "immutability_policy")
    b.locs["object_lock"] = inp.loc("immutability_policy")
    redundancy = inp.get("account_replication_type", "ZRS")  # the module's default
    b.replicated = str(redundancy).upper() in GEO_REDUNDANT
    b.replicated_reason = (
        "account_replication_type may keep every copy in one region"
        if has_expression(redundancy)
        else f"account_replication_type {redundancy} keeps every copy in one region"
    )
    inp.undetermined(b, "replication", "account_replication_type")
    b.locs["replication"] = inp.loc("account_replication_type")
    return [b], inp.unknown_names


Model = Callable[[Block, str, str, Module], tuple[list[Bucket], list[str]]]

MODELS: dict[str, Model] = {
    "terraform-aws-modules/s3-bucket/aws": aws_s3_bucket,
    "terraform-google-modules/cloud-storage/google//modules/simple_bucket": gcs_simple_bucket,
    "terraform-google-modules/cloud-storage/google": gcs_buckets,
    "azure/avm-res-storage-storageaccount/azurerm": azure_storage_account,
}
