"""Attacks on the store by someone who can write its folder but has no master key."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path

import pytest
from store.helpers import DAY, key_env

from veilcv.cli.main import main
from veilcv.errors import AccessDenied, StoreError
from veilcv.store import Store
from veilcv.store.access import redeem, sign
from veilcv.store.maintenance import check
from veilcv.store.purge import purge
from veilcv.store.subjects import delete_subject, export_subject


def _edit(store: Store, sql: str, *args: object) -> None:
    conn = sqlite3.connect(store.root / "catalog.sqlite")
    with conn:
        conn.execute(sql, args)
    conn.close()


def _swap_content(store: Store, src: str, dst: str) -> None:
    """Move src's blob, wrapped key, size and sha256 onto dst's row: dst now 'holds' src's bytes."""
    conn = sqlite3.connect(store.root / "catalog.sqlite")
    row = conn.execute("SELECT blob, wrapped_key, size, sha256 FROM objects WHERE key = ?", (src,)).fetchone()
    with conn:
        conn.execute("DELETE FROM objects WHERE key = ?", (src,))
        conn.execute(
            "UPDATE objects SET blob = ?, wrapped_key = ?, size = ?, sha256 = ? WHERE key = ?", (*row, dst)
        )
    conn.close()


def test_swapped_row_does_not_leak_raw_bytes_to_a_reader(store: Store) -> None:
    _swap_content(store, "raw/b.jpg", "redacted/a.jpg")
    with pytest.raises(StoreError, match="integrity check"):
        store.get("redacted/a.jpg", role="reader", actor="attacker")
    report = check(store)
    assert report.tampered == ["redacted/a.jpg"] and not report.ok
    last = store._conn().execute("SELECT outcome, detail FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    assert last["outcome"] == "denied" and "integrity" in last["detail"]


def test_swapped_row_with_a_recomputed_mac_still_does_not_decrypt(store: Store) -> None:
    """Defence in depth: even a forged MAC leaves the blob bound to its own object key."""
    from veilcv.store import rows

    _swap_content(store, "raw/b.jpg", "redacted/a.jpg")
    row = dict(store._conn().execute("SELECT * FROM objects WHERE key = 'redacted/a.jpg'").fetchone())
    _edit(
        store,
        "UPDATE objects SET mac = ? WHERE key = ?",
        rows.row_mac(store._envelope.row_key, row),
        row["key"],
    )
    with pytest.raises(StoreError, match="cannot read"):
        store.get("redacted/a.jpg", role="reader", actor="attacker")


@pytest.mark.parametrize(
    ("column", "value"),
    [("subject", None), ("subject", "S9"), ("created", 0.0), ("retention_days", 1000), ("licence", "MIT")],
)
def test_every_edited_column_is_refused_on_read_and_reported_by_fsck(
    store: Store, column: str, value
) -> None:
    _edit(store, f"UPDATE objects SET {column} = ? WHERE key = 'redacted/a.jpg'", value)
    with pytest.raises(StoreError, match="integrity check"):
        store.get("redacted/a.jpg", role="reader", actor="t")
    with pytest.raises(StoreError, match="integrity check"):
        store.list(role="admin", actor="t")
    assert check(store).tampered == ["redacted/a.jpg"]


def test_edited_subject_cannot_hide_an_object_from_a_deletion_request(store: Store, tmp_path: Path) -> None:
    _edit(store, "UPDATE objects SET subject = NULL WHERE key = 'raw/b.jpg'")
    with pytest.raises(StoreError, match="refusing subject-delete"):
        delete_subject(store, "S2", role="admin", actor="dpo")
    with pytest.raises(StoreError, match="refusing subject-export"):
        export_subject(store, "S2", tmp_path / "s2.zip", role="admin", actor="dpo")
    assert not (tmp_path / "s2.zip").exists()


def test_edited_creation_time_cannot_hide_an_object_from_purge(store: Store, clock) -> None:
    _edit(store, "UPDATE objects SET created = ? WHERE key = 'raw/b.jpg'", clock.now + 365 * DAY)
    clock.advance(8 * DAY)  # raw/ keeps 7 days
    with pytest.raises(StoreError, match="refusing purge"):
        purge(store, role="admin", actor="t")


def test_fsck_command_reports_a_swap_and_exits_1(
    store: Store, key, tmp_path: Path, capsys, monkeypatch
) -> None:
    _swap_content(store, "raw/b.jpg", "redacted/a.jpg")
    for name, value in key_env(key).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["store", "fsck", "--store", str(store.root)]) == 1
    out = capsys.readouterr().out
    assert "object redacted/a.jpg: catalog row fails its integrity check" in out and "1 tampered" in out
    assert (
        main(["store", "get", "redacted/a.jpg", "-o", str(tmp_path / "a.jpg"), "--store", str(store.root)])
        == 2
    )
    assert not (tmp_path / "a.jpg").exists()


