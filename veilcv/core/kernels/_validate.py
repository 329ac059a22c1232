"""Boundary checks for the kernels: every public wrapper turns its inputs into the few exact types the
private kernels are compiled for (one specialisation each, so the Numba cache stays small)."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from veilcv.errors import ValidationError

CHANNELS = (1, 3, 4)
_U8 = np.dtype(np.uint8)
_I64 = np.dtype(np.int64)
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def fail(message: str) -> None:
    raise ValidationError(message)


def _typename(x: object) -> str:
    return type(x).__name__


class Packed(NamedTuple):
    """Pixels as one flat ``uint8`` buffer: byte ``(t, y, x, c)`` is at ``t*frame + y*row + x*ch + c``."""

    buf: np.ndarray
    count: int
    h: int
    w: int
    ch: int
    row: int
    frame: int
    back: np.ndarray | None  # the caller's view, when the kernel ran on a contiguous copy
    tmp: np.ndarray | None

    def finish(self) -> None:
        """Write the result back into a view that could not be processed in place."""
        if self.back is not None:
            np.copyto(self.back, self.tmp)


# A NamedTuple's generated ``__new__`` costs ~0.4 us for nine fields; building the tuple directly does not.
_tuple_new = tuple.__new__


def _pack(arr4: np.ndarray) -> tuple[np.ndarray, int, int, np.ndarray | None, np.ndarray | None]:
    t, h, w, c = arr4.shape
    st, sh, sw, sc = arr4.strides
    if arr4.flags.c_contiguous:
        return arr4.reshape(-1), w * c, h * w * c, None, None
    # Pixels packed within each row (any positive row and frame step, rows not overlapping): the kernels
    # write through the caller's memory directly, as with a contiguous array.
    packed = (c == 1 or sc == 1) and (w == 1 or sw == c)
    row = sh if h > 1 else w * c
    frame = st if t > 1 else (h - 1) * row + w * c
    if packed and row >= w * c and frame >= (h - 1) * row + w * c:
        span = (t - 1) * frame + (h - 1) * row + w * c
        buf = np.lib.stride_tricks.as_strided(arr4, shape=(span,), strides=(1,))
        return buf, row, frame, None, None
    tmp = np.ascontiguousarray(arr4)
    return tmp.reshape(-1), w * c, h * w * c, arr4, tmp


def _check_pixels(arr: object, name: str, lead: int) -> np.ndarray:
    dims = ("T, " if lead else "") + "H, W"
    if not isinstance(arr, np.ndarray):
        fail(
            f"{name}: expected a numpy.ndarray, got {_typename(arr)}; use np.asarray({name}, dtype=np.uint8)"
        )
    if arr.dtype is not _U8 and arr.dtype != _U8:  # identity first: the cheap test for the usual case
        fail(f"{name}: expected dtype uint8, got {arr.dtype}; use np.clip({name}, 0, 255).astype(np.uint8)")
    nd = arr.ndim - lead
    if nd not in (2, 3) or (nd == 3 and arr.shape[-1] not in CHANNELS):
        fail(f"{name}: expected shape ({dims}) or ({dims}, 1|3|4), got {tuple(arr.shape)}")
    if not arr.flags.writeable:
        fail(
            f"{name}: expected a writable array (the kernels work in place), got a read-only one; use .copy()"
        )
    return arr


def pack_image(image: object, name: str = "image") -> Packed:
    """Validate a ``(H, W)`` or ``(H, W, 1|3|4)`` ``uint8`` image and flatten it for the kernels."""
    # Fast path for the usual writable C-contiguous uint8 frame: the same checks as ``_check_pixels``
    # with each attribute read once; anything else takes the full path and its error messages.
    if type(image) is np.ndarray and image.dtype is _U8:
        flags = image.flags
        shape = image.shape
        if flags.c_contiguous and flags.writeable:
            if len(shape) == 3 and shape[2] in CHANNELS:
                h, w, c = shape
                return _tuple_new(Packed, (image.ravel(), 1, h, w, c, w * c, h * w * c, None, None))
            if len(shape) == 2:
                h, w = shape
                return _tuple_new(Packed, (image.ravel(), 1, h, w, 1, w, h * w, None, None))
    arr = _check_pixels(image, name, 0)
    if arr.flags.c_contiguous:  # the common case, kept cheap for calls with a few small boxes
        h, w = arr.shape[0], arr.shape[1]
        c = arr.shape[2] if arr.ndim == 3 else 1
        return Packed(arr.ravel(), 1, h, w, c, w * c, h * w * c, None, None)
    arr4 = arr[None, :, :, None] if arr.ndim == 2 else arr[None]
    buf, row, frame, back, tmp = _pack(arr4)
    _, h, w, c = arr4.shape
    return Packed(buf, 1, h, w, c, row, frame, back, tmp)


def pack_frames(frames: object, name: str = "frames") -> Packed:
    """Validate a ``(T, H, W)`` or ``(T, H, W, 1|3|4)`` ``uint8`` batch and flatten it for the kernels."""
    arr = _check_pixels(frames, name, 1)
    arr4 = arr[..., None] if arr.ndim == 3 else arr
    buf, row, frame, back, tmp = _pack(arr4)
    t, h, w, c = arr4.shape
    return Packed(buf, t, h, w, c, row, frame, back, tmp)


def as_boxes(boxes: object, name: str = "boxes") -> np.ndarray:
    """Integer ``(N, 4)`` boxes as a fresh C-contiguous ``int64`` array (a copy: never the caller's)."""
    arr = boxes if isinstance(boxes, np.ndarray) else np.asarray(boxes)
    if arr.dtype is _I64 and arr.ndim == 2 and arr.shape[1] == 4 and arr.flags.c_contiguous:
        return arr.copy()  # the usual detector output after clip_boxes().astype(int64): no conversion
    if arr.ndim == 1 and arr.size == 0:
        return np.zeros((0, 4), np.int64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        fail(f"{name}: expected shape (N, 4) as (x0, y0, x1, y1), got {tuple(arr.shape)}")
    if arr.dtype.kind not in "iu":
        fail(
            f"{name}: expected integer pixel coordinates, got dtype {arr.dtype}; "
            "use clip_boxes() or scale_boxes(), which round outward"
        )
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > INT32_MAX:
        fail(f"{name}: expected coordinates within int32, got {int(arr.max())}")
    return np.array(arr, dtype=np.int64, order="C")


_SPANS: dict[int, np.ndarray] = {}


def single_offsets(n: int) -> np.ndarray:
    """``[0, n]``: the offsets of one frame with ``n`` boxes, shared read-only by the single-frame calls."""
    hit = _SPANS.get(n)
    if hit is None:
        hit = np.array([0, n], np.int64)
        if len(_SPANS) < 4096:
            _SPANS[n] = hit
    return hit


def range_error(boxes: np.ndarray, name: str = "boxes") -> None:
    """Raise the message for boxes that a kernel rejected because a coordinate is outside int32."""
    bad = boxes[(boxes < INT32_MIN) | (boxes > INT32_MAX)]
    fail(f"{name}: expected coordinates within int32 [-2**31, 2**31), got {int(bad[0])}")


def as_offsets(offsets: object, count: int, nboxes: int, name: str = "offsets") -> np.ndarray:
    """``(T+1,)`` non-decreasing integer offsets from 0 to ``len(boxes)``: frame ``t`` owns
    ``boxes[offsets[t]:offsets[t+1]]``."""
    arr = offsets if isinstance(offsets, np.ndarray) else np.asarray(offsets)
    if arr.ndim != 1 or arr.shape[0] != count + 1:
        fail(f"{name}: expected shape ({count + 1},) for {count} frames, got {tuple(arr.shape)}")
    if arr.dtype.kind not in "iu":
        fail(f"{name}: expected an integer array, got dtype {arr.dtype}")
    out = np.array(arr, dtype=np.int64, order="C")
    if out[0] != 0 or out[-1] != nboxes or np.any(np.diff(out) < 0):
        fail(
            f"{name}: expected non-decreasing values from 0 to len(boxes)={nboxes}, "
            f"got {out[0]}..{out[-1]}{' (decreasing)' if np.any(np.diff(out) < 0) else ''}"
        )
    return out


def as_int(value: object, name: str, lo: int, hi: int) -> int:
    if type(value) is int and lo <= value <= hi:  # the common case, without the slow ABC check
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(f"{name}: expected an integer in [{lo}, {hi}], got {_typename(value)} {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        fail(f"{name}: expected an integer in [{lo}, {hi}], got {v}")
    return v


_COLOR_CACHE: dict[tuple[int, int], np.ndarray] = {}


def as_color(color: object, channels: int) -> np.ndarray:
    """One ``uint8`` value per channel; an integer means the same value in every channel."""
    if type(color) is int:  # plain ints skip the ABC check; only valid values are ever cached
        hit = _COLOR_CACHE.get((color, channels))
        if hit is not None:
            return hit
    if isinstance(color, numbers.Integral) and not isinstance(color, bool):
        key = (int(color), channels)
        hit = _COLOR_CACHE.get(key)
        if hit is None:
            v = as_int(color, "color", 0, 255)
            hit = np.full(channels, v, np.uint8)
            if len(_COLOR_CACHE) < 1024:
                _COLOR_CACHE[key] = hit
        return hit
    if not isinstance(color, (tuple, list, np.ndarray)):
        fail(f"color: expected an integer 0..255 or one per channel, got {_typename(color)}")
    values = list(np.asarray(color).reshape(-1).tolist())
    if len(values) != channels:
        fail(f"color: expected {channels} value(s) for a {channels}-channel image, got {len(values)}")
    return np.array([as_int(v, "color", 0, 255) for v in values], np.uint8)
