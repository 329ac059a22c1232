"""``azurerm_storage_account`` joined with its containers, management policy, diagnostics and roles.

The storage account is the bucket (it carries encryption, TLS, versioning and public-access
settings); a container is a top-level prefix of it, so ``raw`` container reads map to the
``raw/`` prefix. Azure encrypts every account at rest; a ``customer_managed_key`` block or an
``azurerm_storage_account_customer_managed_key`` resource makes the key customer-managed.
"""

from __future__ import annotations

from typing import Any

from veilcv.linter import causes
from veilcv.linter.rules.storage.hcl import Block, integer, is_literal, references, truthy
from veilcv.linter.rules.storage.model import Bucket, Grant, LifecycleRule, Loc
from veilcv.linter.rules.storage.terraform import Module
from veilcv.linter.rules.storage.tf_iam import as_list, external_name, role_of
from veilcv.linter.rules.storage.tf_instances import labelled, targets, vague

_READ_ROLES = {
    "storage blob data reader",
    "storage blob data contributor",
    "storage blob data owner",
    "reader and data access",
    "storage account contributor",
}
#: ``min_tls_version`` values (lowercased) below TLS 1.2.
WEAK_TLS = frozenset({"tls1_0", "tls1_1"})
#: Redundancy that keeps a copy in a second region (LRS and ZRS stay in one).
GEO_REDUNDANT = frozenset({"GRS", "RAGRS", "GZRS", "RAGZRS"})


def buckets(module: Module) -> list[Bucket]:
    by_label: dict[str, Bucket] = {}
    by_name: dict[str, Bucket] = {}
    containers: dict[str, tuple[Bucket, str]] = {}  # container label -> (account, container name)

    def account_of(*values: Any) -> Bucket | None:
        for value in values:
            accounts = targets(by_label, value, "azurerm_storage_account")
            held = [acc for acc, _ in targets(containers, value, "azurerm_storage_container")]
            for found in (accounts, held) if _first(value, "azurerm_storage_account") else (held, accounts):
                if len(found) == 1:
                    return found[0]
            if is_literal(value) and str(value) in by_name:
                return by_name[str(value)]
        return None

    def unsure(file: str, block: Block, setting: str | None, *values: Any) -> bool:
        """A companion naming an account's or container's instance without the code saying which:
        ``setting`` (if any) is unknown on every account it may name."""
        for value in values:
            found = vague(by_label, value, "azurerm_storage_account", block)
            held = vague(containers, value, "azurerm_storage_container", block)
            accounts = found[0] if found else [acc for acc, _ in held[0]] if held else []
            for b in accounts if setting else ():
                b.unknown.setdefault(setting, (found or held or ("", ""))[1])
                if setting == "public":
                    b.causes.setdefault("public", causes.CONTAINER)
                b.locs.setdefault(setting, module.loc(file, block))
            if accounts:
                return True
        return False

    for file, block in module.of("azurerm_storage_account"):
        b = _account(module, file, block)
        by_label[block.labels[1]] = b
        by_name[b.name] = b
    external: dict[str, Bucket] = {}
    for file, block in module.of("azurerm_storage_container"):
        account = (block.get("storage_account_id"), block.get("storage_account_name"))
        opens = str(block.get("container_access_type", "private")).lower() in ("blob", "container")
        if unsure(file, block, "public" if opens else None, *account):
            continue
        b = account_of(*account)
        if b is None:
            b = _external(module, external, block, file)
        if b is None:
            continue
        cname = str(block.get("name")) if is_literal(block.get("name")) else block.labels[1]
        containers[block.labels[1]] = (b, cname)
        b.prefixes = (*b.prefixes, cname + "/")
        access = str(block.get("container_access_type", "private")).lower()
        if access in ("blob", "container") and (b.public is not False or b.external):
            why = f"container {cname} has container_access_type {access}"
            b.add_public(causes.CONTAINER, why, module.loc(file, block, "container_access_type"))
    for file, block in module.of("azurerm_storage_account_customer_managed_key"):
        if unsure(file, block, "encryption", block.get("storage_account_id")):
            continue
        b = account_of(block.get("storage_account_id"))
        if b is not None:
            b.kms_key = True
            b.locs["encryption"] = module.loc(file, block)
    for file, block in module.of("azurerm_storage_management_policy"):
        if unsure(file, block, "lifecycle", block.get("storage_account_id")):
            continue
        b = account_of(block.get("storage_account_id"))
        if b is not None:
            names = {c for acc, c in containers.values() if acc is b}
            b.lifecycle.extend(_lifecycle(block, names, module.loc(file, block)))
            b.locs["lifecycle"] = module.loc(file, block)
    for file, block in module.of("azurerm_monitor_diagnostic_setting"):
        if unsure(file, block, "logging", block.get("target_resource_id")):
            continue
        b = account_of(block.get("target_resource_id"))
        if b is None or not (block.all("enabled_log") or block.all("log")):
            continue
        b.access_logging = True
        b.locs["logging"] = module.loc(file, block)
        sink = account_of(block.get("storage_account_id"))
        if sink is not None:
            b.log_target = sink.name
        elif block.get("log_analytics_workspace_id") or block.get("eventhub_name"):
            b.log_target = str(block.get("log_analytics_workspace_id") or block.get("eventhub_name"))
            b.log_sink_immutable = False
    protected: dict[str, Loc] = {}  # container label -> its immutability policy
    for file, block in module.of("azurerm_storage_container_immutability_policy"):
        if unsure(file, block, "object_lock", block.get("storage_container_resource_manager_id")):
            continue
        b = account_of(block.get("storage_container_resource_manager_id"))
        if b is not None and truthy(block.get("locked")) is True:
            b.object_lock = True
        labels = {label: label for label in containers}
        container_id = block.get("storage_container_resource_manager_id")
        for label in targets(labels, container_id, "azurerm_storage_container"):
            protected[label] = module.loc(file, block)
            days = integer(block.get("immutability_period_in_days"))
            if days:  # nothing in the container can be deleted before that age
                owner, cname = containers[label]
                owner.locks.append((cname + "/", days, protected[label]))
    _container_immutability(containers, protected)
    for file, block in module.of("azurerm_role_assignment"):
        _role(module, file, block, by_label, containers)
    return [*by_label.values(), *external.values()]


