"""Data-subject requests: export or delete every object of one subject, with receipts.

Subject ids come from manifest records at ingest. Deletion crypto-shreds each object (see
:mod:`veilcv.store.purge`), records a receipt per object and one for the request, and leaves a
tombstone (an HMAC of the subject id under the store's audit key, not the id itself) so that a
later ingest of the same subject's files is refused instead of silently restoring them.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from veilcv.atomic import atomic_path
from veilcv.errors import InputError, StoreError
from veilcv.store import audit, catalog
from veilcv.store.objects import ObjectInfo, Store
from veilcv.store.purge import shred
from veilcv.store.roles import Op

_SUBJECT = re.compile(r"[A-Za-z0-9._:@+-]{1,128}")


@dataclass(frozen=True)
class SubjectReceipt:
    subject: str
    action: str
    keys: list[str]
    receipt_seq: int
    receipt_hash: str

    def as_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "action": self.action,
            "objects": len(self.keys),
            "keys": self.keys,
            "audit_seq": self.receipt_seq,
            "audit_hash": self.receipt_hash,
        }


def check_subject(subject: str) -> str:
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise InputError(
            f"--subject: expected 1-128 characters of letters, digits and ._:@+-, got {subject!r}"
        )
    return subject


def subject_objects(store: Store, subject: str) -> list[ObjectInfo]:
    rows = store._conn().execute("SELECT * FROM objects WHERE subject = ? ORDER BY key", (subject,))
    return [store._info(r) for r in rows]


def export_subject(
    store: Store, subject: str, out: str | os.PathLike[str], *, role: str, actor: str
) -> SubjectReceipt:
    """Write every object of ``subject`` that ``role`` may read into a zip at ``out`` (atomically).

    The archive holds the decrypted objects under their keys plus ``receipt.json``.
    """
    check_subject(subject)
    store.authorize(role, Op.READ, None, action="subject-export", actor=actor)
    store.require_intact("subject-export", role=role, actor=actor)  # an edited subject would hide a row
    out = Path(out)
    if out.exists() and out.is_dir():
        raise InputError(f"{out}: expected a .zip file path for the export, got a folder")
    infos = subject_objects(store, subject)
    readable = [
        i for i in infos if any(s == "*" or i.key.startswith(s) for s in store.policy.roles.get(role, ()))
    ]
    if len(readable) < len(infos):
        store.record(
            "subject-export",
            None,
            "denied",
            role=role,
            actor=actor,
            detail={"reason": f"role {role} may not read {len(infos) - len(readable)} of the objects"},
        )
        raise StoreError(f"role {role!r} may not read every object of subject {subject!r}; use an admin role")
    with atomic_path(out, suffix=".zip", mode=0o600) as tmp:  # decrypted data: owner only
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for info in readable:
                zf.writestr(
                    info.key, store.get(info.key, role=role, actor=actor, action="subject-export-object")
                )
            entry = store.record(
                "subject-export",
                None,
                "ok",
                role=role,
                actor=actor,
                detail={
                    "subject_digest": store.tombstone_digest("subject", subject),
                    "objects": len(readable),
                },
            )
            receipt = SubjectReceipt(subject, "export", [i.key for i in readable], entry.seq, entry.hash)
            zf.writestr("receipt.json", json.dumps(receipt.as_dict(), indent=2) + "\n")
    return receipt


def delete_subject(store: Store, subject: str, *, role: str, actor: str) -> SubjectReceipt:
    """Crypto-shred every object of ``subject`` and tombstone the subject and its sources."""
    check_subject(subject)
    store.authorize(role, Op.DELETE, None, action="subject-delete", actor=actor)
    store.require_intact("subject-delete", role=role, actor=actor)  # an edited subject would hide a row
    infos = subject_objects(store, subject)
    sources = sorted({i.source_sha256 for i in infos if i.source_sha256})
    with store._tx() as conn:
        rows = [("subject", store.tombstone_digest("subject", subject))]
        rows += [("source", store.tombstone_digest("source", s)) for s in sources]
        conn.executemany("INSERT OR IGNORE INTO tombstones(kind, digest) VALUES (?, ?)", rows)
    shred(
        store,
        [i.key for i in infos],
        role=role,
        actor=actor,
        action="subject-delete-object",
        detail=lambda info: {"reason": "subject deletion request"},
    )
    entry = store.record(
        "subject-delete",
        None,
        "ok",
        role=role,
        actor=actor,
        detail={"subject_digest": store.tombstone_digest("subject", subject), "objects": len(infos)},
    )
    catalog.checkpoint(store._conn())
    return SubjectReceipt(subject, "delete", [i.key for i in infos], entry.seq, entry.hash)


def link_subject(store: Store, source_sha256: str, subject: str, *, role: str, actor: str) -> list[str]:
    """Give the objects ingested from ``source_sha256`` that have no subject yet the id ``subject``.

    A file first ingested without a subject id and listed again with one must not escape a later
    deletion request. Objects that already carry another subject are left alone (an object has one
    subject); the caller reports that. Returns the keys that were linked, each one audited.
    """
    check_subject(subject)
    store.authorize(role, Op.WRITE, None, action="subject-link", actor=actor)
    keys: list[str] = []
    with store._tx() as conn:
        rows = conn.execute(
            "SELECT key FROM objects WHERE source_sha256 = ? AND subject IS NULL ORDER BY key",
            (source_sha256,),
        ).fetchall()
        for row in rows:
            store.update_row(conn, row["key"], subject=subject)  # re-wrapped: the wrap binds the subject
            audit.append(
                conn,
                store._audit_key,
                actor=actor,
                role=role,
                action="subject-link",
                key=row["key"],
                outcome="ok",
                detail={"subject_digest": store.tombstone_digest("subject", subject)},
            )
            keys.append(row["key"])
    return keys


def receipt_json(receipt: SubjectReceipt) -> str:
    buf = io.StringIO()
    json.dump(receipt.as_dict(), buf, indent=2)
    return buf.getvalue() + "\n"
