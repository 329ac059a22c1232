"""The compiled code of the solid fills (rules in ``veilcv.core.kernels.fill``).

Run through ``veilcv.core.kernels._backend``: the same functions are compiled ahead of time where a C
compiler is available (``_aot``), and by Numba's JIT otherwise and for the threaded batch paths.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from veilcv.core.kernels._claim import fetch_add
from veilcv.core.kernels._validate import INT32_MAX, INT32_MIN

_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_SMALL = np.uint64(1 << 31)


@njit(cache=True, nogil=True)
def bad_boxes(boxes, b0, b1):
    """Whether any coordinate of ``boxes[b0:b1]`` is outside int32 (the kernels then write nothing)."""
    for i in range(b0, b1):
        for j in range(4):
            if boxes[i, j] < INT32_MIN or boxes[i, j] > INT32_MAX:
                return True
    return False


@njit(cache=True, nogil=True)
def _mul128(a, b):
    """Exact ``a * b`` of two uint64 as ``(high, low)`` uint64 words."""
    al = a & _LOW32
    ah = a >> _S32
    bl = b & _LOW32
    bh = b >> _S32
    p0 = al * bl
    p1 = al * bh
    p2 = ah * bl
    mid = (p0 >> _S32) + (p1 & _LOW32) + (p2 & _LOW32)
    return ah * bh + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32), (p0 & _LOW32) | (mid << _S32)


@njit(cache=True, nogil=True)
def _inside(x, sx, a, b, d):
    """Whether column ``x`` passes the pixel-centre test on a row with ``d = B**2 - Y**2``."""
    ax = abs(2 * x + 1 - sx)
    if a * b < _SMALL:  # every product below fits in 63 bits: the common, fast case
        return ax * ax * np.int64(b) * np.int64(b) <= np.int64(a) * np.int64(a) * np.int64(d)
    xb = np.uint64(ax) * b
    h1, l1 = _mul128(xb, xb)
    h2, l2 = _mul128(a * a, d)
    return h1 < h2 or (h1 == h2 and l1 <= l2)


@njit(cache=True, nogil=True)
def _span(x0, x1, y0, y1, y):
    """``[xl, xr)`` of the ellipse pixels on row ``y`` (``xl >= xr`` when the row has none)."""
    a = np.uint64(x1 - x0)
    b = np.uint64(y1 - y0)
    ay = abs(2 * y + 1 - (y0 + y1))
    d = (b - np.uint64(ay)) * (b + np.uint64(ay))
    sx = x0 + x1
    # A float estimate of the leftmost column, then the exact test moves it to the true boundary.
    half = float(a) * np.sqrt(float(d)) / float(b)
    xc = (sx - 1) // 2
    xl = int(np.ceil((sx - 1 - half) / 2.0))
    xl = min(max(xl, x0), xc)
    while xl > x0 and _inside(xl - 1, sx, a, b, d):
        xl -= 1
    while xl <= xc and not _inside(xl, sx, a, b, d):
        xl += 1
    if xl > xc:
        return 0, 0
    return xl, sx - xl


@njit(cache=True, nogil=True)
def _fill_frame(buf, base, h, w, ch, row, boxes, b0, b1, color, pattern, ellipse):
    uniform = pattern.shape[0] == 0
    v = color[0]
    for i in range(b0, b1):
        bx0, by0, bx1, by1 = boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3]
        if bx1 <= bx0 or by1 <= by0:
            continue
        ya = max(by0, 0)
        yb = min(by1, h)
        if uniform and not ellipse and bx0 <= 0 and bx1 >= w and row == w * ch:
            buf[base + ya * row : base + max(ya, yb) * row] = v  # whole rows, adjacent: one memset
            continue
        for y in range(ya, yb):
            if ellipse:
                xa, xb = _span(bx0, bx1, by0, by1, y)
            else:
                xa, xb = bx0, bx1
            xa = max(xa, 0)
            xb = min(xb, w)
            if xb <= xa:
                continue
            o = base + y * row + xa * ch
            n = (xb - xa) * ch
            if uniform:
                buf[o : o + n] = v
            else:
                # Unsigned indices: Numba then skips the negative-index fix-up and the loop vectorises
                # (a slice-to-slice assignment here was 15x slower).
                uo = np.uint64(o)
                for j in range(np.uint64(n)):
                    buf[uo + j] = pattern[j]


@njit(cache=True, nogil=True)
def fill_kernel(buf, h, w, ch, row, frame, boxes, offsets, color, ellipse, t0, t1):
    """Fill frames ``[t0, t1)``, the boxes of each frame in order. Returns -1 (nothing written) for a
    coordinate outside int32."""
    if bad_boxes(boxes, offsets[t0], offsets[t1]):
        return -1
    uniform = True
    for c in range(1, ch):
        uniform = uniform and color[c] == color[0]
    # A row of the colour pattern, copied into each box row; one value is a plain memset instead.
    pattern = np.empty(0 if uniform else w * ch, np.uint8)
    for k in range(pattern.shape[0]):
        pattern[k] = color[k % ch]
    for t in range(t0, t1):
        _fill_frame(buf, t * frame, h, w, ch, row, boxes, offsets[t], offsets[t + 1], color, pattern, ellipse)
    return 0


@njit(cache=True, nogil=True)
def fill_claimed(buf, h, w, ch, row, frame, boxes, offsets, color, ellipse, counter, count):
    """Fill frames claimed one at a time from ``counter`` (shared by the threads) until none is left."""
    while True:
        t = fetch_add(counter, np.int64(1))
        if t >= count:
            return
        fill_kernel(buf, h, w, ch, row, frame, boxes, offsets, color, ellipse, t, t + 1)


@njit(cache=True, nogil=True)
def work_area(boxes, h, w):
    """Pixels the boxes cover after clipping (overlaps counted twice): the work estimate."""
    total = 0
    for i in range(boxes.shape[0]):
        ww = min(boxes[i, 2], w) - max(boxes[i, 0], 0)
        hh = min(boxes[i, 3], h) - max(boxes[i, 1], 0)
        if ww > 0 and hh > 0:
            total += ww * hh
    return total
