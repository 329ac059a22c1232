"""What binds a catalog row to its object: encryption labels and a MAC over every column.

Anyone who can write the store folder can edit ``catalog.sqlite`` without the master key. Three
things make such edits fail instead of misleading the store:

* the blob's AEAD associated data names its blob id **and object key**, so a blob (with its
  wrapped key) moved onto another key's row does not decrypt;
* the data key's wrap names the blob id, object key, **subject, creation time and retention**, so a
  row whose subject or dates were edited (to escape a deletion request or a purge) does not open;
* each row carries an HMAC-SHA256 of all its columns under a key derived from the master key
  (:func:`veilcv.store.crypto.derive_key`), checked on every read, listing, purge and subject
  request and by ``veil store fsck``, so an edit is caught even where nothing is decrypted.

What a MAC cannot catch is a whole genuine row put back after it was changed legitimately (an
older copy of the same row); the audit log records every such change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

COLUMNS = (
    "key",
    "prefix",
    "blob",
    "wrapped_key",
    "size",
    "sha256",
    "created",
    "subject",
    "source_sha256",
    "licence",
    "retention_days",
)


def blob_label(blob: str, key: str) -> str:
    """The blob's AEAD associated data: its id and the object key it belongs to."""
    return _canonical(["blob", blob, key])


def wrap_label(blob: str, key: str, subject: str | None, created: float, retention_days: int | None) -> str:
    """What a data key's wrap is bound to: object identity plus the fields deletion depends on."""
    days = None if retention_days is None else int(retention_days)
    return _canonical(["object", blob, key, subject, repr(float(created)), days])


def row_wrap_label(row: Mapping[str, Any]) -> str:
    return wrap_label(row["blob"], row["key"], row["subject"], row["created"], row["retention_days"])


def version(blob: str) -> str:
    """A public tag of one stored version of an object (its blob id changes on every put)."""
    return hashlib.sha256(f"veilcv-object-version:{blob}".encode()).hexdigest()[:16]


def row_mac(row_key: bytes, row: Mapping[str, Any]) -> str:
    """HMAC-SHA256 over every column of an objects row (``mac`` itself excluded)."""
    values = [_plain(float(row[c]) if c == "created" else row[c]) for c in COLUMNS]
    return hmac.new(row_key, _canonical(["veilcv-row", *values]).encode(), hashlib.sha256).hexdigest()


def row_ok(row_key: bytes, row: sqlite3.Row | Mapping[str, Any]) -> bool:
    given = row["mac"]
    return isinstance(given, str) and hmac.compare_digest(given, row_mac(row_key, row))


def _plain(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)  # exact, and never confused with an integer column
    return value


def _canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
