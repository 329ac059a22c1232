"""Fuzzing the HEIF and MP4 walkers directly: only the project's own errors escape; what parses strips clean.

Mutated phone-like HEIC and MP4 files (byte flips, cuts, spliced copies of their own boxes, random
tails) must parse or raise ``Malformed``/``Unsupported``; a ``struct.error`` or ``IndexError``
escaping is a bug even though the API's catch-all would turn it into "cannot verify". A HEIF that
parses must strip into a file the checker calls clean, or fail with a ``VeilcvError``.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.metadata import heif_builders as hb
from veilcv.core.ffmpeg import ffmpeg_exe
from veilcv.core.metadata import check_bytes, heif, mp4
from veilcv.errors import UnsupportedFormatError, VeilcvError

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.lru_cache(maxsize=1)
def heic_seed() -> bytes:
    return hb.phone_heic(free=b"free space")[0]


@functools.lru_cache(maxsize=1)
def mp4_seed() -> bytes:
    ff = ffmpeg_exe()
    if ff is None:
        pytest.skip("the imageio-ffmpeg binary is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "seed.mov"
        cmd = [ff, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=5", "-f", "lavfi"]
        cmd += ["-i", "sine=sample_rate=8000", "-t", "0.6", "-c:v", "libx264", "-c:a", "aac"]
        cmd += ["-metadata", "location=+47.1234+008.5310/", "-movflags", "use_metadata_tags", str(out)]
        subprocess.run(cmd, check=True, capture_output=True)
        return out.read_bytes()


def mutate(draw: st.DrawFn, seed: bytes) -> bytes:
    raw = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "tail", "zero-run"]))
        pos = draw(st.integers(0, len(raw) - 1)) if raw else 0
        if kind == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[pos : pos + draw(st.integers(1, 64))]
        elif kind == "splice":
            start = draw(st.integers(0, max(0, len(raw) - 1)))
            raw[pos:pos] = raw[start : start + draw(st.integers(1, 48))]
        elif kind == "tail":
            raw += draw(st.binary(min_size=1, max_size=64))
        else:
            raw[pos : pos + 16] = bytes(min(16, len(raw) - pos))
    return bytes(raw)


@FUZZ
@given(st.data())
def test_heif_walker_raises_only_its_own_errors(data: st.DataObject) -> None:
    mutated = mutate(data.draw, heic_seed())
    try:
        parsed = heif.parse(mutated)
    except UnsupportedFormatError:
        return
    try:
        out = heif.build(parsed, frozenset())
    except VeilcvError:
        return
    assert check_bytes(out).clean


@FUZZ
@given(st.data())
def test_mp4_walker_raises_only_its_own_errors(data: st.DataObject) -> None:
    mutated = mutate(data.draw, mp4_seed())
    try:
        mp4.parse(mutated)
    except UnsupportedFormatError:
        return
