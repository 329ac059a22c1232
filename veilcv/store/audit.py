"""Append-only, hash-chained audit log with a signed head anchor.

Each entry carries the previous entry's hash, and its own hash is an HMAC-SHA256, under the
store's audit key, of its fields and that previous hash. The audit key is random, kept in the
catalog wrapped by the master key, so nobody without the master key can recompute the chain:

* an **edit** of any entry changes its hash (and breaks every later link);
* a **deletion** leaves a gap in the sequence numbers or a broken link;
* a **truncation** of the tail is invisible to a chain alone, so after every committed append the
  store writes an anchor file (``audit.anchor``, outside the database) holding the head's
  sequence number and hash, MACed with the audit key. A log shorter than its anchor, or whose
  entry at the anchored position differs, fails verification.

The anchor is written after the commit, so a crash between the two leaves entries beyond the
anchor: they are genuine (their MACs verify) and are reported as an unanchored tail, not as
tampering; the next append re-anchors them. What no local check can catch is a rollback of both
the database and the anchor to an older genuine state (someone with write access to the folder
saves both, acts, and puts them back). Against that the head must live where that person cannot
write: with ``VEIL_AUDIT_HEAD_FILE`` set, the store appends ``SEQ:HASH`` to that file after every
committed write (:func:`append_head`; point it at an append-only or remote-synced file), and
verification compares the log with the file's last line; or record ``veil store audit head``
elsewhere (a ticket, a CI log) and pass it back as ``--expect-head SEQ:HASH``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veilcv.errors import InputError

GENESIS = "0" * 64
ANCHOR_BYTES = 256


@dataclass(frozen=True)
class Entry:
    seq: int
    ts: float
    actor: str
    role: str
    action: str
    key: str | None
    outcome: str
    detail: dict[str, Any]
    prev: str
    hash: str


@dataclass
class AuditReport:
    """Result of :func:`verify`; ``ok`` is false when any problem was found."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    anchored_seq: int = 0
    unanchored: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def entry_hash(
    audit_key: bytes,
    seq: int,
    ts: float,
    actor: str,
    role: str,
    action: str,
    key: str | None,
    outcome: str,
    detail_json: str,
    prev: str,
) -> str:
    body = _canonical([seq, ts, actor, role, action, key, outcome, detail_json, prev])
    return hmac.new(audit_key, body.encode(), hashlib.sha256).hexdigest()


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append(
    conn: sqlite3.Connection,
    audit_key: bytes,
    *,
    actor: str,
    role: str,
    action: str,
    key: str | None,
    outcome: str,
    detail: dict[str, Any] | None = None,
    now: float | None = None,
) -> Entry:
    """Add one entry; call inside a write transaction so the sequence cannot race."""
    seq, prev = head(conn)
    seq += 1
    ts = time.time() if now is None else float(now)
    detail_json = _canonical(detail or {})
    digest = entry_hash(audit_key, seq, ts, actor, role, action, key, outcome, detail_json, prev)
    conn.execute(
        "INSERT INTO audit(seq, ts, actor, role, action, key, outcome, detail, prev, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, ts, actor, role, action, key, outcome, detail_json, prev, digest),
    )
    return Entry(seq, ts, actor, role, action, key, outcome, detail or {}, prev, digest)


def _anchor_mac(audit_key: bytes, seq: int, digest: str) -> str:
    return hmac.new(audit_key, f"veilcv-audit-anchor:{seq}:{digest}".encode(), hashlib.sha256).hexdigest()


