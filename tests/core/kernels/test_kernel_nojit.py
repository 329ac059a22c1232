"""Runs this folder's tests once more with NUMBA_DISABLE_JIT=1, so the kernel source runs as plain Python:
coverage tools see it, and NumPy's bounds checks catch any out-of-range index that compiled code (which
does not check bounds) would silently write through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_helpers import NOJIT

HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(NOJIT, reason="already running without the JIT")
def test_kernel_suite_passes_as_plain_python():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    # uint64 hash arithmetic wraps on purpose; as NumPy scalars it warns.
    quiet = ["-W", "ignore:overflow encountered:RuntimeWarning"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *quiet, str(HERE)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE.parents[2], timeout=900)
    tail = out.stdout[-3000:] + out.stderr[-2000:]
    assert out.returncode == 0, tail
    assert " passed" in out.stdout and " failed" not in out.stdout, tail
