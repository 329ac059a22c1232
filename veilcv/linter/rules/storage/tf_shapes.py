"""Arguments written in a shape Terraform rejects: a nested block written as an attribute
(``versioning = { enabled = true }`` where the provider defines a ``versioning`` block), an attribute
written as a block, or any block inside a ``module`` call (module inputs are attributes only).

``terraform validate`` fails on each, so none may pass silently: each is reported as VC004 (one
finding per file, at the first, counting the others) and read as the shape the writer evidently
meant, so the rest of the configuration, and the setting itself, are still judged. The shapes below
are the providers' schemas for the resources and arguments the storage readers read; what is not
listed is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Union

from veilcv.linter.causes import PAB_FLAGS
from veilcv.linter.context import LintContext
from veilcv.linter.rules.storage.hcl import Block

if TYPE_CHECKING:
    from veilcv.linter.rules.storage.terraform import Module

_INSTANCE = re.compile(r"\[.*\]$")

#: An argument's shape: None for an attribute, a mapping of its own arguments for a nested block.
Shape = Mapping[str, Union["Shape", None]]

#: Where :func:`conform` records what it found: ``ctx.cache[INVALID]`` maps (file, line, message) to
#: None, so a block instantiated many times (count, a module called twice) is reported once.
INVALID = "storage.invalid_arguments"


class Closed(dict):  # type: ignore[type-arg]
    """A nested block whose every argument the shape lists (the provider's whole schema for it):
    any other name is one Terraform rejects."""


_PAB: Shape = dict.fromkeys(PAB_FLAGS)
_SSE_RULE: Shape = {
    "apply_server_side_encryption_by_default": Closed(sse_algorithm=None, kms_master_key_id=None),
    "bucket_key_enabled": None,
}
_RETENTION: Shape = {"default_retention": {"mode": None, "days": None, "years": None}}
_GCS_CONDITION: Shape = {"expression": None, "title": None, "description": None}

RESOURCES: Mapping[str, Shape] = {
    # AWS provider: v3 inline blocks, v4+ split resources
    "aws_s3_bucket": {
        "bucket": None,
        "acl": None,
        "policy": None,
        "object_lock_enabled": None,
        "versioning": Closed(enabled=None, mfa_delete=None),
        "server_side_encryption_configuration": {"rule": _SSE_RULE},
        "logging": Closed(target_bucket=None, target_prefix=None),
        "lifecycle_rule": {
            "id": None,
            "prefix": None,
            "enabled": None,
            "abort_incomplete_multipart_upload_days": None,
            "expiration": {"days": None, "date": None, "expired_object_delete_marker": None},
        },
        "object_lock_configuration": {"object_lock_enabled": None, "rule": _RETENTION},
        "replication_configuration": {
            "role": None,
            "rules": {"id": None, "status": None, "destination": {"bucket": None, "storage_class": None}},
        },
    },
    "aws_s3_bucket_public_access_block": {"bucket": None, **_PAB},
    "aws_s3_account_public_access_block": _PAB,
    "aws_s3_bucket_ownership_controls": {"bucket": None, "rule": Closed(object_ownership=None)},
    "aws_s3_bucket_acl": {
        "bucket": None,
        "acl": None,
        "access_control_policy": {
            "grant": {"grantee": {"type": None, "uri": None, "id": None}, "permission": None},
            "owner": {"id": None, "display_name": None},
        },
    },
    "aws_s3_bucket_policy": {"bucket": None, "policy": None},
    "aws_s3_bucket_server_side_encryption_configuration": {"bucket": None, "rule": _SSE_RULE},
    "aws_s3_bucket_versioning": {
        "bucket": None,
        "versioning_configuration": Closed(status=None, mfa_delete=None),
    },
    "aws_s3_bucket_logging": {"bucket": None, "target_bucket": None, "target_prefix": None},
    "aws_s3_bucket_lifecycle_configuration": {
        "bucket": None,
        "rule": {
            "id": None,
            "status": None,
            "prefix": None,
            "filter": {"prefix": None, "and": {"prefix": None}},
            "expiration": {"days": None, "date": None},
            "abort_incomplete_multipart_upload": {"days_after_initiation": None},
        },
    },
    "aws_s3_object": {"bucket": None, "server_side_encryption": None, "kms_key_id": None},
    "aws_s3_bucket_object": {"bucket": None, "server_side_encryption": None, "kms_key_id": None},
    "aws_s3_access_point": {"bucket": None, "public_access_block_configuration": Closed(_PAB)},
    "aws_s3_bucket_object_lock_configuration": {
        "bucket": None,
        "object_lock_enabled": None,
        "rule": _RETENTION,
    },
    "aws_s3_bucket_replication_configuration": {
        "bucket": None,
        "role": None,
        "rule": {"id": None, "status": None, "destination": {"bucket": None, "storage_class": None}},
    },
    "aws_iam_role_policy": {"role": None, "policy": None},
    # Google provider
    "google_storage_bucket": {
        "name": None,
        "location": None,
        "uniform_bucket_level_access": None,
        "public_access_prevention": None,
        "enable_object_retention": None,
        "encryption": Closed(default_kms_key_name=None),
        "versioning": Closed(enabled=None),
        "logging": Closed(log_bucket=None, log_object_prefix=None),
        "retention_policy": Closed(retention_period=None, is_locked=None),
        "custom_placement_config": Closed(data_locations=None),
        "lifecycle_rule": {
            "action": {"type": None, "storage_class": None},
            "condition": {"age": None, "matches_prefix": None},
        },
        "soft_delete_policy": Closed(retention_duration_seconds=None, effective_time=None),
    },
    "google_storage_bucket_iam_member": {
        "bucket": None,
        "role": None,
        "member": None,
        "condition": _GCS_CONDITION,
    },
    "google_storage_bucket_iam_binding": {
        "bucket": None,
        "role": None,
        "members": None,
        "condition": _GCS_CONDITION,
    },
    "google_storage_bucket_acl": {"bucket": None, "predefined_acl": None, "role_entity": None},
    # Azure provider
    "azurerm_storage_account": {
        "name": None,
        "allow_nested_items_to_be_public": None,
        "allow_blob_public_access": None,
        "public_network_access_enabled": None,
        "https_traffic_only_enabled": None,
        "enable_https_traffic_only": None,
        "min_tls_version": None,
        "account_replication_type": None,
        "customer_managed_key": Closed(
            key_vault_key_id=None, managed_hsm_key_id=None, user_assigned_identity_id=None
        ),
        "blob_properties": {
            "versioning_enabled": None,
            "delete_retention_policy": Closed(days=None, permanent_delete_enabled=None),
            "container_delete_retention_policy": {"days": None},
        },
        "immutability_policy": Closed(
            state=None, period_since_creation_in_days=None, allow_protected_append_writes=None
        ),
    },
    "azurerm_storage_container": {
        "name": None,
        "storage_account_id": None,
        "storage_account_name": None,
        "container_access_type": None,
    },
    "azurerm_storage_account_customer_managed_key": {"storage_account_id": None, "key_name": None},
    "azurerm_storage_management_policy": {
        "storage_account_id": None,
        "rule": {
            "name": None,
            "enabled": None,
            "filters": {"prefix_match": None, "blob_types": None},
            "actions": {
                "base_blob": {
                    "delete_after_days_since_modification_greater_than": None,
                    "delete_after_days_since_creation_greater_than": None,
                }
            },
        },
    },
    "azurerm_monitor_diagnostic_setting": {
        "target_resource_id": None,
        "storage_account_id": None,
        "log_analytics_workspace_id": None,
        "eventhub_name": None,
        "enabled_log": {"category": None, "category_group": None},
        "log": {"category": None, "enabled": None},
    },
    "azurerm_storage_container_immutability_policy": {
        "storage_container_resource_manager_id": None,
        "immutability_period_in_days": None,
        "locked": None,
    },
    "azurerm_role_assignment": {"scope": None, "role_definition_name": None, "principal_id": None},
}

DATA: Mapping[str, Shape] = {
    "aws_s3_bucket": {"bucket": None},
    "aws_iam_policy_document": {
        "statement": {
            "effect": None,
            "actions": None,
            "resources": None,
            "principals": {"type": None, "identifiers": None},
            "condition": {"test": None, "variable": None, "values": None},
        }
    },
}


def conform_module(module: Module, sink: dict[Any, None]) -> None:
    """Every resource and data source of ``module`` the readers read, in the shapes the providers
    give (their entries replaced by conformed copies; the parsed blocks are shared, never changed)."""
    for rtype, entries in module.resources.items():
        if rtype in RESOURCES:
            entries[:] = [(f, conform(b, RESOURCES[rtype], f, written(b), sink)) for f, b in entries]
    for dtype, found in module.data.items():
        if dtype in DATA:
            for label, (f, b) in found.items():
                found[label] = (f, conform(b, DATA[dtype], f, written(b), sink))


def written(block: Block) -> str:
    """The block's address as its file writes it: every instance (count, for_each, each call of
    the module holding it) has the same mistake at the same line, reported once."""
    return _INSTANCE.sub("", block.address)


def conform(block: Block, shape: Shape, file: str, address: str, sink: dict[Any, None]) -> Block:
    """``block`` with every argument ``shape`` knows in the shape it gives: a copy where one is not
    (recorded in ``sink``), ``block`` itself where all are."""
    attrs, blocks = dict(block.attrs), {k: list(v) for k, v in block.blocks.items()}
    lines = dict(block.attr_lines)
    changed = False
    for name, inner in shape.items():
        if inner is not None and name in attrs:  # a block written as an attribute
            value, line = attrs.pop(name), lines.pop(name, block.line)
            _record(
                sink,
                file,
                line,
                f'{address}: expected a "{name}" block, got an attribute; write {name} {{ ... }}',
            )
            blocks[name] = [*blocks.get(name, []), *_as_blocks(name, value, inner, line)]
            changed = True
        elif inner is None and name in blocks:  # an attribute written as a block
            found = blocks.pop(name)
            line = found[0].line
            _record(
                sink, file, line, f'{address}: expected an argument "{name}", got a block; write {name} = ...'
            )
            attrs.setdefault(name, _as_value(found))
            lines.setdefault(name, line)
            changed = True
    if isinstance(shape, Closed):
        changed = _unknown_arguments(attrs, blocks, lines, shape, file, address, sink) or changed
    for name, inner in shape.items():
        if inner is not None and name in blocks:
            kids = [conform(c, inner, file, f"{address}.{name}", sink) for c in blocks[name]]
            if any(k is not c for k, c in zip(kids, blocks[name], strict=True)):
                blocks[name], changed = kids, True
    return replace(block, attrs=attrs, blocks=blocks, attr_lines=lines) if changed else block


def _unknown_arguments(
    attrs: dict[str, Any],
    blocks: dict[str, list[Block]],
    lines: dict[str, int],
    shape: Closed,
    file: str,
    address: str,
    sink: dict[Any, None],
) -> bool:
    """Names a closed block does not have: reported; one that differs from a known argument only in
    case and underscores (``logBucket``) is read as that argument. True if any was renamed."""
    known = {_folded(k): k for k in shape}
    expected = ("one of " if len(shape) > 1 else "") + ", ".join(f'"{k}"' for k in shape)
    renamed = False
    for name in [n for n in attrs if n not in shape] + [n for n in blocks if n not in shape]:
        line = lines.get(name) or blocks[name][0].line
        meant = known.get(_folded(name))
        if meant is not None and name in attrs and meant not in attrs and shape[meant] is None:
            _record(sink, file, line, f'{address}: expected {expected}, got "{name}"; write {meant}')
            attrs[meant], lines[meant] = attrs.pop(name), lines.pop(name, line)
            renamed = True
        else:
            _record(sink, file, line, f'{address}: expected {expected}, got "{name}", which it does not have')
    return renamed


def _folded(name: str) -> str:
    return name.replace("_", "").lower()


def conform_call(block: Block, file: str, address: str, sink: dict[Any, None]) -> Block:
    """A ``module`` call with each nested block read as the input it meant (``logging { ... }`` as
    ``logging = { ... }``): Terraform accepts no block there."""
    if not block.blocks:
        return block
    attrs, lines = dict(block.attrs), dict(block.attr_lines)
    for name, found in block.blocks.items():
        line = found[0].line
        _record(
            sink,
            file,
            line,
            f'{address}: expected an input argument "{name}", got a block (a module call takes no blocks);'
            f" write {name} = {{ ... }}",
        )
        attrs.setdefault(name, _as_value(found))
        lines.setdefault(name, line)
    return replace(block, attrs=attrs, attr_lines=lines, blocks={})


def report(ctx: LintContext) -> None:
    """One VC004 per file for what :func:`conform` and :func:`conform_call` recorded (the engine
    keeps one per file: a syntax error recorded before wins)."""
    by_file: dict[str, list[tuple[int, str]]] = {}
    for file, line, message in ctx.cache.get(INVALID, {}):
        by_file.setdefault(file, []).append((line, message))
    for file, found in sorted(by_file.items()):
        found.sort()
        (line, message), rest = found[0], found[1:]
        more = f" ({len(rest)} more, at line {', '.join(str(n) for n, _ in rest)})" if rest else ""
        ctx.unparseable(
            file,
            f"invalid Terraform at line {line}: {message}{more}; Terraform rejects it (veil reads it as"
            " meant and checks the rest)",
            line=line,
        )


def _record(sink: dict[Any, None], file: str, line: int, message: str) -> None:
    sink[(file, line, message)] = None


def _as_blocks(name: str, value: Any, shape: Shape, line: int) -> list[Block]:
    """The blocks an attribute's object (or list of objects) value spells; none for an expression."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue  # `versioning = var.v`: nothing to read as a block
        attrs: dict[str, Any] = {}
        blocks: dict[str, list[Block]] = {}
        for key, v in item.items():
            inner = shape.get(key)
            if inner is not None:
                blocks[key] = _as_blocks(key, v, inner, line)
            else:
                attrs[key] = v
        out.append(Block(name, (), line, attrs, dict.fromkeys(attrs, line), blocks, end_line=line))
    return out


def _as_value(blocks: list[Block]) -> Any:
    """What blocks written in place of an attribute mean: one object, or a list of them."""
    values = [_object(b) for b in blocks]
    return values[0] if len(values) == 1 else values


def _object(block: Block) -> dict[str, Any]:
    out: dict[str, Any] = dict(block.attrs)
    for name, kids in block.blocks.items():
        out.setdefault(name, _as_value(kids))
    return out
