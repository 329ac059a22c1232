"""LintContext.read_bytes: what the families read after the walk is a regular file, or nothing.

The walk leaves FIFOs out, but a file can be swapped for one after it: reading it must not block.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from veilcv.linter.context import LintContext


def context(root: Path, *files: str) -> LintContext:
    return LintContext(root=root, policy={}, files=list(files))


def test_a_small_file_is_read_and_a_bigger_one_is_not(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_bytes(b'resource "a" "b" {}\n')
    ctx = context(tmp_path, "main.tf")
    assert ctx.read_bytes("main.tf", 100) == b'resource "a" "b" {}\n'
    assert ctx.read_bytes("main.tf", 5) is None
    assert ctx.read_bytes("gone.tf", 100) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_file_swapped_for_a_fifo_after_the_walk_reads_as_nothing_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("x = 1\n")
    ctx = context(tmp_path, "main.tf")  # as the walk listed it
    (tmp_path / "main.tf").unlink()
    os.mkfifo(tmp_path / "main.tf")
    got: list[bytes | None] = []
    reader = threading.Thread(target=lambda: got.append(ctx.read_bytes("main.tf", 1 << 20)), daemon=True)
    reader.start()
    reader.join(timeout=30)
    try:
        assert not reader.is_alive(), "read_bytes blocked on a FIFO"
        assert got == [None]
    finally:
        if reader.is_alive():  # release the blocked open so the thread ends
            os.close(os.open(tmp_path / "main.tf", os.O_WRONLY | os.O_NONBLOCK))
