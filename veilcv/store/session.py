"""A store session: its files and locks, the catalog connection, transactions and the audit trail.

:class:`~veilcv.store.objects.Store` adds the objects; this part holds what every operation
shares: one SQLite connection per thread, write transactions serialised across threads and
processes with the anchor (and the operator's head file) updated after each commit, group-committed
audit entries, role checks that audit their refusals, and the store's secrets.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from veilcv.errors import AccessDenied, InputError, StoreError
from veilcv.store import audit, catalog, layout
from veilcv.store.crypto import Envelope, MasterKey
from veilcv.store.policy import StorePolicy
from veilcv.store.roles import Op, authorize, check_key

_S = TypeVar("_S", bound="Session")


class Session:
    """Files, connection, transactions and audit of one open store (see :class:`Store`)."""

    CATALOG, ANCHOR, OBJECTS = layout.CATALOG, layout.ANCHOR, layout.OBJECTS

    def __init__(
        self,
        root: Path,
        master: MasterKey,
        policy: StorePolicy,
        *,
        clock: Callable[[], float] = time.time,
        upgrading: bool = False,
        head_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.root, self.policy, self.clock = root, policy, clock
        self.head_file = _head_file(root, head_file)
        self._envelope = Envelope(master)
        self._local = threading.local()
        self._mutex = threading.RLock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._lock_fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._session_fd = os.open(root / ".sessions", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._session_fd, fcntl.LOCK_SH)
        try:
            self._load_secrets(master)
            if not upgrading:
                self._check_schema()
        except BaseException:
            self.close()
            raise

    def _load_secrets(self, master: MasterKey) -> None:
        root, conn = self.root, self._conn()
        try:
            key_id = catalog.get_meta(conn, "key_id")
        except sqlite3.DatabaseError:
            raise StoreError(
                f"{root / self.CATALOG}: expected a veilcv store catalog, got another SQLite database"
            ) from None
        if key_id is None:
            raise StoreError(f"{root}: catalog has no key id; not a veilcv store")
        if key_id.decode() != master.key_id:
            raise StoreError(
                f"{root}: master key {master.key_id} does not open this store "
                f"(expects key {key_id.decode()}); "
                "use the key the store was created or last rotated with"
            )
        self._audit_key = self._envelope.unwrap(catalog.get_meta(conn, "audit_key") or b"", "audit-key")
        self._token_key = self._envelope.unwrap(catalog.get_meta(conn, "token_key") or b"", "token-key")

    def _check_schema(self) -> None:
        version = catalog.schema_version(self._conn())
        if version == catalog.SCHEMA_VERSION:
            return
        if version == "1":
            raise StoreError(
                f"{self.root}: expected store format {catalog.SCHEMA_VERSION}, got format 1 (catalog rows "
                f"without integrity MACs, written by an older veilcv); run `veil store migrate --store "
                f"{self.root}` once to check and upgrade it"
            )
        raise StoreError(
            f"{self.root}: expected store format {catalog.SCHEMA_VERSION}, got format {version!r}; "
            "use the veilcv version that wrote it"
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        for fd in (self._lock_fd, self._session_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._lock_fd = self._session_fd = -1

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = catalog.connect(self.root / self.CATALOG)
            self._local.conn = conn
        return conn

    # -- transactions and audit ----------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction plus the anchor update, serialised across threads and processes."""
        with self._mutex:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                conn = self._conn()
                try:
                    with catalog.write(conn):
                        yield conn
                except sqlite3.OperationalError as exc:  # disk full, I/O error, locked too long
                    raise StoreError(
                        f"{self.root / self.CATALOG}: write failed ({exc}); nothing was committed"
                    ) from None
                seq, digest = audit.head(conn)
                try:
                    audit.write_anchor(self.root / self.ANCHOR, self._audit_key, seq, digest)
                except OSError as exc:  # committed; verify reports the unanchored tail
                    raise StoreError(
                        f"{self.root / self.ANCHOR}: cannot update the audit anchor: {exc}"
                    ) from None
                if self.head_file is not None:
                    try:
                        audit.append_head(self.head_file, seq, digest)
                    except OSError as exc:
                        raise StoreError(
                            f"{self.head_file}: committed, but cannot append the audit head "
                            f"({exc.strerror or exc}); record `veil store audit head` by hand"
                        ) from None
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def record(
        self,
        action: str,
        key: str | None,
        outcome: str,
        *,
        role: str,
        actor: str,
        detail: dict[str, Any] | None = None,
    ) -> audit.Entry:
        """Append one audit entry; returns once it is committed (and anchored).

        Group commit: threads that arrive while another thread is committing queue their entries,
        and the next thread to get the lock commits the whole queue in one transaction, so a busy
        ``serve`` pays one flush per batch instead of one per request.
        """
        ticket = _Ticket(
            dict(
                actor=actor,
                role=role,
                action=action,
                key=key,
                outcome=outcome,
                detail=detail,
                now=self.clock(),
            )
        )
        with self._queue_lock:
            self._queue.append(ticket)
        with self._mutex:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    with self._tx() as conn:
                        for t in batch:
                            t.entry = audit.append(conn, self._audit_key, **t.fields)
                except BaseException as exc:
                    for t in batch:
                        t.error = exc
                    raise
                finally:
                    for t in batch:
                        t.done = True
        if ticket.error is not None:
            raise ticket.error
        assert ticket.entry is not None
        return ticket.entry

    def authorize(self, role: str, op: Op, key: str | None, *, action: str, actor: str) -> None:
        """Check the key's form and the role; a refusal is audited, then raised."""
        try:
            if key is not None:
                check_key(key, self.policy)
            authorize(role, op, key, self.policy)
        except AccessDenied as exc:
            self.record(
                action, _printable(key), "denied", role=str(role), actor=actor, detail={"reason": str(exc)}
            )
            raise

    def verify_audit(
        self, expect_head: tuple[int, str] | None = None, *, role: str = "admin", actor: str = "cli"
    ) -> audit.AuditReport:
        """Check the chain, its anchor and the head kept outside (``expect_head``, else the head file)."""
        self.authorize(role, Op.ADMIN, None, action="audit-verify", actor=actor)
        if expect_head is None and self.head_file is not None:
            expect_head = audit.read_head_file(self.head_file)
        with self._mutex:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)  # no append may land between chain and anchor reads
            try:
                return audit.verify(self._conn(), self._audit_key, self.root / self.ANCHOR, expect_head)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def audit_head(self) -> tuple[int, str]:
        return audit.head(self._conn())

    def tombstone_digest(self, kind: str, value: str) -> str:
        return hmac.new(self._audit_key, f"tombstone:{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def is_tombstoned(self, kind: str, value: str) -> bool:
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM tombstones WHERE kind = ? AND digest = ?",
                (kind, self.tombstone_digest(kind, value)),
            )
            .fetchone()
        )
        return row is not None


def _head_file(root: Path, given: str | os.PathLike[str] | None) -> Path | None:
    """The operator's audit head file (argument, else ``VEIL_AUDIT_HEAD_FILE``); never inside the store."""
    if given is None:
        given = os.environ.get(audit.HEAD_FILE_ENV) or None
    if given is None:
        return None
    path = Path(given)
    if path.resolve().is_relative_to(root.resolve()):
        raise InputError(
            f"{path}: expected the audit head file outside the store folder, got one inside it; "
            "whoever can roll the store back could roll it back too"
        )
    return path


@dataclass
class _Ticket:
    fields: dict[str, Any]
    done: bool = False
    entry: audit.Entry | None = None
    error: BaseException | None = None


def _printable(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 200 and text.isprintable() else repr(text[:200])
