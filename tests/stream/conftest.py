"""Synthetic streams and injected detectors for the `veil stream` tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.core.detection.types import Detections

#: Where the injected detector "finds a face" in every frame: bright texture that a leak would show.
BOX = (48, 32, 112, 96)


def make_video(path: Path, frames: int = 16, size: tuple[int, int] = (160, 128), fps: float = 8.0) -> Path:
    """An MJPEG AVI whose frames differ (a moving gradient) with a bright checkerboard in ``BOX``."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    yy, xx = np.mgrid[0:h, 0:w]
    for t in range(frames):
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 0] = (xx * 2 + t * 8) % 200
        img[..., 1] = (yy * 2 + t * 4) % 200
        img[..., 2] = 90
        x0, y0, x1, y1 = BOX
        cell = ((xx[y0:y1, x0:x1] // 8 + yy[y0:y1, x0:x1] // 8) % 2).astype(np.uint8)
        img[y0:y1, x0:x1] = (180 + 70 * cell)[..., None]
        writer.write(img)
    writer.release()
    return path


def source_frames(path: Path) -> list[np.ndarray]:
    """The frames as OpenCV decodes them (what the stream read)."""
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(frame)
    cap.release()
    return out


class BoxDetector:
    """Finds ``BOX`` in every frame; raises on call ``fail_at`` and after (a detector dying mid-stream)."""

    info = {"name": "box-detector"}

    def __init__(self, fail_at: int | None = None, box: tuple[int, int, int, int] = BOX) -> None:
        self.fail_at, self.box, self.calls = fail_at, box, 0

    def detect(self, image_bgr: np.ndarray) -> Detections:
        self.calls += 1
        if self.fail_at is not None and self.calls > self.fail_at:
            raise RuntimeError("inference device lost")
        return Detections(np.array([self.box], np.float32), np.array([0.9], np.float32), ("face",))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.avi")
