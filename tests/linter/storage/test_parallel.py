"""Parsing shared out to forked children: the same results, in the same order, whatever happens to
a child; never where forking is unsafe."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
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


def _parse_where(text: str):
    return os.getpid(), hcl.parse(text)


def test_children_give_the_same_blocks_in_the_same_order() -> None:
    texts = [_text(i) for i in range(23)]
    serial = [hcl.parse(t) for t in texts]
    for processes in (2, 3):
        got = parallel.shared_map(_parse_where, texts, processes)
        assert [blocks for _, blocks in got] == serial
        # every share after the first came from a child of its own, not from a fallback here
        assert len({pid for pid, _ in got}) == processes and {pid for pid, _ in got[:processes]} - {PARENT}


def _fails_in_a_child(text: str):
    if os.getpid() != PARENT:
        raise RuntimeError("a child's bug")
    return hcl.parse(text)


def _dies_in_a_child(text: str):
    if os.getpid() != PARENT:
        os._exit(9)  # killed, as by the out-of-memory killer
    return hcl.parse(text)


def _hangs_in_a_child(text: str):
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGSTOP)  # stopped for good (a deadlock looks the same)
    return hcl.parse(text)


@pytest.mark.parametrize("fn", [_fails_in_a_child, _dies_in_a_child, _hangs_in_a_child])
def test_a_child_that_fails_costs_only_time(fn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHILD_SLACK_S", 0.5)
    texts = [_text(i) for i in range(10)]
    done = []
    worker = threading.Thread(target=lambda: done.append(parallel.shared_map(fn, texts, 2)), daemon=True)
    worker.start()
    worker.join(timeout=60)  # a guard against a hang, not a speed check
    assert done == [[hcl.parse(t) for t in texts]]
    assert not _children()  # killed and reaped: no zombie left behind


def _children() -> list[str]:
    me = str(os.getpid())
    found = []
    for proc in Path("/proc").iterdir():
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:
            found.append(proc.name)
    return found


def test_an_interrupted_parent_kills_and_reaps_its_children() -> None:
    def interrupted(text: str):
        if os.getpid() == PARENT:
            raise KeyboardInterrupt  # Ctrl-C while this process parses its own share
        time.sleep(30)

    with pytest.raises(KeyboardInterrupt):
        parallel.shared_map(interrupted, [_text(i) for i in range(6)], 3)
    assert not _children()


def test_no_fork_below_the_share_or_with_another_thread_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(parallel, "_others_running", lambda: 0)
    with monkeypatch.context() as m:  # as in `veil check`: no other thread (earlier tests may have left some)
        m.setattr(threading, "active_count", lambda: 1)
        assert parallel.workers(parallel.MIN_SHARE * 2 - 1) == 1
        assert parallel.workers(parallel.MIN_SHARE * 2) == 2
        assert parallel.workers(parallel.MIN_SHARE * 100) == parallel.MAX_WORKERS
        m.setattr(parallel, "_others_running", lambda: 7)  # other work keeps 7 of 8 cores busy
        assert parallel.workers(parallel.MIN_SHARE * 100) == 1
        m.setattr(parallel, "_others_running", lambda: 6)
        assert parallel.workers(parallel.MIN_SHARE * 100) == 2
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
    answered = []
    real = parallel._Child.collect
    monkeypatch.setattr(
        parallel._Child, "collect", lambda self, d: answered.append(real(self, d)) or answered[-1]
    )
    assert findings() == serial
    assert len(answered) == 2 and all(answered)  # both children's shares were used
    assert sum(f[0] == "VC201" for f in serial) == 14 and any(f[0] == "VC004" for f in serial)


def test_other_running_tasks_are_read_from_the_kernel() -> None:
    assert parallel._others_running() >= 0
    busy = []
    try:
        for _ in range(2):  # two spinning processes: runnable while we look
            pid = os.fork()
            if pid == 0:
                stop = time.monotonic() + 30  # a guard: gone even if never killed
                while time.monotonic() < stop:
                    pass
                os._exit(0)
            busy.append(pid)
        assert max(parallel._others_running() for _ in range(50)) >= 1
    finally:
        for pid in busy:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
