"""The Ray side of `veil redact --engine ray` and `veil ingest --engine ray`: the worker actor, and the
keywords of the private local Ray a run starts.

A worker loads the verified models once, sized to the CPUs Ray reserved for it, and serves files
(:meth:`Worker.redact`: the local engine's ``redact_file``) or encoded images (:meth:`Worker.redact_bytes`,
for ingest). It is imported by reference on every node: the nodes need veilcv installed.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from veilcv.core.redact_types import FileResult, RedactOptions
from veilcv.engines.objstore import Location


def embedded(cpus: int) -> dict[str, Any]:
    """``ray.init`` keywords of the local Ray a run starts for itself: ``cpus`` CPUs, no dashboard, and
    workers at the driver's priority. (Ray nices its workers by 15 so that its own services stay
    responsive on a busy node; a veil run's private Ray has nothing else to serve, and on a shared
    machine its workers then got only the CPU left over by every other process: half the files/s.)"""
    # Ray says on stderr that the cluster it starts has token authentication on: true of this run's
    # private Ray too, and no concern of a `veil redact` user.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    kwargs: dict[str, Any] = {
        "num_cpus": cpus,
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
        "_system_config": {"worker_niceness": 0},
    }
    short = _short_temp_dir()
    if short is not None:
        kwargs["_temp_dir"] = short
    return kwargs


def _short_temp_dir() -> str | None:
    """A temp folder for Ray where the usual one is too deep for its sockets, else None.

    Ray puts them at ``TEMP/ray/session_<date>_<time>_<us>_<pid>/sockets/plasma_store`` (69 bytes after
    ``TEMP``), and a Unix socket's path has at most 107 bytes: under a long ``TMPDIR`` (a CI job's or a
    test's own folder) Ray would not start.
    """
    if len(tempfile.gettempdir()) <= 107 - 69:
        return None
    return next((f"{base}/ray" for base in ("/tmp", "/var/tmp") if os.access(base, os.W_OK)), None)


class Worker:
    """One Ray actor: a process with its own models, serving ``concurrency`` files at once."""

    def __init__(self, options: RedactOptions, cpus: int) -> None:
        # Before the kernels load: their thread pool and Numba's take this many threads, not the node's.
        os.environ["NUMBA_NUM_THREADS"] = str(cpus)
        self._options, self._cpus = options, cpus
        self._redactor: Any = None

    def load(self) -> dict[str, Any]:
        """Load the models; ``{"pid", "setup_ms", "header"}``, or ``{"error"}`` when one cannot load."""
        from veilcv.core.detection.adapter import core
        from veilcv.core.pipeline import Redactor
        from veilcv.engines import timed_load
        from veilcv.errors import VeilcvError

        try:
            # OpenVINO would otherwise start one inference thread per core of the node, whatever
            # number of CPUs Ray reserved for this actor, and pin them to the first cores: every
            # worker of a node on the same ones (2 workers on 2 cores ran slower than 1 worker).
            core().set_property("CPU", {"INFERENCE_NUM_THREADS": self._cpus, "ENABLE_CPU_PINNING": False})
            import cv2  # the detector's resizes: OpenCV's pool too is one thread per core of the node

            cv2.setNumThreads(self._cpus)
            redactor = Redactor(self._options)
            setup_ms = timed_load(redactor, self._cpus)
            header = redactor.report_header()
        except VeilcvError as exc:
            return {"error": " ".join(str(exc).split())}
        self._redactor = redactor
        return {"pid": os.getpid(), "setup_ms": setup_ms, "header": header}

    def redact(
        self, src: str, dst: str, previous: dict[str, Any] | None = None, retry: bool = False
    ) -> FileResult:
        """Redact one file (or carry ``previous`` when its output still matches it)."""
        from veilcv.engines import objstore
        from veilcv.engines.resume import carried

        # URL strings (``s3://...``) stay strings: read and written through fsspec; the rest are paths
        src_at, dst_at = (x if objstore.is_url(x) else Path(x) for x in (src, dst))
        if previous is not None:
            kept = carried(src_at, dst_at, previous)
            if kept is not None:
                return kept
        if retry:
            done = self._written_before(src_at, dst_at)
            if done is not None:
                return done
        # run() of one pair: the local engine's error handling, message for message.
        redact_one = partial(objstore.redact, self._redactor)
        return next(self._redactor.run([(src_at, dst_at)], jobs=1, redact_one=redact_one))

    def _written_before(self, src: Location, dst: Location) -> FileResult | None:
        """A retried image's record, without writing, when ``dst`` already holds exactly the output
        this worker makes of ``src``: the worker that died may have put it in place just before it
        died, and a file is never written twice. None: redact it the usual way."""
        from pathlib import PurePosixPath

        from veilcv.core.defaults import media_kind
        from veilcv.engines import objstore

        if media_kind(str(src)) != "image":
            return None
        try:
            if objstore.is_url(dst) and objstore.kind_of(str(dst)) != "file":
                return None
            if not objstore.is_url(dst) and not Path(dst).is_file():
                return None
            suffix = PurePosixPath(str(dst)).suffix
            _, res = self._redactor.redact_bytes(objstore.read_bytes(src), suffix, name=str(src))
            if objstore.sha256(dst) != res.output_sha256:
                return None
        except Exception:  # the usual way reports it, with the local engine's message
            return None
        res.input, res.output = str(src), str(dst)
        return res

    def redact_bytes(self, data: bytes, suffix: str, name: str) -> tuple[str, Any, Any]:
        """``("ok", output, FileResult)``, or ``("error", exception class name, (message, residuals))``."""
        from veilcv.errors import VeilcvError

        try:
            out, res = self._redactor.redact_bytes(data, suffix, name=name)
        except VeilcvError as exc:
            return "error", type(exc).__name__, (str(exc), list(getattr(exc, "residuals", [])))
        return "ok", out, res

    def pid(self) -> int:
        return os.getpid()
