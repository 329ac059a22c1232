"""Where `veil stream` sends redacted frames and released events.

Frame sinks receive encoded, already redacted JPEG frames only (:class:`FrameSink`): a folder of
JPEG files written atomically, MJPEG (concatenated JPEG frames) on a binary stream such as stdout,
or an HTTP(S) endpoint that each frame is POSTed to. Event sinks receive the events the telemetry
gate released: appended to a JSON-lines file, or POSTed as JSON.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import IO, Any, Protocol

from veilcv.errors import InputError, VeilcvError

HTTP_TIMEOUT_S = 10.0


class SinkError(VeilcvError):
    """A sink could not take a frame or an event (the frame is dropped and counted)."""


class FrameSink(Protocol):
    def write(self, index: int, jpeg: bytes) -> None: ...

    def close(self) -> None: ...


class DirSink:
    """Writes ``frame-NNNNNNNN.jpg`` (the source's frame index) into ``folder``, each atomically.

    ``keep``: how many of the newest frames to keep (0: all); older ones are removed as new ones
    land, so a long-running stream does not fill the disk.
    """

    def __init__(self, folder: str | os.PathLike[str], *, keep: int = 0) -> None:
        self.folder = Path(folder)
        if keep < 0:
            raise InputError(f"--keep: expected 0 (all) or more frames, got {keep}")
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: expected a folder for the frames, got a file")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"{self.folder}: cannot create the frame folder: {exc.strerror or exc}"
            ) from None
        self.keep = keep
        self._written: collections.deque[Path] = collections.deque()

    def write(self, index: int, jpeg: bytes) -> None:
        dest = self.folder / f"frame-{index:08d}.jpg"
        tmp = self.folder / f".{dest.name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(jpeg)
            os.replace(tmp, dest)  # readers see a whole frame or none
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise SinkError(f"{dest}: cannot write: {exc.strerror or exc}") from None
        self._written.append(dest)
        while self.keep and len(self._written) > self.keep:
            with contextlib.suppress(OSError):
                self._written.popleft().unlink()

    def close(self) -> None:
        pass


class StreamSink:
    """MJPEG on a binary stream (stdout by default): each frame's JPEG bytes, one after another."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def write(self, index: int, jpeg: bytes) -> None:
        try:
            self.stream.write(jpeg)
            self.stream.flush()
        except BrokenPipeError:
            raise  # the reader went away: the stream ends
        except OSError as exc:
            raise SinkError(f"stdout: cannot write a frame: {exc.strerror or exc}") from None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.flush()


class _Poster:
    """POSTs bodies to one URL over a kept-alive connection, reconnecting after a failure."""

    def __init__(self, url: str, what: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"{what}: expected an http:// or https:// URL, got {url!r}")
        self.url, self.parts = url, parts
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.parts.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.parts.hostname or "", self.parts.port, timeout=HTTP_TIMEOUT_S)
        return self._conn

    def post(self, body: bytes, headers: dict[str, str]) -> None:
        conn = self._connection()
        try:
            conn.request("POST", self.path, body=body, headers={**headers, "Content-Length": str(len(body))})
            resp = conn.getresponse()
            resp.read()
            if resp.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise SinkError(f"{self.redacted_url}: cannot POST: {type(exc).__name__}: {exc}") from None
        if not 200 <= resp.status < 300:
            raise SinkError(f"{self.redacted_url}: POST answered {resp.status} {resp.reason}")

    @property
    def redacted_url(self) -> str:
        """The URL without credentials or query (which may hold a token), for messages."""
        p = self.parts
        host = p.hostname or ""
        return f"{p.scheme}://{host}{f':{p.port}' if p.port else ''}{p.path}"

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class HttpSink:
    """POSTs each frame as ``image/jpeg`` with its index in the ``X-Veil-Frame`` header."""

    def __init__(self, url: str) -> None:
        self._poster = _Poster(url, "--sink")

    def write(self, index: int, jpeg: bytes) -> None:
        self._poster.post(jpeg, {"Content-Type": "image/jpeg", "X-Veil-Frame": str(index)})

    def close(self) -> None:
        self._poster.close()


def open_frame_sink(target: str, *, keep: int = 0) -> FrameSink:
    """``-``: MJPEG on stdout; an http(s):// URL: POST per frame; anything else: a folder."""
    if target == "-":
        return StreamSink()
    if target.lower().startswith(("http://", "https://")):
        return HttpSink(target)
    if "://" in target:
        raise InputError(f"--sink: expected a folder, - or an http(s):// URL, got {target!r}")
    return DirSink(target, keep=keep)


class JsonlEvents:
    """Appends each released event to a JSON-lines file as one line, flushed as it is written."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: expected a file for the events, got a folder")
        try:
            self._fh: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open
        except OSError as exc:
            raise InputError(f"{self.path}: cannot open for the events: {exc.strerror or exc}") from None

    def __call__(self, event: dict[str, Any]) -> None:
        if self._fh is None:
            raise SinkError(f"{self.path}: closed")
        try:
            self._fh.write(json.dumps(event, sort_keys=True) + "\n")  # one write: a whole line or none
            self._fh.flush()
        except OSError as exc:
            raise SinkError(f"{self.path}: cannot write an event: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None


class HttpEvents:
    """POSTs each released event as ``application/json``."""

    def __init__(self, url: str) -> None:
        self._poster = _Poster(url, "--events")

    def __call__(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, sort_keys=True).encode("utf-8")
        self._poster.post(body, {"Content-Type": "application/json"})

    def close(self) -> None:
        self._poster.close()


def open_event_sink(target: str) -> JsonlEvents | HttpEvents:
    """An http(s):// URL: POST per event; anything else: a JSON-lines file appended to."""
    if target.lower().startswith(("http://", "https://")):
        return HttpEvents(target)
    return JsonlEvents(target)
