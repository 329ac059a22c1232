"""Atomic output never replaces a device or symbolic link, and decrypted data is owner-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from store.helpers import key_env, make_store, new_key

from veilcv.atomic import write_bytes
from veilcv.cli.main import main
from veilcv.errors import InputError


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def vault(tmp_path: Path, monkeypatch) -> Path:
    key = new_key()
    with make_store(tmp_path / "vault", key) as st:
        st.put("redacted/a.jpg", b"decrypted pixels", role="writer", actor="t")
    for name, value in key_env(key).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "vault"


def test_symlink_destination_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "out.jpg"
    link.symlink_to(target)
    with pytest.raises(InputError, match="got a symbolic link"):
        write_bytes(link, b"new")
    assert link.is_symlink() and target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "out.jpg"]  # no temp left


def test_fifo_and_folder_destinations_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="special file"):
        write_bytes(tmp_path / "pipe", b"x")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        write_bytes(tmp_path / "dir", b"x")


@pytest.mark.parametrize("kind", ["char-device", "fifo", "symlink"])
def test_store_get_onto_a_special_file_does_not_replace_it(vault: Path, capsys, kind: str) -> None:
    dest = vault.parent / "out"
    if kind == "char-device":  # a private copy of /dev/null: a failing test must not clobber the real one
        try:
            os.mknod(dest, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs root")
    elif kind == "fifo":
        os.mkfifo(dest)
    else:
        dest.symlink_to(vault.parent / "target.jpg")
    before = os.lstat(dest)
    assert main(["store", "get", "redacted/a.jpg", "-o", str(dest), "--store", str(vault)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veil: error: {dest}: expected a regular file") and err.count("\n") == 1
    after = os.lstat(dest)
    assert after.st_mode == before.st_mode and after.st_ino == before.st_ino
    assert not (vault.parent / "target.jpg").exists()


def test_store_get_writes_decrypted_data_owner_only_even_over_a_world_readable_file(vault: Path) -> None:
    out = vault.parent / "a.jpg"
    out.write_bytes(b"old")
    os.chmod(out, 0o666)
    assert main(["store", "get", "redacted/a.jpg", "-o", str(out), "--store", str(vault)]) == 0
    assert out.read_bytes() == b"decrypted pixels" and _mode(out) == 0o600
    new = vault.parent / "b.jpg"
    assert main(["store", "get", "redacted/a.jpg", "-o", str(new), "--store", str(vault)]) == 0
    assert _mode(new) == 0o600


def test_subject_export_is_owner_only(vault: Path) -> None:
    from veilcv.store import Store, from_policy, load_master_key

    with Store.open(vault, load_master_key(), from_policy(None)) as st:
        st.put("redacted/s.jpg", b"S", role="writer", actor="t", subject="S1")
    zip_out = vault.parent / "s1.zip"
    assert main(["store", "export", "--subject", "S1", "-o", str(zip_out), "--store", str(vault)]) == 0
    assert _mode(zip_out) == 0o600
