"""`veil redact --engine ray`: the local per-file pipeline on the actors of a Ray cluster.

Each worker is a Ray actor that loads the verified models once, sized to the CPUs Ray gives it
(OpenVINO streams and inference threads, the kernels' threads), and runs
:meth:`veilcv.core.pipeline.Redactor.redact_file` on the files sent to it: the same decode → detect →
redact → verify → metadata check → atomic write as the local engine, the same one-line errors.

The driver streams the ``(src, dst)`` pairs from an iterator (nothing is listed ahead), keeps at most
``2 × concurrency`` files in flight per worker (backpressure: a slow cluster slows the listing, it does
not fill the object store) and yields each file's :class:`~veilcv.core.redact_types.FileResult` as it
ends. Fail closed at scale:

* a file whose pipeline fails has no output and a result with its error, like the local engine;
* a worker that dies mid-file (killed, out of memory, node lost) wrote no partial output (the write is
  an atomic rename of a verified temp file); its files are sent once more to another worker, which
  writes nothing where the output it makes is already in place (renamed just before the death), and a
  file whose second worker dies too is reported failed (its stale temp file removed); a dead worker is
  replaced while the replacement budget lasts, and when no worker is left the run stops with an error;
* ``previous`` records (``--resume``, :mod:`veilcv.engines.resume`) are checked on the worker that
  would redact the file: an unchanged output is not written again.

Ray is imported only here, and this module only when ``--engine ray`` asks for it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veilcv.core.redact_types import FileResult, RedactOptions, remove_stale_temps
from veilcv.engines.objstore import Location, is_url
from veilcv.engines.ray_worker import Worker, embedded
from veilcv.errors import InputError, ModelError, RedactionError

#: Seconds between checks while nothing finishes (Ctrl-C and progress stay responsive).
POLL_S = 0.5
#: Seconds to wait for the first worker to be placed and to load its models.
START_TIMEOUT_S = 300.0
#: Seconds an interrupted run waits for the files its workers hold (:meth:`RayRedactor.finish`);
#: a file whose worker has not answered by then (hung, or a long video) is reported unfinished.
FINISH_TIMEOUT_S = 300.0


@dataclass
class _Slot:
    """The driver's view of one worker."""

    actor: Any
    ready_ref: Any = None
    alive: bool = False
    pid: int | None = None
    in_flight: int = 0


@dataclass
class _Job:
    src: Location  # a path, or a URL string (:mod:`veilcv.engines.objstore`)
    dst: Location
    attempt: int = 0
    deaths: list[str] = field(default_factory=list)


@dataclass
class RaySettings:
    """Where and how wide a Ray run goes.

    Attributes
    ----------
    address : str or None
        None starts an embedded local Ray (no dashboard); ``"auto"`` joins the cluster of this node;
        ``"ray://host:10001"`` connects through Ray Client. Paths must then be readable and writable
        at the same names on every node (a shared file system).
    workers : int or None
        Actors to start; None: one per CPU of the cluster (of this machine when embedded).
    cpus_per_worker : int
        CPUs Ray reserves for each actor; its model streams and threads follow.
    retries : int
        Times a file is sent to another worker after its worker died while redacting it.
    replacements : int or None
        Dead workers replaced over the run; None: as many as ``workers``.
    """

    address: str | None = None
    workers: int | None = None
    cpus_per_worker: int = 1
    retries: int = 1
    replacements: int | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise InputError(f"--workers: expected an integer >= 1, got {self.workers}")
        if self.cpus_per_worker < 1:
            raise InputError(f"cpus_per_worker: expected an integer >= 1, got {self.cpus_per_worker}")


