"""Helpers shared by the store, ingest and telemetry tests (no fixtures here; see conftest.py)."""

from __future__ import annotations

import base64
import io
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from veilcv.core.detection.types import Detections
from veilcv.store import MasterKey, Store, from_policy

REPO = Path(__file__).resolve().parents[2]
DAY = 86400.0
POLICY = {
    "retention": {
        "prefixes": {"raw/": {"max_days": 7}, "redacted/": {"max_days": 90}, "quarantine/": {"max_days": 30}},
        "keep_raw": False,
    },
    "storage": {
        "max_signed_url_seconds": 600,
        "roles": {
            "reader": {"prefixes": ["redacted/"]},
            "writer": {"prefixes": ["raw/", "redacted/", "quarantine/"]},
            "admin": {"prefixes": ["*"]},
        },
    },
    "telemetry": {
        "allowed_fields": {"event": "string", "count": "integer", "hour": "string"},
        "forbidden": ["image_bytes", "base64", "paths", "gps", "free_text"],
        "min_aggregation_count": 3,
    },
    "licences": {
        "allowed": [],
        "denied": [],
        "denied_categories": ["non_commercial", "proprietary"],
        "required_fields": ["filename", "source", "license"],
    },
    "redaction": {"classes": ["face"], "modes": ["box"], "min_mask_scale": 1.2, "verify": True},
}


class Clock:
    """A settable clock so retention and expiry are tested without sleeping."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_key() -> MasterKey:
    return MasterKey(os.urandom(32))


def key_env(key: MasterKey) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}
    env["VEIL_MASTER_KEY"] = base64.b64encode(key.raw).decode()
    return env


def policy(**retention: object) -> dict:
    pol = {k: dict(v) for k, v in POLICY.items()}
    pol["retention"] = {**POLICY["retention"], **retention}
    return pol


def make_store(root: Path, key: MasterKey, clock: Clock | None = None, pol: dict | None = None) -> Store:
    return Store.open(root, key, from_policy(pol or POLICY), create=True, clock=clock or time.time)


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (48, 64), gps: bool = True) -> bytes:
    """A small noisy JPEG that carries EXIF (maker and GPS) like a phone photo."""
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0131] = "CameraApp 1.0"
    if gps:
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


class FixedDetector:
    """Finds one 'face' at a fixed place, like a real detector would on a fixed image."""

    info = {"name": "fixed-test-detector", "sha256": "0" * 64}
    thread_safe = True

    def __init__(self, box: tuple[int, int, int, int] = (8, 8, 24, 24), label: str = "face") -> None:
        self.box, self.label = box, label

    def detect(self, image_bgr: np.ndarray) -> Detections:
        return Detections(np.array([self.box], np.float32), np.array([0.95], np.float32), (self.label,))


class FailingDetector:
    info = {"name": "failing-test-detector"}
    thread_safe = True

    def detect(self, image_bgr: np.ndarray) -> Detections:
        raise RuntimeError("inference engine crashed")


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def audit_rows(root: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(root / "catalog.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    finally:
        conn.close()


def run_worker(module: str, args: list[str], env: dict[str, str], **kw: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO / "tests",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )
