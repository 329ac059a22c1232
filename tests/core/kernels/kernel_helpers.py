"""Shared helpers for the kernel tests (imported by name; conftest.py only holds fixtures).

The suite also runs once in a subprocess with ``NUMBA_DISABLE_JIT=1`` (test_kernel_nojit.py), where the
kernels are plain Python: there ``NOJIT`` is true and property tests use fewer examples.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings

NOJIT = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")

KERNEL_SETTINGS = settings(
    max_examples=8 if NOJIT else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)

#: Image shapes for each channel layout the kernels accept (odd sizes on purpose).
LAYOUTS = [(13, 17), (13, 17, 1), (13, 17, 3), (13, 17, 4)]


def random_image(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def edge_boxes(h: int, w: int) -> list[list[int]]:
    """Boxes touching, crossing or outside every edge, plus empty, zero-area, inverted and whole-image."""
    return [
        [0, 0, w, h],
        [-5, -5, 3, 4],
        [w - 3, h - 2, w + 7, h + 9],
        [-10, 2, 4, h + 10],
        [2, -10, w + 10, 3],
        [w - 1, 0, w, h],
        [0, h - 1, w, h],
        [w, 0, w + 5, h],
        [-8, -8, 0, 0],
        [0, h, w, h + 3],
        [3, 3, 3, 9],
        [4, 4, 9, 4],
        [9, 9, 4, 4],
        [2, 1, 8, 7],
        [5, 4, 12, 11],
        [-(2**31), -(2**31), 2**31 - 1, 2**31 - 1],
    ]