def _first(value: Any, rtype: str) -> bool:
    """Whether ``value``'s first reference to a storage account or container is to ``rtype``."""
    kinds = ("azurerm_storage_account", "azurerm_storage_container")
    refs = [r[0] for r in references(value) if r[0] in kinds]
    return not refs or refs[0] == rtype


def _external(module: Module, external: dict[str, Bucket], block: Block, file: str) -> Bucket | None:
    """The storage account of a container whose account the checked files do not declare."""
    value = block.get("storage_account_id") or block.get("storage_account_name")
    if value is None or value == "":
        return None
    refs = references(value)
    if refs and refs[0][0] == "data.azurerm_storage_account":
        accounts = module.data.get("azurerm_storage_account", {})
        label, found = labelled(accounts, value, refs[0][0], refs[0][1])
        address = f"{module.prefix}data.azurerm_storage_account.{label}"
        literal = found[1].get("name") if found else None
        name = str(literal) if is_literal(literal) else label
    else:
        name, address = external_name(value, module.prefix)
    b = external.get(address)
    if b is None:
        b = Bucket(name=name, provider="azure", address=address, file=file, line=block.line)
        b.external, b.module_call, b.encrypted = True, module.call, True
        external[address] = b
    return b


def _account(module: Module, file: str, block: Block) -> Bucket:
    name = str(block.get("name")) if is_literal(block.get("name")) else block.labels[1]
    b = Bucket(name=name, provider="azure", address=module.address(block), file=file, line=block.line)
    b.encrypted = True
    cmk = block.first("customer_managed_key")
    b.kms_key = cmk is not None
    if cmk is not None:
        b.locs["encryption"] = module.loc(file, block, "customer_managed_key")
    nested = block.get("allow_nested_items_to_be_public", block.get("allow_blob_public_access"))
    if truthy(nested) is False:
        b.public = False
    else:
        b.public_reason = "allow_nested_items_to_be_public is not false"
    b.unguarded = b.public_reason
    b.causes["guard"] = causes.NESTED_PUBLIC
    for attr in ("allow_nested_items_to_be_public", "allow_blob_public_access"):
        if attr in block.attrs:
            b.locs["public"] = b.locs["guard"] = module.loc(file, block, attr)
    props = block.first("blob_properties")
    b.versioning = props is not None and truthy(props.get("versioning_enabled")) is True
    if props is not None:
        b.locs["versioning"] = module.loc(file, block, "blob_properties")
    b.soft_delete = props is not None and any(
        (integer(p.get("days")) or 0) > 0 for p in props.all("delete_retention_policy")
    )
    if props is not None:
        b.locs["soft_delete"] = module.loc(file, block, "blob_properties")
    network = block.get("public_network_access_enabled", True)
    b.public_network_access = truthy(network) is not False
    if isinstance(network, str) and "${" in network:
        b.unknown["public_network_access"] = network[2:-1]
    if "public_network_access_enabled" in block.attrs:
        b.locs["public_network_access"] = module.loc(file, block, "public_network_access_enabled")
    https = block.get("https_traffic_only_enabled", block.get("enable_https_traffic_only", True))
    tls = str(block.get("min_tls_version", "TLS1_2")).lower()
    b.tls_only = truthy(https) is not False and tls not in WEAK_TLS
    for attr in ("https_traffic_only_enabled", "enable_https_traffic_only", "min_tls_version"):
        if attr in block.attrs and not b.tls_only:
            b.locs["tls"] = module.loc(file, block, attr)
    if truthy(https) is False:  # each reason is its own finding (Checkov: CKV_AZURE_3, CKV_AZURE_44)
        names = ("https_traffic_only_enabled", "enable_https_traffic_only")
        attr = next(a for a in names if a in block.attrs)
        b.tls_gaps.append((causes.HTTPS, module.loc(file, block, attr)))
    if tls in WEAK_TLS:
        b.tls_gaps.append((causes.MIN_TLS, module.loc(file, block, "min_tls_version")))
    imm = block.first("immutability_policy")
    b.object_lock = imm is not None and str(imm.get("state", "")).lower() == "locked"
    # An unlocked policy counts for VC222 (it binds every writer until an administrator lifts it);
    # account-level immutability turns blob versioning on by itself.
    state = imm.get("state") if imm is not None else None
    b.immutable = str(state).lower() in ("unlocked", "locked")
    b.immutable_reason = (
        f"immutability_policy state is {state}" if imm is not None else "no immutability policy"
    )
    if imm is not None:
        b.locs["object_lock"] = module.loc(file, block, "immutability_policy")
        days = integer(imm.get("period_since_creation_in_days"))
        if b.immutable and days:
            b.locks.append(("", days, b.locs["object_lock"]))
        if isinstance(state, str) and "${" in state:
            b.unknown["object_lock"] = state[2:-1]
    redundancy = block.get("account_replication_type")
    b.replicated = str(redundancy).upper() in GEO_REDUNDANT
    b.replicated_reason = f"account_replication_type {redundancy} keeps every copy in one region"
    if "account_replication_type" in block.attrs:
        b.locs["replication"] = module.loc(file, block, "account_replication_type")
        if isinstance(redundancy, str) and "${" in redundancy:
            b.unknown["replication"] = redundancy[2:-1]
            b.replicated_reason = "account_replication_type may keep every copy in one region"
    b.access_logging = False
    return b


