"""How the kernels use more than one core, and why not through Numba's ``parallel=True``.

The kernels are ``nogil`` Numba functions; parallel work is split here into disjoint chunks (whole frames
of a batch, or row bands of one large region) and run by a small pool of Python threads, with the
calling thread taking chunks too.

Why not a Numba threading layer:

* The layer is chosen once per process by the first ``parallel=True`` call; a library that picks it
  overrides the application's choice, and one that does not gets whatever is loadable.
* GNU OpenMP (what ``omp`` means in a pip install) waits actively by default: on a 2-core machine whose
  other core is busy, a call that needs microseconds took 10-20 ms, because the thread that finished spins
  while the thread with work left waits for a time slice. (Measured again on the shared 2-core development
  machine: a ``prange`` loop over 20 kB took a median 27.7 ms per call with the defaults, 10 us with
  ``OMP_WAIT_POLICY=PASSIVE``, 0.4 us as a serial loop.) ``OMP_WAIT_POLICY=PASSIVE`` only helps if it is
  set before libgomp loads, which a library cannot guarantee, and GNU OpenMP is not fork-safe (a
  ``multiprocessing`` worker forked after a parallel call aborts on its first one).
* ``workqueue`` terminates the process when two Python threads call parallel kernels at once, which a
  ``nogil`` kernel invites (`veil redact` redacts several files at once, one per thread). Single-threaded
  it is no faster either: ``benchmarks/bench_kernels.py::test_batch`` runs the same per-frame kernels
  under ``prange``; on the shared 2-core machine it was slower than this pool in 10 of 12 cases
  (1.3-2.7x for fills of small boxes, 0.96-1.4x for mosaics and whole frames).
* ``tbb`` needs a ``libtbb.so.12`` that the dynamic loader finds by name: the PyPI ``tbb`` wheel puts
  it in the environment's ``lib/`` folder, which is not on the loader path of a virtual environment,
  and OpenVINO loads its own copy of the same library into the process.

This pool waits passively (workers block on a queue; the caller blocks on an event only for chunks that a
worker has already started), is safe to call from many threads at once, and is recreated in a forked
child. The caller claims every chunk no worker has claimed yet, so a worker that never gets a core costs
nothing; one preempted in the middle of a chunk still makes the caller wait, and after such a call the
pool backs off to serial for a while (``_Backoff``). So a parallel call is not slower than the same work
done serially when the other cores are busy, which ``tests/core/kernels`` checks under load.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from collections.abc import Callable

#: Work below this many bytes stays on the calling thread: a hand-off costs 20-100 us (more when the
#: machine is busy), and 4 MB of mosaic about 0.7 ms on one core.
MIN_PARALLEL_BYTES = 4 << 20
#: Mosaics over the frames of a batch go parallel from here: each thread then enters the kernel once
#: (``_claim``), so the cost is one wake-up, and 1 MB of mosaic is about 0.17 ms on one core.
MIN_BATCH_MOSAIC_BYTES = 1 << 20


def worker_count() -> int:
    """Threads that may run kernel chunks at once, the caller included.

    The smaller of the CPUs this process may use and ``NUMBA_NUM_THREADS`` (when set), so the usual
    Numba knob also limits these kernels.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    env = os.environ.get("NUMBA_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        cpus = min(cpus, int(env))
    return max(1, cpus)


class _Job:
    """One parallel call: chunk indices are claimed with ``next(counter)``, atomic under the GIL."""

    def __init__(self, fn: Callable[[int], None], n: int) -> None:
        self.fn = fn
        self.n = n
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.done = 0
        self.cpu = 0.0  # CPU seconds the chunks took, all threads together: what a serial call would need
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def work(self) -> None:
        while True:
            i = next(self.counter)
            if i >= self.n:
                return
            c0 = time.thread_time()
            try:
                if self.error is None:
                    self.fn(i)
            except BaseException as exc:  # re-raised in the caller
                self.error = exc
            spent = time.thread_time() - c0
            with self.lock:
                self.cpu += spent
                self.done += 1
                if self.done == self.n:
                    self.finished.set()


class _Pool:
    def __init__(self, threads: int) -> None:
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._loop, name=f"veilcv-kernel-{i}", daemon=True)
            for i in range(threads)
        ]
        for t in self.threads:
            t.start()

    def _loop(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            job.work()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool(threads: int) -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid() or len(_pool.threads) < threads:
            # A forked child inherits the object but not the threads; a larger request replaces the pool.
            if _pool is not None and _pool.pid == os.getpid():
                for _ in _pool.threads:
                    _pool.queue.put(None)
            _pool = _Pool(threads)
        return _pool


def _after_fork_in_child() -> None:
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()  # another thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Backoff:
    """Goes serial for a while after a parallel call that took longer than its chunks' CPU time.

    Passive waiting removes spinning, but when every core is busy a worker can be preempted in the middle
    of a chunk (or while it holds the GIL for a moment), and the caller then waits for a scheduler time
    slice: measured 3-20 ms for a 0.5 ms frame. A parallel call whose wall time is not clearly below the
    CPU time of all its chunks gained nothing over doing the work serially, so the next 1, 2, 4 ... 64
    calls run serially and the pool is then tried again. Plain integers: races between threads only blur
    the count.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.serial_until = 0
        self.skip = 0

    def parallel_ok(self) -> bool:
        self.calls += 1
        return self.calls > self.serial_until

    def report(self, wall: float, cpu: float) -> None:
        if wall > cpu:  # slower than doing it all here would have been: back off longer each time
            self.skip = min(max(1, 2 * self.skip), 64)
            self.serial_until = self.calls + self.skip
        else:  # it paid: probe sooner next time, but one good call does not undo a run of bad ones
            self.skip //= 2


_backoff = _Backoff()


def run_chunks(fn: Callable[[int], None], n: int, threads: int | None = None) -> None:
    """Call ``fn(i)`` for ``i in range(n)``, spread over up to ``threads`` threads (the caller is one).

    ``fn`` must touch disjoint memory for different ``i`` and should spend its time in a ``nogil`` kernel;
    the result must not depend on which thread runs a chunk (after a stalled call they all run on the
    caller for a while, see ``_Backoff``). The first exception raised by any chunk is re-raised here
    after all started chunks have finished.
    """
    want = worker_count() if threads is None else max(1, threads)
    helpers = min(want, n) - 1
    if helpers <= 0 or not _backoff.parallel_ok():
        for i in range(n):
            fn(i)
        return
    job = _Job(fn, n)
    pool = _get_pool(helpers)
    t0 = time.perf_counter()
    for _ in range(helpers):
        pool.queue.put(job)
    job.work()
    job.finished.wait()
    _backoff.report(time.perf_counter() - t0, job.cpu)
    if job.error is not None:
        raise job.error


def split(total: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous, nearly equal ``[lo, hi)`` ranges covering ``range(total)`` (none empty)."""
    parts = max(1, min(parts, total))
    return [(total * i // parts, total * (i + 1) // parts) for i in range(parts)]
