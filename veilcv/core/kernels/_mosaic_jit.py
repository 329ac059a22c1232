"""The compiled code of the mosaic (rules in ``veilcv.core.kernels.mosaic``).

Run through ``veilcv.core.kernels._backend``, like ``_fill_jit``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from veilcv.core.kernels._claim import fetch_add
from veilcv.core.kernels._fill_jit import bad_boxes

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)


@njit(cache=True, nogil=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def cell_noise(seed, box, cy, cx, c, noise):
    """The offset in ``[-noise, noise]`` for one cell and channel (uint64 seed, int64 others)."""
    h = _mix(seed + _GAMMA * np.uint64(box + 1))
    h = _mix(h + _GAMMA * np.uint64(cy + 1))
    h = _mix(h + _GAMMA * np.uint64(cx + 1))
    h = _mix(h + _GAMMA * np.uint64(c + 1))
    return np.int64(h % np.uint64(2 * noise + 1)) - noise


@njit(cache=True, nogil=True)
def _band(buf, base, ch, row, x0, bw, ya, yb, k, cy, box, noise, seed, colsum, part, rowbuf):
    """Mosaic rows ``[ya, yb)`` of one region: one row of cells (cell row index ``cy``)."""
    n = bw * ch
    colsum[:n] = 0
    # Column sums first (a vectorisable add per row), then each cell sums its columns once. Up to 257
    # rows of uint8 fit a uint16 partial sum, which halves the traffic of the add.
    y = ya
    while y < yb:
        ye = min(y + 257, yb)
        part[:n] = 0
        for yy in range(y, ye):
            o = base + yy * row + x0 * ch
            src = buf[o : o + n]
            for j in range(n):
                part[j] += np.uint16(src[j])
        for j in range(n):
            colsum[j] += part[j]
        y = ye
    rows = yb - ya
    cx = 0
    for xa in range(0, bw, k):
        xb = min(xa + k, bw)
        cnt = (xb - xa) * rows
        for c in range(ch):
            s = 0
            for x in range(xa, xb):
                s += colsum[x * ch + c]
            v = (2 * s + cnt) // (2 * cnt)
            if noise > 0:
                v = min(max(v + cell_noise(seed, box, cy, cx, c, noise), 0), 255)
            for x in range(xa, xb):
                rowbuf[x * ch + c] = v
        cx += 1
    un = np.uint64(n)
    for y in range(ya, yb):
        o = np.uint64(base + y * row + x0 * ch)  # unsigned: no negative-index fix-up, so it vectorises
        for j in range(un):
            buf[o + j] = rowbuf[j]


@njit(cache=True, nogil=True)
def pixelate_kernel(buf, h, w, ch, row, frame, boxes, offsets, cells, noise, seed, t0, t1, band_lo, band_hi):
    """Frames ``[t0, t1)``; for each box in order, cell rows ``[band_lo, band_hi)``. -1: bad box."""
    if bad_boxes(boxes, offsets[t0], offsets[t1]):
        return -1
    colsum = np.empty(w * ch, np.uint32)  # k * 255 fits: k <= min(w, h) < 2**24 for any image in memory
    part = np.empty(w * ch, np.uint16)
    rowbuf = np.empty(w * ch, np.uint8)
    for t in range(t0, t1):
        base = t * frame
        for i in range(offsets[t], offsets[t + 1]):
            x0 = max(boxes[i, 0], 0)
            y0 = max(boxes[i, 1], 0)
            x1 = min(boxes[i, 2], w)
            y1 = min(boxes[i, 3], h)
            if x1 <= x0 or y1 <= y0:
                continue
            bw = x1 - x0
            bh = y1 - y0
            k = (min(bw, bh) + cells - 1) // cells
            for cy in range(max(band_lo, 0), min(band_hi, (bh + k - 1) // k)):
                ya = y0 + cy * k
                box = i - offsets[t]
                _band(
                    buf,
                    base,
                    ch,
                    row,
                    x0,
                    bw,
                    ya,
                    min(ya + k, y1),
                    k,
                    cy,
                    box,
                    noise,
                    seed,
                    colsum,
                    part,
                    rowbuf,
                )
    return 0


@njit(cache=True, nogil=True)
def pixelate_claimed(buf, h, w, ch, row, frame, boxes, offsets, cells, noise, seed, counter, count):
    """Mosaic frames claimed one at a time from ``counter`` (shared by the threads) until none is left."""
    while True:
        t = fetch_add(counter, np.int64(1))
        if t >= count:
            return
        pixelate_kernel(buf, h, w, ch, row, frame, boxes, offsets, cells, noise, seed, t, t + 1, 0, 1 << 62)
