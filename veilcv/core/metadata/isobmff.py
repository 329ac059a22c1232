"""ISO base media file format (HEIF, AVIF, MP4, MOV): bounded box reading and box writing.

Every size is checked against its parent before use; a box that runs past its parent, a size
below its header, or nesting beyond :data:`MAX_DEPTH` raises :class:`Malformed`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from veilcv.core.metadata.families import Malformed

MAX_DEPTH = 32
MAX_BOXES = 200_000


@dataclass(frozen=True)
class Box:
    """One box: its type, where it starts (``start``), where its payload starts and where it ends."""

    type: bytes
    start: int
    body: int
    end: int

    def name(self) -> str:
        """The type as printable text."""
        return "".join(chr(c) if 32 <= c < 127 else "?" for c in self.type)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Yield the boxes laid end to end in ``data[start:end]``.

    Parameters
    ----------
    data : bytes
        The buffer.
    start, end : int
        The byte range holding the boxes (``end`` defaults to the buffer's end).

    Yields
    ------
    Box

    Raises
    ------
    Malformed
        A box header or payload that does not fit the range.
    """
    end = len(data) if end is None else end
    pos, count = start, 0
    while pos < end:
        count += 1
        if count > MAX_BOXES:
            raise Malformed(f"more than {MAX_BOXES} boxes")
        if pos + 8 > end:
            raise Malformed(f"truncated box header at offset {pos}")
        size, btype = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            if pos + 16 > end:
                raise Malformed(f"truncated box header at offset {pos}")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            head = 16
        elif size == 0:
            size = end - pos
        if btype == b"uuid":
            head += 16
        if size < head or pos + size > end:
            raise Malformed(f"box {Box(btype, pos, pos, pos).name()!r} at offset {pos} runs past its parent")
        yield Box(btype, pos, pos + head, pos + size)
        pos += size


def full_header(data: bytes, box: Box) -> tuple[int, int, int]:
    """``(version, flags, payload offset)`` of a full box."""
    if box.body + 4 > box.end:
        raise Malformed(f"{box.name()!r} box shorter than its version and flags")
    version = data[box.body]
    flags = int.from_bytes(data[box.body + 1 : box.body + 4], "big")
    return version, flags, box.body + 4


class Reader:
    """Big-endian field reader over ``data[pos:end]``; raises Malformed instead of reading past ``end``."""

    def __init__(self, data: bytes, pos: int, end: int, what: str) -> None:
        self.data, self.pos, self.end, self.what = data, pos, end, what

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        if n < 0 or self.pos + n > self.end:
            raise Malformed(f"{self.what} is shorter than its fields")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        """An unsigned big-endian integer of ``n`` bytes (0 bytes: 0)."""
        return int.from_bytes(self.take(n), "big") if n else 0

    def cstring(self) -> bytes:
        """A null-terminated string (without its null)."""
        stop = self.data.find(b"\x00", self.pos, self.end)
        if stop < 0:
            raise Malformed(f"{self.what}: string without its terminating null")
        out = self.data[self.pos : stop]
        self.pos = stop + 1
        return out

    def left(self) -> int:
        """Bytes not read yet."""
        return self.end - self.pos


def box(btype: bytes, payload: bytes) -> bytes:
    """Serialise a box (a 64-bit size where the payload needs one)."""
    if len(payload) + 8 < 1 << 32:
        return struct.pack(">I", len(payload) + 8) + btype + payload
    return struct.pack(">I", 1) + btype + struct.pack(">Q", len(payload) + 16) + payload


def full_box(btype: bytes, version: int, flags: int, payload: bytes) -> bytes:
    """Serialise a full box."""
    return box(btype, bytes([version]) + flags.to_bytes(3, "big") + payload)
