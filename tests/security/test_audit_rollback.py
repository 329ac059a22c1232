"""Rolling the audit log back with an old anchor: caught only by a head kept outside the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from store.helpers import POLICY, Clock, key_env, make_store

from veilcv.cli.main import main
from veilcv.errors import InputError
from veilcv.store import Store, catalog, from_policy


def _snapshot(store: Store, to: Path) -> None:
    catalog.checkpoint(store._conn())
    to.mkdir()
    for name in ("catalog.sqlite", "audit.anchor"):
        shutil.copy2(store.root / name, to / name)


def _restore(root: Path, snap: Path) -> None:
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (root / name).unlink(missing_ok=True)
    for name in ("catalog.sqlite", "audit.anchor"):
        shutil.copy2(snap / name, root / name)


def _rolled_back_store(tmp_path: Path, key, clock: Clock, head_file: Path | None) -> Path:
    root = tmp_path / "vault"
    with Store.open(root, key, from_policy(POLICY), create=True, clock=clock, head_file=head_file) as st:
        st.put("raw/b.jpg", b"RAW", role="writer", actor="t")
        _snapshot(st, tmp_path / "snap")
        st.get("raw/b.jpg", role="admin", actor="insider")  # the access the insider wants to hide
    _restore(root, tmp_path / "snap")
    return root


def test_without_an_outside_head_the_rollback_goes_unnoticed(tmp_path: Path, key, clock) -> None:
    """The documented limit: the anchor lives beside the log."""
    root = _rolled_back_store(tmp_path, key, clock, None)
    with Store.open(root, key, from_policy(POLICY)) as st:
        assert st.verify_audit().ok


def test_the_head_file_catches_the_rollback(tmp_path: Path, key, clock) -> None:
    heads = tmp_path / "outside" / "heads.txt"
    heads.parent.mkdir()
    root = _rolled_back_store(tmp_path, key, clock, heads)
    lines = heads.read_text().splitlines()
    assert len(lines) >= 3 and all(":" in ln for ln in lines)
    with Store.open(root, key, from_policy(POLICY), head_file=heads) as st:
        report = st.verify_audit()
    assert not report.ok
    assert any("shorter than the recorded head" in p for p in report.problems)


def test_audit_verify_command_with_head_file_and_env(tmp_path: Path, key, clock, capsys, monkeypatch) -> None:
    heads = tmp_path / "heads.txt"
    root = _rolled_back_store(tmp_path, key, clock, heads)
    for name, value in key_env(key).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["store", "audit", "verify", "--store", str(root)]) == 0
    assert main(["store", "audit", "verify", "--store", str(root), "--head-file", str(heads)]) == 1
    assert "rolled back" in capsys.readouterr().out
    monkeypatch.setenv("VEIL_AUDIT_HEAD_FILE", str(heads))
    assert main(["store", "audit", "verify", "--store", str(root)]) == 1


def test_head_file_inside_the_store_is_refused(tmp_path: Path, key, clock) -> None:
    make_store(tmp_path / "vault", key, clock).close()
    with pytest.raises(InputError, match="outside the store folder"):
        Store.open(tmp_path / "vault", key, from_policy(POLICY), head_file=tmp_path / "vault" / "heads")
