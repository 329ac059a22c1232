"""A content-addressed cache of parsed Terraform files: an unchanged file is never parsed twice.

tree-sitter parses and converts a file in about a third of a millisecond, but a tree of a few
hundred ``.tf`` files still takes a seventh of a second, which the whole-repository pre-commit hook
pays on every commit; reading the same blocks back from this cache takes a third of that. Entries
are keyed by the SHA-256 of the file's text together with the parser (the installed tree-sitter
and grammar binaries) and the source of the HCL reader (``hcl.py``), so an edited file, an
upgraded grammar or a changed reader never reads a stale entry. Entries are JSON (never pickle:
loading a cache must not be able to run code) that repeat their key, renamed into place from a
temporary file; an unreadable, corrupt or foreign entry is ignored and rewritten. Files with syntax
errors are not cached (their errors must be reported again on every run).

Entries are not synced to disk: one lost in a crash is parsed again, and syncing each one made a
first run over a few hundred files three times slower than parsing without the cache.

Location: ``$VEILCV_CACHE_DIR/terraform`` when set, otherwise the user cache directory.
``VEILCV_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import tree_sitter
import tree_sitter_hcl

from veilcv.cachedir import cache_root
from veilcv.linter.rules.storage import hcl
from veilcv.linter.rules.storage.hcl import Block, SyntaxProblem

FORMAT_VERSION = "3"


def _binary(module: object) -> str:
    """The compiled part of ``module`` as installed: an upgrade or reinstall writes a new file.

    (Asking the package metadata for the versions costs more than a warm run's parsing of a module.)
    """
    path = Path(module.__file__)  # type: ignore[attr-defined]
    try:
        st = path.stat()
    except OSError:
        return str(path)
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


@functools.cache
def _salt() -> bytes:
    reader = hashlib.sha256(Path(hcl.__file__).read_bytes()).hexdigest()
    parser = "/".join(_binary(m) for m in (tree_sitter._binding, tree_sitter_hcl._binding))
    return f"{FORMAT_VERSION}\0{parser}\0{reader}\0".encode()


def cache_dir() -> Path | None:
    if os.environ.get("VEILCV_NO_CACHE", "") not in ("", "0"):
        return None
    return cache_root() / "terraform"


def _dump(block: Block) -> dict[str, Any]:
    return {
        "t": block.type,
        "l": list(block.labels),
        "n": [block.line, block.column, block.end_line],
        "a": block.attrs,
        "al": block.attr_lines,
        "b": {k: [_dump(c) for c in v] for k, v in block.blocks.items()},
    }


def _load(d: dict[str, Any]) -> Block:
    line, column, end_line = d["n"]
    return Block(
        type=d["t"],
        labels=tuple(d["l"]),
        line=line,
        attrs=d["a"],
        attr_lines=d["al"],
        blocks={k: [_load(c) for c in v] for k, v in d["b"].items()},
        column=column,
        end_line=end_line,
    )


def _key(text: str) -> str:
    return hashlib.sha256(_salt() + text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _made(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _write(entry: Path, data: str) -> None:
    """Rename a complete temporary file over ``entry``: a reader sees the old entry, the new one or
    none, never part of one (the pid keeps concurrent runs off each other's temporary files)."""
    _made(entry.parent)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(data)
        os.replace(tmp, entry)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def parse_cached(text: str, directory: Path | None = None) -> tuple[list[Block], list[SyntaxProblem]]:
    """:func:`hcl.parse` through the cache (``directory`` defaults to :func:`cache_dir`)."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return hcl.parse(text)
    key = _key(text)
    entry = directory / f"{key}.json"  # one flat folder: a first run creates no subfolders
    try:
        doc = json.loads(entry.read_bytes())
        if doc["k"] == key:
            return [_load(d) for d in doc["b"]], []
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, corrupt or from another format: parse and (re)write
    blocks, problems = hcl.parse(text)
    if not problems:
        try:
            _write(entry, json.dumps({"k": key, "b": [_dump(b) for b in blocks]}, separators=(",", ":")))
        except (OSError, TypeError, ValueError):
            pass  # a read-only or full cache never fails the check
    return blocks, problems
