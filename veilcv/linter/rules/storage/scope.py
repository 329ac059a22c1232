"""What the storage family must read to judge a few changed files (per-file mode: pre-commit).

A Terraform module is a folder: a changed ``.tf`` file is judged with every file of its folder. A
folder is also judged as the modules that call it instantiate it, and it instantiates the modules
it calls, so the folders linked to it by a ``module`` block's ``source`` are read too, up and down,
until none is added. Buckets also meet across modules by name (a log sink, a replication
destination, a bucket that another one logs to): after a first load, any other Terraform file or
plain bucket config whose text holds the name of a bucket in scope, or a name such a bucket points
to, is added with its folder, and the load is done again. Everything else in the tree is not
parsed, so the hook's cost follows the size of the change, not of the repository.

Finding links needs no parsing: ``source`` arguments and names (quoted, in Terraform) are looked
up in the files' bytes, which over-includes (a name in a comment adds a folder) and never leaves
out a literal link. A name
that is only spelled through interpolation on the side outside the scope (``"logs-${var.env}"``)
is not found; such a link counts in a whole-tree check.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import replace

from veilcv.linter.context import LintContext
from veilcv.linter.rules.storage.model import Bucket, load_buckets
from veilcv.linter.rules.storage.plainconfig import MAX_CONFIG_BYTES
from veilcv.linter.rules.storage.tf_json import TERRAFORM_SUFFIXES, VARIABLE_SUFFIXES, is_terraform

_SOURCE = re.compile(rb'(?:\bsource\s*=|"source"\s*:)\s*"([^"\n]*)"')  # HCL or JSON syntax
_QUOTED = re.compile(rb'"((?:[^"\\\n]|\\.){3,255})"')  # string literals that may be a bucket's name
_TERRAFORM = TERRAFORM_SUFFIXES + VARIABLE_SUFFIXES
_PLAIN = (".yaml", ".yml", ".json")
_MIN_NAME = 3  # shorter "names" are parts of other words; buckets need at least 3 characters anyway


def narrow(ctx: LintContext) -> LintContext:
    """``ctx`` as far as judging ``ctx.targets`` needs it: ``ctx`` itself outside per-file mode.

    The narrowed context shares the lists of skipped and unparseable files with ``ctx`` and has a
    cache of its own, so another family (the cross-file rules) still sees the whole tree.
    """
    if ctx.targets is None:
        return ctx
    texts = _Texts(ctx)
    tf_folders = {posixpath.dirname(f) for f in ctx.files if is_terraform(f)}
    calls = _calls(texts, [f for f in ctx.files if is_terraform(f)])
    folders = _closure(
        {posixpath.dirname(t) for t in ctx.targets if t.endswith(_TERRAFORM)}, calls, tf_folders
    )
    plain = {t for t in ctx.targets if t.endswith(_PLAIN) and not t.endswith(_TERRAFORM)}
    sub = _sub(ctx, folders, plain)
    names = _names(load_buckets(sub))
    more_folders, more_plain = _mentioning(ctx, texts, names, folders, plain)
    if not more_folders and not more_plain:
        return sub
    folders = _closure(folders | more_folders, calls, tf_folders)
    return _sub(ctx, folders, plain | more_plain)


class _Texts:
    """File bytes read once (``None``: unreadable or too big to be a config)."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self._cache: dict[str, bytes | None] = {}

    def __call__(self, rel: str) -> bytes | None:
        if rel not in self._cache:
            self._cache[rel] = self.ctx.read_bytes(rel, MAX_CONFIG_BYTES)
        return self._cache[rel]


def _calls(texts: _Texts, tf_files: Iterable[str]) -> dict[str, set[str]]:
    """Folder -> the ``source`` strings its files write, local ones resolved to folders."""
    out: dict[str, set[str]] = {}
    for rel in tf_files:
        data = texts(rel)
        if data is None or b"module" not in data:
            continue
        folder = posixpath.dirname(rel)
        for m in _SOURCE.finditer(data):
            source = m.group(1).decode("utf-8", "replace")
            if source.startswith(("./", "../")):
                resolved = posixpath.normpath(posixpath.join(folder, source))
                source = "" if resolved == "." else resolved
                out.setdefault(folder, set()).add("\0" + source)  # \0: a resolved local folder
            else:
                out.setdefault(folder, set()).add(source)
    return out


def _closure(folders: set[str], calls: dict[str, set[str]], tf_folders: set[str]) -> set[str]:
    """``folders`` with the folders they call and the folders that call them, transitively.

    A local source links exactly; any other source (git, registry) links the folder of this tree
    it names after its last ``//`` (a monorepo calling itself) and, upwards, any folder whose name
    is one of its path's parts. A folder ``terraform init`` vendored (under ``.terraform/``) is
    called through the ``modules.json`` of the root module that holds that ``.terraform``.
    """
    scope = set(folders)
    grew = True
    while grew:
        grew = False
        for folder in list(scope):
            parts = folder.split("/")
            if ".terraform" in parts:
                root = "/".join(parts[: parts.index(".terraform")])
                if root not in scope and root in tf_folders:
                    scope.add(root)
                    grew = True
        names = {posixpath.basename(f) for f in scope if f}
        for caller, sources in calls.items():
            for source in sources:
                if source.startswith("\0"):
                    callee = source[1:]
                    linked = callee in scope or caller in scope
                    new = {caller, callee} & tf_folders if linked else set()
                else:
                    path = source.split("?", 1)[0]
                    sub = path.rsplit("//", 1)[-1] if "//" in path else None
                    new = {sub} & tf_folders if sub and caller in scope else set()
                    if caller not in scope and not names.isdisjoint(path.split("/")):
                        new.add(caller)
                if new - scope:
                    scope |= new
                    names.update(posixpath.basename(f) for f in new if f)
                    grew = True
    return scope


def _sub(ctx: LintContext, folders: set[str], plain: set[str]) -> LintContext:
    files = [f for f in ctx.files if posixpath.dirname(f) in folders or f in plain]
    return replace(ctx, files=files, cache={})


def _names(buckets: list[Bucket]) -> set[bytes]:
    found: set[str] = set()
    for b in buckets:
        found.add(b.name)
        found.update(t for t in (b.log_target, *b.replication_targets) if t)
    return {n.encode() for n in found if len(n) >= _MIN_NAME and "${" not in n}


def _mentioning(
    ctx: LintContext, texts: _Texts, names: set[bytes], folders: set[str], plain: set[str]
) -> tuple[set[str], set[str]]:
    """Folders of Terraform files, and plain configs, outside the scope that mention one of ``names``."""
    more_folders: set[str] = set()
    more_plain: set[str] = set()
    if not names:
        return more_folders, more_plain
    # One pass of an alternation finds the few files that hold a name at all (20x faster than
    # looking for each name in turn over a 2,000-file tree).
    anywhere = re.compile(b"|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    for rel in ctx.files:
        folder = posixpath.dirname(rel)
        if folder in folders or folder in more_folders or rel in plain:
            continue
        is_tf = is_terraform(rel)
        if not is_tf and not rel.endswith(_PLAIN):
            continue
        data = texts(rel)
        if data is None or (not is_tf and b"buckets" not in data) or anywhere.search(data) is None:
            continue
        if not is_tf:
            more_plain.add(rel)
        elif not names.isdisjoint(_QUOTED.findall(data)):  # HCL writes names as strings
            more_folders.add(folder)
    return more_folders, more_plain
