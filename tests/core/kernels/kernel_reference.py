"""Naive NumPy references for the redaction kernels: one pixel or one cell at a time, Python integers
for anything that could overflow. Slow and obviously right; the kernels must match them bit for bit."""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def clip(box, h: int, w: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in box)
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def as3(img: np.ndarray) -> np.ndarray:
    return img[:, :, None] if img.ndim == 2 else img


def in_ellipse(x: int, y: int, box) -> bool:
    """The documented pixel-centre test, in exact Python integers."""
    x0, y0, x1, y1 = (int(v) for v in box)
    a, b = x1 - x0, y1 - y0
    cx, cy = 2 * x + 1 - (x0 + x1), 2 * y + 1 - (y0 + y1)
    return cx * cx * b * b + cy * cy * a * a <= a * a * b * b


def black_box(img: np.ndarray, boxes, color=0, shape: str = "rect") -> np.ndarray:
    out = img.copy()
    o3 = as3(out)
    h, w, ch = o3.shape
    col = np.broadcast_to(np.asarray(color, np.uint8), (ch,))
    for box in boxes:
        x0, y0, x1, y1 = (int(v) for v in box)
        if x1 <= x0 or y1 <= y0:
            continue
        cx0, cy0, cx1, cy1 = clip(box, h, w)
        for y in range(cy0, cy1):
            for x in range(cx0, cx1):
                if shape == "rect" or in_ellipse(x, y, box):
                    o3[y, x, :] = col
    return out


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def cell_noise(seed: int, box: int, cy: int, cx: int, c: int, noise: int) -> int:
    h = seed
    for v in (box, cy, cx, c):
        h = _mix((h + GAMMA * (v + 1)) & MASK)
    return h % (2 * noise + 1) - noise


def pixelate(img: np.ndarray, boxes, cells: int = 8, noise: int = 0, seed: int = 0) -> np.ndarray:
    out = img.copy()
    o3 = as3(out)
    h, w, ch = o3.shape
    for i, box in enumerate(boxes):
        x0, y0, x1, y1 = clip(box, h, w)
        if x1 <= x0 or y1 <= y0:
            continue
        k = -(-min(x1 - x0, y1 - y0) // cells)
        for cy, ya in enumerate(range(y0, y1, k)):
            for cx, xa in enumerate(range(x0, x1, k)):
                cell = o3[ya : min(ya + k, y1), xa : min(xa + k, x1)]
                n = cell.shape[0] * cell.shape[1]
                for c in range(ch):
                    s = int(cell[:, :, c].astype(np.int64).sum())
                    v = (2 * s + n) // (2 * n)
                    if noise:
                        v = min(max(v + cell_noise(seed, i, cy, cx, c, noise), 0), 255)
                    cell[:, :, c] = v
    return out
