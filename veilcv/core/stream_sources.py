"""Live frame sources for `veil stream`: a camera index, a V4L2 device, an RTSP/HTTP URL or a file.

A source is read by a background thread (:class:`Grabber`) into a one-frame mailbox. A live source
(and a file played at its frame rate) overwrites a frame the redaction loop has not taken yet, so
the loop always works on the newest frame and a slow detector drops frames instead of falling
behind; an unpaced file blocks instead, so that every frame is redacted (tests, offline runs).
Frames are held in memory only: nothing raw is written anywhere.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veilcv.errors import InputError

_URL = re.compile(r"^(rtsps?|rtmp|https?|udp|tcp|srt)://", re.I)
#: Frame rate assumed where a source does not report one (cameras often report 0).
FALLBACK_FPS = 25.0


@dataclass(frozen=True)
class Frame:
    """One captured frame: its position in the source, when it was captured, and its pixels."""

    index: int
    captured: float  # time.monotonic() when the frame was read
    image: np.ndarray  # uint8 BGR, owned by the frame (redacted in place)


def source_kind(spec: str) -> str:
    """``"camera"``, ``"device"``, ``"url"`` or ``"file"`` for a SOURCE argument."""
    if spec.strip().isdigit():
        return "camera"
    if _URL.match(spec):
        return "url"
    if spec.startswith("/dev/"):
        return "device"
    return "file"


def display_name(spec: str) -> str:
    """``spec`` as messages show it: a URL without its user, password or query (a camera's token)."""
    if source_kind(spec) != "url":
        return spec
    parts = urllib.parse.urlsplit(spec)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class VideoSource:
    """A frame source opened with OpenCV's VideoCapture.

    Parameters
    ----------
    spec : str
        Camera index (``0``), V4L2 device (``/dev/video0``), URL (``rtsp://...``, ``http://...``,
        read with OpenCV's FFmpeg backend) or a video file.
    pace : bool or None
        Files only: deliver frames at the file's frame rate, as a camera would (None: files are
        paced; live sources always run at their own rate).
    """

    def __init__(self, spec: str, *, pace: bool | None = None) -> None:
        self.spec = spec
        self.name = display_name(spec)
        self.kind = source_kind(spec)
        if self.kind == "file":
            path = Path(spec)
            if not path.exists():
                raise InputError(f"{spec}: no such file, camera index, device or URL")
            if not path.is_file():
                raise InputError(f"{spec}: expected a video file, camera index, device or URL, got a folder")
        self.live = self.kind != "file"
        self.paced = self.live or pace is None or bool(pace)
        if self.kind == "camera":
            cap = cv2.VideoCapture(int(spec))
        elif self.kind == "device":
            cap = cv2.VideoCapture(spec, cv2.CAP_V4L2)
        elif self.kind == "url":
            cap = cv2.VideoCapture(spec, cv2.CAP_FFMPEG)
        else:
            cap = cv2.VideoCapture(spec)
        if not cap.isOpened():
            cap.release()
            what = {"camera": "camera", "device": "V4L2 device", "url": "stream URL", "file": "video"}[
                self.kind
            ]
            raise InputError(f"{self.name}: expected a {what} OpenCV can open, got one it cannot open")
        self._cap: Any = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if np.isfinite(fps) and 0 < fps <= 1000 else FALLBACK_FPS

    def read(self) -> np.ndarray | None:
        """The next frame as contiguous BGR uint8, or None at the end of the source."""
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        return np.ascontiguousarray(frame)

    def close(self) -> None:
        self._cap.release()


class Grabber:
    """Reads ``source`` in a thread; :meth:`get` hands the redaction loop one frame at a time.

    ``on_overrun(frame)`` is called for each frame replaced before the loop took it (paced and live
    sources); such a frame is dropped, never passed on.
    """

    _END = object()

    def __init__(
        self,
        source: VideoSource,
        *,
        on_overrun: Callable[[Frame], None] | None = None,
        max_frames: int | None = None,
    ) -> None:
        self.source = source
        self.on_overrun = on_overrun
        self.max_frames = max_frames
        self.error: str | None = None
        self._slot: Any = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="veil-stream-grab", daemon=True)

    def start(self) -> Grabber:
        self._thread.start()
        return self

    def _put(self, item: Any) -> None:
        with self._cond:
            if not self.source.paced:  # every frame: wait for the loop to take the last one
                while self._slot is not None and not self._stop:
                    self._cond.wait(0.5)
            elif isinstance(self._slot, Frame) and self.on_overrun is not None:
                self.on_overrun(self._slot)
            if item is Grabber._END or not self._stop:
                self._slot = item
            self._cond.notify_all()

    def _run(self) -> None:
        start = time.monotonic()
        index = 0
        try:
            while not self._stop and (self.max_frames is None or index < self.max_frames):
                if self.source.paced and not self.source.live:
                    # a file played as a camera: frame i is due i/fps after the first
                    delay = start + index / self.source.fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                image = self.source.read()
                if image is None:
                    if self.source.live and not self._stop:  # a camera has no end: a supervisor restarts us
                        self.error = f"{self.source.name}: the source stopped delivering frames after {index}"
                    break
                self._put(Frame(index, time.monotonic(), image))
                index += 1
        except Exception as exc:  # noqa: BLE001 - reported by the loop as the source's failure
            self.error = f"{self.source.name}: cannot read a frame: {type(exc).__name__}: {exc}"
        finally:
            self._put(Grabber._END)

    def get(self, stop: threading.Event | None = None) -> Frame | None:
        """The next frame to redact, or None when the source has ended, :meth:`stop` was called or
        ``stop`` is set (checked while waiting, so a stalled source does not hold a stop up)."""
        with self._cond:
            while self._slot is None:
                if stop is not None and stop.is_set():
                    return None
                self._cond.wait(0.1 if stop is not None else 0.5)
            item, self._slot = self._slot, None
            if item is Grabber._END:
                self._slot = Grabber._END  # later calls see the end too
            self._cond.notify_all()
        return item if isinstance(item, Frame) else None

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
