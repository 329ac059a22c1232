"""Numba is imported without SciPy's BLAS probe or CFFI's parser, and the kernels still work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

RUN_KERNELS = (
    "import sys, numpy as np\n"
    "from veilcv.core import kernels\n"
    "from veilcv.core.detection import nms\n"
    "img = np.full((40, 40, 3), 200, np.uint8)\n"
    "box = np.array([[5, 5, 25, 25]])\n"
    "kernels.black_box(img, box)\n"
    "kernels.pixelate(img, np.array([[28, 28, 40, 40]]))\n"
    "nms.load_compiled()\n"
    "assert nms._compiled is not None\n"
    "assert int(img[5:25, 5:25].max()) == 0 and int(img[:5].min()) == 200\n"
    "from numba.core.typing import cffi_utils\n"
    "print(sorted({'scipy', 'cffi', 'pycparser'} & set(sys.modules)), cffi_utils.SUPPORTED)\n"
)


def _run(code: str) -> str:
    env = dict(os.environ, VEILCV_KERNELS="jit")  # the JIT path is the one that imports Numba
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_kernels_load_without_scipy_or_cffi():
    assert _run(RUN_KERNELS) == "[] False"


def test_a_process_that_imported_them_first_keeps_numbas_normal_behaviour():
    pytest.importorskip("cffi")
    pytest.importorskip("scipy")
    got = _run("import cffi, scipy\n" + RUN_KERNELS)
    assert got == "['cffi', 'pycparser', 'scipy'] True"


def test_the_packages_stay_importable_afterwards():
    pytest.importorskip("cffi")
    got = _run(RUN_KERNELS + "import cffi\nprint(cffi.FFI is not None)\n")
    assert got.splitlines()[-1] == "True"
