"""Which compiled code runs the kernels: the ahead-of-time module, or Numba's JIT.

Both are built from the same functions (``_fill_jit``, ``_mosaic_jit``, ``_nms_jit``) with the same
argument types, so they give the same bytes (``tests/core/kernels/test_kernel_aot.py``). They differ
in what a process pays to start:

* **JIT** (Numba, ``cache=True``): importing Numba and setting up its typing for the first call costs
  about 0.3 s of interpreter-bound work in every process, even when the code comes from the cache.
* **AOT** (``_aot``): a native module built once per environment and CPU into the cache folder; it
  loads in under a millisecond and never imports Numba. Its functions hold the interpreter lock, so
  the threaded batch paths (several threads in one call) always use the JIT code, which releases it.

Why both: measured on a whole `veil redact` of 24 photos (``--what faces``, shared 2-core machine,
warm caches, 10 alternated runs each), AOT took a median 1.41 s (CPU 1.39 s) and JIT 1.99 s (CPU
1.84 s); on a quieter machine 0.64 s against 0.83 s. The JIT's start-up is a quarter of such a run,
well above the run-to-run noise. The first run in a fresh environment pays the other way: 6.3 s
with the AOT build against 3.4 s compiling the JIT (medians of 3), once.

:func:`serial` serves single-threaded calls: the AOT module when it is built (or when
:func:`prepare` builds it: `veil redact` does, in its warm-up thread), the JIT code otherwise.
``VEILCV_KERNELS=jit`` turns the AOT module off; so does ``NUMBA_DISABLE_JIT=1`` (the kernels then
run as plain Python, which is what that setting is for).
"""

from __future__ import annotations

import os
import threading
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip()
    return bool(value) and value != "0"


#: Numba's JIT is off (``NUMBA_DISABLE_JIT``): the kernels run as Python, one thread per batch.
JIT_DISABLED = _flag("NUMBA_DISABLE_JIT")
#: Whether the batch kernels' shared counter is a real atomic (compiled), so threads may share it.
ATOMIC = not JIT_DISABLED

#: The functions each backend provides, by name.
NAMES = ("fill_kernel", "work_area", "pixelate_kernel", "greedy")

_lock = threading.Lock()
_serial: Any = None  # the resolved backend for single-threaded calls
_built = False  # whether a build of the AOT module was tried in this process
_jit: SimpleNamespace | None = None


def aot_allowed() -> bool:
    """Whether the AOT module may be used in this process (not under ``NUMBA_DISABLE_JIT`` or
    ``VEILCV_KERNELS=jit``)."""
    return not JIT_DISABLED and os.environ.get("VEILCV_KERNELS", "auto").strip().lower() != "jit"


def jit() -> SimpleNamespace:
    """The JIT-compiled functions (imports Numba on first use), including the threaded ones."""
    global _jit
    if _jit is None:
        from veilcv.core.kernels import _fill_jit, _mosaic_jit, _nms_jit

        _jit = SimpleNamespace(
            fill_kernel=_fill_jit.fill_kernel,
            fill_claimed=_fill_jit.fill_claimed,
            work_area=_fill_jit.work_area,
            bad_boxes=_fill_jit.bad_boxes,
            pixelate_kernel=_mosaic_jit.pixelate_kernel,
            pixelate_claimed=_mosaic_jit.pixelate_claimed,
            greedy=_nms_jit.greedy,
        )
    return _jit


def _resolve(build: bool) -> Any:
    global _serial, _built
    with _lock:
        if _serial is not None and (_serial is not _jit or _built or not build or not aot_allowed()):
            return _serial
        mod: ModuleType | None = None
        if aot_allowed():
            from veilcv.core.kernels import _aot

            if build:
                _built = True
                mod = _aot.ensure()
            else:
                mod = _aot.load()
        _serial = mod if mod is not None else jit()
        return _serial


def serial(*arrays: np.ndarray) -> Any:
    """The backend for a single-threaded call whose array arguments are ``arrays``.

    The AOT functions are compiled for C-contiguous arrays and do not check what they are given, so
    a non-contiguous array (no wrapper makes one today) goes to the JIT code, which does.
    """
    k = _serial if _serial is not None else _resolve(build=False)
    if k is not _jit:
        for a in arrays:
            if not a.flags.c_contiguous:
                return jit()
    return k


def prepare(build: bool = True) -> str:
    """Resolve the backend now (building the AOT module if ``build`` and it is missing); return its
    name, ``"aot"`` or ``"jit"``. A JIT backend is warmed by its callers' first calls."""
    return "jit" if _resolve(build) is _jit else "aot"


def active() -> str | None:
    """``"aot"``, ``"jit"``, or None before the first kernel call of this process."""
    if _serial is None:
        return None
    return "jit" if _serial is _jit else "aot"
