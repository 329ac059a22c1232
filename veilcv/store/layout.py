"""The store folder: its fixed file names, its creation (safe against a concurrent init), object records."""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from veilcv.errors import InputError
from veilcv.safeio import read_regular_file
from veilcv.store import catalog
from veilcv.store.crypto import Envelope, MasterKey

CATALOG, ANCHOR, OBJECTS = "catalog.sqlite", "audit.anchor", "objects"
MAX_OBJECT_BYTES = 256 << 20  # objects are held in memory to encrypt them; images and clips fit
OWN_FILES = frozenset(
    {
        ".lock",
        ".sessions",
        "objects",
        "audit.anchor",
        "catalog.sqlite",
        "catalog.sqlite-wal",
        "catalog.sqlite-shm",
    }
)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str
    created: float
    expires: float
    subject: str | None
    source_sha256: str | None
    licence: str | None


@dataclass(frozen=True)
class PutItem:
    key: str
    data: bytes
    subject: str | None = None
    source_sha256: str | None = None
    licence: str | None = None
    retention_days: int | None = None  # the record's own TTL, if shorter than the prefix's


def read_object_file(path: Path) -> bytes:
    """The bytes of a file to store: a regular file of at most :data:`MAX_OBJECT_BYTES`.

    A device such as ``/dev/zero`` or a FIFO is refused before anything is read (it would be read
    without end), and so is a file over the cap (checked on the open descriptor, so a file swapped
    in after the check cannot slip past it).
    """

    def not_too_big(st: os.stat_result) -> None:
        if st.st_size > MAX_OBJECT_BYTES:
            raise InputError(
                f"{path}: expected a file of at most {MAX_OBJECT_BYTES >> 20} MiB to store, "
                f"got {st.st_size >> 20} MiB"
            )

    return read_regular_file(path, what="a file to store", label=f"{path}: ", check=not_too_big)


def check_empty(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: expected a folder for the store, got a file")
    if root.exists() and any(p.name not in OWN_FILES for p in root.iterdir()):
        raise InputError(f"{root}: expected an empty or new folder for a store, got a non-empty one")


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store(root: Path) -> None:
    """Refuse, before anything in it is touched, a folder that is not an existing store."""
    hint = f"use `veil store init --store {root}` to create one"
    if not root.exists():
        raise InputError(f"{root}: expected a veilcv store, got no such folder; {hint}")
    if not root.is_dir():
        raise InputError(f"{root}: expected a veilcv store folder, got a file")
    path = root / CATALOG
    if not path.is_file():
        raise InputError(f"{root}: expected a veilcv store, got no {CATALOG}; {hint}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the store catalog: {exc.strerror or exc}") from None
    if head != SQLITE_MAGIC:
        got = "an empty file" if not head else "other data"
        raise InputError(f"{path}: expected a veilcv store catalog (SQLite), got {got}")
    if not _has_store_tables(path):
        raise InputError(f"{path}: expected a veilcv store catalog, got another SQLite database")


def _has_store_tables(path: Path) -> bool:
    # Opening a foreign database normally would switch it to WAL mode and leave lock files beside
    # it; an immutable read-only look changes nothing. Pending WAL content is invisible to it, so
    # with a WAL present the check is left to the normal open.
    if Path(f"{path}-wal").exists():
        return True
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return row is not None


def create(root: Path, master: MasterKey) -> bool:
    """Create the catalog and the store's secrets unless present; safe against a concurrent init."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)  # a store folder is private, whoever made it
    (root / OBJECTS).mkdir(mode=0o700, exist_ok=True)
    lock_fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        conn = catalog.connect(root / CATALOG)
        try:
            catalog.create_schema(conn)
            if catalog.get_meta(conn, "key_id") is not None:
                return False
            envelope = Envelope(master)
            with catalog.write(conn):
                catalog.set_meta(conn, "schema", catalog.SCHEMA_VERSION.encode())
                catalog.set_meta(conn, "key_id", master.key_id.encode())
                catalog.set_meta(conn, "audit_key", envelope.wrap(secrets.token_bytes(32), "audit-key"))
                catalog.set_meta(conn, "token_key", envelope.wrap(secrets.token_bytes(32), "token-key"))
            return True
        finally:
            conn.close()
    finally:
        os.close(lock_fd)  # closing the descriptor releases the lock
