"""The store's SQLite catalog: objects, audit log, ingest ledger and deletion tombstones.

WAL mode so that readers (``serve``) never block the writer, ``synchronous=FULL`` so that a
committed audit entry survives a crash, and ``secure_delete`` so that a destroyed data key is
overwritten in the database file rather than left in a free page. Audit rows cannot be updated or
deleted through SQL (triggers refuse it); the hash chain catches anyone who edits the file itself.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from veilcv.errors import StoreError

SCHEMA_VERSION = "2"  # 2: rows carry a MAC; blobs and wrapped keys are bound to the object key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    prefix TEXT NOT NULL,
    blob TEXT NOT NULL UNIQUE,
    wrapped_key BLOB NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created REAL NOT NULL,
    subject TEXT,
    source_sha256 TEXT,
    licence TEXT,
    retention_days INTEGER,
    mac TEXT
);
CREATE INDEX IF NOT EXISTS objects_subject ON objects(subject);
CREATE INDEX IF NOT EXISTS objects_prefix ON objects(prefix, created);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    key TEXT,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS ingested (
    source_sha256 TEXT PRIMARY KEY,
    redacted_key TEXT,
    raw_key TEXT,
    ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tombstones (kind TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (kind, digest));
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the catalog with the store's pragmas; transactions are explicit (``write``)."""
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path}: expected a veilcv store catalog, got an unreadable database ({exc})"
        ) from None
    conn.row_factory = sqlite3.Row
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


@contextlib.contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken up front (``BEGIN IMMEDIATE``) so that writers queue, not fail."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:  # a failed COMMIT (disk full) leaves the transaction open
            conn.execute("ROLLBACK")
        raise


def schema_version(conn: sqlite3.Connection) -> str:
    """The catalog's format version (``"1"`` for stores made before the meta key existed)."""
    value = get_meta(conn, "schema")
    return "1" if value is None else value.decode("ascii", "replace")


def get_meta(conn: sqlite3.Connection, k: str) -> bytes | None:
    row = conn.execute("SELECT v FROM meta WHERE k = ?", (k,)).fetchone()
    if row is None:
        return None
    value = row[0]
    return value.encode() if isinstance(value, str) else bytes(value)


def set_meta(conn: sqlite3.Connection, k: str, v: bytes) -> None:
    conn.execute("INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", (k, v))


def checkpoint(conn: sqlite3.Connection) -> None:
    """Fold the WAL into the database and truncate it, so destroyed keys leave no copy in the WAL."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
