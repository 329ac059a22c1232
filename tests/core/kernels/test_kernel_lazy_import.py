"""Only the commands that run kernels may import Numba: every other `veil` command starts without it.

Numba costs 0.1-0.3 s of start-up and changes nothing for a command that redacts no pixels; the
pre-commit hooks (`veil check`, `veil meta check`) run on every commit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RUN = (
    "import sys\n"
    "from veilcv.cli.main import main\n"
    "try:\n"
    "    rc = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    rc = exc.code\n"
    "print('numba-imported' if 'numba' in sys.modules else 'no-numba', rc)\n"
)


def _run(*argv: str) -> list[str]:
    got = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-2000:]
    return got.stdout.split()[-2:]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["check", "{dir}"],
        ["meta", "check", "{dir}"],
        ["rules"],
        ["models", "list"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_commands_that_redact_nothing_never_import_numba(tmp_path: Path, argv: list[str]) -> None:
    import cv2
    import numpy as np

    cv2.imwrite(str(tmp_path / "photo.jpg"), np.full((16, 16, 3), 128, np.uint8))
    verdict, rc = _run(*(a.format(dir=tmp_path) for a in argv))
    assert rc in ("0", "1"), (argv, rc)  # the command ran (1: it found something)
    assert verdict == "no-numba", argv


def test_importing_the_kernels_does_not_import_numba() -> None:
    code = (
        "import sys\n"
        "import veilcv.core.kernels, veilcv.core.detection.nms, veilcv.core.pipeline\n"
        "print('numba' in sys.modules)\n"
    )
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-2000:]
    assert got.stdout.strip() == "False"
