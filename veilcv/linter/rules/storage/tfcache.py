"""A content-addressed cache of parsed Terraform files: an unchanged file is never parsed twice.

tree-sitter parses a file in about half a millisecond, but a tree of a few hundred ``.tf`` files
still takes a fifth of a second, which a pre-commit hook pays on every commit; reading the same
blocks back from this cache takes a fourteenth of that. Entries are keyed by the SHA-256 of the
file's text together with the parser's versions and the source of the HCL reader
(``hcl.py``), so an edited file, an upgraded grammar or a changed reader never reads a stale
entry. Entries are JSON (never pickle: loading a cache must not be able to run code), written
atomically; an unreadable or corrupt entry is ignored and rewritten. Files with syntax errors are
not cached (their errors must be reported again on every run).

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

from veilcv.atomic import write_text
from veilcv.cachedir import cache_root
from veilcv.linter.rules.storage import hcl
from veilcv.linter.rules.storage.hcl import Block, SyntaxProblem

FORMAT_VERSION = "2"


@functools.cache
def _salt() -> bytes:
    reader = hashlib.sha256(Path(hcl.__file__).read_bytes()).hexdigest()
    return f"{FORMAT_VERSION}\0{hcl.parser_version()}\0{reader}\0".encode()


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


def _entry(text: str, directory: Path) -> Path:
    key = hashlib.sha256(_salt() + text.encode("utf-8", "surrogatepass")).hexdigest()
    return directory / key[:2] / f"{key}.json"


def parse_cached(text: str, directory: Path | None = None) -> tuple[list[Block], list[SyntaxProblem]]:
    """:func:`hcl.parse` through the cache (``directory`` defaults to :func:`cache_dir`)."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return hcl.parse(text)
    entry = _entry(text, directory)
    try:
        return [_load(d) for d in json.loads(entry.read_text(encoding="utf-8"))], []
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or corrupt: parse and (re)write
    blocks, problems = hcl.parse(text)
    if not problems:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_text(entry, json.dumps([_dump(b) for b in blocks], separators=(",", ":")))
        except (OSError, TypeError, ValueError):
            pass  # a read-only or full cache never fails the check
    return blocks, problems
