"""Terraform loading: parse every ``.tf`` file once, group them by module, build buckets.

Terraform joins all ``.tf`` files of one directory into one module, and references such as
``aws_s3_bucket.frames.id`` only resolve inside that module, so companions are joined to
their bucket per directory. The provider-specific joins live in ``tf_aws``, ``tf_gcp`` and
``tf_azure``, the IAM helpers they share in ``tf_iam``, module resolution in ``tf_modules`` and
``tf_registry``.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from veilcv.linter.context import LintContext
from veilcv.linter.rules.storage.hcl import Block
from veilcv.linter.rules.storage.model import Bucket, Loc
from veilcv.linter.rules.storage.parallel import shared_map
from veilcv.linter.rules.storage.tf_expr import Budget, Scope, Unknown, resolve
from veilcv.linter.rules.storage.tf_functions import bounded
from veilcv.linter.rules.storage.tf_instances import decide, expand
from veilcv.linter.rules.storage.tf_json import is_json_syntax, parse_file
from veilcv.linter.rules.storage.tf_values import MODULE_META, expressions, has_expression
from veilcv.linter.rules.storage.tfcache import cached, parse_and_store, parse_cached
from veilcv.linter.textio import TextReadError, read_utf8
from veilcv.linter.unparseable import internal_error

if TYPE_CHECKING:
    from veilcv.linter.rules.storage.tf_modules import Resolver


@dataclass
class Module:
    """The resources and data sources of one module instance, by type, with the file of each.

    ``prefix`` is the instance's address in the root module (``"module.logs."``; ``""`` for a root
    module), so the same folder called twice gives two sets of buckets with distinct addresses.
    """

    directory: str
    resources: dict[str, list[tuple[str, Block]]] = field(default_factory=lambda: defaultdict(list))
    data: dict[str, dict[str, tuple[str, Block]]] = field(default_factory=lambda: defaultdict(dict))
    roles: dict[str, Any] = field(default_factory=dict)  # the policy's storage.roles
    prefix: str = ""
    call: Loc | None = None  # the `module` block that instantiated this one, for child modules

    def of(self, rtype: str) -> list[tuple[str, Block]]:
        return self.resources.get(rtype, [])

    def address(self, block: Block) -> str:
        return self.prefix + block.address

    def loc(self, file: str, block: Block, attr: str | None = None) -> Loc:
        line = block.line_of(attr) if attr else block.line
        return Loc(file, line, self.address(block))


# A .tf file matters to this family when it contains one of these: the type prefixes of every
# resource and data source the provider joins read, the variable and locals blocks that
# `_known_values` resolves references with, or a backslash (an escape in a quoted label could
# spell a type name). Parsing is nearly all of a cold check, and in a real tree most .tf files
# declare compute, network or IAM only. A file without any of them whose every `resource` and
# `data` header names its type cannot declare a bucket or a setting of one, even when it does
# not parse, so it is neither parsed nor reported as VC004; a header without a type (`resource {`)
# says nothing about what it declares, so such a file is parsed and fails closed.
RELEVANT_TEXT = (
    "aws_s3_",
    "aws_iam_role_policy",
    "aws_iam_policy_document",
    "google_storage_",
    "azurerm_storage_",
    "azurerm_monitor_diagnostic_setting",
    "azurerm_role_assignment",
    "variable",
    "locals",
    "module",
    "\\",
)
_UNTYPED_HEADER = re.compile(r"^[ \t]*(?:resource|data)\b(?![ \t]+(?:\"[^\"\n]*\"|[A-Za-z_]))", re.M)


#: Hand-written modules are far smaller; a generated file this big would take minutes and gigabytes
#: to parse, so it is reported (VC004) instead of parsed.
MAX_TERRAFORM_BYTES = 2 << 20


def may_concern_storage(text: str) -> bool:
    return any(m in text for m in RELEVANT_TEXT) or _UNTYPED_HEADER.search(text) is not None


def _parse_one(item: tuple[str, str]) -> tuple[list[Block], str | None]:
    return parse_file(item[0], item[1], parse_and_store)  # the cache was asked already


def parsed_terraform(ctx: LintContext, files: list[str]) -> dict[str, list[Block]]:
    """The blocks of each ``.tf`` and ``.tf.json`` file that may concern storage, once per run.

    A file that cannot be read is VC004. A file with syntax errors is VC004 at its first error (the
    message counts the others) and its blocks that parsed cleanly are still judged; invalid JSON is
    VC004 at its line.
    """

    def parse_all() -> dict[str, list[Block]]:  # native (.tf) and JSON (.tf.json) syntax
        out: dict[str, list[Block]] = {}
        todo: list[tuple[str, str]] = []
        for file in files:
            try:
                size = ctx.path(file).stat().st_size
            except OSError:
                size = 0  # reading reports it
            if size > MAX_TERRAFORM_BYTES:
                ctx.unparseable(
                    file,
                    f"expected a Terraform file of at most {MAX_TERRAFORM_BYTES >> 20} MiB, got "
                    f"{size / (1 << 20):.1f} MiB; not parsed (split it into modules)",
                )
                continue
            try:
                text = read_utf8(ctx.path(file))
            except TextReadError as exc:
                ctx.unparseable(file, f"cannot read Terraform: {exc}")
                continue
            if not may_concern_storage(text):
                continue
            todo.append((file, text))
        # What the cache holds is read here; what it lacks is parsed, on several cores when it pays.
        found = {file: cached(text) for file, text in todo if not is_json_syntax(file)}
        misses = [(file, text) for file, text in todo if found.get(file) is None]
        parsed = dict(zip((file for file, _ in misses), shared_map(_parse_one, misses), strict=True))
        for file, _ in todo:
            blocks, problem = (found[file], None) if found.get(file) is not None else parsed[file]
            if problem is not None:
                ctx.unparseable(file, problem)
            out[file] = blocks
        return out

    return ctx.memo("storage.terraform_blocks", parse_all)


def load_terraform(ctx: LintContext, files: list[str]) -> list[Bucket]:
    """Buckets of every root module, and of every child module once per call to it.

    A folder that another checked folder calls through a local ``source`` (``./modules/bucket``)
    is judged as each call instantiates it (its variables set by the call's arguments, addresses
    ``module.<name>.<resource>``), not on its own with its variables' defaults. Other sources are
    read where ``terraform init`` vendored them, or through a built-in model of the module; a call
    none of these resolve is recorded (``ctx.cache["storage.unchecked_modules"]``) for VC221.
    """
    from veilcv.linter.rules.storage import tf_shapes
    from veilcv.linter.rules.storage.tf_modules import Resolver

    parsed: dict[str, list[tuple[str, Block]]] = defaultdict(list)
    for file, blocks in parsed_terraform(ctx, sorted(files)).items():
        parsed[posixpath.dirname(file)].extend((file, b) for b in blocks)
    parsed = dict(parsed)
    roles = ctx.policy.get("storage", {}).get("roles", {}) or {}
    calls: dict[str, set[str]] = defaultdict(set)
    for directory, entries in parsed.items():
        for _file, b in entries:
            child = _local_source(directory, b)
            if child is not None and child != directory and child in parsed:
                calls[directory].add(child)
    resolver = Resolver(ctx, parsed)
    for caller, callee in resolver.checked_out_calls():  # a monorepo calling its own folders through git
        calls[caller].add(callee)
    called = {child for children in calls.values() for child in children}
    # What terraform init vendored is read only through modules.json, as the calls instantiate it.
    folders = [d for d in sorted(parsed) if ".terraform" not in d.split("/")]
    roots = [d for d in folders if d not in called]
    reached = _reachable(roots, calls)
    # In a cycle every folder is called (the root calls ./mod, which calls ../), so a folder no root
    # reaches is judged as a root too, the outermost first; the call that closes the cycle is then
    # VC221, as for a cycle below a root. Nothing a cycle holds passes unjudged.
    for directory in folders:
        if directory not in reached:
            roots.append(directory)
            reached |= _reachable([directory], calls)
    variable_files = tfvars_files(ctx.files)
    buckets: list[Bucket] = []
    first_file = {posixpath.dirname(f): f for f in sorted(files, reverse=True)}
    for directory in roots:
        inputs = tfvars(ctx, variable_files.get(directory, []))
        try:
            buckets.extend(_instance(resolver, directory, directory, roles, inputs, "", None, (directory,)))
        except Exception as exc:  # a bug, MemoryError...: named where it happened, the rest still judged
            doing = f"judge the module in {directory or '.'}"
            ctx.unparseable(first_file.get(directory, directory), internal_error(doing, exc))
    ctx.cache["storage.unchecked_modules"] = resolver.unchecked
    tf_shapes.report(ctx)
    return buckets


def _reachable(starts: list[str], calls: dict[str, set[str]]) -> set[str]:
    """The folders ``starts`` instantiate, directly or through other folders, and themselves."""
    seen = set(starts)
    todo = list(starts)
    while todo:
        for child in calls.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _is_tfvars(name: str) -> bool:
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json")
    )


def tfvars_files(files: list[str]) -> dict[str, list[str]]:
    """Folder -> its variable files, in Terraform's order (``terraform.tfvars`` first, then the
    ``*.auto.tfvars`` by name; later files win)."""
    out: dict[str, list[str]] = defaultdict(list)
    for f in files:
        if _is_tfvars(posixpath.basename(f)):
            out[posixpath.dirname(f)].append(f)
    for names in out.values():
        names.sort(key=lambda f: (0 if posixpath.basename(f).startswith("terraform.tfvars") else 1, f))
    return out


def tfvars(ctx: LintContext, names: list[str]) -> dict[str, Any]:
    """What ``names`` (a root module's variable files) set for its variables. Only literal values
    are kept; a file that cannot be read or parsed is VC004 and sets nothing."""
    values: dict[str, Any] = {}
    for rel in names:
        try:
            if ctx.path(rel).stat().st_size > MAX_TERRAFORM_BYTES:
                ctx.unparseable(rel, f"expected a variables file of at most {MAX_TERRAFORM_BYTES >> 20} MiB")
                continue
            text = read_utf8(ctx.path(rel))
        except OSError as exc:
            ctx.unparseable(rel, f"cannot read Terraform variables: {exc.strerror or exc}")
            continue
        except TextReadError as exc:
            ctx.unparseable(rel, f"cannot read Terraform variables: {exc}")
            continue
        if rel.endswith(".json"):
            try:
                doc = json.loads(text)
            except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
                ctx.unparseable(rel, f"cannot parse Terraform variables: {exc}")
                continue
            found = doc if isinstance(doc, dict) else {}
        else:
            try:
                blocks, problems = parse_cached(f"tfvars {{\n{text}\n}}\n")
            except Exception as exc:  # a reader's bug must name the file and fail closed
                ctx.unparseable(rel, internal_error("read Terraform variables", exc))
                continue
            if problems:  # the wrapper adds a line before the file's first
                first = problems[0]
                # A value nested too deep is said as for a block, but here the whole file sets nothing.
                detail = "" if first.kind.startswith("nested deeper") else f" {first.message};"
                ctx.unparseable(
                    rel,
                    f"cannot parse Terraform variables: {first.kind} at line {max(1, first.line - 1)},"
                    f" column {first.column}:{detail} the whole file is ignored (it sets no variables)",
                )
                continue
            found = blocks[0].attrs if blocks else {}
        values.update((k, v) for k, v in found.items() if _literal(v))
    return values


def _literal(value: Any) -> bool:
    """Whether a variables file's value is one the evaluator may use: no expression, within the
    limits on values (a JSON value nested hundreds deep stays unset, so undetermined)."""
    try:
        bounded(value)
    except Unknown:
        return False
    return not has_expression(value)


def _local_source(directory: str, block: Block) -> str | None:
    """The folder a ``module`` block with a local source calls (relative to the checked root)."""
    if block.type != "module":
        return None
    source = block.get("source")
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return None
    path = posixpath.normpath(posixpath.join(directory, source))
    return "" if path == "." else path


def _instance(
    resolver: Resolver,
    root: str,
    directory: str,
    roles: dict[str, Any],
    inputs: dict[str, Any],
    prefix: str,
    call: Loc | None,
    stack: tuple[str, ...],
) -> list[Bucket]:
    from veilcv.linter.rules.storage import tf_aws, tf_azure, tf_gcp, tf_shapes

    entries = resolver.parsed.get(directory, [])
    module = Module(directory, roles=roles, prefix=prefix, call=call)
    budget = Budget()  # one for all of this instance's expressions
    values = known_values([b for _, b in entries], inputs, budget)
    # Resources, data sources and module calls, whose `count`/`for_each` decide how many instances
    # they make; one's may range over a resource's instances.
    counted = [
        (file, b)
        for file, b in entries
        if (b.type in ("resource", "data") and len(b.labels) == 2)
        or (b.type == "module" and len(b.labels) == 1)
    ]
    _duplicates(resolver, counted)
    decided, scope = decide([b for _, b in counted], values, budget)
    # Resolved copies: the parsed blocks are shared (memoised) with other families.
    for (file, parsed_block), keys in zip(counted, decided, strict=True):
        if parsed_block.type == "resource":
            for block in expand(parsed_block, keys, scope):
                module.resources[block.labels[0]].append((file, block))
        elif parsed_block.type == "data":  # data.x.y["key"] is read under the label y["key"]
            for block in expand(parsed_block, keys, scope):
                module.data[block.labels[0]][block.labels[1]] = (file, block)
    # An argument in a shape Terraform rejects is VC004, and read as meant.
    tf_shapes.conform_module(module, resolver.ctx.cache.setdefault(tf_shapes.INVALID, {}))
    buckets = tf_aws.buckets(module) + tf_gcp.buckets(module) + tf_azure.buckets(module)
    for (file, parsed_block), keys in zip(counted, decided, strict=True):
        if parsed_block.type == "module":
            for block in expand(parsed_block, keys, scope):
                buckets.extend(_child(resolver, root, directory, roles, module, file, block, stack))
    return buckets


def _duplicates(resolver: Resolver, blocks: list[tuple[str, Block]]) -> None:
    """A resource, data source or module call declared twice in one module is a configuration
    Terraform refuses: VC004 at the second (once, however often the module is called), so the run
    fails closed instead of judging a mix of the two in silence."""
    first: dict[tuple[str, ...], tuple[str, int]] = {}
    reported = resolver.ctx.cache.setdefault("storage.duplicate_blocks", set())
    for file, b in blocks:
        key = (b.type, *b.labels)
        if key not in first:
            first[key] = (file, b.line)
        elif (file, b.line) not in reported:
            reported.add((file, b.line))
            where, line = first[key]
            resolver.ctx.unparseable(
                file,
                f"{b.address} is declared twice (first at {where}:{line}); Terraform refuses this"
                " configuration, and the findings for that address mix the two",
                line=b.line,
            )


def _child(
    resolver: Resolver,
    root: str,
    directory: str,
    roles: dict[str, Any],
    module: Module,
    file: str,
    block: Block,
    stack: tuple[str, ...],
) -> list[Bucket]:
    """The buckets one module call makes, from its folder, its vendored copy or a model
    (``tf_modules.Resolver.resolve`` says which, or records the call as unchecked)."""
    from veilcv.linter.rules.storage.tf_modules import noted
    from veilcv.linter.rules.storage.tf_shapes import INVALID, conform_call, written

    address = module.prefix + block.address
    block = conform_call(block, file, written(block), resolver.ctx.cache.setdefault(INVALID, {}))
    where = Loc(file, block.line, address)
    found = resolver.resolve(root, directory, address, block, file, stack)
    if found is None:
        return []
    if found.folder is not None:
        inputs = {k: v for k, v in block.attrs.items() if k not in MODULE_META and not has_expression(v)}
        folder = found.folder
        buckets = _instance(resolver, root, folder, roles, inputs, f"{address}.", where, (*stack, folder))
        return noted(buckets, found.note)
    assert found.model is not None and found.call is not None
    buckets, unknown = found.model(found.call, file, address, module)
    if unknown:
        resolver.not_checked(
            address, block, file, f"inputs {', '.join(unknown)} are not in veil's model of this module"
        )
    return noted(buckets, found.note)


def known_values(
    blocks: list[Block], inputs: dict[str, Any] | None = None, budget: Budget | None = None
) -> dict[str, Any]:
    """``var.x`` -> the module call's argument or its default, ``local.y`` -> its value, where
    those are literals.

    Variables set only in tfvars or by an unknown caller stay unknown: settings that depend on
    them are judged as the policy's ``storage.unknown_values`` says (fail by default). So does a
    local in a cycle, one beyond the evaluator's limits on values, and whatever is left once the
    module's ``budget`` of evaluation steps is spent.
    """
    values: dict[str, Any] = {}
    for b in blocks:
        if b.type == "variable" and b.labels and "default" in b.attrs:
            values[f"var.{b.labels[0]}"] = b.attrs["default"]
    for name, value in (inputs or {}).items():
        values[f"var.{name}"] = value
    known = {k: v for k, v in values.items() if not has_expression(v)}
    local_attrs = {k: v for b in blocks if b.type == "locals" for k, v in b.attrs.items()}
    scope = Scope(known, budget=budget if budget is not None else Budget())  # sees each local added
    for name in _dependencies_first(local_attrs):
        try:
            value = bounded(resolve(local_attrs[name], scope))
        except Unknown:
            continue  # larger or deeper than a value may be (locals nesting each other)
        if not has_expression(value):
            known[f"local.{name}"] = value
    return known


_LOCAL = re.compile(r"(?<![\w.])local\.([A-Za-z_][\w-]*)")


def _dependencies_first(local_attrs: dict[str, Any]) -> list[str]:
    """The names of ``local_attrs``, each after the locals it reads (one pass resolves a chain of
    any length; locals in a cycle come in some order and stay unresolved). Without recursion."""
    reads = {
        name: sorted({m for text in expressions(v) for m in _LOCAL.findall(text) if m in local_attrs})
        for name, v in local_attrs.items()
    }
    order: list[str] = []
    seen: set[str] = set()
    for start in local_attrs:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(reads[start]))]
        while stack:
            name, pending = stack[-1]
            after = next((d for d in pending if d not in seen), None)
            if after is None:
                stack.pop()
                order.append(name)
            else:
                seen.add(after)
                stack.append((after, iter(reads[after])))
    return order
