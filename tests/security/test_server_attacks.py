"""The loopback server against request smuggling, odd methods and connection bursts."""

from __future__ import annotations

import select
import socket
import sys
import urllib.parse

import pytest

from veilcv.store import Store
from veilcv.store.access import sign
from veilcv.store.server import StoreServer

KEY = "redacted/a.jpg"


def _serve_log(store: Store) -> list[tuple[str, str]]:
    rows = store._conn().execute("SELECT outcome, detail FROM audit WHERE action = 'serve' ORDER BY seq")
    return [(r[0], r[1]) for r in rows]


def _exchange(server: StoreServer, raw: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def served(store: Store):
    with StoreServer(store, "127.0.0.1", 0) as server:
        yield store, server


def test_a_get_with_a_body_is_refused_and_its_body_never_runs_as_a_request(served) -> None:
    store, server = served
    writer = sign(store, "raw/b.jpg", role="writer", ttl=60, actor="t")
    inner = f"GET /o/raw/b.jpg?token={urllib.parse.quote(writer)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    outer = f"GET /o/{KEY} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(inner)}\r\n\r\n".encode() + inner
    reply = _exchange(server, outer)
    assert reply.startswith(b"HTTP/1.1 400") and reply.count(b"HTTP/1.1 ") == 1
    assert b"RAW B" not in reply
    assert _serve_log(store) == [("denied", '{"method":"GET","reason":"GET with a body"}')]


@pytest.mark.parametrize("method", ["TRACE", "BREW", "CONNECT", "PROPFIND"])
def test_unknown_methods_get_405_and_are_audited(served, method: str) -> None:
    store, server = served
    reply = _exchange(server, f"{method} /o/{KEY} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 405") and b"Allow: GET" in reply
    assert b"redacted A" not in reply
    log = _serve_log(store)
    assert len(log) == 1 and log[0][0] == "denied" and f"method {method} not allowed" in log[0][1]


@pytest.mark.skipif(sys.platform != "linux", reason="accept-queue behaviour checked on Linux")
def test_a_burst_of_connections_is_queued_not_dropped(store: Store) -> None:
    """With the stdlib's backlog of 5, connections beyond it wait for SYN retries (a second or more)."""
    server = StoreServer(store, "127.0.0.1", 0)  # not started: nothing accepts, the queue fills
    socks = []
    try:
        for _ in range(64):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", server.port))
            socks.append(s)
        pending = list(socks)
        for _ in range(20):  # the kernel completes queued handshakes at once; dropped SYNs never do here
            _, ready, _ = select.select([], pending, [], 0.05)
            pending = [s for s in pending if s not in ready]
            if not pending:
                break
        assert not pending, f"{len(pending)} of 64 connections were not queued"
    finally:
        for s in socks:
            s.close()
        server._httpd.server_close()
