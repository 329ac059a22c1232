"""A content-addressed cache of parsed Terraform files: an unchanged file is never parsed twice.

tree-sitter parses and converts a file in about a third of a millisecond, but a tree of a few
hundred ``.tf`` files still takes a seventh of a second, which the whole-repository pre-commit hook
pays on every commit; reading the same blocks back from this cache takes a third of that. Entries
are keyed by the SHA-256 of the file's text together with the parser (the installed tree-sitter
and grammar binaries) and the source of the HCL reader (``hcl.py``), so an edited file, an
upgraded grammar or a changed reader never reads a stale entry. Entries are JSON (never pickle:
loading a cache must not be able to run code), read and written through ``veilcv.cachedir``, which
trusts only entries this user's veilcv wrote: the key is computable by anyone, and a planted entry
could otherwise drop a bucket's public ACL from what the rules see. An unreadable, corrupt or
untrusted entry is parsed again (and a corrupt one of the user's rewritten). Files with syntax
errors are not cached (their errors must be reported again on every run).

Entries are not synced to disk: one lost in a crash is parsed again, and syncing each one made a
first run over a few hundred files three times slower than parsing without the cache.

Location: ``terraform`` in veilcv's cache folder (``$VEILCV_CACHE_DIR`` when set, otherwise the user
cache directory), one flat folder: a first run creates no subfolders. ``VEILCV_NO_CACHE=1`` turns
the cache off.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import tree_sitter
import tree_sitter_hcl

from veilcv.cachedir import cache_folder, read_entry, write_entry
from veilcv.linter.rules.storage import hcl
from veilcv.linter.rules.storage.hcl import Block, SyntaxProblem

FORMAT_VERSION = "4"


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
    return cache_folder("terraform")


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


def parse_cached(text: str, directory: Path | None = None) -> tuple[list[Block], list[SyntaxProblem]]:
    """:func:`hcl.parse` through the cache (``directory`` defaults to :func:`cache_dir`)."""
    blocks = cached(text, directory)
    return (blocks, []) if blocks is not None else parse_and_store(text, directory)


def parse_and_store(text: str, directory: Path | None = None) -> tuple[list[Block], list[SyntaxProblem]]:
    """:func:`hcl.parse`, its blocks stored in the cache when the file parsed cleanly (for a text
    :func:`cached` has just missed)."""
    blocks, problems = hcl.parse(text)
    directory = directory if directory is not None else cache_dir()
    if directory is None or problems:
        return blocks, problems
    try:
        payload = json.dumps([_dump(b) for b in blocks], separators=(",", ":")).encode()
    except (TypeError, ValueError):
        return blocks, problems
    write_entry(directory, _key(text), payload)
    return blocks, problems


def cached(text: str, directory: Path | None = None) -> list[Block] | None:
    """The blocks the cache holds for ``text``; None when it holds none (or is off)."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return None
    data = read_entry(directory, _key(text))
    if data is None:
        return None
    try:
        return [_load(d) for d in json.loads(data)]
    except (ValueError, KeyError, TypeError):
        return None  # corrupt or from another format: parsed and rewritten
