"""`veil ingest --engine ray`: the ingest's redaction step on the workers of a Ray cluster.

:class:`RayBytesRedactor` stands where the ingest puts a :class:`veilcv.core.pipeline.Redactor`: its
:meth:`redact_bytes` sends the stripped bytes to the least busy worker and returns the verified
output. Everything else stays on the driver: the licence check, the store (its keys never leave the
machine) and the audit log. A worker that dies while redacting a file is replaced, and the file sent
once more; a second death fails the file, so nothing of it is stored.
"""

from __future__ import annotations

import threading
from typing import Any

from veilcv import errors
from veilcv.core.redact_types import FileResult
from veilcv.engines.ray_engine import POLL_S, RayRedactor, _Slot
from veilcv.errors import RedactionError, VeilcvError


class RayBytesRedactor:
    """``redact_bytes`` served by the workers of a started :class:`RayRedactor` (thread-safe: the
    ingest's threads call it at once)."""

    def __init__(self, engine: RayRedactor) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.options = engine.options

    def load(self, jobs: int = 1) -> None:
        """Nothing to do: the workers loaded their models when the engine started."""

    def redact_bytes(self, data: bytes, suffix: str, *, name: str = "<bytes>") -> tuple[bytes, FileResult]:
        """As :meth:`veilcv.core.pipeline.Redactor.redact_bytes`, on a worker.

        Raises
        ------
        VeilcvError
            The worker's error (same class and message), or ``RedactionError`` when its workers died.
        """
        import ray
        from ray.exceptions import RayActorError

        deaths = 0
        while True:
            slot = self._take(name)
            try:
                status, first, second = ray.get(slot.actor.redact_bytes.remote(data, suffix, name))
            except RayActorError:
                self._lost(slot)
                deaths += 1
                if deaths > self._engine.settings.retries:
                    raise RedactionError(
                        f"{name}: its worker died each of the {deaths} time(s) it was redacted; "
                        "nothing of it was stored"
                    ) from None
                continue
            finally:
                with self._lock:
                    slot.in_flight -= 1
            if status == "ok":
                return first, second
            raise _rebuilt(first, second)

    def _take(self, name: str) -> _Slot:
        """The live worker with the fewest calls in flight (waiting for one that is starting, if no
        other is left)."""
        import ray

        engine = self._engine
        while True:
            with self._lock:
                if engine._starting:  # workers placed after the first, and replacements: take them in
                    ready, _ = ray.wait(list(engine._starting), num_returns=len(engine._starting), timeout=0)
                    for ref in ready:
                        engine._loaded(ref)
                live = [s for s in engine._slots if s.alive]
                if live:
                    slot = min(live, key=lambda s: s.in_flight)
                    slot.in_flight += 1
                    return slot
                starting = list(engine._starting)
            if not starting:
                raise RedactionError(f"{name}: --engine ray: every worker died; nothing of it was stored")
            ray.wait(starting, num_returns=1, timeout=POLL_S)  # the next round takes it in

    def _lost(self, slot: _Slot) -> None:
        """Mark ``slot`` dead and start a replacement while the budget lasts."""
        engine = self._engine
        with self._lock:
            if not slot.alive:
                return  # another thread saw it die first
            slot.alive = False
            budget = engine.settings.replacements
            if engine._replacements >= (budget if budget is not None else engine.workers):
                return
            engine._replacements += 1
            fresh = engine._spawn()
            engine._slots.append(fresh)
            engine._starting[fresh.ready_ref] = fresh  # taken in by _take once it has loaded


def _rebuilt(kind: str, detail: tuple[str, list[dict[str, Any]]]) -> VeilcvError:
    """The worker's exception again: its class (``RedactionError`` for one not in ``veilcv.errors``),
    message and residuals."""
    message, residuals = detail
    if kind == "ResidualsError":
        return errors.ResidualsError(message, residuals)
    cls: Any = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, VeilcvError):
        try:
            return cls(message)
        except TypeError:  # a subclass with other arguments
            pass
    return RedactionError(message)
