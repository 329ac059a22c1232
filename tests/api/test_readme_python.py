"""The README's Python example runs as written, as a new user would run it (tests/readme_blocks.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme_blocks import BLOCK_TIMEOUT_S, PYTHON, README, models_problem, new_folder, parse_readme
from veilcv.core.media import decode_image

BLOCKS = [b for b in parse_readme(README.read_text(encoding="utf-8")) if b.lang == PYTHON]
FACE_CORE = (200, 90, 250, 150)  # in the astronaut photo


def test_the_api_section_has_one_short_example() -> None:
    assert [b.section for b in BLOCKS] == ["Python API"]
    assert len([line for line in BLOCKS[0].body.splitlines() if line.strip()]) <= 10


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_python_block_runs_as_written(block, tmp_path: Path) -> None:
    if models_problem():
        pytest.skip(f"the default models cannot be had here: {models_problem()}")
    work, env = new_folder(tmp_path)
    (tmp_path / "example.py").write_text(block.body, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "example.py")],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr
    regions, clean, *findings = proc.stdout.splitlines()
    assert regions.startswith("(Region(label='face', box=(") and "fixed=False),) () {'detect'" in regions
    assert clean == "True"
    assert findings == ["VC403 redacted.png no manifest record covers this image"]  # as the comment says
    x0, y0, x1, y1 = FACE_CORE
    assert int(decode_image((work / "redacted.png").read_bytes())[y0:y1, x0:x1].max()) <= 16
