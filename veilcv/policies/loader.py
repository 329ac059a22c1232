"""Load a policy: resolve ``extends:``, deep-merge, validate against the schema, fill defaults.

Every layer the user wrote is validated on its own so that each error can name its file, line and
JSON path; all errors are collected and raised together in one :class:`PolicySchemaError`. The
bundled packs (the rest of the chain, ``default`` last) are package data that the test suite
validates; they are not validated again on every run, which spares a check without a policy file
the JSON Schema machinery (its import alone is about 40 ms of every `veil check`). A chain that
has a user's file is validated once per content: when every file of the chain is as it was at a
validation that found no problem (same texts, same schema, same veilcv), the run skips the schema
check (``policy`` in veilcv's cache folder; ``VEILCV_NO_CACHE=1`` turns this off). Each pre-commit
hook run would otherwise pay those 50-60 ms for a policy that has not changed. Only a record this
user's veilcv wrote counts (``veilcv.cachedir``): the record's key is computable from the policy's
text, so one planted by anyone else must not let an invalid policy run unvalidated.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from veilcv import __version__
from veilcv.cachedir import cache_folder, read_entry, write_entry
from veilcv.errors import PolicyError
from veilcv.policies.messages import JsonPath, did_you_mean, json_path, message, type_name
from veilcv.policies.yamlguard import yaml_too_big
from veilcv.safeio import read_regular_file

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaViolation

_HERE = Path(__file__).resolve().parent
PACKS_DIR = _HERE / "packs"
SCHEMA_PATH = _HERE / "schema" / "policy.schema.json"
BASE_PACK = "default"
POLICY_FILENAMES = ("veil.yaml", ".veil.yaml", "veil.yml", ".veil.yml")
MAX_POLICY_BYTES = 1 << 20  # hand-written policies are a few KiB; a huge one is a mistake or an attack

_KEY = "\x00key"  # prefix of the entries in a layer's line map that locate a key rather than its value


@dataclass(frozen=True)
class PolicyIssue:
    """One schema problem at one place."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class PolicySchemaError(PolicyError):
    """Every problem found in a policy chain, one per line, sorted by file and line."""

    def __init__(self, issues: Iterable[PolicyIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass(frozen=True)
class LoadedPolicy:
    """The effective policy plus where each value came from (for findings and ``explain``)."""

    data: dict[str, Any]
    chain: tuple[str, ...]  # display names, the user's file first, 'pack:default' last
    sources: dict[JsonPath, tuple[str, int]] = field(default_factory=dict, compare=False)
    path: Path | None = None  # the user's file, if any

    def source(self, *path: str | int) -> tuple[str, int]:
        """The file and line that set the value at ``path`` (keys, list indexes), else the first file."""
        return self.sources.get(tuple(path), (self.chain[0], 1))


@dataclass
class _Layer:
    display: str
    path: Path | None
    data: dict[str, Any]
    lines: dict[JsonPath, tuple[int, int]]
    bundled: bool = False  # a pack shipped with veilcv (validated by the test suite, not per run)
    digest: str = ""  # SHA-256 of the text the layer was read from


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as the strings the user wrote (the schema checks their format)."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def schema() -> dict[str, Any]:
    """The policy JSON Schema (draft 2020-12) shipped with the package."""
    return json.loads(SCHEMA_PATH.read_text("utf-8"))


def bundled_packs() -> list[str]:
    return sorted(p.stem for p in PACKS_DIR.glob("*.yaml"))


def discover_policy(root: Path) -> Path | None:
    """The project's policy file in ``root`` (``veil.yaml`` and friends), if there is one.

    A found policy that is a symbolic link leading out of its repository is refused unread: nobody
    named that file, and its content would be echoed in the schema errors.
    """
    for name in POLICY_FILENAMES:
        path = root / name
        if path.is_symlink() and not path.resolve().is_relative_to(_repository_root(path)):
            raise PolicyError(
                f"{path}: expected the policy inside the repository, got a symbolic link leading out of "
                "it; not read (copy the policy into the repository, or pass --policy)"
            )
        if path.is_file():
            return path
    return None


def find_policy(start: Path) -> Path | None:
    """The nearest policy file at or above ``start``, the way git finds its root.

    Each folder from ``start`` upwards is searched with :func:`discover_policy`; the search stops
    after the repository root (a folder holding ``.git``), so a project never picks up a policy
    from outside its repository. The path is relative to the current folder when it lies inside
    it, else absolute.
    """
    try:
        here = start.resolve()
    except (OSError, RuntimeError):
        return None
    for folder in (here, *here.parents):
        found = discover_policy(folder)
        if found is not None:
            return _shown_path(found)
        if (folder / ".git").exists():
            return None
    return None


def _shown_path(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path


def load_policy(path: str | Path | None = None, *, pack: str | None = None) -> dict[str, Any]:
    """The effective policy as a plain dict: ``path`` (a YAML file) or a bundled ``pack``.

    With neither, the bundled ``default`` pack. Raises :class:`PolicyError` on any problem.
    """
    return load_policy_source(path, pack=pack).data


def load_policy_source(path: str | Path | None = None, *, pack: str | None = None) -> LoadedPolicy:
    if path is not None and pack is not None:
        raise PolicyError("expected a policy file or a pack, got both; use one of them")
    record: str | None = None
    try:
        layers = _read_chain(path, pack, validate=False)
    except PolicySchemaError:
        # Read again, validating, so that every problem is reported at once.
        layers, known_valid = _read_chain(path, pack, validate=True), False
    else:
        record = _validation_record(layers)
        known_valid = all(layer.bundled for layer in layers) or _validated(record)
        if not known_valid:  # validate the layers already read (no second read and parse)
            _validate_layers(layers)
    merged: dict[str, Any] = {}
    sources: dict[JsonPath, tuple[str, int]] = {}
    for layer in reversed(layers):  # base first, the user's file last
        merged = _deep_merge(merged, layer.data)
        sources.update({p: (layer.display, ln) for p, (ln, _) in layer.lines.items() if p[:1] != (_KEY,)})
    merged.pop("extends", None)
    _read_renamed(merged)
    if not known_valid:
        leftover = [_issue(e, "<merged policy>", {}) for e in _validator().iter_errors(merged)]
        if leftover:  # only reachable if the default pack itself is broken
            raise PolicySchemaError(leftover)
        if record is not None:
            _remember(record)
    return LoadedPolicy(
        data=merged,
        chain=tuple(layer.display for layer in layers),
        sources=sources,
        path=Path(path) if path is not None else None,
    )


def _read_chain(path: str | Path | None, pack: str | None, *, validate: bool) -> list[_Layer]:
    """The layers of the chain, the first file first; PolicySchemaError when any cannot be used.

    Without ``validate`` the files are read and parsed but not checked against the schema.
    """
    issues: list[PolicyIssue] = []
    if path is not None:
        first = _read_file(Path(path), str(path), issues, validate=validate)
    else:
        first = _read_pack(pack or BASE_PACK, issues)
    layers = _resolve_chain(first, issues, validate) if first is not None else []
    if issues:
        raise PolicySchemaError(sorted(issues, key=lambda i: (i.file, i.line, i.column, i.path)))
    return layers


def _validation_record(layers: list[_Layer]) -> str | None:
    """The key under which a validation that found no problem in exactly this chain is recorded;
    None: no record is kept (only bundled packs, or the cache is off)."""
    if all(layer.bundled for layer in layers) or cache_folder(_VALIDATED) is None:
        return None
    key = hashlib.sha256(f"{__version__}\0".encode() + SCHEMA_PATH.read_bytes())
    for layer in layers:
        key.update(f"\0{layer.digest}".encode())
    return key.hexdigest()


#: The cache subfolder of validation records: one flat folder of empty entries named by their key.
_VALIDATED = "policy"


def _validated(record: str | None) -> bool:
    # Only a record this user's veilcv wrote counts: anyone can compute the key of an invalid
    # policy, and a planted record would let it run unvalidated (veilcv.cachedir).
    folder = cache_folder(_VALIDATED)
    return record is not None and folder is not None and read_entry(folder, record) is not None


def _remember(record: str) -> None:
    folder = cache_folder(_VALIDATED)
    if folder is not None:
        write_entry(folder, record, b"")  # a read-only cache: the next run validates again


def _validate_layers(layers: list[_Layer]) -> None:
    """Raise PolicySchemaError listing every schema problem of the user's layers, as a validating
    read would (bundled packs are checked by the test suite)."""
    issues = [
        _issue(e, layer.display, layer.lines)
        for layer in layers
        if not layer.bundled
        for e in _validator().iter_errors(layer.data)
    ]
    if issues:
        raise PolicySchemaError(sorted(issues, key=lambda i: (i.file, i.line, i.column, i.path)))


#: Values earlier releases wrote, read as what they meant: a policy written then keeps its verdicts.
_RENAMED: dict[tuple[str, str], dict[str, str]] = {
    ("storage", "encryption"): {"required": "declared"},
    ("storage", "lifecycle"): {"required": "expiring"},
}


def _read_renamed(policy: dict[str, Any]) -> None:
    for (section, key), renames in _RENAMED.items():
        block = policy.get(section)
        if isinstance(block, dict) and block.get(key) in renames:
            block[key] = renames[block[key]]


@cache
def _base_policy() -> dict[str, Any]:
    return load_policy_source(pack=BASE_PACK).data


def default_policy() -> dict[str, Any]:
    """The bundled ``default`` pack (a copy): the one place every policy default is written."""
    return copy.deepcopy(_base_policy())


def with_defaults(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """``policy`` merged over the default pack, as ``extends`` merges: every pack key has a value.

    Code that reads a policy reads it through this (or :func:`load_policy`, which merges the same
    way), so no default is written twice. ``policy`` is not changed.
    """
    return _deep_merge(_base_policy(), dict(policy or {}))


def check_rule_ids(loaded: LoadedPolicy, known: Iterable[str]) -> None:
    """Refuse rule IDs in ``rules:`` or ``suppressions:`` that no rule has (typos hide findings)."""
    known = set(known)
    issues = []
    for rule_id in loaded.data.get("rules", {}):
        if rule_id not in known:
            file, line = loaded.source("rules", rule_id)
            msg = f"expected a known rule ID, got {rule_id!r}; see `veil rules`"
            issues.append(PolicyIssue(file, line, 1, json_path(("rules", rule_id)), msg))
    for i, entry in enumerate(loaded.data.get("suppressions", [])):
        if entry["rule"] not in known:
            file, line = loaded.source("suppressions", i, "rule")
            msg = f"expected a known rule ID, got {entry['rule']!r}; see `veil rules`"
            issues.append(PolicyIssue(file, line, 1, json_path(("suppressions", i, "rule")), msg))
    if issues:
        raise PolicySchemaError(issues)


def _read_pack(name: str, issues: list[PolicyIssue]) -> _Layer | None:
    layer, problems = _bundled_pack(PACKS_DIR / f"{name}.yaml", f"pack:{name}")
    issues.extend(problems)
    return layer


@cache
def _bundled_pack(path: Path, display: str) -> tuple[_Layer | None, tuple[PolicyIssue, ...]]:
    # Read once per process: every check reads the default pack twice (the chain, with_defaults).
    # Nothing changes a layer's data: merging copies it.
    issues: list[PolicyIssue] = []
    layer = _read_file(path, display, issues, bundled=True)
    return layer, tuple(issues)


def _read_file(
    path: Path, display: str, issues: list[PolicyIssue], *, bundled: bool = False, validate: bool = True
) -> _Layer | None:
    text = _read_text(path, display)
    data, lines = _parse_yaml(text, display, issues)
    if data is None:
        return None
    if not isinstance(data, dict):
        issues.append(PolicyIssue(display, 1, 1, "$", f"expected a mapping, got {type_name(data)}"))
        return None
    before = len(issues)
    if not bundled and validate:
        issues.extend(_issue(e, display, lines) for e in _validator().iter_errors(data))
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    layer = _Layer(display, path, data, lines, bundled, digest)
    return layer if len(issues) == before or isinstance(data.get("extends"), str) else None


def _read_text(path: Path, display: str) -> str:
    def not_huge(st: os.stat_result) -> None:
        if st.st_size > MAX_POLICY_BYTES:
            raise PolicyError(
                f"{display}: expected a policy file of at most {MAX_POLICY_BYTES >> 10} KiB, "
                f"got {st.st_size >> 10} KiB; a policy is a short hand-written file"
            )

    raw = read_regular_file(
        path,
        what="a policy file",
        cannot_read="cannot read policy",
        label=f"{display}: ",
        missing_hint="use `veil policy init`",
        error=PolicyError,
        check=not_huge,
    )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{display}: expected UTF-8 YAML text, got byte 0x{raw[exc.start]:02x} at offset {exc.start}"
            "; save the policy as UTF-8"
        ) from None


def _resolve_chain(first: _Layer, issues: list[PolicyIssue], validate: bool = True) -> list[_Layer]:
    layers = [first]
    while True:
        current = layers[-1]
        target = current.data.get("extends")
        if not isinstance(target, str):
            if current.display != f"pack:{BASE_PACK}":
                base = _read_pack(BASE_PACK, issues)
                if base is not None:
                    layers.append(base)
            return layers
        nxt = _open_extends(current, target, issues, _repository_root(first.path), validate)
        if nxt is None:
            return layers
        if any(_same(nxt, seen) for seen in layers):
            line, col = current.lines.get(("extends",), (1, 1))
            names = " -> ".join([*(layer.display for layer in layers), nxt.display])
            issues.append(PolicyIssue(current.display, line, col, "$.extends", f"extends cycle: {names}"))
            return layers
        layers.append(nxt)


def _repository_root(policy: Path | None) -> Path | None:
    """The repository holding the user's policy: the nearest folder above it with ``.git``, else its own."""
    if policy is None:
        return None
    here = policy.absolute().parent.resolve()  # where the file is listed, not where a link leads
    return next((p for p in (here, *here.parents) if (p / ".git").exists()), here)


def _open_extends(
    current: _Layer, target: str, issues: list[PolicyIssue], root: Path | None, validate: bool = True
) -> _Layer | None:
    """The layer ``target`` names: a bundled pack, or a file inside ``root`` (never read otherwise).

    A policy from an untrusted checkout (CI on a pull request) must not make veilcv read, and
    echo in its errors, a file outside the repository: absolute paths, ``~``, and relative paths or
    symbolic links that lead out of ``root`` are refused before anything is opened.
    """
    packs = bundled_packs()
    if target in packs:
        return _read_pack(target, issues)
    line, col = current.lines.get(("extends",), (1, 1))
    base = current.path.parent if current.path is not None and current.path.parent != PACKS_DIR else None
    if base is not None and root is not None:
        if Path(target).is_absolute() or target.startswith("~"):
            msg = f"expected a bundled pack or a path relative to this file, got the absolute path {target!r}"
            issues.append(PolicyIssue(current.display, line, col, "$.extends", msg))
            return None
        candidate = base / target
        if not candidate.resolve().is_relative_to(root):
            msg = (
                f"expected a bundled pack or a file inside the repository ({root}), got {target!r}, "
                "which leads outside it; copy the file into the repository"
            )
            issues.append(PolicyIssue(current.display, line, col, "$.extends", msg))
            return None
        if candidate.is_file():
            return _read_file(candidate, str(candidate), issues, validate=validate)
    hint = did_you_mean(target, packs) or f"; use one of {', '.join(packs)} or a path relative to this file"
    msg = f"expected a bundled pack or an existing file, got {target!r}{hint}"
    issues.append(PolicyIssue(current.display, line, col, "$.extends", msg))
    return None


def _same(a: _Layer, b: _Layer) -> bool:
    if a.path is None or b.path is None:
        return a.display == b.display
    return a.path.resolve() == b.path.resolve()


def _parse_yaml(
    text: str, display: str, issues: list[PolicyIssue]
) -> tuple[Any, dict[JsonPath, tuple[int, int]]]:
    loader = _Loader(text)
    lines: dict[JsonPath, tuple[int, int]] = {(): (1, 1)}
    try:
        node = loader.get_single_node()
        if node is None:
            issues.append(PolicyIssue(display, 1, 1, "$", "expected a mapping, got an empty file"))
            return None, lines
        refused = yaml_too_big(node)
        if refused is not None:
            issues.append(PolicyIssue(display, 1, 1, "$", refused))
            return None, lines
        data = loader.construct_document(node)
        _walk(loader, node, (), lines, display, issues)
    except (TypeError, ValueError) as exc:  # e.g. a list used as a mapping key
        issues.append(PolicyIssue(display, 1, 1, "$", f"invalid YAML: {exc}"))
        return None, lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        issues.append(PolicyIssue(display, line, col, "$", f"invalid YAML: {problem}"))
        return None, lines
    finally:
        loader.dispose()
    return _plain(data), lines


def _walk(loader: _Loader, node: yaml.Node, path: JsonPath, lines: dict, display: str, issues: list) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _plain(loader.construct_object(key_node, deep=True))
            child = (*path, key)
            pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                issues.append(
                    PolicyIssue(display, *pos, json_path(child), f"duplicate key {key!r}; keep only one")
                )
            seen.add(key)
            # Values are located at the value (type errors point there), keys at the key.
            lines[child] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
            lines[(_KEY, *child)] = pos
            _walk(loader, value_node, child, lines, display, issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _walk(loader, item, (*path, i), lines, display, issues)


def _plain(value: Any) -> Any:
    """Explicitly tagged dates become ISO strings so that the schema (and JSON) can read them."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; lists and scalars in ``over`` replace those in ``base``."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(schema(), format_checker=FormatChecker())


def _issue(error: SchemaViolation, display: str, lines: dict[JsonPath, tuple[int, int]]) -> PolicyIssue:
    path: JsonPath = tuple(error.absolute_path)
    text = message(error)
    at_key = False
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            path, at_key = (*path, extra[0]), True
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        path, at_key = (*path, error.instance), True  # point at the bad key itself, not its parent
        text = f"invalid key: {text}"
    line, col = lines.get((_KEY, *path)) if at_key and (_KEY, *path) in lines else _nearest(lines, path)
    return PolicyIssue(display, line, col, json_path(path), text)


def _nearest(lines: dict[JsonPath, tuple[int, int]], path: JsonPath) -> tuple[int, int]:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, (1, 1))
