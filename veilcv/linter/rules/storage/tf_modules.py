"""Where a ``module`` block's code is: a local folder, a folder ``terraform init`` vendored, a folder
of this very checkout, or a model.

Terraform resolves a module call's ``source`` to a folder: a local path as written; anything else
(the registry, git, an archive) is downloaded by ``terraform init`` under ``.terraform/modules/``
and listed in ``.terraform/modules/modules.json`` (``Key`` is the dotted call path, ``frames`` or
``frames.logs``, ``Dir`` the folder relative to the root module). CI pipelines usually run
``terraform init`` before scanning, so a vendored module is read as Terraform reads it, even where
``.gitignore`` hides ``.terraform/``. A git source that names the repository being checked (a
monorepo calling its own ``//modules/bucket?ref=v1.2.0``, the checked root's ``.git/config``
listing that remote) is read from the checkout's own folder, and its findings say that the
checked-out copy, not the ref, was read. A source that is not on disk may still be one of the
well-known storage modules veil models (``tf_registry``), whether it is written as a registry
address, a git URL or an archive of the repository the registry publishes it from. A call none of
these resolve is recorded as unchecked with what was tried: VC221 reports it, so no module call
passes silently. Folders Terraform would not look in (a ``vendor/`` copy) are never guessed.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from veilcv.linter.context import LintContext
from veilcv.linter.rules.storage.hcl import Block
from veilcv.linter.rules.storage.tf_json import is_terraform, parse_file
from veilcv.linter.rules.storage.tf_sources import Source, git_remotes, parse_source
from veilcv.linter.rules.storage.tfcache import parse_cached

if TYPE_CHECKING:
    from veilcv.linter.rules.storage.model import Bucket
    from veilcv.linter.rules.storage.tf_registry import Model

MAX_MANIFEST_BYTES = 1 << 20
MAX_VENDORED_FILE_BYTES = 2 << 20
#: Deeper nesting than this is not followed (a generated tree; a cycle is caught before, as a call
#: of a folder already being read); the call is reported instead.
MAX_MODULE_DEPTH = 8
#: Module instances judged from folders in one run, all roots together: calls fanning out (each of
#: a few folders calling the next with ``count = 60``) would make millions. A call beyond it is
#: reported once per call site instead.
MAX_MODULE_INSTANCES = 10_000
_OUTSIDE = object()  # a modules.json entry whose Dir leaves the checked tree


@dataclass(frozen=True)
class Unchecked:
    """A module call whose buckets veil could not judge (or judge only in part)."""

    address: str  # module.frames, module.app.module.logs
    source: str
    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class Resolution:
    """Where a module call's buckets come from: a folder to read as the module, or a model of it
    (``call`` is the block as the model reads it: ``version`` from a git tag). ``note`` says what a
    reviewer should know about how the code was found; it travels with every bucket."""

    folder: str | None = None
    model: Model | None = None
    call: Block | None = None
    note: str = ""


@dataclass
class Resolver:
    ctx: LintContext
    parsed: dict[str, list[tuple[str, Block]]]
    unchecked: list[Unchecked] = field(default_factory=list)
    _manifests: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _tf_dirs: set[str] | None = None
    _read_from_disk: set[str] = field(default_factory=set)  # folders load() found .tf files in
    _remotes: frozenset[str] | None = None
    instances: int = 0  # module instances judged from folders so far
    _capped: set[tuple[str, int]] = field(default_factory=set)  # call sites reported past the cap

    def has_terraform(self, directory: str) -> bool:
        """Whether the checked tree has ``.tf`` files in ``directory`` (parsed or not)."""
        if self._tf_dirs is None:
            self._tf_dirs = {posixpath.dirname(f) for f in self.ctx.files if is_terraform(f)}
        return directory in self._tf_dirs

    def remotes(self) -> frozenset[str]:
        """The git remotes of the checked root (``github.com/acme/infra``), read once."""
        if self._remotes is None:
            self._remotes = git_remotes(self.ctx.root)
        return self._remotes

    def checked_out_calls(self) -> set[tuple[str, str]]:
        """``(caller, folder)`` for each folder of this checkout that a git source naming its own
        repository calls: judged as those calls instantiate it (like a local module's folder), not
        on its own. The folder may be the checkout's root (``""``)."""
        remotes = self.remotes()
        out: set[tuple[str, str]] = set()
        for directory, entries in self.parsed.items() if remotes else ():
            for _file, b in entries:
                src = parse_source(b.get("source")) if b.type == "module" else None
                if src and src.repo in remotes and src.subdir != directory and src.subdir in self.parsed:
                    out.add((directory, src.subdir))
        return out

    def vendored(self, root: str, key: str) -> str | None:
        """The folder ``terraform init`` put the module with call path ``key`` in, if listed."""
        found = self._manifest_of(root).get(key)
        return found if isinstance(found, str) else None

    def _manifest_of(self, root: str) -> dict[str, Any]:
        if root not in self._manifests:
            self._manifests[root] = self._manifest(root)
        return self._manifests[root] or {}

    def _manifest(self, root: str) -> dict[str, Any] | None:
        """Call path -> folder; None when there is no readable manifest."""
        path = self.ctx.path(posixpath.join(root, ".terraform", "modules", "modules.json"))
        try:
            if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
                return None
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return None
        out: dict[str, Any] = {}
        for entry in doc.get("Modules", []) if isinstance(doc, dict) else []:
            if not isinstance(entry, dict):
                continue
            key, folder = entry.get("Key"), entry.get("Dir")
            if not isinstance(key, str) or not key or not isinstance(folder, str):
                continue
            if folder.startswith("/") or "\\" in folder:
                out[key] = _OUTSIDE  # an absolute path points outside the checked tree
                continue
            resolved = posixpath.normpath(posixpath.join(root, folder))
            if resolved == ".." or resolved.startswith("../"):
                out[key] = _OUTSIDE  # never read outside the checked tree
                continue
            out[key] = "" if resolved == "." else resolved
        return out

    def on_disk(self, directory: str) -> bool:
        """Whether :meth:`load` found ``.tf`` files in ``directory``."""
        return directory in self._read_from_disk or self.has_terraform(directory)

    def load(self, directory: str) -> list[tuple[str, Block]]:
        """The blocks of a folder's ``.tf`` files, read from disk when the walk did not list them
        (``.terraform/`` is usually ignored); syntax errors are VC004 as for any other file."""
        if directory in self.parsed:
            return self.parsed[directory]
        entries: list[tuple[str, Block]] = []
        folder = self.ctx.path(directory)
        root = self.ctx.root.resolve()
        try:
            names = sorted(p.name for p in folder.iterdir() if is_terraform(p.name))
        except OSError:
            names = []
        for name in names:
            rel = posixpath.join(directory, name) if directory else name
            path = self.ctx.path(rel)
            try:
                real = path.resolve()
                if not real.is_relative_to(root) or not real.is_file():
                    continue  # a link out of the checked tree is not read, nor counted as read
                self._read_from_disk.add(directory)  # from here on, the file is read or VC004
                if real.stat().st_size > MAX_VENDORED_FILE_BYTES:
                    self.ctx.unparseable(rel, "expected a Terraform file of at most 2 MiB; not parsed")
                    continue
                text = real.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.ctx.unparseable(rel, f"cannot read Terraform: {exc}")
                continue
            blocks, problem = parse_file(rel, text, parse_cached)
            if problem is not None:
                self.ctx.unparseable(rel, problem)
            entries.extend((rel, b) for b in blocks)
        self.parsed[directory] = entries
        return entries

    def not_checked(self, address: str, block: Block, file: str, reason: str) -> None:
        source = block.get("source")
        shown = source if isinstance(source, str) else "none" if source is None else str(source)
        self.unchecked.append(Unchecked(address, shown, file, block.line, reason))

    def resolve(
        self, root: str, directory: str, address: str, block: Block, file: str, stack: tuple[str, ...]
    ) -> Resolution | None:
        """Where the call's buckets come from; None when nothing is to be read: the call is
        recorded as unchecked, or its folder provably declares nothing about storage."""
        src = parse_source(block.get("source"))
        if len(stack) > MAX_MODULE_DEPTH:
            return self._skip(
                address, block, file, f"it is nested deeper than {MAX_MODULE_DEPTH} module calls"
            )
        if src.kind == "none":
            return self._skip(address, block, file, "it has no source")
        if src.kind == "expression":
            return self._skip(
                address, block, file, "its source is an expression (Terraform requires a literal string)"
            )
        if src.kind == "local":
            folder = posixpath.normpath(posixpath.join(directory, src.text.replace("\\", "/")))
            return self._folder("" if folder == "." else folder, address, block, file, stack, "")
        tried: list[str] = []
        stale = ""  # modules.json lists the call, but its folder is gone: said beside whatever is read
        key = call_key(address)
        self._manifest_of(root)
        manifest = self._manifests[root]
        listed = (manifest or {}).get(key)
        where = posixpath.join(root, ".terraform/modules/modules.json")
        if manifest is None:
            tried.append(f"no {where} (terraform init has not run)")
        elif listed is None:
            tried.append(f"{where} does not list {key}")
        elif listed is _OUTSIDE:
            tried.append(f"{where} puts {key} outside the checked tree")
        elif self._present(listed):
            return self._folder(listed, address, block, file, stack, "")
        else:
            tried.append(f"{where} lists {key} in {listed or '.'}, which holds no Terraform files")
            stale = f"{address}: {tried[-1]} (run terraform init again)"
        if src.repo:
            remotes = self.remotes()
            if src.repo in remotes:
                folder = src.subdir
                note = (
                    f"{address} read from this checkout's {folder or '.'}, not from "
                    f"{src.describe_ref()} of {src.repo}"
                )
                return self._folder(folder, address, block, file, stack, _join(stale, note))
            tried.append(
                f"{src.repo} is not this checkout's remote ({', '.join(sorted(remotes))})"
                if remotes
                else f"the checked root is not a git checkout whose remote could be {src.repo}"
            )
        found = self._model(src, address, block, file, tried)
        return dataclasses.replace(found, note=_join(stale, found.note)) if found else None

    def _model(
        self, src: Source, address: str, block: Block, file: str, tried: list[str]
    ) -> Resolution | None:
        from veilcv.linter.rules.storage.tf_registry import MODELS

        model = MODELS.get(src.module) if src.module and not src.host else None
        if model is None:
            if src.module in MODELS:
                host = src.host
                tried.append(
                    f"{host} is not the public registry: its {src.module} may not be what veil models"
                )
            else:
                tried.append("it is not a module veil models")
            kind = "remote" if src.kind == "other" else src.kind
            return self._skip(address, block, file, f"its {kind} source was not found: {'; '.join(tried)}")
        call, pinned = block, "version" in block.attrs
        if src.kind in ("git", "archive"):
            attrs = {k: v for k, v in block.attrs.items() if k != "version"}
            if src.version is not None:
                attrs["version"] = src.version  # the release the tag names, read as a version argument
            call, pinned = dataclasses.replace(block, attrs=attrs), src.version is not None
        how = src.describe_ref() if src.kind in ("git", "archive") else "no version constraint"
        note = (
            ""
            if pinned
            else f"{address} version unpinned ({how}): judged by veil's model of the latest release"
        )
        return Resolution(model=model, call=call, note=note)

    def _present(self, folder: str) -> bool:
        """Whether ``folder`` holds Terraform files (read now if the walk did not list it)."""
        if folder in self.parsed or self.has_terraform(folder):
            return True
        self.load(folder)
        return self.on_disk(folder)

    def _folder(
        self, folder: str, address: str, block: Block, file: str, stack: tuple[str, ...], note: str
    ) -> Resolution | None:
        if folder == ".." or folder.startswith("../"):
            return self._skip(address, block, file, f"its folder {folder} is outside the checked tree")
        if folder in stack:
            return self._skip(
                address, block, file, f"it calls {folder or '.'}, which is already being read (a cycle)"
            )
        if folder not in self.parsed and self.has_terraform(folder):
            return None  # its files declare nothing that concerns storage
        if not self._present(folder):
            return self._skip(address, block, file, f"no Terraform files in {folder or '.'}")
        if self.instances >= MAX_MODULE_INSTANCES:
            if (file, block.line) in self._capped:
                return None  # this call site is already reported
            self._capped.add((file, block.line))
            return self._skip(
                address,
                block,
                file,
                f"more than {MAX_MODULE_INSTANCES:,} module instances in one run"
                " (this and any further instances of this call are not checked)",
            )
        self.instances += 1
        return Resolution(folder=folder, note=note)

    def _skip(self, address: str, block: Block, file: str, reason: str) -> None:
        self.not_checked(address, block, file, reason)
        return None


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def noted(buckets: list[Bucket], note: str) -> list[Bucket]:
    """``note`` added to each bucket a call makes (an outer call's note first)."""
    if note:
        for b in buckets:
            b.module_note = _join(note, b.module_note)
    return buckets


_INSTANCE_KEY = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|\d+)\]')


def call_key(address: str) -> str:
    """``module.app["raw"].module.logs[0]`` -> ``app.logs``, the key ``modules.json`` uses
    (``terraform init`` installs a module once per call, whatever its ``count``/``for_each``)."""
    parts = _INSTANCE_KEY.sub("", address).split(".")
    return ".".join(parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i] == "module")
