"""A content-addressed cache of parsed Terraform files, so unchanged files are never parsed twice.

Parsing dominates a storage check (python-hcl2's grammar runs in pure Python), and between two
runs of ``veil check`` or of the pre-commit hook almost every ``.tf`` file is unchanged. Entries
are keyed by the SHA-256 of the file's text together with the parser's version and this
module's format version, so an edited file or an upgraded parser never reads a stale entry.
Entries are JSON (never pickle: loading a cache must not be able to run code), written
atomically; an unreadable or corrupt entry is ignored and rewritten.

Location: ``$VEILCV_CACHE_DIR/terraform`` when set, otherwise the user cache directory
(``platformdirs``). ``VEILCV_NO_CACHE=1`` turns the cache off.

:func:`parse_many` parses the files the cache does not hold in parallel (Linux, single-threaded
callers) when there are enough of them to pay for it: the grammar is loaded once, forked workers
parse all shares but one, and this process parses that one meanwhile (``VEILCV_JOBS`` sets the
number of processes; 1 turns it off). Anything that goes wrong in a worker is parsed again here.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from veilcv.atomic import write_text
from veilcv.cachedir import cache_root
from veilcv.linter.rules.storage.hcl import Block, parse_terraform, parser_version, warm_parser

FORMAT_VERSION = "1"
MIN_FILES_PER_JOB = 32  # below this a worker's start-up costs more than the parsing it saves


_SALT = f"{FORMAT_VERSION}\0{parser_version()}\0".encode()


def cache_dir() -> Path | None:
    if os.environ.get("VEILCV_NO_CACHE", "") not in ("", "0"):
        return None
    return cache_root() / "terraform"


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


def _shares(texts: list[str], indices: list[int], n: int) -> list[list[int]]:
    """``indices`` dealt into ``n`` shares of nearly equal text length (largest first, to the lightest)."""
    shares: list[list[int]] = [[] for _ in range(n)]
    load = [0] * n
    for i in sorted(indices, key=lambda i: -len(texts[i])):
        k = load.index(min(load))
        shares[k].append(i)
        load[k] += len(texts[i])
    return shares


def _warm() -> bool:
    """Load the grammar before forking, so that every worker inherits it; False if it cannot be (each
    file then fails on its own, in this process, with the parser's message)."""
    try:
        warm_parser()
    except Exception:
        return False
    return True


def _parse_batch(batch: list[str]) -> list[list[Block] | str]:
    return [_parse_or_error(t) for t in batch]


def parse_many(texts: list[str], directory: Path | None = None) -> list[list[Block] | str]:
    """Blocks (or a one-line parse error) for each text: cached ones read, the rest parsed."""
    directory = directory if directory is not None else cache_dir()
    out: list[list[Block] | str | None] = [lookup(t, directory) for t in texts]
    todo = [i for i, r in enumerate(out) if r is None]
    done: dict[int, list[Block] | str] = {}
    n_jobs = jobs(len(todo))
    # fork only: spawn/forkserver re-import the caller's __main__, which may not be guarded; and
    # only while this process runs a single thread, the one case where fork is well defined. This
    # process parses one share itself while the forked workers parse the others: it would otherwise
    # sit idle, and its own results need no pickling.
    if n_jobs > 1 and sys.platform == "linux" and threading.active_count() == 1 and _warm():
        mine, *theirs = _shares(texts, todo, n_jobs)
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(n_jobs - 1, mp_context=context) as pool:
                # The first submit forks. Frozen objects are left alone by the workers' collector, so
                # their inherited pages stay shared (unless the application froze objects of its own).
                freeze = gc.get_freeze_count() == 0
                if freeze:
                    gc.freeze()
                try:
                    futures = [
                        (share, pool.submit(_parse_batch, [texts[i] for i in share])) for share in theirs
                    ]
                finally:
                    if freeze:
                        gc.unfreeze()
                done.update((i, _parse_or_error(texts[i])) for i in mine)
                for share, future in futures:
                    try:
                        done.update(zip(share, future.result(), strict=True))
                    except Exception:  # a worker died or its results did not come back: parsed below
                        pass
        except (OSError, BrokenProcessPool, RuntimeError):
            pass  # no processes here (sandbox, frozen app): parse in this one
    for i in todo:
        if i not in done:
            done[i] = _parse_or_error(texts[i])
    for i in todo:
        out[i] = done[i]
        if not isinstance(done[i], str):
            store(texts[i], done[i], directory)
    return [r if r is not None else "cannot parse Terraform: internal error" for r in out]
