"""Retention purge (crypto-shredding with receipts) and data-subject export/delete."""

from __future__ import annotations

import json
import zipfile

import pytest

from store.helpers import DAY, files_containing
from veilcv.errors import AccessDenied, InputError, StoreError
from veilcv.store import Store
from veilcv.store.maintenance import check
from veilcv.store.purge import purge
from veilcv.store.subjects import delete_subject, export_subject


def _catalog_bytes(store: Store) -> bytes:
    return b"".join(p.read_bytes() for p in store.root.glob("catalog.sqlite*"))


def test_purge_deletes_exactly_what_is_past_its_ttl(store: Store, clock) -> None:
    store.put("raw/old.jpg", b"RAW-OLD" * 50, role="writer", actor="t")
    store.put("redacted/old.jpg", b"RED-OLD" * 50, role="writer", actor="t")
    clock.advance(3 * DAY)
    store.put("raw/new.jpg", b"RAW-NEW" * 50, role="writer", actor="t")
    clock.advance(4 * DAY)  # raw/old is 7 days old (TTL 7), raw/new 4 days, redacted/old 7 of 90
    wrapped = store._conn().execute("SELECT wrapped_key FROM objects WHERE key = 'raw/old.jpg'").fetchone()[0]

    dry = purge(store, role="admin", actor="t", dry_run=True)
    assert [i.key for i in dry.items] == ["raw/old.jpg"] and dry.dry_run
    assert store.head("raw/old.jpg").size == 350  # nothing deleted by a dry run

    result = purge(store, role="admin", actor="t")
    assert [(i.key, i.prefix, i.max_days) for i in result.items] == [("raw/old.jpg", "raw/", 7)]
    with pytest.raises(StoreError, match="no such object"):
        store.head("raw/old.jpg")
    assert {i.key for i in store.list(role="admin", actor="t")} == {"raw/new.jpg", "redacted/old.jpg"}
    assert check(store).ok
    assert wrapped not in _catalog_bytes(store)  # the data key is destroyed, not just unlinked
    receipts = (
        store._conn()
        .execute(
            "SELECT action, key, detail FROM audit WHERE action IN ('purge', 'purge-object') ORDER BY seq"
        )
        .fetchall()
    )
    assert [(r[0], r[1]) for r in receipts] == [
        ("purge", None),
        ("purge-object", "raw/old.jpg"),
        ("purge", None),
    ]
    detail = json.loads(receipts[1][2])
    assert detail["data_key"] == "destroyed" and detail["reason"] == "retention" and detail["max_days"] == 7
    assert json.loads(receipts[2][2]) == {"dry_run": False, "objects": 1}
    assert store.verify_audit().ok


def test_record_retention_shorter_than_the_prefix_wins(store: Store, clock) -> None:
    from veilcv.store import PutItem

    store.put_many([PutItem("redacted/short.jpg", b"s", retention_days=2)], role="writer", actor="t")
    clock.advance(2 * DAY)
    assert [i.key for i in purge(store, role="admin", actor="t").items] == ["redacted/short.jpg"]


def test_purge_needs_the_delete_permission(store: Store) -> None:
    for role in ("reader", "writer"):
        with pytest.raises(AccessDenied):
            purge(store, role=role, actor="t")


def _subject_store(store: Store) -> None:
    store.put("redacted/s1/a.jpg", b"S1-A" * 40, role="writer", actor="t", subject="S1")
    store.put("raw/s1/a.jpg", b"S1-RAW" * 40, role="writer", actor="t", subject="S1")
    store.put("redacted/s2/a.jpg", b"S2-A" * 40, role="writer", actor="t", subject="S2")


def test_export_subject_writes_a_zip_with_a_receipt(store: Store, tmp_path) -> None:
    _subject_store(store)
    out = tmp_path / "s1.zip"
    receipt = export_subject(store, "S1", out, role="admin", actor="t")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["raw/s1/a.jpg", "receipt.json", "redacted/s1/a.jpg"]
        assert zf.read("raw/s1/a.jpg") == b"S1-RAW" * 40
        assert json.loads(zf.read("receipt.json"))["audit_seq"] == receipt.receipt_seq
    with pytest.raises(StoreError, match="may not read every object"):
        export_subject(store, "S1", tmp_path / "r.zip", role="reader", actor="t")
    assert not (tmp_path / "r.zip").exists()  # refused before anything was written
    assert list(tmp_path.glob(".*.tmp*")) == []


def test_delete_subject_shreds_its_objects_only_and_tombstones_it(store: Store) -> None:
    _subject_store(store)
    receipt = delete_subject(store, "S1", role="admin", actor="t")
    assert sorted(receipt.keys) == ["raw/s1/a.jpg", "redacted/s1/a.jpg"]
    assert [i.key for i in store.list(role="admin", actor="t")] == ["redacted/s2/a.jpg"]
    assert files_containing(store.root, b"S1-A") == [] and check(store).ok
    assert store.is_tombstoned("subject", "S1") and not store.is_tombstoned("subject", "S2")
    rows = store._conn().execute("SELECT action FROM audit WHERE action LIKE 'subject-delete%'").fetchall()
    assert [r[0] for r in rows] == ["subject-delete-object"] * 2 + ["subject-delete"]
    assert b"S1" not in b"".join(r[0].encode() for r in store._conn().execute("SELECT detail FROM audit"))
    again = delete_subject(store, "S1", role="admin", actor="t")  # idempotent, still a receipt
    assert again.keys == [] and again.receipt_seq > receipt.receipt_seq
    assert store.verify_audit().ok


@pytest.mark.parametrize("subject", ["", "a b", "x" * 200, "../etc", "s\n1"])
def test_bad_subject_ids_are_refused(store: Store, subject: str, tmp_path) -> None:
    with pytest.raises(InputError, match="--subject"):
        delete_subject(store, subject, role="admin", actor="t")
    with pytest.raises(InputError, match="--subject"):
        export_subject(store, subject, tmp_path / "x.zip", role="admin", actor="t")
