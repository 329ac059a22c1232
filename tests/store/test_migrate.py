"""Format-1 stores (rows without MACs): refused with a hint, then checked and upgraded by migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store.helpers import POLICY, Clock, key_env
from store.legacy import make_v1_store
from veilcv.cli.main import main
from veilcv.errors import StoreError
from veilcv.store import Store, from_policy
from veilcv.store.maintenance import check
from veilcv.store.migrate import migrate

# quarantine/ sorts first: a refused upgrade has re-encrypted it already and must take that back
OBJECTS = {"quarantine/c.jpg": b"held C", "redacted/a.jpg": b"redacted A", "raw/b.jpg": b"RAW B face"}


@pytest.fixture
def v1(tmp_path: Path, key, clock: Clock) -> Path:
    root = tmp_path / "vault"
    make_v1_store(root, key, OBJECTS, clock.now)
    return root


def test_a_format_1_store_is_refused_with_the_migrate_hint(v1: Path, key) -> None:
    with pytest.raises(StoreError, match=r"got format 1 .*run `veil store migrate --store"):
        Store.open(v1, key, from_policy(POLICY))


def test_migrate_checks_upgrades_and_keeps_every_object(v1: Path, key, clock: Clock) -> None:
    old_blobs = {p.name for p in (v1 / "objects").glob("*/*")}
    report = migrate(v1, key, from_policy(POLICY), role="admin", actor="t")
    assert report.upgraded and report.objects == len(OBJECTS) and not report.problems
    with Store.open(v1, key, from_policy(POLICY), clock=clock) as store:
        for obj_key, data in OBJECTS.items():
            assert store.get(obj_key, role="admin", actor="t") == data
        assert check(store).ok and store.verify_audit().ok
        assert not old_blobs & {p.name for p in (v1 / "objects").glob("*/*")}  # re-encrypted
        assert store._conn().execute("SELECT detail FROM audit WHERE action = 'migrate'").fetchone()
    assert not migrate(v1, key, from_policy(POLICY), role="admin", actor="t").upgraded  # idempotent


def test_migrate_refuses_a_store_whose_rows_were_swapped_before_the_upgrade(v1: Path, key) -> None:
    conn = sqlite3.connect(v1 / "catalog.sqlite")
    row = conn.execute(
        "SELECT blob, wrapped_key, size, sha256 FROM objects WHERE key = 'raw/b.jpg'"
    ).fetchone()
    with conn:
        conn.execute("DELETE FROM objects WHERE key = 'raw/b.jpg'")
        conn.execute(
            "UPDATE objects SET blob = ?, wrapped_key = ?, size = ?, sha256 = ? WHERE key = 'redacted/a.jpg'",
            row,
        )
    conn.close()
    blobs = sorted(p.name for p in (v1 / "objects").glob("*/*"))
    report = migrate(v1, key, from_policy(POLICY), role="admin", actor="t")
    assert not report.upgraded
    assert sorted(p.name for p in (v1 / "objects").glob("*/*")) == blobs  # no new blob left behind
    assert report.problems == [
        "object redacted/a.jpg: content or creation time differs from the audit log's put "
        "(row swapped or edited)"
    ]
    with pytest.raises(StoreError, match="got format 1"):  # still refused: nothing was blessed
        Store.open(v1, key, from_policy(POLICY))


def test_migrate_command(v1: Path, key, tmp_path: Path, capsys, monkeypatch) -> None:
    for name, value in key_env(key).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["store", "ls", "--store", str(v1)]) == 2
    assert "veil store migrate" in capsys.readouterr().err
    assert main(["store", "migrate", "--store", str(v1)]) == 0
    assert f"checked {len(OBJECTS)} object(s)" in capsys.readouterr().out
    assert main(["store", "migrate", "--store", str(v1)]) == 0
    assert "nothing to do" in capsys.readouterr().out
