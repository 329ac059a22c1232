from __future__ import annotations

import os
import stat

import pytest

from veilcv.atomic import atomic_path, write_bytes, write_text


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_new_file_gets_umask_mode_not_temp_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "report.md", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "report.md") == 0o644


def test_replaced_file_keeps_its_mode_and_private_mode_is_honoured(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"old")
    os.chmod(dest, 0o640)
    write_bytes(dest, b"new")
    assert dest.read_bytes() == b"new" and _mode(dest) == 0o640
    write_bytes(tmp_path / "key", b"k", mode=0o600)
    assert _mode(tmp_path / "key") == 0o600


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg"]


def test_temp_name_keeps_the_suffix_for_encoders(tmp_path):
    with atomic_path(tmp_path / "x.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"p")
