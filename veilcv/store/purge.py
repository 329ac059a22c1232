"""Retention: delete every object older than its prefix's TTL, by crypto-shredding.

Each deletion drops the object's catalog row (its wrapped data key is overwritten in the database,
and the WAL is truncated afterwards) and appends a receipt to the audit log in the same
transaction; the blob, unreadable from then on, is unlinked after the commit. A run ends with a
summary receipt. ``dry_run`` lists what would go and records only that a dry run happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from veilcv.store import audit, catalog
from veilcv.store.objects import DAY, ObjectInfo, Store
from veilcv.store.roles import Op


@dataclass(frozen=True)
class PurgeItem:
    key: str
    prefix: str
    age_days: float
    max_days: int


@dataclass(frozen=True)
class PurgeResult:
    items: list[PurgeItem]
    dry_run: bool
    receipt_seq: int  # audit sequence number of the run's summary receipt


def due(store: Store, now: float) -> list[PurgeItem]:
    """Objects whose age is at least their prefix's ``max_days`` at time ``now``."""
    out = []
    for row in store._conn().execute("SELECT * FROM objects ORDER BY created, key"):
        info = store._info(row)
        if now >= info.expires:
            max_days = round((info.expires - info.created) / DAY)
            out.append(PurgeItem(info.key, row["prefix"], round((now - info.created) / DAY, 3), max_days))
    return out


def purge(store: Store, *, role: str, actor: str, dry_run: bool = False) -> PurgeResult:
    """Delete (or, with ``dry_run``, list) every object past its retention period."""
    store.authorize(role, Op.DELETE, None, action="purge", actor=actor)
    store.require_intact("purge", role=role, actor=actor)  # an edited date would hide a row from it
    items = due(store, store.clock())
    if not dry_run:
        by_key = {i.key: i for i in items}

        def receipt(info: ObjectInfo) -> dict[str, object]:
            item = by_key[info.key]
            return {
                "reason": "retention",
                "prefix": item.prefix,
                "age_days": item.age_days,
                "max_days": item.max_days,
            }

        shred(store, [i.key for i in items], role=role, actor=actor, action="purge-object", detail=receipt)
    entry = store.record(
        "purge", None, "ok", role=role, actor=actor, detail={"dry_run": dry_run, "objects": len(items)}
    )
    return PurgeResult(items, dry_run, entry.seq)


def shred(
    store: Store,
    keys: Sequence[str],
    *,
    role: str,
    actor: str,
    action: str,
    detail: Callable[[ObjectInfo], dict[str, Any]],
) -> list[audit.Entry]:
    """Crypto-shred objects: drop each row (and its wrapped data key), audit a receipt, unlink."""
    receipts = []
    for key in keys:
        store.authorize(role, Op.DELETE, key, action=action, actor=actor)
        with store._tx() as conn:
            row = conn.execute("SELECT * FROM objects WHERE key = ?", (key,)).fetchone()
            if row is None:
                continue
            info = store._info(row)
            conn.execute("DELETE FROM objects WHERE key = ?", (key,))
            receipts.append(
                audit.append(
                    conn,
                    store._audit_key,
                    actor=actor,
                    role=role,
                    action=action,
                    key=key,
                    outcome="ok",
                    detail={"data_key": "destroyed", "sha256": info.sha256, **detail(info)},
                    now=store.clock(),
                )
            )
        store._unlink_blobs([row["blob"]])
    if receipts:
        catalog.checkpoint(store._conn())
    return receipts
