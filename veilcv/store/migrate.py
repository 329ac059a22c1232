"""`veil store migrate`: check a format-1 store against its audit log, then upgrade it to format 2.

Format 1 (stores written before catalog rows carried MACs) bound a blob and its wrapped key to the
blob id only, so anyone with write access to the folder could swap rows unnoticed. Upgrading
blindly would sign whatever the catalog holds now, swaps included, so the upgrade first checks
every row:

* the audit chain (and its anchor) verifies;
* the row's blob decrypts under the master key and matches the row's size and sha256;
* the newest successful ``put`` in the audit log for that key recorded the same sha256 and the
  same time as the row's ``created``.

Any failure refuses the whole upgrade and names the rows; nothing is changed. Otherwise every blob
is re-encrypted under the format-2 bindings (a new blob id, written before the catalog commit so
that a crash leaves only orphan blobs for ``fsck --repair``), every row gets its MAC, and the
upgrade is audited. The subject and retention columns of a format-1 row were never audited, so
they are taken as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veilcv.atomic import write_bytes
from veilcv.errors import StoreError
from veilcv.store import audit, catalog, layout, rows
from veilcv.store.crypto import MasterKey, open_blob
from veilcv.store.objects import Store, _printable
from veilcv.store.policy import StorePolicy
from veilcv.store.roles import Op

LEGACY_MAGIC = b"VEILOBJ1"


@dataclass
class MigrateReport:
    from_version: str
    objects: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def upgraded(self) -> bool:
        return self.from_version != catalog.SCHEMA_VERSION and not self.problems


def migrate(
    root: str | os.PathLike[str], master: MasterKey, policy: StorePolicy, *, role: str, actor: str
) -> MigrateReport:
    """Check and upgrade the store at ``root``; a store already current is left alone."""
    root = Path(root)
    layout.check_store(root)
    with Store(root, master, policy, upgrading=True) as store:
        store.authorize(role, Op.ADMIN, None, action="migrate", actor=actor)
        version = catalog.schema_version(store._conn())
        report = MigrateReport(version)
        if version == catalog.SCHEMA_VERSION:
            return report
        if version != "1":
            raise StoreError(f"{root}: expected store format 1 or 2, got format {version!r}")
        written: list[str] = []
        try:
            updates = _check_and_reseal(store, report, written)
            if report.problems:
                store._unlink_blobs(written)
                store.record(
                    "migrate",
                    None,
                    "denied",
                    role=role,
                    actor=actor,
                    detail={"reason": "rows do not match the audit log", "problems": report.problems[:50]},
                )
                return report
            old_blobs = _commit(store, updates, role=role, actor=actor)
        except BaseException:
            store._unlink_blobs(written)
            raise
        store._unlink_blobs(old_blobs)
        catalog.checkpoint(store._conn())
        report.objects = len(updates)
        return report


def _check_and_reseal(
    store: Store, report: MigrateReport, written: list[str]
) -> list[tuple[str, bytes, str, str, str]]:
    """Check every row (problems go to ``report``) and re-encrypt the good ones into new blobs.

    One object is in memory at a time; the new blobs' ids are appended to ``written`` as they
    are written, so that the caller can remove them if the upgrade does not go ahead.
    """
    verdict = store.verify_audit(role="admin", actor="migrate")
    if not verdict.ok:
        report.problems += [f"audit log: {p}" for p in verdict.problems]
        return []
    puts: dict[str, tuple[str, float]] = {}
    for key, ts, detail in store._conn().execute(
        "SELECT key, ts, detail FROM audit WHERE action = 'put' AND outcome = 'ok' ORDER BY seq"
    ):
        puts[key] = (str(json.loads(detail).get("sha256")), float(ts))
    updates = []
    for row in store._conn().execute("SELECT * FROM objects ORDER BY key"):
        key = str(_printable(row["key"]))
        try:
            data_key = store._envelope.unwrap(row["wrapped_key"], row["blob"])
            blob = store._blob_path(row["blob"]).read_bytes()
            data = open_blob(data_key, row["blob"], blob, LEGACY_MAGIC)
        except (OSError, StoreError) as exc:
            report.problems.append(f"object {key}: cannot be read: {getattr(exc, 'strerror', None) or exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != row["sha256"] or len(data) != row["size"]:
            report.problems.append(f"object {key}: content does not match its row's size and sha256")
        elif row["key"] not in puts:
            report.problems.append(f"object {key}: no put of this key in the audit log")
        elif puts[row["key"]] != (digest, float(row["created"])):
            report.problems.append(
                f"object {key}: content or creation time differs from the audit log's put "
                "(row swapped or edited)"
            )
        elif not report.problems:  # once refused, nothing more is written
            updates.append(_reseal(store, {c: row[c] for c in rows.COLUMNS}, data, written))
    return updates


def _reseal(
    store: Store, values: dict[str, Any], data: bytes, written: list[str]
) -> tuple[str, bytes, str, str, str]:
    blob, key = secrets.token_hex(16), str(values["key"])
    label = rows.wrap_label(blob, key, values["subject"], float(values["created"]), values["retention_days"])
    sealed, wrapped = store._envelope.seal(rows.blob_label(blob, key), data, label)
    path = store._blob_path(blob)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    write_bytes(path, sealed, mode=0o600)
    written.append(blob)
    mac = rows.row_mac(store._envelope.row_key, {**values, "blob": blob, "wrapped_key": wrapped})
    return blob, wrapped, mac, key, str(values["blob"])


def _commit(
    store: Store, updates: list[tuple[str, bytes, str, str, str]], *, role: str, actor: str
) -> list[str]:
    """Point every row at its new blob, add the MACs and the format; returns the old blob ids."""
    with store._tx() as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(objects)")}
        if "mac" not in columns:
            conn.execute("ALTER TABLE objects ADD COLUMN mac TEXT")
        conn.executemany(
            "UPDATE objects SET blob = ?, wrapped_key = ?, mac = ? WHERE key = ?", [u[:4] for u in updates]
        )
        catalog.set_meta(conn, "schema", catalog.SCHEMA_VERSION.encode())
        audit.append(
            conn,
            store._audit_key,
            actor=actor,
            role=role,
            action="migrate",
            key=None,
            outcome="ok",
            detail={"from": "1", "to": catalog.SCHEMA_VERSION, "objects": len(updates)},
            now=store.clock(),
        )
    return [u[4] for u in updates]