def _container_immutability(containers: dict[str, tuple[Bucket, str]], protected: dict[str, Loc]) -> None:
    """An account without its own immutability policy is immutable when every container it holds
    has one; one with some bare containers names them."""
    held: dict[str, list[tuple[str, str]]] = {}
    accounts: dict[str, Bucket] = {}
    for label, (b, cname) in containers.items():
        held.setdefault(b.address, []).append((label, cname))
        accounts[b.address] = b
    for address, items in held.items():
        b = accounts[address]
        policies = [protected[label] for label, _ in items if label in protected]
        if b.immutable or not policies:
            continue
        bare = [cname for label, cname in items if label not in protected]
        if bare:
            b.immutable_reason = "no immutability policy on container " + ", ".join(bare)
        else:
            b.immutable = True
            b.locs["object_lock"] = policies[0]


def _lifecycle(block: Block, containers: set[str], loc: Loc) -> list[LifecycleRule]:
    out = []
    for rule in block.all("rule"):
        enabled = truthy(rule.get("enabled", True)) is not False
        days = None
        for actions in rule.all("actions"):
            for base in actions.all("base_blob"):
                for key in (
                    "delete_after_days_since_modification_greater_than",
                    "delete_after_days_since_creation_greater_than",
                ):
                    if integer(base.get(key)) is not None:
                        days = integer(base.get(key))
        prefixes: list[str] = []
        for filters in rule.all("filters"):
            prefixes.extend(str(p) for p in as_list(filters.get("prefix_match")))
        rule_loc = Loc(loc.file, rule.line, loc.address)
        for p in prefixes or [""]:
            # prefix_match starts with the container name, which is our top-level prefix already
            out.append(LifecycleRule(p, days, enabled, rule_loc))
    return out


def _role(
    module: Module,
    file: str,
    block: Block,
    by_label: dict[str, Bucket],
    containers: dict[str, tuple[Bucket, str]],
) -> None:
    if str(block.get("role_definition_name", "")).lower() not in _READ_ROLES:
        return
    scope = block.get("scope")
    principal = str(block.get("principal_id", ""))
    refs = references(principal)
    name = refs[0][1] if refs else principal
    loc = module.loc(file, block)
    for account in targets(by_label, scope, "azurerm_storage_account"):
        account.grants.append(Grant(name, role_of(name, module.roles), ("*",), loc))
    for b, cname in targets(containers, scope, "azurerm_storage_container"):
        b.grants.append(Grant(name, role_of(name, module.roles), (cname + "/",), loc))
