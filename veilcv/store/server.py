"""`veil store serve`: a loopback-only HTTP server for signed, expiring GETs.

``GET /o/<key>?token=<token>`` (or ``Authorization: Bearer <token>``) returns the decrypted
object when the token is valid for that key and method, unexpired, and its role may still read
the key under the current policy. Everything else gets a bare status (403 for any refused
access, so the response does not tell a prober which check failed; 405 for every other method,
unknown ones and TRACE included; 400 for malformed requests and for a GET that carries a body,
which would otherwise be read as a second, smuggled request) and every request, allowed or
refused, is written to the audit log with its reason. Only loopback addresses can be bound:
putting the store on a network is a deployment decision (a reverse proxy with TLS), not a flag.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from veilcv.errors import AccessDenied, InputError, StoreError
from veilcv.store.access import redeem
from veilcv.store.objects import Store, _printable

ROUTE = "/o/"
MAX_PATH = 2048
LISTEN_BACKLOG = 128  # the stdlib's 5 makes a burst of clients wait for SYN retries (seconds)

#: How a refusal message starts (or, for the store's "object KEY: reason" refusals, ends) -> the
#: fixed reason a metric counts it under; never the key or token, so a prober cannot grow the
#: metric's label set. The first match wins.
REFUSAL_STARTS = (
    ("token refused: malformed", "malformed_token"),
    ("token refused: bad signature", "bad_signature"),
    ("token refused: lifetime", "lifetime_over_policy"),
    ("token refused: expired", "expired"),
    ("token refused: issued in the future", "issued_in_future"),
    ("token refused: issued for another key", "wrong_key"),
    ("token refused: issued for", "wrong_method"),
    ("token refused: the object was deleted or replaced", "object_replaced"),
    ("object key", "bad_key"),
    ("role ", "role"),
)
REFUSAL_ENDS = (
    ("past its retention period (purge pending)", "past_retention"),
    ("no such object", "no_such_object"),
    ("run `veil store fsck`", "integrity"),
)


def refusal_reason(message: str) -> str:
    """The metric reason of a refusal message (``other`` when none matches)."""
    for start, reason in REFUSAL_STARTS:
        if message.startswith(start):
            return reason
    return next((reason for end, reason in REFUSAL_ENDS if message.endswith(end)), "other")


class ServerMetrics(Protocol):
    """What the server reports to (``veilcv.telemetry.metrics.StoreMetrics``)."""

    def on_refused(self, reason: str) -> None: ...

    def on_served(self) -> None: ...


def check_loopback(host: str) -> str:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise InputError(f"--host: expected a loopback IP address (127.0.0.1 or ::1), got {host!r}") from None
    if not addr.is_loopback:
        raise InputError(
            f"--host: expected a loopback address, got {host}; put a TLS proxy in front to publish it"
        )
    return host


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10  # a stalled client holds a thread for at most this long

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # every request goes to the audit log instead of stderr

    def _reply(self, status: HTTPStatus, body: bytes = b"", ctype: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _count(self, reason: str | None) -> None:
        metrics = self.server.metrics
        if metrics is None:
            return
        if reason is None:
            metrics.on_served()
        else:
            metrics.on_refused(reason)

    def _deny(self, reason: str, counter: str) -> None:
        """Audit a request refused before any token was looked at, and count it by ``counter``."""
        self.server.store.record(
            "serve",
            None,
            "denied",
            role="token",
            actor="http",
            detail={"reason": reason, "method": _printable(self.command)},
        )
        self._count(counter)

    def _refuse_method(self) -> None:
        self._deny(f"method {_printable(self.command)} not allowed", "method_not_allowed")
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        # The stdlib answers a method without a do_<METHOD> with its own unaudited 501 page.
        if name.startswith("do_"):
            return self._refuse_method
        raise AttributeError(name)

    def _has_body(self) -> bool:
        length = self.headers.get("Content-Length")
        return self.headers.get("Transfer-Encoding") is not None or (
            length is not None and length.strip() not in ("", "0")
        )

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        store = self.server.store
        if self._has_body():
            self._deny("GET with a body", "get_with_body")
            self.close_connection = True  # the body is never read, so nothing after it is either
            self._reply(HTTPStatus.BAD_REQUEST, b"bad request\n")
            return
        try:
            split = urllib.parse.urlsplit(self.path)
            if len(self.path) > MAX_PATH or not split.path.startswith(ROUTE):
                raise ValueError("path outside the object route")
            key = urllib.parse.unquote(split.path[len(ROUTE) :], errors="strict")
            query = urllib.parse.parse_qs(split.query, max_num_fields=4)
        except ValueError:  # UnicodeDecodeError included
            self._deny("malformed request path", "malformed_path")
            self._reply(HTTPStatus.BAD_REQUEST, b"bad request\n")
            return
        token = (query.get("token") or [""])[0]
        auth = self.headers.get("Authorization", "")
        if not token and auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        try:
            data = redeem(store, token, key, method="GET")
        except (AccessDenied, StoreError) as exc:
            self._count("missing_token" if not token else refusal_reason(str(exc)))
            self._reply(HTTPStatus.FORBIDDEN, b"forbidden\n")
            return
        except Exception:  # fail closed: no bytes, no traceback on the console
            self._count("internal_error")
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")
            return
        self._count(None)
        self._reply(HTTPStatus.OK, data, "application/octet-stream")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR: a restarted server can bind while the last connections sit in TIME_WAIT (about a
    # minute otherwise). On POSIX it never lets a second server onto a port that is listening; on
    # Windows it would, so it stays off there.
    allow_reuse_address = os.name != "nt"
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, addr: tuple[str, int], store: Store, metrics: ServerMetrics | None = None) -> None:
        self.store = store
        self.metrics = metrics
        if ":" in addr[0]:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__(addr, _Handler)


def base_url(host: str, port: int) -> str:
    """``http://127.0.0.1:8731`` (an IPv6 host in brackets)."""
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def object_url(base: str, key: str, token: str) -> str:
    """The URL that redeems ``token`` for ``key`` on the server at ``base``."""
    return f"{base}{ROUTE}{urllib.parse.quote(key)}?token={urllib.parse.quote(token)}"


class StoreServer:
    """Run the server in a background thread (tests, benchmarks) or in the foreground (CLI).

    ``metrics`` (optional) counts each refusal by :func:`refusal_reason` and each object served.
    """

    def __init__(
        self, store: Store, host: str = "127.0.0.1", port: int = 0, metrics: ServerMetrics | None = None
    ) -> None:
        if not 0 <= port <= 65535:
            raise InputError(f"--port: expected 0-65535, got {port}")
        try:
            self._httpd = _Server((check_loopback(host), port), store, metrics)
        except OSError as exc:
            raise StoreError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return base_url(self._httpd.server_address[0], self.port)

    def object_url(self, key: str, token: str) -> str:
        return object_url(self.url, key, token)

    def start(self) -> StoreServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StoreServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
