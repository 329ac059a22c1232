"""A content-addressed cache of parsed Terraform files, so unchanged files are never parsed twice.

Parsing dominates a storage check (python-hcl2's grammar runs in pure Python), and between two
runs of ``veil check`` or of the pre-commit hook almost every ``.tf`` file is unchanged. Entries
are keyed by the SHA-256 of the file's text together with the parser's version and this
module's format version, so an edited file or an upgraded parser never reads a stale entry.
Entries are JSON (never pickle: loading a cache must not be able to run code), written
atomically; an unreadable or corrupt entry is ignored and rewritten.

Location: ``$VEILCV_CACHE_DIR/terraform`` when set, otherwise the user cache directory
(``platformdirs``). ``VEILCV_NO_CACHE=1`` turns the cache off.

:func:`parse_many` parses the files the cache does not hold in forked worker processes (Linux,
single-threaded callers) when there are enough of them to pay for the workers (``VEILCV_JOBS``
sets the number; 1 turns it off).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import platformdirs

from veilcv.atomic import write_text
from veilcv.linter.rules.storage.hcl import Block, parse_terraform

FORMAT_VERSION = "1"
MIN_FILES_PER_JOB = 32  # below this a worker's start-up costs more than the parsing it saves


def _parser_version() -> str:
    try:
        return version("python-hcl2") + "/" + version("lark")
    except PackageNotFoundError:
        return "unknown"


_SALT = f"{FORMAT_VERSION}\0{_parser_version()}\0".encode()


def cache_dir() -> Path | None:
    if os.environ.get("VEILCV_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("VEILCV_CACHE_DIR") or platformdirs.user_cache_dir("veilcv")
    return Path(base) / "terraform"


def _dump(block: Block) -> dict[str, Any]:
    return {
        "t": block.type,
        "l": list(block.labels),
        "n": block.line,
        "a": block.attrs,
        "al": block.attr_lines,
        "b": {k: [_dump(c) for c in v] for k, v in block.blocks.items()},
    }


def _load(d: dict[str, Any]) -> Block:
    return Block(
        type=d["t"],
        labels=tuple(d["l"]),
        line=d["n"],
        attrs=d["a"],
        attr_lines=d["al"],
        blocks={k: [_load(c) for c in v] for k, v in d["b"].items()},
    )


def _entry(text: str, directory: Path) -> Path:
    key = hashlib.sha256(_SALT + text.encode("utf-8")).hexdigest()
    return directory / key[:2] / f"{key}.json"


def lookup(text: str, directory: Path | None) -> list[Block] | None:
    if directory is None:
        return None
    try:
        return [_load(d) for d in json.loads(_entry(text, directory).read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or corrupt: parse and (re)write


def store(text: str, blocks: list[Block], directory: Path | None) -> None:
    if directory is None:
        return
    entry = _entry(text, directory)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_text(entry, json.dumps([_dump(b) for b in blocks], separators=(",", ":")))
    except (OSError, TypeError, ValueError):
        pass  # a read-only or full cache never fails the check


def parse_cached(text: str, directory: Path | None = None) -> list[Block]:
    """:func:`parse_terraform` through the cache (``directory`` defaults to :func:`cache_dir`)."""
    directory = directory or cache_dir()
    blocks = lookup(text, directory)
    if blocks is None:
        blocks = parse_terraform(text)
        store(text, blocks, directory)
    return blocks


def _parse_or_error(text: str) -> list[Block] | str:
    try:
        return parse_terraform(text)
    except Exception as exc:  # the parser raises many unrelated types on bad syntax
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot parse Terraform: {first}"


def jobs(misses: int) -> int:
    wanted = os.environ.get("VEILCV_JOBS", "")
    limit = int(wanted) if wanted.isdigit() and int(wanted) > 0 else min(os.cpu_count() or 1, 8)
    return max(1, min(limit, misses // MIN_FILES_PER_JOB))


def parse_many(texts: list[str], directory: Path | None = None) -> list[list[Block] | str]:
    """Blocks (or a one-line parse error) for each text: cached ones read, the rest parsed."""
    directory = directory if directory is not None else cache_dir()
    out: list[list[Block] | str | None] = [lookup(t, directory) for t in texts]
    todo = [i for i, r in enumerate(out) if r is None]
    results: list[list[Block] | str] | None = None
    n_jobs = jobs(len(todo))
    # fork only: spawn/forkserver re-import the caller's __main__, which may not be guarded; and
    # only while this process runs a single thread, the one case where fork is well defined.
    if n_jobs > 1 and sys.platform == "linux" and threading.active_count() == 1:
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(n_jobs, mp_context=context) as pool:
                chunk = max(1, len(todo) // (n_jobs * 4))
                results = list(pool.map(_parse_or_error, [texts[i] for i in todo], chunksize=chunk))
        except (OSError, BrokenProcessPool, RuntimeError):
            results = None  # no processes here (sandbox, frozen app): parse in this one
    if results is None:
        results = [_parse_or_error(texts[i]) for i in todo]
    for i, result in zip(todo, results, strict=True):
        out[i] = result
        if not isinstance(result, str):
            store(texts[i], result, directory)
    return [r if r is not None else "cannot parse Terraform: internal error" for r in out]
