"""The ffmpeg binary that the imageio-ffmpeg package ships: finding it, probing a file, encoding H.264.

One place for every use of the binary (video redaction, video metadata stripping).
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from veilcv.errors import RedactionError

if TYPE_CHECKING:  # the metadata checks of `veil check` import this module: no NumPy for them
    import numpy as np

_START = re.compile(rb"Stream #0:\d+[^\n]*?: Video:(?![^\n]*attached pic)[^\n]*?, start (-?\d+(?:\.\d+)?)")


def ffmpeg_exe() -> str | None:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg, or None when it is not installed."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means "no ffmpeg"
        return None


@dataclass(frozen=True)
class Probe:
    """What ffmpeg says about a media file's streams."""

    audio: bool
    video_start: float  # seconds: the first video frame's presentation time (0 when not stated)


def probe(ffmpeg: str, path: Path) -> Probe:
    """Whether ``path`` has audio and when its first video frame is shown.

    Parameters
    ----------
    ffmpeg : str
        The ffmpeg binary.
    path : Path
        The media file.

    Returns
    -------
    Probe
    """
    proc = subprocess.run(
        [ffmpeg, "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True, timeout=60
    )
    hit = _START.search(proc.stderr)
    return Probe(b"Audio:" in proc.stderr, float(hit.group(1)) if hit else 0.0)


@functools.lru_cache(maxsize=4)
def has_encoder(ffmpeg: str, name: str) -> bool:
    """Whether the ffmpeg binary was built with the encoder ``name`` (e.g. ``libx264``)."""
    proc = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True, timeout=60)
    return (
        re.search(rb"^\s*V\S*\s+" + re.escape(name.encode()) + rb"\s", proc.stdout, re.MULTILINE) is not None
    )


class H264Writer:
    """Encode BGR frames to H.264 (libx264, CRF 18) through a pipe into ``path``, at a constant rate.

    Parameters
    ----------
    ffmpeg : str
        The ffmpeg binary (it must have libx264: see :func:`has_encoder`).
    path : Path
        The output file; its suffix picks the container.
    fps : float
        Frames per second.
    width, height : int
        Frame size. Even sizes are encoded 4:2:0 (what every player decodes); odd ones 4:4:4.
    """

    def __init__(self, ffmpeg: str, path: Path, fps: float, width: int, height: int) -> None:
        rate = Fraction(fps).limit_denominator(100_000)
        pix = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"]
        cmd += ["-s", f"{width}x{height}", "-r", f"{rate.numerator}/{rate.denominator}", "-i", "-", "-an"]
        cmd += ["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", pix, "-map_metadata", "-1"]
        cmd += ["-fflags", "+bitexact", "-flags:v", "+bitexact", str(path)]
        self.path, self.shape = path, (height, width, 3)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        """Encode one ``(height, width, 3)`` uint8 BGR frame."""
        if frame.shape != self.shape or frame.dtype != "uint8":
            raise RedactionError(f"expected a {self.shape} uint8 frame, got {frame.shape} {frame.dtype}")
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(frame.tobytes())  # C order, whatever the frame's strides
        except (BrokenPipeError, OSError):
            self.release()
            raise RedactionError(f"the H.264 encoder stopped: {self._error()}") from None

    def release(self) -> None:
        """Finish the file; raises RedactionError when the encoder failed."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.wait(timeout=3600) != 0:
            raise RedactionError(f"the H.264 encoder failed: {self._error()}")

    def _error(self) -> str:
        assert self.proc.stderr is not None
        lines = self.proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self.proc.poll()}"
