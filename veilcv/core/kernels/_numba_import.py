"""Import Numba without letting it import SciPy's BLAS or CFFI's C parser.

The kernels use neither, yet Numba imports both on the way to its first compiled call:

* At import it probes for BLAS by importing ``scipy.linalg.cython_blas`` (``numba.np.arraymath``)
  and checks SciPy's version (``numba/__init__``): 85-130 ms where SciPy is installed (scikit-image
  pulls it in). Without SciPy, Numba records "no BLAS", which changes nothing but
  ``np.correlate``/``np.convolve`` inside compiled code (a plain loop instead of BLAS);
  ``np.dot`` and ``np.linalg`` still import SciPy when first compiled.
* At the first call of a compiled function, even one loaded from the cache, its typing context
  imports ``numba.core.typing.cffi_utils``, which imports ``cffi`` and builds an ``FFI`` (with
  ``pycparser``): 20-40 ms. Without CFFI, Numba records that CFFI functions cannot be called from
  compiled code, which none of ours does.

All of it holds the interpreter lock that the detector loading needs too, at every `veil redact`
start. This module imports both Numba modules with SciPy and CFFI hidden from the importing thread
only, and only for a package not imported yet: a process that imported SciPy or CFFI first gets
Numba's normal behaviour for it. The JIT modules take ``numba`` and ``njit`` from here, so no import
order can let Numba in first.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import threading

#: Top-level packages hidden from Numba's import, and the Numba module whose import probes each.
PROBES = {"scipy": "numba.np.arraymath", "cffi": "numba.core.typing.cffi_utils"}


class _Hide(importlib.abc.MetaPathFinder):
    def __init__(self, packages: set[str]) -> None:
        self.thread = threading.get_ident()
        self.packages = packages

    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201 - importlib's protocol
        if threading.get_ident() == self.thread and name.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"veilcv hides {name} while Numba imports", name=name)
        return None


def _import() -> None:
    hidden = {pkg for pkg, probe in PROBES.items() if pkg not in sys.modules and probe not in sys.modules}
    hide = _Hide(hidden)
    sys.meta_path.insert(0, hide)
    try:
        for probe in PROBES.values():
            importlib.import_module(probe)
    finally:
        sys.meta_path.remove(hide)


_import()

import numba  # noqa: E402 - after the probes above
from numba import njit  # noqa: E402

__all__ = ["njit", "numba"]
