"""Build a format-1 store (rows without MACs, blobs bound to the blob id only), as older veilcv wrote.

Only the objects table and the blob encoding differ from format 2; the secrets, the audit log and
its anchor are the same, so the current code writes those.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from store.helpers import POLICY
from veilcv.store import MasterKey, Store, audit, catalog, from_policy
from veilcv.store.crypto import Envelope

V1_OBJECTS = """
CREATE TABLE objects (
    key TEXT PRIMARY KEY, prefix TEXT NOT NULL, blob TEXT NOT NULL UNIQUE, wrapped_key BLOB NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, created REAL NOT NULL, subject TEXT,
    source_sha256 TEXT, licence TEXT, retention_days INTEGER
);
"""


def make_v1_store(root: Path, key: MasterKey, objects: dict[str, bytes], now: float) -> None:
    """A format-1 store at ``root`` holding ``objects`` (key -> bytes), each put and audited at ``now``."""
    import hashlib

    root.mkdir(parents=True)
    conn = sqlite3.connect(root / "catalog.sqlite")
    conn.executescript(V1_OBJECTS)
    conn.close()
    policy = from_policy(POLICY)
    Store.open(root, key, policy, create=True, clock=lambda: now).close()
    envelope = Envelope(key)
    with Store(root, key, policy, clock=lambda: now, upgrading=True) as store:
        with store._tx() as conn:
            catalog.set_meta(conn, "schema", b"1")
            for obj_key, data in objects.items():
                blob = secrets.token_hex(16)
                data_key = AESGCM.generate_key(bit_length=256)
                nonce = secrets.token_bytes(12)
                body = AESGCM(data_key).encrypt(nonce, data, f"veilcv-blob:{blob}".encode())
                path = store._blob_path(blob)
                path.parent.mkdir(mode=0o700, exist_ok=True)
                path.write_bytes(b"VEILOBJ1" + nonce + body)
                digest = hashlib.sha256(data).hexdigest()
                conn.execute(
                    "INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)",
                    (
                        obj_key,
                        policy.prefix_of(obj_key),
                        blob,
                        envelope.wrap(data_key, blob),
                        len(data),
                        digest,
                        now,
                    ),
                )
                audit.append(
                    conn,
                    store._audit_key,
                    actor="t",
                    role="writer",
                    action="put",
                    key=obj_key,
                    outcome="ok",
                    detail={"size": len(data), "sha256": digest},
                    now=now,
                )
