"""Parsing many Terraform files on more than one core.

tree-sitter holds Python's lock while it parses, so threads do not help; a cold check of a tree
where every file concerns storage is mostly parsing (about 0.3 ms a file). Where it pays, the files
are shared out to forked children, each parsing its share (and filling the parse cache with it) and
sending its results back through a pipe, while this process parses the first share.

It is used only where forking is safe and cheap: on Linux (macOS system libraries are not safe
after fork; Windows has none), in a process with no other Python thread (a lock held by another
thread would stay held in the child), with at least ``MIN_SHARE`` files for each extra process and
no more processes than the cores other work leaves idle at that moment.
Around the fork, Ctrl-C and termination signals are held back and the collector leaves the
parent's objects alone (``gc.freeze``), so a child never runs this process's handlers or
finalizers; children leave with ``os._exit``. A child that fails (it raises, dies, is killed, or
has not answered ``CHILD_GRACE`` after this process finished its own share, plus ``CHILD_SLACK_S``)
is killed and reaped, and its share is parsed here: it costs time, never a result. If this process
is interrupted meanwhile, its children are killed and reaped before the interruption goes on.

Measured (410 storage files, 2 cores): 125 ms to parse them in this process, 83 ms shared with one
child, when the second core is idle; a cold `veil check` of that tree goes from about 0.30 s to
0.25 s. With the second core busy, the same split took 148 ms against 126 ms: hence the load test.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_SHARE = 64  # files per process below which a fork (a few ms) costs more than it saves
MAX_WORKERS = 4
CHILD_GRACE = 4.0  # a child may take this many times as long as this process took for its share
CHILD_SLACK_S = 2.0  # ...plus this, for a loaded machine
_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def workers(count: int) -> int:
    """How many processes (this one included) should parse ``count`` files."""
    if sys.platform != "linux" or threading.active_count() > 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    idle = cpus - _others_running()  # busy cores are no help (on 2, a child made it 15% slower)
    return max(1, min(idle, MAX_WORKERS, count // MIN_SHARE))


def _others_running() -> int:
    """How many other tasks are running or ready to run right now (``/proc/loadavg``'s fourth
    field counts this process too). The load averages would be the wrong measure: they trail the
    last minute, and read a process that has just finished as load still there."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return max(0, int(f.read().split()[3].split("/")[0]) - 1)
    except (OSError, ValueError, IndexError):
        return 0


class _Child:
    def __init__(self, pid: int, read: int) -> None:
        self.pid, self.read = pid, read
        self.reaped = False

    def collect(self, deadline: float) -> list | None:
        """Its results, or None when it fails or misses ``deadline`` (then it is killed)."""
        chunks: list[bytes] = []
        poller = select.poll()
        poller.register(self.read, select.POLLIN | select.POLLHUP)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                return None  # too slow, or stopped: killed by close()
            chunk = os.read(self.read, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        if self.reap() != 0:
            return None
        try:
            got = pickle.loads(b"".join(chunks))  # our own child's output, never outside data
        except Exception:  # noqa: BLE001 - cut short: the share is parsed here instead
            return None
        return got if isinstance(got, list) else None

    def reap(self) -> int:
        if self.reaped:
            return 0
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 1
        self.reaped = True
        return status

    def close(self) -> None:
        if not self.reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.reap()
        with contextlib.suppress(OSError):
            os.close(self.read)


def shared_map(fn: Callable[[T], R], items: Sequence[T], processes: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, in order, computed by ``processes`` processes (default:
    :func:`workers`). ``fn`` and its results must be picklable values of this process's code."""
    n = processes if processes is not None else workers(len(items))
    if n <= 1 or len(items) < 2:
        return [fn(x) for x in items]
    shares = [list(items[i::n]) for i in range(n)]
    with _forked(fn, shares[1:]) as children:
        start = time.monotonic()
        results = [[fn(x) for x in shares[0]]]
        deadline = time.monotonic() + CHILD_GRACE * (time.monotonic() - start) + CHILD_SLACK_S
        for child, share in zip(children, shares[1:], strict=True):
            got = child.collect(deadline) if child is not None else None
            results.append(got if got is not None and len(got) == len(share) else [fn(x) for x in share])
    out: list[R] = [None] * len(items)  # type: ignore[list-item]
    for i, share_results in enumerate(results):
        out[i::n] = share_results
    return out


@contextlib.contextmanager
def _forked(fn: Callable[[T], R], shares: list[list[T]]) -> Iterator[list[_Child | None]]:
    """One child per share (None where it could not be started); all killed and reaped on exit."""
    children: list[_Child | None] = []
    try:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        gc.freeze()  # the parent's objects: never collected (nor finalised) in a child
        try:
            for share in shares:
                children.append(_fork(fn, share, held))
        finally:
            gc.unfreeze()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held meanwhile arrives here
        yield children
    finally:
        for child in children:
            if child is not None:
                child.close()


def _fork(fn: Callable[[T], R], share: list[T], mask: set[signal.Signals]) -> _Child | None:
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: compute, send, leave without running anything of the parent's
        code = 1
        try:
            gc.disable()
            for sig in _HELD:
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(read)
            data = pickle.dumps([fn(x) for x in share], protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write, view) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return _Child(pid, read)
