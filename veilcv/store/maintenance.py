"""Key rotation and consistency: re-wrap data keys under a new master key; catalog vs blob files."""

from __future__ import annotations

import contextlib
import fcntl
import secrets
from dataclasses import dataclass, field

from veilcv.store import audit, catalog, rows
from veilcv.store.crypto import Envelope, MasterKey
from veilcv.store.objects import Store
from veilcv.store.roles import Op


@dataclass
class Consistency:
    objects: int
    missing: list[str]  # catalog rows whose blob is gone: real damage
    orphans: list[str]  # blobs no row names: unreadable crash leftovers
    tampered: list[str] = field(default_factory=list)  # rows whose MAC fails: edited outside veilcv

    @property
    def ok(self) -> bool:
        return not self.missing and not self.orphans and not self.tampered


def rotate_key(
    store: Store, new_master: MasterKey, *, role: str, actor: str, revoke_tokens: bool = False
) -> int:
    """Re-wrap every data key (and the store's secrets) under ``new_master``; objects stay as they are."""
    store.authorize(role, Op.ADMIN, None, action="rotate-key", actor=actor)
    store.require_intact("rotate-key", role=role, actor=actor)  # re-MACing would bless an edited row
    new = Envelope(new_master)
    old_id = store._envelope.key_id
    token_key = secrets.token_bytes(32) if revoke_tokens else store._token_key
    with store._tx() as conn:
        found = conn.execute("SELECT * FROM objects").fetchall()
        for row in found:
            label = rows.row_wrap_label(row)
            values = {c: row[c] for c in rows.COLUMNS}
            values["wrapped_key"] = new.wrap(store._envelope.unwrap(row["wrapped_key"], label), label)
            conn.execute(
                "UPDATE objects SET wrapped_key = ?, mac = ? WHERE key = ?",
                (values["wrapped_key"], rows.row_mac(new.row_key, values), row["key"]),
            )
        catalog.set_meta(conn, "audit_key", new.wrap(store._audit_key, "audit-key"))
        catalog.set_meta(conn, "token_key", new.wrap(token_key, "token-key"))
        catalog.set_meta(conn, "key_id", new.key_id.encode())
        audit.append(
            conn,
            store._audit_key,
            actor=actor,
            role=role,
            action="rotate-key",
            key=None,
            outcome="ok",
            detail={
                "old_key_id": old_id,
                "new_key_id": new.key_id,
                "objects": len(found),
                "tokens_revoked": revoke_tokens,
            },
            now=store.clock(),
        )
    store._envelope, store._token_key = new, token_key
    catalog.checkpoint(store._conn())
    return len(found)


def check(store: Store) -> Consistency:
    """Compare the catalog with the blob files and check every row's MAC."""
    blobs = {r[0]: r[1] for r in store._conn().execute("SELECT blob, key FROM objects")}
    on_disk = {p.name: p for p in (store.root / store.OBJECTS).glob("*/*")}
    missing = sorted(k for b, k in blobs.items() if b not in on_disk)
    orphans = sorted(str(p.relative_to(store.root)) for name, p in on_disk.items() if name not in blobs)
    return Consistency(len(blobs), missing, orphans, store.tampered_rows())


def recover(store: Store, *, actor: str = "cli") -> int | None:
    """Remove orphan blobs left by a crash, if no other store session is open (else ``None``)."""
    with store._mutex:
        try:
            fcntl.flock(store._session_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        try:
            orphans = check(store).orphans
            for rel in orphans:
                with contextlib.suppress(OSError):
                    (store.root / rel).unlink()
            if orphans:
                store.record(
                    "recover",
                    None,
                    "ok",
                    role="admin",
                    actor=actor,
                    detail={"orphan_blobs_removed": len(orphans)},
                )
            return len(orphans)
        finally:
            fcntl.flock(store._session_fd, fcntl.LOCK_SH)
