"""The local private store: encrypted objects under policy prefixes, a catalog and an audit log.

Folder layout (nothing in it is plaintext object data)::

    catalog.sqlite (+ -wal, -shm)   objects, wrapped data keys, audit log, ingest ledger, tombstones
    audit.anchor                    MACed head of the audit chain (see :mod:`veilcv.store.audit`)
    objects/ab/ab12...              AES-256-GCM blobs, named by random ids, never by key
    .lock, .sessions                advisory locks (write serialisation; crash recovery)

Integrity: every catalog row carries a MAC and its blob and wrapped key are bound to the object
key, subject and dates (see :mod:`veilcv.store.rows`); a row edited outside veilcv is refused on
every read and reported by ``fsck``.

Crash safety: a blob is written (atomically) before its catalog row is committed, and a catalog
row is deleted (its data key with it) before its blob is unlinked. So after a ``kill -9`` the
catalog never names a missing blob; at worst an unreadable orphan blob is left, which the next
store that opens alone sweeps away. Every operation checks the caller's role and is audited,
refusals included.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from veilcv.atomic import write_bytes
from veilcv.errors import InputError, StoreError
from veilcv.store import audit, layout, rows
from veilcv.store.crypto import MasterKey
from veilcv.store.layout import ObjectInfo, PutItem
from veilcv.store.policy import StorePolicy, from_policy
from veilcv.store.roles import Op
from veilcv.store.session import Session, _printable

DAY = 86400.0


class Store(Session):
    """Open with :meth:`open` or :meth:`init`; thread-safe (one SQLite connection per thread)."""

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        root: str | os.PathLike[str],
        master: MasterKey,
        policy: StorePolicy | None = None,
        *,
        actor: str = "cli",
        clock: Callable[[], float] = time.time,
    ) -> Store:
        """Create a new store in an empty (or absent) folder."""
        root = Path(root)
        if (root / cls.CATALOG).exists():
            raise StoreError(f"{root}: a store already exists here; use it, or pick an empty folder")
        layout.check_empty(root)
        if not layout.create(root, master):
            raise StoreError(f"{root}: a store was just created here by another process; use it")
        store = cls(root, master, policy or from_policy(None), clock=clock)
        store.record("init", None, "ok", role="admin", actor=actor, detail={"key_id": master.key_id})
        return store

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        master: MasterKey,
        policy: StorePolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        create: bool = False,
        actor: str = "cli",
        head_file: str | os.PathLike[str] | None = None,
    ) -> Store:
        """Open an existing store (``create=True``: make it first when the folder is new or empty).

        ``head_file`` (default ``$VEIL_AUDIT_HEAD_FILE``): a file outside the store that every
        committed write appends the audit head to, and that verification checks the log against.
        """
        root = Path(root)
        created = False
        if create:
            if not (root / cls.CATALOG).is_file():
                layout.check_empty(root)
            created = layout.create(root, master)  # a no-op when the store exists
        else:
            layout.check_store(root)
        store = cls(root, master, policy or from_policy(None), clock=clock, head_file=head_file)
        if created:
            store.record("init", None, "ok", role="admin", actor=actor, detail={"key_id": master.key_id})
        return store

    # -- objects -------------------------------------------------------------------------------
    def _blob_path(self, blob: str) -> Path:
        return self.root / self.OBJECTS / blob[:2] / blob

    def _checked(self, row: sqlite3.Row) -> sqlite3.Row:
        """``row`` if its MAC verifies, else a :class:`StoreError` naming the key."""
        if not rows.row_ok(self._envelope.row_key, row):
            raise StoreError(
                f"object {_printable(row['key'])}: catalog row fails its integrity check (edited outside "
                "veilcv); nothing was read; run `veil store fsck` and restore the store from a backup"
            )
        return row

    def tampered_rows(self) -> list[str]:
        """Keys of the catalog rows whose MAC does not verify."""
        key = self._envelope.row_key
        out = self._conn().execute("SELECT * FROM objects ORDER BY key")
        return [str(_printable(r["key"])) for r in out if not rows.row_ok(key, r)]

    def require_intact(self, action: str, *, role: str, actor: str) -> None:
        """Refuse ``action`` (audited) while any catalog row fails its integrity check.

        Purge and subject requests select rows by their dates and subject: an edited row would
        silently escape them, so they run only on a catalog whose every row verifies.
        """
        bad = self.tampered_rows()
        if bad:
            shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            self.record(
                action,
                None,
                "denied",
                role=role,
                actor=actor,
                detail={"reason": "tampered rows", "keys": bad[:50]},
            )
            raise StoreError(
                f"{self.root}: {len(bad)} catalog row(s) fail their integrity check ({shown}); "
                f"refusing {action} until the store is restored from a backup (see `veil store fsck`)"
            )

    def insert_row(self, conn: sqlite3.Connection, values: dict[str, Any]) -> None:
        """Insert one objects row with its MAC."""
        values = {**values, "created": float(values["created"])}
        values["mac"] = rows.row_mac(self._envelope.row_key, values)
        names = ", ".join(values)
        conn.execute(
            f"INSERT INTO objects({names}) VALUES ({', '.join('?' * len(values))})", tuple(values.values())
        )

    def update_row(self, conn: sqlite3.Connection, key: str, **changes: Any) -> None:
        """Change columns of one row (inside a transaction), re-wrapping and re-MACing it."""
        row = conn.execute("SELECT * FROM objects WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(f"object {key}: no such object")
        self._checked(row)
        data_key = self._envelope.unwrap(row["wrapped_key"], rows.row_wrap_label(row))
        new = {c: row[c] for c in rows.COLUMNS} | changes
        new["wrapped_key"] = self._envelope.wrap(data_key, rows.row_wrap_label(new))
        new["mac"] = rows.row_mac(self._envelope.row_key, new)
        sets = ", ".join(f"{c} = ?" for c in new if c != "key")
        conn.execute(
            f"UPDATE objects SET {sets} WHERE key = ?", (*(v for c, v in new.items() if c != "key"), key)
        )

    def _info(self, row: sqlite3.Row) -> ObjectInfo:
        self._checked(row)
        days = self.policy.prefixes.get(row["prefix"], 0)  # a prefix the policy dropped: expired
        if row["retention_days"] is not None:
            days = min(days, row["retention_days"])
        return ObjectInfo(
            row["key"],
            row["size"],
            row["sha256"],
            row["created"],
            row["created"] + days * DAY,
            row["subject"],
            row["source_sha256"],
            row["licence"],
        )

    def put(
        self,
        key: str,
        data: bytes,
        *,
        role: str,
        actor: str,
        subject: str | None = None,
        licence: str | None = None,
    ) -> ObjectInfo:
        """Store one object; keys are write-once."""
        out = self.put_many([PutItem(key, data, subject, None, licence)], role=role, actor=actor)
        assert out is not None
        return out[0]

    def put_many(
        self, items: Sequence[PutItem], *, role: str, actor: str, ingest_source: str | None = None
    ) -> list[ObjectInfo] | None:
        """Store several objects in one transaction (all or none).

        With ``ingest_source`` (the sha256 of an ingested original) the ingest ledger is updated
        in the same transaction; if another ingest got there first, nothing is stored and
        ``None`` is returned.
        """
        for item in items:
            self.authorize(role, Op.WRITE, item.key, action="put", actor=actor)
            if len(item.data) > layout.MAX_OBJECT_BYTES:
                raise InputError(
                    f"object {item.key}: expected at most {layout.MAX_OBJECT_BYTES >> 20} MiB, "
                    f"got {len(item.data) >> 20} MiB"
                )
        written: list[tuple[PutItem, str, bytes]] = []
        now = float(self.clock())
        try:
            for item in items:
                blob = secrets.token_hex(16)
                sealed, wrapped = self._envelope.seal(
                    rows.blob_label(blob, item.key),
                    item.data,
                    rows.wrap_label(blob, item.key, item.subject, now, item.retention_days),
                )
                path = self._blob_path(blob)
                path.parent.mkdir(mode=0o700, exist_ok=True)
                write_bytes(path, sealed, mode=0o600)
                written.append((item, blob, wrapped))
            with self._tx() as conn:
                if (
                    ingest_source is not None
                    and conn.execute(
                        "SELECT 1 FROM ingested WHERE source_sha256 = ?", (ingest_source,)
                    ).fetchone()
                ):
                    raise _Duplicate()
                for item, blob, wrapped in written:
                    if conn.execute("SELECT 1 FROM objects WHERE key = ?", (item.key,)).fetchone():
                        raise StoreError(
                            f"object {item.key} already exists; keys are write-once (delete it first)"
                        )
                    digest = hashlib.sha256(item.data).hexdigest()
                    self.insert_row(
                        conn,
                        dict(
                            key=item.key,
                            prefix=self.policy.prefix_of(item.key),
                            blob=blob,
                            wrapped_key=wrapped,
                            size=len(item.data),
                            sha256=digest,
                            created=now,
                            subject=item.subject,
                            source_sha256=item.source_sha256,
                            licence=item.licence,
                            retention_days=item.retention_days,
                        ),
                    )
                    audit.append(
                        conn,
                        self._audit_key,
                        actor=actor,
                        role=role,
                        action="put",
                        key=item.key,
                        outcome="ok",
                        detail={"size": len(item.data), "sha256": digest},
                        now=now,
                    )
                if ingest_source is not None:
                    keys = {self.policy.prefix_of(i.key): i.key for i, _, _ in written}
                    conn.execute(
                        "INSERT INTO ingested(source_sha256, redacted_key, raw_key, ts) VALUES (?, ?, ?, ?)",
                        (
                            ingest_source,
                            keys.get(self.policy.redacted_prefix),
                            keys.get(self.policy.raw_prefix),
                            now,
                        ),
                    )
        except _Duplicate:
            self._unlink_blobs(b for _, b, _ in written)
            return None
        except BaseException:
            self._unlink_blobs(b for _, b, _ in written)
            raise
        return [self.head(i.key) for i, _, _ in written]

    def _unlink_blobs(self, blobs: Iterator[str] | Sequence[str]) -> None:
        for blob in blobs:
            with contextlib.suppress(OSError):
                self._blob_path(blob).unlink()

    def _row(self, key: str) -> sqlite3.Row | None:
        return self._conn().execute("SELECT * FROM objects WHERE key = ?", (key,)).fetchone()

    def object_version(self, key: str) -> str | None:
        """The version tag of ``key`` as stored now (``None``: no such object)."""
        row = self._conn().execute("SELECT blob FROM objects WHERE key = ?", (key,)).fetchone()
        return None if row is None else rows.version(row["blob"])

    def head(self, key: str) -> ObjectInfo:
        row = self._row(key)
        if row is None:
            raise StoreError(f"object {key}: no such object")
        return self._info(row)

    def get(
        self, key: str, *, role: str, actor: str, action: str = "get", extra: dict[str, Any] | None = None
    ) -> bytes:
        """Decrypt and return an object that ``role`` may read and that is within retention."""
        self.authorize(role, Op.READ, key, action=action, actor=actor)
        row = self._row(key)
        reason = None
        if row is None:
            reason = "no such object"
        elif not rows.row_ok(self._envelope.row_key, row):
            reason = "catalog row fails its integrity check (edited outside veilcv); run `veil store fsck`"
        elif self.clock() >= self._info(row).expires:
            reason = "past its retention period (purge pending)"
        if reason is not None:
            self.record(
                action, key, "denied", role=role, actor=actor, detail={"reason": reason, **(extra or {})}
            )
            raise StoreError(f"object {key}: {reason}")
        try:
            data = self._envelope.open(
                rows.blob_label(row["blob"], key),
                self._blob_path(row["blob"]).read_bytes(),
                row["wrapped_key"],
                rows.row_wrap_label(row),
            )
            if hashlib.sha256(data).hexdigest() != row["sha256"]:
                raise StoreError("content does not match its recorded sha256")
        except (OSError, StoreError) as exc:
            self.record(action, key, "error", role=role, actor=actor, detail={"reason": str(exc)})
            raise StoreError(f"object {key}: cannot read: {exc}") from None
        self.record(action, key, "ok", role=role, actor=actor, detail=extra)
        return data

    def list(self, prefix: str = "", *, role: str, actor: str) -> list[ObjectInfo]:
        """Objects under ``prefix`` that ``role`` may read."""
        self.authorize(role, Op.READ, None, action="list", actor=actor)
        scopes = self.policy.roles.get(role, ())
        found = self._conn().execute("SELECT * FROM objects WHERE key >= ? ORDER BY key", (prefix,))
        out = [
            self._info(r)
            for r in found
            if r["key"].startswith(prefix) and any(s == "*" or r["key"].startswith(s) for s in scopes)
        ]
        self.record("list", prefix or None, "ok", role=role, actor=actor, detail={"count": len(out)})
        return out


class _Duplicate(Exception):
    pass
