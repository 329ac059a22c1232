"""Objects, roles, keys and key rotation."""

from __future__ import annotations

import sqlite3

import pytest

from store.helpers import DAY, POLICY, files_containing, make_store, new_key
from veilcv.errors import AccessDenied, InputError, StoreError
from veilcv.store import Store, from_policy
from veilcv.store.maintenance import check, recover, rotate_key
from veilcv.store.purge import shred

PLAIN = b"\x89PNG fake image of a face " * 200


def test_put_get_round_trip_and_nothing_plain_on_disk(store: Store) -> None:
    info = store.put("redacted/a/b.png", PLAIN, role="writer", actor="t", subject="S1")
    assert (info.size, info.subject) == (len(PLAIN), "S1")
    assert store.get("redacted/a/b.png", role="reader", actor="t") == PLAIN
    assert files_containing(store.root, PLAIN[:64]) == []
    assert check(store).ok


def test_keys_are_write_once(store: Store) -> None:
    store.put("redacted/a.png", PLAIN, role="writer", actor="t")
    with pytest.raises(StoreError, match="already exists"):
        store.put("redacted/a.png", b"other", role="writer", actor="t")
    assert store.get("redacted/a.png", role="reader", actor="t") == PLAIN
    assert check(store).ok  # the refused write left no blob behind


@pytest.mark.parametrize(
    "bad_key",
    [
        "../catalog.sqlite",
        "redacted/../raw/x",
        "/redacted/x",
        "redacted//x",
        "redacted/./x",
        "redacted\\..\\x",
        "redacted/x\x00.png",
        "redacted/é.png",
        "redacted/a b",
        "",
        "elsewhere/x.png",
        "redacted/" + "a" * 600,
        "redacted/%2e%2e/x",
    ],
)
def test_hostile_keys_are_refused_and_audited(store: Store, bad_key: str) -> None:
    before = len(store._conn().execute("SELECT seq FROM audit").fetchall())
    with pytest.raises(AccessDenied):
        store.put(bad_key, PLAIN, role="admin", actor="t")
    with pytest.raises(AccessDenied):
        store.get(bad_key, role="admin", actor="t")
    rows = store._conn().execute("SELECT outcome FROM audit WHERE seq > ?", (before,)).fetchall()
    assert [r[0] for r in rows] == ["denied", "denied"]
    assert list((store.root / "objects").rglob("*")) == []


@pytest.mark.parametrize(
    ("role", "call"),
    [
        ("reader", lambda s: s.put("redacted/n.png", b"x", role="reader", actor="t")),  # reader may not write
        ("reader", lambda s: s.get("raw/r.png", role="reader", actor="t")),  # outside its prefixes
        ("writer", lambda s: shred(s, ["raw/r.png"], role="writer", actor="t", action="delete", detail=dict)),
        ("writer", lambda s: rotate_key(s, new_key(), role="writer", actor="t")),
        ("root", lambda s: s.get("redacted/a.png", role="root", actor="t")),  # no such role
    ],
)
def test_roles_are_checked_on_every_operation(store: Store, role: str, call) -> None:
    store.put("raw/r.png", PLAIN, role="writer", actor="t")
    store.put("redacted/a.png", PLAIN, role="writer", actor="t")
    with pytest.raises(AccessDenied, match=role):
        call(store)
    assert (
        store._conn().execute("SELECT role, outcome FROM audit ORDER BY seq DESC").fetchone()[1] == "denied"
    )
    assert store.get("raw/r.png", role="admin", actor="t") == PLAIN  # nothing was changed


def test_role_scope_comes_from_the_policy(tmp_path, key, clock) -> None:
    pol = {
        **POLICY,
        "storage": {
            **POLICY["storage"],
            "roles": {"reader": {"prefixes": ["raw/"]}, "writer": {"prefixes": ["raw/"]}},
        },
    }
    st = make_store(tmp_path / "v", key, clock, pol)
    with pytest.raises(AccessDenied, match="scoped to raw/"):
        st.put("redacted/a.png", PLAIN, role="writer", actor="t")
    st.put("raw/a.png", PLAIN, role="writer", actor="t")
    assert st.get("raw/a.png", role="reader", actor="t") == PLAIN
    with pytest.raises(AccessDenied, match="role 'auditor'"):  # roles the policy does not name
        st.get("raw/a.png", role="auditor", actor="t")
    assert [i.key for i in st.list(role="reader", actor="t")] == ["raw/a.png"]


def test_objects_past_retention_cannot_be_read(store: Store, clock) -> None:
    store.put("raw/a.png", PLAIN, role="writer", actor="t")
    clock.advance(7 * DAY - 1)
    assert store.get("raw/a.png", role="admin", actor="t") == PLAIN
    clock.advance(2)
    with pytest.raises(StoreError, match="past its retention"):
        store.get("raw/a.png", role="admin", actor="t")


def test_wrong_master_key_and_missing_store_are_refused(tmp_path, store: Store) -> None:
    with pytest.raises(StoreError, match="does not open this store"):
        Store.open(store.root, new_key(), from_policy(POLICY))
    with pytest.raises(InputError, match="expected a veilcv store"):
        Store.open(tmp_path / "nowhere", new_key())
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "f").write_text("x")
    with pytest.raises(InputError, match="non-empty"):
        Store.init(tmp_path / "junk", new_key())


def test_rotate_key_rewraps_without_reencrypting(store: Store, key) -> None:
    store.put("redacted/a.png", PLAIN, role="writer", actor="t")
    blobs_before = {p.name: p.read_bytes() for p in (store.root / "objects").rglob("*") if p.is_file()}
    wrapped_before = store._conn().execute("SELECT wrapped_key FROM objects").fetchone()[0]
    new = new_key()
    assert rotate_key(store, new, role="admin", actor="t") == 1
    blobs_after = {p.name: p.read_bytes() for p in (store.root / "objects").rglob("*") if p.is_file()}
    assert blobs_after == blobs_before  # objects untouched
    assert store._conn().execute("SELECT wrapped_key FROM objects").fetchone()[0] != wrapped_before
    store.close()
    with pytest.raises(StoreError, match="does not open"):
        Store.open(store.root, key, from_policy(POLICY))
    reopened = Store.open(store.root, new, from_policy(POLICY))
    assert reopened.get("redacted/a.png", role="reader", actor="t") == PLAIN
    assert reopened.verify_audit().ok  # the audit key survived the rotation
    # the old wrapped key is gone from the database file and the WAL, not just unlinked
    raw = b"".join(p.read_bytes() for p in store.root.glob("catalog.sqlite*"))
    assert wrapped_before not in raw
    reopened.close()


def test_audit_log_cannot_be_changed_through_sql(store: Store) -> None:
    store.put("redacted/a.png", PLAIN, role="writer", actor="t")
    conn = store._conn()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET outcome = 'ok'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit")


def test_recover_sweeps_orphans_only_when_alone(store: Store, key) -> None:
    store.put("redacted/a.png", PLAIN, role="writer", actor="t")
    orphan = store.root / "objects" / "ff" / ("ff" * 16)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"VEILOBJ1 leftover")
    assert check(store).orphans == [str(orphan.relative_to(store.root))]
    other = Store.open(store.root, key, from_policy(POLICY))
    assert recover(store) is None  # another session is open: it might own that blob
    other.close()
    assert recover(store) == 1
    assert check(store).ok and store.get("redacted/a.png", role="reader", actor="t") == PLAIN
