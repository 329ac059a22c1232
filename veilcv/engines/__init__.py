"""Engines that run the per-file redaction pipeline of :mod:`veilcv.core.pipeline` over many files.

The local engine is :meth:`veilcv.core.pipeline.Redactor.run` (threads in this process); the engines
here take the same ``(src, dst)`` pairs elsewhere and yield the same
:class:`~veilcv.core.redact_types.FileResult` records, so that one report writer serves them all:

- :mod:`~veilcv.engines.ray_engine`: the driver of a Ray run (scheduling, retries, replacements);
- :mod:`~veilcv.engines.ray_worker`: the worker actor and the private local Ray's settings;
- :mod:`~veilcv.engines.ray_bytes`: the ingest's ``redact_bytes`` served by the same workers;
- :mod:`~veilcv.engines.resume`: ``--resume``, for every engine.

``veilcv.core`` knows nothing of them; the CLI imports them when asked to.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the pipeline loads numpy, OpenCV and OpenVINO: only where a run loads models
    from veilcv.core.pipeline import Redactor


def timed_load(redactor: Redactor, streams: int) -> dict[str, float]:
    """Load the models (a missing one fails once, before any file) and let a kernel build that the
    warm-up started finish, so that no file's timings include it; return the set-up times in ms.

    ``model_fetch`` and ``kernel_build`` are one-time steps (first use, once per environment);
    ``model_compile`` is this run's model loading and compiling, fetch excluded.
    """
    from veilcv import setup_steps

    before = setup_steps.totals()
    start = time.perf_counter()
    redactor.load(streams)
    load_ms = (time.perf_counter() - start) * 1000.0
    setup_steps.wait_idle()
    after = setup_steps.totals()
    spent = {k: round(v - before.get(k, 0.0), 3) for k, v in after.items() if v - before.get(k, 0.0) > 0}
    return {
        "model_fetch": spent.get("model_fetch", 0.0),
        "model_compile": round(max(0.0, load_ms - spent.get("model_fetch", 0.0)), 3),
        "kernel_build": spent.get("kernel_build", 0.0),
    }
