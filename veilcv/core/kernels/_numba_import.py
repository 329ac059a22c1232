"""Import Numba without letting it import SciPy's BLAS.

At import, Numba probes for BLAS by importing ``scipy.linalg.cython_blas`` (``numba.np.arraymath``)
and checks SciPy's version (``numba/__init__``). The kernels never call BLAS, yet where SciPy is
installed (scikit-image pulls it in) that probe cost 85-130 ms of every `veil redact` start, all of
it holding the interpreter lock that the detector loading needs too. This module imports Numba with
SciPy hidden from the importing thread only, and only when SciPy is not imported yet: Numba then
records "no BLAS", which changes nothing but ``np.correlate``/``np.convolve`` inside compiled code
(a plain loop instead of BLAS); ``np.dot`` and ``np.linalg`` still import SciPy when first compiled.
A process that imported SciPy first gets Numba's normal import.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading


class _HideScipy(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201 - importlib's protocol
        if threading.get_ident() == self.thread and (name == "scipy" or name.startswith("scipy.")):
            raise ModuleNotFoundError(f"veilcv hides {name} while Numba imports", name=name)
        return None


def _import() -> None:
    if "numba.np.arraymath" in sys.modules or "scipy" in sys.modules:
        import numba.np.arraymath  # noqa: F401

        return
    hide = _HideScipy()
    sys.meta_path.insert(0, hide)
    try:
        import numba.np.arraymath  # noqa: F401 - the module whose import probes BLAS
    finally:
        sys.meta_path.remove(hide)


_import()
