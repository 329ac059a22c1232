"""Bytes after a WebP bitstream: found by asking the decoder how much of each chunk it needs.

A VP8L (lossless) or VP8 (lossy) chunk, or a compressed ALPH chunk, may hold bytes after the end
of its bitstream that every decoder ignores. Finding that end exactly would take a second decoder;
instead, libwebp (through Pillow) is asked: a bitstream cut to ``n`` bytes either fails to decode
or decodes to the very same pixels, and once it decodes it does so for every longer cut. A binary
search finds the least ``n`` that gives the same pixels; anything after it is slack.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass

from veilcv.core.metadata.cuts import least_same_cut
from veilcv.core.metadata.families import Malformed
from veilcv.quiet import warnings_as

#: Bytes after the least decodable cut that are still taken for the encoder's own final padding
#: (libwebp's lossy writer flushes up to three bytes its reader never needs; over 150 random
#: encodes, no clean file decoded the same with four bytes cut).
TOLERANCE = 3
_BITSTREAMS = (b"VP8 ", b"VP8L", b"ALPH")


@dataclass
class Chunk:
    """One RIFF chunk; ``children`` are the sub-chunks of an ANMF frame (``body`` is then its header)."""

    fourcc: bytes
    body: bytes
    children: list[Chunk] | None = None

    def serialise(self) -> bytes:
        """The chunk as written in the file, with a zero pad byte after an odd size."""
        body = self.body + b"".join(c.serialise() for c in self.children or ())
        return self.fourcc + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)


def riff(chunks: list[Chunk]) -> bytes:
    """A RIFF/WEBP file of ``chunks``."""
    body = b"".join(c.serialise() for c in chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def sub_chunks(body: bytes) -> list[Chunk]:
    """The sub-chunks of an ANMF frame's data (after its 16-byte header); only image chunks allowed."""
    out, pos = [], 0
    while pos < len(body):
        if pos + 8 > len(body):
            raise Malformed("truncated chunk header inside a WebP ANMF frame")
        fourcc, size = struct.unpack_from("<4sI", body, pos)
        if pos + 8 + size > len(body) or fourcc not in _BITSTREAMS:
            raise Malformed(f"WebP ANMF frame holds a {fourcc!r} chunk or runs past its end")
        out.append(Chunk(fourcc, body[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def _decode(data: bytes) -> list[bytes] | None:
    from PIL import Image, ImageSequence

    try:
        with warnings_as("ignore"):  # a cut that decodes with warnings still counts as decoding
            with Image.open(io.BytesIO(data)) as im:
                return [f.convert("RGBA").tobytes() for f in ImageSequence.Iterator(im)]
    except Exception:  # noqa: BLE001 - any failure means "this cut does not decode"
        return None


def _least_cut(chunk: Chunk, keep: int, render: Callable[[], list[bytes] | None], want: list[bytes]) -> int:
    full = chunk.body
    size = len(full)

    def same(n: int) -> bool:
        chunk.body = full[:n]
        try:
            return render() == want
        finally:
            chunk.body = full

    return least_same_cut(size, keep, same, TOLERANCE)


def trim_bitstreams(chunks: list[Chunk]) -> list[tuple[Chunk, int]]:
    """Cut every bitstream chunk to the bytes its decoder needs; report the chunks that had slack.

    Parameters
    ----------
    chunks : list of Chunk
        The file's chunks (ANMF frames with their sub-chunks); bitstream chunks with slack are
        cut in place, so that :func:`riff` then gives the file without any.

    Returns
    -------
    list of (Chunk, int)
        Each trimmed chunk (top level, or the ANMF frame holding it) with the bytes removed.

    Raises
    ------
    Malformed
        The file does not decode.
    """
    want = _decode(riff(chunks))
    if want is None:
        raise Malformed("WebP image data does not decode")
    out: list[tuple[Chunk, int]] = []
    for top in chunks:
        for chunk in top.children if top.children is not None else [top]:
            if chunk.fourcc not in _BITSTREAMS:
                continue
            keep = {b"VP8 ": 10, b"VP8L": 5, b"ALPH": 1}[chunk.fourcc]
            cut = _least_cut(chunk, keep, lambda: _decode(riff(chunks)), want)
            if cut < len(chunk.body):
                removed = len(chunk.body) - cut
                chunk.body = chunk.body[:cut]
                out.append((top, removed))
    return out