def test_token_for_a_deleted_and_re_put_key_stops_working(store: Store) -> None:
    token = sign(store, "redacted/a.jpg", role="reader", ttl=60, actor="t")
    assert redeem(store, token, "redacted/a.jpg", method="GET") == b"redacted A"
    delete_subject(store, "S1", role="admin", actor="t")
    store.put("redacted/a.jpg", b"new content", role="writer", actor="t")
    with pytest.raises(AccessDenied, match="deleted or replaced"):
        redeem(store, token, "redacted/a.jpg", method="GET")


def test_non_canonical_base64_in_a_token_is_refused(store: Store) -> None:
    token = sign(store, "redacted/a.jpg", role="reader", ttl=60, actor="t")
    head, body, sig = token.split(".")
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    # 32 bytes take 43 characters with 2 spare bits: flipping a spare bit spells the same bytes.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = sig[:-1] + last[last.index(sig[-1]) ^ 1]
    assert base64.urlsafe_b64decode(twin + "=") == raw
    for spelling in (
        f"{head}.{body}.{twin}",
        f"{head}.{body}.{sig}=",
        f"{head}.{body}.{sig}!!",
        f"{head}.{body}x.{sig}",
    ):
        with pytest.raises(AccessDenied):
            redeem(store, spelling, "redacted/a.jpg", method="GET")


def test_rows_copied_from_another_store_do_not_verify(tmp_path: Path, key, clock) -> None:
    """Rows copied from another store under another master key do not verify."""
    from store.helpers import make_store, new_key

    a = make_store(tmp_path / "a", key, clock)
    other_key = new_key()
    b = make_store(tmp_path / "b", other_key, clock)
    b.put("redacted/x.jpg", b"X", role="writer", actor="t")
    row = b._conn().execute("SELECT * FROM objects").fetchone()
    conn = sqlite3.connect(a.root / "catalog.sqlite")
    with conn:
        conn.execute(f"INSERT INTO objects VALUES ({', '.join('?' * len(row.keys()))})", tuple(row))
    conn.close()
    assert check(a).tampered == ["redacted/x.jpg"]
    a.close()
    b.close()


@pytest.mark.parametrize("source", ["/dev/zero", "fifo", "sparse"])
def test_put_refuses_special_files_and_files_over_the_cap(
    store: Store, key, tmp_path: Path, capsys, monkeypatch, source: str
) -> None:
    from veilcv.store.layout import MAX_OBJECT_BYTES

    if source == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)  # no writer: reading it would block forever
    elif source == "sparse":
        path = tmp_path / "huge.bin"
        with open(path, "wb") as fh:
            fh.truncate(MAX_OBJECT_BYTES + 1)  # sparse: no disk used
    else:
        path = Path(source)
    for name, value in key_env(key).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["store", "put", "redacted/z.jpg", str(path), "--store", str(store.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veil: error: {path}: expected a") and err.count("\n") == 1
    with pytest.raises(StoreError, match="no such object"):
        store.head("redacted/z.jpg")


def test_key_rotation_refuses_to_re_mac_an_edited_row(store: Store) -> None:
    from store.helpers import new_key

    from veilcv.store.maintenance import rotate_key

    _edit(store, "UPDATE objects SET licence = 'MIT' WHERE key = 'redacted/a.jpg'")
    with pytest.raises(StoreError, match="refusing rotate-key"):
        rotate_key(store, new_key(), role="admin", actor="t")
    assert check(store).tampered == ["redacted/a.jpg"]  # still reported: nothing was blessed
