"""Mosaic (pixelation) of regions, in place, with exact cell means and optional seeded per-cell noise.

The rule, defined once. A box is first clipped to the image; the visible region ``w x h`` is cut into
square cells of side ``k = ceil(min(w, h) / cells)`` starting at its top-left corner, so the shorter
side spans at most ``cells`` cells; the last column and row of cells are ragged (narrower or shorter)
when ``k`` does not divide the side, and are averaged over exactly the pixels they hold. Each channel of
each cell becomes the mean of its ``n`` pixel values with sum ``S``, rounded half up, in integers::

    value = (2 * S + n) // (2 * n)

With ``noise > 0`` every cell and channel then gets an integer offset, uniform in ``[-noise, noise]``,
clamped to 0..255. The offset is a hash (splitmix64) of ``(seed, box index within the frame, cell row,
cell column, channel)``: reproducible, independent of threads and of the pixel values.

A mosaic is weaker than a black box. Cell means keep coarse shape and colour; faces can still be matched
against candidates and mosaicked text read back by trying glyphs (depixelation), and across video frames a
moving grid leaks more. Noise raises the cost of those attacks but does not remove them. Use ``black_box``
where the policy demands that a region be unrecoverable.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from veilcv.core.kernels import _threading
from veilcv.core.kernels._claim import ATOMIC, fetch_add, new_counter
from veilcv.core.kernels._validate import (
    INT32_MAX,
    as_boxes,
    as_int,
    pack_image,
    range_error,
    single_offsets,
)
from veilcv.core.kernels.fill import bad_boxes, work_area

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
def _pixelate_kernel(buf, h, w, ch, row, frame, boxes, offsets, cells, noise, seed, t0, t1, band_lo, band_hi):
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
def _pixelate_claimed(buf, h, w, ch, row, frame, boxes, offsets, cells, noise, seed, counter, count):
    """Mosaic frames claimed one at a time from ``counter`` (shared by the threads) until none is left."""
    while True:
        t = fetch_add(counter, np.int64(1))
        if t >= count:
            return
        _pixelate_kernel(buf, h, w, ch, row, frame, boxes, offsets, cells, noise, seed, t, t + 1, 0, 1 << 62)


def _cell_rows(box: np.ndarray, h: int, w: int, cells: int) -> int:
    bw = min(int(box[2]), w) - max(int(box[0]), 0)
    bh = min(int(box[3]), h) - max(int(box[1]), 0)
    if bw <= 0 or bh <= 0:
        return 0
    k = (min(bw, bh) + cells - 1) // cells
    return (bh + k - 1) // k


def pixelate_packed(p, boxes, offsets, cells: int, noise: int, seed: int, threads) -> None:
    """Run the mosaic on packed pixels. Frames of a batch, or the cell rows of a single large region, go
    to different threads; several regions in one frame never do (they may overlap)."""
    useed = np.uint64(seed)
    full = (0, 1 << 62)
    area = work_area(boxes, p.h, p.w) * p.ch if boxes.shape[0] else 0
    big = area >= (_threading.MIN_BATCH_MOSAIC_BYTES if p.count > 1 else _threading.MIN_PARALLEL_BYTES)
    parts = min(_threading.worker_count() if threads is None else max(1, threads), 8) if big else 1
    batch = p.count > 1 and parts > 1 and ATOMIC
    bands = p.count == 1 and parts > 1 and boxes.shape[0] == 1
    if not (batch or bands):
        # Serial: call the kernel directly (it checks the boxes before writing anything); the chunk
        # machinery below costs a few microseconds, a visible share of a call with a few small boxes.
        if _pixelate_kernel(
            p.buf, p.h, p.w, p.ch, p.row, p.frame, boxes, offsets, cells, noise, useed, 0, p.count, *full
        ):
            range_error(boxes)
        return
    if bad_boxes(boxes, 0, boxes.shape[0]):
        range_error(boxes)
    if batch:  # frames of a batch: each thread claims frames inside one compiled call (see ``_claim``)
        counter = new_counter()
        n = min(parts, p.count)

        def claim(_: int) -> None:
            _pixelate_claimed(
                p.buf, p.h, p.w, p.ch, p.row, p.frame, boxes, offsets, cells, noise, useed, counter, p.count
            )

        _threading.run_chunks(claim, n, n)
        return
    # One large region: its cell rows in bands.
    work = [(0, 1, lo, hi) for lo, hi in _threading.split(_cell_rows(boxes[0], p.h, p.w, cells), 4 * parts)]

    def run(i: int) -> None:
        t0, t1, lo, hi = work[i]
        _pixelate_kernel(
            p.buf, p.h, p.w, p.ch, p.row, p.frame, boxes, offsets, cells, noise, useed, t0, t1, lo, hi
        )

    _threading.run_chunks(run, len(work), parts)


def pixelate(
    image: np.ndarray, boxes, *, cells: int = 8, noise: int = 0, seed: int = 0, threads: int | None = None
):
    """Turn each box into a mosaic of exact cell means, in place.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, 1|3|4)
        Changed in place and returned. C-contiguous arrays and views whose pixels are packed within each
        row (crops) are written directly; other views run on a contiguous copy that is copied back.
    boxes : array_like of int, shape (N, 4)
        ``(x0, y0, x1, y1)``, half-open, within int32, clipped to the image. Empty, zero-area, inverted
        and fully outside boxes change nothing. Overlapping boxes are applied in order: a later box
        averages pixels an earlier one already changed.
    cells : int, optional
        At most this many cells along the region's shorter side (module docstring). A region whose
        shorter side is ``<= cells`` gets 1-pixel cells, so only the noise changes it: use ``black_box``
        or fewer cells for tiny regions.
    noise : int, optional
        0..255: half-width of the uniform per-cell offset; 0 adds none.
    seed : int, optional
        0..2**64-1: the noise seed; the same seed and boxes give the same output.
    threads : int, optional
        Upper bound on threads for one large region (default: all usable CPUs).

    Returns
    -------
    ndarray
        ``image`` itself.

    Raises
    ------
    veilcv.errors.ValidationError
        Wrong dtype, shape, read-only image, bad boxes, or ``cells``/``noise``/``seed`` out of range.

    Notes
    -----
    A mosaic is weaker than a black box; see the module docstring before choosing it for faces or text.

    Examples
    --------
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    >>> pixelate(img, [[0, 0, 4, 4]], cells=2)
    array([[ 3,  3,  5,  5],
           [ 3,  3,  5,  5],
           [11, 11, 13, 13],
           [11, 11, 13, 13]], dtype=uint8)
    """
    p = pack_image(image)
    b = as_boxes(boxes)
    cells = as_int(cells, "cells", 1, INT32_MAX)
    noise = as_int(noise, "noise", 0, 255)
    seed = as_int(seed, "seed", 0, 2**64 - 1)
    pixelate_packed(p, b, single_offsets(b.shape[0]), cells, noise, seed, threads)
    p.finish()
    return image