class RayRedactor:
    """Redact ``(src, dst)`` pairs on Ray actors; use as a context manager (it shuts its Ray down).

    Parameters
    ----------
    options : RedactOptions
    settings : RaySettings
    """

    def __init__(self, options: RedactOptions, settings: RaySettings | None = None) -> None:
        self.options = options
        self.settings = settings or RaySettings()
        self.header: dict[str, Any] = {}
        self.setup_ms: dict[str, float] = {}
        self.workers = 0
        self._slots: list[_Slot] = []
        self._started_ray = False
        self._replacements = 0
        self._remote: Any = None
        self._jobs: dict[Any, tuple[_Slot, _Job]] = {}
        self._retry: deque[_Job] = deque()
        self._starting: dict[Any, _Slot] = {}
        #: Why workers that started were not used (one line each).
        self.unused: list[str] = []

    # -- set-up -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start (or join) Ray, start the workers and load their models.

        Raises
        ------
        ModelError
            A worker could not load a model (the message is the worker's).
        RedactionError
            Ray could not be started or joined, or no worker came up.

        On any failure (Ctrl-C included) the workers placed so far are stopped, and the Ray this
        started is shut down: a ``with RayRedactor(...)`` block whose start fails leaves nothing running.
        """
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        import ray

        s = self.settings
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
            if s.address is None:
                kwargs.update(embedded((s.workers or os.cpu_count() or 1) * s.cpus_per_worker))
            try:
                ray.init(address=s.address, **kwargs)
            except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
                where = s.address or "an embedded local cluster"
                msg = " ".join(str(exc).split())[:300]
                raise RedactionError(f"--engine ray: cannot start or join {where}: {msg}") from None
            self._started_ray = True
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = s.workers or max(1, cluster_cpus // s.cpus_per_worker)
        self._remote = ray.remote(Worker).options(
            num_cpus=s.cpus_per_worker,
            max_concurrency=s.cpus_per_worker + 1,  # one file more than cores, as the local engine
            max_restarts=0,  # the driver replaces a dead worker itself: it knows which files it had
        )
        self._slots = [self._spawn() for _ in range(self.workers)]
        self._starting = {slot.ready_ref: slot for slot in self._slots}
        # The first worker up starts the run; the others join it as they come (a busy or autoscaling
        # cluster may take a while to place them, and may never place more than it has CPUs for).
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(slot.alive for slot in self._slots):
            left = max(0.0, deadline - time.monotonic())
            ready, _ = ray.wait(list(self._starting), num_returns=1, timeout=left)
            if not ready:
                raise RedactionError(
                    f"--engine ray: no worker started within {START_TIMEOUT_S:.0f} s ({self.workers} asked "
                    f"for, {s.cpus_per_worker} CPU each, in a cluster of {cluster_cpus} CPUs); use fewer "
                    "--workers or wait for free CPUs"
                )
            loaded = self._loaded(ready[0])
            if "error" in loaded:
                raise ModelError(loaded["error"])
            # what this run waited for before its first file; the header is every worker's
            self.header, self.setup_ms = loaded["header"], loaded["setup_ms"]

    def _spawn(self) -> _Slot:
        actor = self._remote.remote(self.options, self.settings.cpus_per_worker)
        return _Slot(actor=actor, ready_ref=actor.load.remote())

    def _loaded(self, ref: Any) -> dict[str, Any]:
        """The load result of a starting worker; the worker is up unless it has an ``error``."""
        import ray

        slot = self._starting.pop(ref)
        try:
            loaded = ray.get(ref)
        except Exception as exc:  # it died, or could not be placed or started
            loaded = {"error": f"a Ray worker could not start: {' '.join(str(exc).split())[:300]}"}
        if "error" not in loaded and self.header and loaded["header"] != self.header:
            # A node whose CPU picks another precision (or that has other model files) would redact
            # differently from what the report's header records: its worker is not used.
            differ = sorted(k for k in self.header if loaded["header"].get(k) != self.header.get(k))
            loaded = {"error": f"its models differ from the first worker's ({', '.join(differ)})"}
            loaded["unlike"] = True
            self.unused.append(
                f"a Ray worker was not used: {loaded['error']}; pin --precision to use mixed nodes"
            )
            with contextlib.suppress(Exception):
                ray.kill(slot.actor, no_restart=True)
        if "error" in loaded:
            slot.alive = False
        else:
            slot.alive, slot.pid, slot.ready_ref = True, int(loaded["pid"]), None
        return loaded

    def pids(self) -> list[int]:
        """Process ids of the live workers (tests kill one)."""
        return [s.pid for s in self._slots if s.alive and s.pid is not None]

    def close(self) -> None:
        """Stop the workers, and the embedded Ray if this started it."""
        import ray

        for slot in self._slots:
            try:
                ray.kill(slot.actor, no_restart=True)
            except Exception:  # already dead, or Ray already down: nothing left to stop
                pass
        self._slots = []
        if self._started_ray and ray.is_initialized():
            ray.shutdown()
        self._started_ray = False

    def __enter__(self) -> RayRedactor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the run ------------------------------------------------------------------------------
    def in_flight(self) -> list[str]:
        """Inputs sent to a worker, or waiting for another after theirs died, whose result has not
        come back (an interrupted run's unfinished files)."""
        return sorted([str(job.src) for _, job in self._jobs.values()] + [str(j.src) for j in self._retry])

    def finish(
        self,
        timeout_s: float = FINISH_TIMEOUT_S,
        *,
        on_result: Callable[[FileResult], None] | None = None,
    ) -> list[FileResult]:
        """Wait up to ``timeout_s`` for the files the workers hold (after an interrupted :meth:`run`)
        and return their results, each also given to ``on_result`` as it comes (so that a caller
        interrupted again meanwhile keeps those that came). Files whose worker dies meanwhile, or has
        not answered by then, stay in :meth:`in_flight`."""
        import ray

        out: list[FileResult] = []
        deadline = time.monotonic() + timeout_s
        while self._jobs:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # short waits: a Ctrl-C is seen between them
            ready, _ = ray.wait(list(self._jobs), num_returns=len(self._jobs), timeout=min(POLL_S, left))
            for ref in ready:
                _, job = self._jobs.pop(ref)
                try:
                    res = _shown(ray.get(ref), job)
                except Exception:  # its worker died: the file is unfinished (no worker is sent it)
                    self._retry.append(job)
                    continue
                out.append(res)
                if on_result is not None:
                    on_result(res)
        return out

    def run(
        self,
        pairs: Iterable[tuple[Location, Location]],
        *,
        previous: Mapping[str, dict[str, Any]] | None = None,
        on_result: Callable[[FileResult], None] | None = None,
    ) -> Iterator[FileResult]:
        """Redact ``pairs`` (read lazily); yield every file's result once, in the order they end.

        Raises
        ------
        RedactionError
            Every worker died and none could be replaced: the results yielded so far stand, the
            files not yielded are unfinished.
        """
        import ray
        from ray.exceptions import RayActorError

        previous = previous or {}
        source = iter(pairs)
        retry = self._retry = deque()
        exhausted = False
        self._jobs = {}
        capacity = 2 * (self.settings.cpus_per_worker + 1)
        while True:
            live = [s for s in self._slots if s.alive]
            while live:
                slot = min(live, key=lambda s: s.in_flight)
                if slot.in_flight >= capacity:
                    break
                if retry:
                    job = retry.popleft()
                elif exhausted:
                    break
                else:
                    nxt = next(source, None)
                    if nxt is None:
                        exhausted = True
                        break
                    job = _Job(*(x if is_url(x) else Path(x) for x in nxt))
                ref = _submit(slot, job, previous.get(str(job.src)))
                self._jobs[ref] = (slot, job)
                slot.in_flight += 1
            if not self._jobs and exhausted and not retry:
                return
            if not live and not self._starting:
                raise RedactionError(
                    f"--engine ray: every worker died ({self.workers + self._replacements} started); "
                    "the files not reported are unfinished"
                )
            ready, _ = ray.wait([*self._jobs, *self._starting], num_returns=1, timeout=POLL_S)
            for ref in ready:
                if ref in self._starting:
                    loaded = self._loaded(ref)
                    if "error" in loaded and "unlike" not in loaded:
                        self._replace()
                    continue
                slot, job = self._jobs.pop(ref)
                slot.in_flight -= 1
                try:
                    res = _shown(ray.get(ref), job)
                except RayActorError as exc:
                    if slot.alive:
                        slot.alive = False
                        self._replace()
                    job.deaths.append(_death(exc))
                    if job.attempt < self.settings.retries:
                        job.attempt += 1
                        retry.append(job)
                        continue
                    res = self._lost(job)
                except Exception as exc:  # Ray itself failed this call: fail the file, closed
                    msg = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                    res = FileResult(input=str(job.src), kind=_kind(job.src), error=f"{job.src}: ray: {msg}")
                if on_result is not None:
                    on_result(res)
                yield res

    def _replace(self) -> None:
        budget = self.settings.replacements if self.settings.replacements is not None else self.workers
        if self._replacements >= budget:
            return
        self._replacements += 1
        slot = self._spawn()
        self._slots.append(slot)
        self._starting[slot.ready_ref] = slot

    def _lost(self, job: _Job) -> FileResult:
        local = _local_path(job.dst)
        if local is not None:
            remove_stale_temps(local)  # the dead worker's temp file, never renamed into place
        return FileResult(
            input=str(job.src),
            kind=_kind(job.src),
            error=f"{job.src}: its worker died each of the {len(job.deaths)} time(s) it was redacted "
            f"({job.deaths[-1]}); no output of it is recorded",
        )


def _submit(slot: _Slot, job: _Job, record: dict[str, Any] | None) -> Any:
    """Send ``job`` to ``slot``'s worker with absolute paths: a worker's working folder is its node's,
    not the driver's. ``record`` (``--resume``) goes along only if it is of the same output."""
    src, dst = _absolute(job.src), _absolute(job.dst)
    if record is not None:
        record = {**record, "output": str(dst)} if record.get("output") == str(job.dst) else None
    return slot.actor.redact.remote(str(src), str(dst), record, job.attempt > 0)


def _shown(res: FileResult, job: _Job) -> FileResult:
    """``res`` with the paths as the user gave them (the worker saw absolute ones), as the local
    engine reports them."""
    for absolute, given in ((_absolute(job.src), job.src), (_absolute(job.dst), job.dst)):
        if res.error and absolute != given:
            res.error = res.error.replace(str(absolute), str(given))
    res.input = str(job.src)
    if res.output is not None:
        res.output = str(job.dst)
    return res


def _absolute(where: Location) -> Location:
    return where if is_url(where) else Path(where).absolute()


def _local_path(where: Location) -> Path | None:
    """Where a file of ``where`` lies on this machine's disks (a path, a ``file://`` URL), else None."""
    if not is_url(where):
        return Path(where)
    from veilcv.engines.objstore import local_path

    return local_path(str(where))


def _death(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "SIGKILL" in text or "killed" in text.lower():
        return "the worker process was killed"
    if "memory" in text.lower():
        return "the worker ran out of memory"
    return "the worker process exited"


def _kind(src: Location) -> str:
    from veilcv.core.defaults import media_kind

    return media_kind(src) or "unknown"
