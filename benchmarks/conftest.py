"""Shared set-up for the benchmarks.

Bytecode: a regular ``pip install`` compiles every module to bytecode, and so the baselines this
suite installs (Checkov, deface, reuse) start from compiled modules. An editable install of veilcv
does not, and where ``PYTHONDONTWRITEBYTECODE`` is set Python never writes the bytecode either, so
every ``veil`` process would compile all of its modules from source, a cost no installed copy pays.
The package is therefore compiled once before any benchmark runs, as an install would.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

import veilcv


@pytest.fixture(scope="session", autouse=True)
def _veilcv_bytecode() -> None:
    compileall.compile_dir(str(Path(veilcv.__file__).parent), quiet=1)