def write_anchor(path: Path, audit_key: bytes, seq: int, digest: str) -> None:
    """Overwrite the anchor in place: one fixed-size record at offset 0, then ``fdatasync``.

    In place rather than temp file + rename because it runs after every audited operation and
    costs one flush instead of three; a record this small lies in one disk sector, and a
    ``kill -9`` cannot split a ``pwrite``.
    """
    payload = {"seq": seq, "hash": digest, "mac": _anchor_mac(audit_key, seq, digest)}
    record = _canonical(payload).encode().ljust(ANCHOR_BYTES - 1) + b"\n"
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, record, 0)
        os.ftruncate(fd, ANCHOR_BYTES)
        os.fdatasync(fd)
    finally:
        os.close(fd)
    if created:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def read_anchor(path: Path, audit_key: bytes) -> tuple[int, str] | str:
    """The anchored ``(seq, hash)``, or a problem description."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seq, digest, mac = int(data["seq"]), str(data["hash"]), str(data["mac"])
    except FileNotFoundError:
        return "audit anchor is missing (log or anchor deleted)"
    except (OSError, ValueError, KeyError, TypeError):
        return "audit anchor is unreadable (edited or corrupt)"
    if not hmac.compare_digest(mac, _anchor_mac(audit_key, seq, digest)):
        return "audit anchor signature does not verify (anchor edited or forged)"
    return seq, digest


HEAD_FILE_ENV = "VEIL_AUDIT_HEAD_FILE"
_HEAD_TAIL_BYTES = 4096


def append_head(path: Path, seq: int, digest: str) -> None:
    """Append ``SEQ:HASH`` to the operator's head file and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
    try:
        os.write(fd, f"{seq}:{digest}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_head_file(path: Path) -> tuple[int, str]:
    """The last ``SEQ:HASH`` line of a head file (as :func:`append_head` or ``audit head`` write it)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _HEAD_TAIL_BYTES))
            tail = fh.read()
    except FileNotFoundError:
        raise InputError(f"{path}: expected the audit head file, got nothing there") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the audit head file: {exc.strerror or exc}") from None
    lines = [ln for ln in tail.decode("ascii", "replace").splitlines() if ln.strip()]
    if not lines:
        raise InputError(f"{path}: expected SEQ:HASH lines in the audit head file, got an empty file")
    try:
        return parse_head(lines[-1].strip())
    except InputError:
        raise InputError(
            f"{path}: expected SEQ:HASH as the last line of the audit head file, got other text"
        ) from None


def parse_head(text: str) -> tuple[int, str]:
    """Parse ``SEQ:HASH`` as printed by ``veil store audit head``."""
    seq_text, _, digest = text.partition(":")
    if not seq_text.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(f"--expect-head: expected SEQ:HASH (e.g. 42:{'ab' * 32}), got {text!r}")
    return int(seq_text), digest


def verify(
    conn: sqlite3.Connection, audit_key: bytes, anchor_path: Path, expect_head: tuple[int, str] | None = None
) -> AuditReport:
    """Recompute the whole chain and compare it with the anchor (and an externally kept head)."""
    report = AuditReport()
    want_seq = expect_head[0] if expect_head is not None else None
    hash_at_want: str | None = None
    prev, expected_seq = GENESIS, 1
    rows = conn.execute(
        "SELECT seq, ts, actor, role, action, key, outcome, detail, prev, hash FROM audit ORDER BY seq"
    )
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            report.problems.append(f"audit entries {expected_seq}..{seq - 1} are missing (deleted)")
        if row["prev"] != prev:
            report.problems.append(f"audit entry {seq}: link to the previous entry is broken")
        recomputed = entry_hash(
            audit_key,
            seq,
            row["ts"],
            row["actor"],
            row["role"],
            row["action"],
            row["key"],
            row["outcome"],
            row["detail"],
            row["prev"],
        )
        if not hmac.compare_digest(recomputed, str(row["hash"])):
            report.problems.append(f"audit entry {seq}: content does not match its hash (edited)")
        prev, expected_seq = str(row["hash"]), seq + 1
        report.entries += 1
        report.head_seq, report.head_hash = seq, prev
        if seq == want_seq:
            hash_at_want = prev
        if len(report.problems) > 50:
            report.problems.append("too many problems; stopped")
            return report
    anchor = read_anchor(anchor_path, audit_key)
    if isinstance(anchor, str):
        report.problems.append(anchor)
    else:
        a_seq, a_hash = anchor
        report.anchored_seq = a_seq
        stored = conn.execute("SELECT hash FROM audit WHERE seq = ?", (a_seq,)).fetchone()
        if a_seq > report.head_seq:
            report.problems.append(
                f"audit log truncated: the anchor records {a_seq} entries, the log ends at {report.head_seq}"
            )
        elif a_seq and (stored is None or stored[0] != a_hash):
            report.problems.append(f"audit entry {a_seq} differs from the anchored head (rewritten log)")
        report.unanchored = max(0, report.head_seq - a_seq)
    if expect_head is not None:
        e_seq, e_hash = expect_head
        if e_seq > report.head_seq:
            report.problems.append(
                f"audit log is shorter than the recorded head {e_seq} (truncated or rolled back)"
            )
        elif hash_at_want != e_hash:
            report.problems.append(
                f"audit entry {e_seq} differs from the recorded head (rewritten or rolled back)"
            )
    return report


def entries(conn: sqlite3.Connection, *, limit: int = 100, action: str | None = None) -> list[Entry]:
    """The most recent ``limit`` entries (optionally of one action), oldest first."""
    sql = "SELECT * FROM audit" + (" WHERE action = ?" if action else "") + " ORDER BY seq DESC LIMIT ?"
    params: tuple[Any, ...] = (action, limit) if action else (limit,)
    out = [
        Entry(
            int(r["seq"]),
            r["ts"],
            r["actor"],
            r["role"],
            r["action"],
            r["key"],
            r["outcome"],
            json.loads(r["detail"]),
            r["prev"],
            r["hash"],
        )
        for r in conn.execute(sql, params)
    ]
    return out[::-1]
