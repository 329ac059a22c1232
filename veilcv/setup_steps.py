"""One-time set-up steps (fetching a model, building the redaction kernels) announce themselves here.

Library code wraps such a step in :func:`step` and prints nothing; a front end (the CLI) adds a
listener to tell its user what the wait is for, and reads how long the steps took (:func:`totals`)
so that a run's per-file timings are not charged with them.

>>> with step("kernel_build", "building redaction kernels (once per environment)"):  # doctest: +SKIP
...     build()
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

#: A listener gets the step's name (``model_fetch``, ``kernel_build``) and a one-line message.
Listener = Callable[[str, str], None]

_cond = threading.Condition()
_listeners: list[Listener] = []
_totals: dict[str, float] = {}
_running = 0


def add_listener(listener: Listener) -> Callable[[], None]:
    """Call ``listener(name, message)`` as each step starts; returns the function that removes it."""
    with _cond:
        _listeners.append(listener)

    def remove() -> None:
        with _cond, contextlib.suppress(ValueError):
            _listeners.remove(listener)

    return remove


@contextlib.contextmanager
def step(name: str, message: str) -> Iterator[None]:
    """Run the body as the one-time step ``name``: listeners hear ``message``, the time is added up.

    A listener that raises is ignored: telling the user must never fail the step.
    """
    global _running
    with _cond:
        listeners = list(_listeners)
        _running += 1
    for listener in listeners:
        with contextlib.suppress(Exception):
            listener(name, message)
    start = time.perf_counter()
    try:
        yield
    finally:
        with _cond:
            _totals[name] = _totals.get(name, 0.0) + (time.perf_counter() - start) * 1000.0
            _running -= 1
            _cond.notify_all()


def totals() -> dict[str, float]:
    """Milliseconds spent in each step name so far in this process (steps still running excluded)."""
    with _cond:
        return {k: round(v, 3) for k, v in _totals.items()}


def wait_idle(timeout: float | None = None) -> bool:
    """Block until no step is running (another thread's build, say); False when ``timeout`` ran out."""
    with _cond:
        return _cond.wait_for(lambda: _running == 0, timeout)
