"""Parsing shared out to forked children: the same results, in the same order, whatever happens to
a child; never where forking is unsafe."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from veilcv.linter import engine
from veilcv.linter.rules.storage import hcl, parallel
from veilcv.policies.loader import load_policy_source

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="shared out only on Linux (fork)")

PARENT = os.getpid()


def _text(i: int) -> str:
    acl = "public-read" if i % 3 == 0 else "private"
    return f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b-{i}"\n  acl    = "{acl}"\n}}\n'


def test_children_give_the_same_blocks_in_the_same_order() -> None:
    texts = [_text(i) for i in range(23)]
    serial = [hcl.parse(t) for t in texts]
    for processes in (2, 3):
        assert parallel.shared_map(hcl.parse, texts, processes) == serial


def _fails_in_a_child(text: str):
    if os.getpid() != PARENT:
        raise RuntimeError("a child's bug")
    return hcl.parse(text)


def _dies_in_a_child(text: str):
    if os.getpid() != PARENT:
        os._exit(9)  # killed, as by the out-of-memory killer
    return hcl.parse(text)


@pytest.mark.parametrize("fn", [_fails_in_a_child, _dies_in_a_child])
def test_a_child_that_fails_costs_only_time(fn) -> None:
    texts = [_text(i) for i in range(10)]
    assert parallel.shared_map(fn, texts, 2) == [hcl.parse(t) for t in texts]


def test_no_fork_below_the_share_or_with_another_thread_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    with monkeypatch.context() as m:  # as in `veil check`: no other thread (earlier tests may have left some)
        m.setattr(threading, "active_count", lambda: 1)
        assert parallel.workers(parallel.MIN_SHARE * 2 - 1) == 1
        assert parallel.workers(parallel.MIN_SHARE * 2) == 2
        assert parallel.workers(parallel.MIN_SHARE * 100) == parallel.MAX_WORKERS
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert parallel.workers(parallel.MIN_SHARE * 100) == 1  # fork would copy its held locks
    finally:
        stop.set()
        other.join()


def test_a_check_shared_out_finds_what_a_serial_one_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(40):
        (tmp_path / f"m{i % 4}").mkdir(exist_ok=True)
        (tmp_path / f"m{i % 4}" / f"b{i}.tf").write_text(_text(i))
    (tmp_path / "m0" / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  acl = \n}\n')
    monkeypatch.setenv("VEILCV_NO_CACHE", "1")

    def findings() -> list[tuple[str, str, int, str]]:
        report = engine.check(tmp_path, load_policy_source(None), only=["storage"])
        return sorted((f.rule_id, f.file, f.line, f.message) for f in report.findings)

    monkeypatch.setattr(parallel, "workers", lambda count: 1)
    serial = findings()
    monkeypatch.setattr(parallel, "workers", lambda count: 3)
    assert findings() == serial
    assert sum(f[0] == "VC201" for f in serial) == 14 and any(f[0] == "VC004" for f in serial)
