"""Where a ``module`` block's code is: a local folder, a folder ``terraform init`` vendored, a model.

Terraform resolves a module call's ``source`` to a folder: a local path as written; anything else
(the registry, git, an archive) is downloaded by ``terraform init`` under ``.terraform/modules/``
and listed in ``.terraform/modules/modules.json`` (``Key`` is the dotted call path, ``frames`` or
``frames.logs``, ``Dir`` the folder relative to the root module). CI pipelines usually run
``terraform init`` before scanning, so a vendored module is read as Terraform reads it, even where
``.gitignore`` hides ``.terraform/``. A registry module that is not on disk may still be one of the
well-known storage modules veil models (``tf_registry``). A call none of these resolve is recorded
as unchecked: VC221 reports it, so no module call passes silently.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from veilcv.linter.context import LintContext
from veilcv.linter.rules.storage.hcl import Block
from veilcv.linter.rules.storage.tfcache import parse_cached

MAX_MANIFEST_BYTES = 1 << 20
MAX_VENDORED_FILE_BYTES = 2 << 20


@dataclass(frozen=True)
class Unchecked:
    """A module call whose buckets veil could not judge (or judge only in part)."""

    address: str  # module.frames, module.app.module.logs
    source: str
    file: str
    line: int
    reason: str


@dataclass
class Resolver:
    ctx: LintContext
    parsed: dict[str, list[tuple[str, Block]]]
    unchecked: list[Unchecked] = field(default_factory=list)
    _manifests: dict[str, dict[str, str]] = field(default_factory=dict)
    _tf_dirs: set[str] | None = None
    _read_from_disk: set[str] = field(default_factory=set)  # folders load() found .tf files in

    def has_terraform(self, directory: str) -> bool:
        """Whether the checked tree has ``.tf`` files in ``directory`` (parsed or not)."""
        if self._tf_dirs is None:
            self._tf_dirs = {posixpath.dirname(f) for f in self.ctx.files if f.endswith(".tf")}
        return directory in self._tf_dirs

    def vendored(self, root: str, key: str) -> str | None:
        """The folder ``terraform init`` put the module with call path ``key`` in, if listed."""
        if root not in self._manifests:
            self._manifests[root] = self._manifest(root)
        return self._manifests[root].get(key)

    def _manifest(self, root: str) -> dict[str, str]:
        path = self.ctx.path(posixpath.join(root, ".terraform", "modules", "modules.json"))
        try:
            if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
                return {}
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return {}
        out: dict[str, str] = {}
        for entry in doc.get("Modules", []) if isinstance(doc, dict) else []:
            if not isinstance(entry, dict):
                continue
            key, folder = entry.get("Key"), entry.get("Dir")
            if not isinstance(key, str) or not key or not isinstance(folder, str):
                continue
            if folder.startswith("/") or "\\" in folder:
                continue  # an absolute path points outside the checked tree
            resolved = posixpath.normpath(posixpath.join(root, folder))
            if resolved == ".." or resolved.startswith("../"):
                continue  # never read outside the checked tree
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
            names = sorted(p.name for p in folder.iterdir() if p.suffix == ".tf")
        except OSError:
            names = []
        if names:
            self._read_from_disk.add(directory)
        for name in names:
            rel = posixpath.join(directory, name) if directory else name
            path = self.ctx.path(rel)
            try:
                real = path.resolve()
                if not real.is_relative_to(root) or not real.is_file():
                    continue
                if real.stat().st_size > MAX_VENDORED_FILE_BYTES:
                    self.ctx.unparseable(rel, "expected a Terraform file of at most 2 MiB; not parsed")
                    continue
                text = real.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.ctx.unparseable(rel, f"cannot read Terraform: {exc}")
                continue
            blocks, problems = parse_cached(text)
            if problems:
                first = problems[0]
                self.ctx.unparseable(
                    rel,
                    f"cannot parse Terraform: syntax error at line {first.line}, column {first.column}:"
                    f" {first.message}; the blocks around it are still checked",
                )
            entries.extend((rel, b) for b in blocks)
        self.parsed[directory] = entries
        return entries

    def not_checked(self, address: str, block: Block, file: str, reason: str) -> None:
        source = block.get("source")
        self.unchecked.append(
            Unchecked(address, source if isinstance(source, str) else str(source), file, block.line, reason)
        )


def call_key(address: str) -> str:
    """``module.app.module.logs`` -> ``app.logs``, the key ``modules.json`` uses."""
    parts = address.split(".")
    return ".".join(parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i] == "module")


def registry_source(source: Any) -> str | None:
    """``terraform-aws-modules/s3-bucket/aws`` (also with a registry host or ``//submodule``)."""
    if not isinstance(source, str) or source.startswith(("./", "../", "/")) or "::" in source:
        return None
    path = source.split("?", 1)[0]
    parts = path.split("/")
    if len(parts) >= 4 and "." in parts[0]:  # registry.terraform.io/namespace/name/provider
        parts = parts[1:]
    if len(parts) < 3:
        return None
    return "/".join(parts).lower()
