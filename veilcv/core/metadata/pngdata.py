"""Byte accounting for the PNG chunks a stripped file keeps: sizes, palettes and compressed pixels.

A kept chunk must hold exactly what its definition says and no more, or the bytes a decoder never
reads (after a fixed-size chunk's fields, after the zlib stream in IDAT, past the image's last row)
could carry anything. Every problem here is fatal ("cannot verify"): the file is not what it claims.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from veilcv.core.metadata.families import Malformed

#: Exact body sizes of fixed-size chunks (None: checked against the header or palette instead).
FIXED_SIZES: dict[bytes, int] = {
    b"IHDR": 13,
    b"gAMA": 4,
    b"cHRM": 32,
    b"sRGB": 1,
    b"pHYs": 9,
    b"oFFs": 9,
    b"cICP": 4,
    b"mDCv": 24,
    b"cLLi": 8,
    b"acTL": 8,
    b"fcTL": 26,
    b"vpAg": 9,
    b"IEND": 0,
}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# Adam7 passes: (x start, y start, x step, y step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_STEP = 1 << 20


@dataclass
class ImageLayout:
    """What IHDR and PLTE say, and the compressed pixel streams seen so far (IDAT, then each fdAT run)."""

    width: int = 0
    height: int = 0
    depth: int = 8
    colour: int = 2
    interlaced: bool = False
    palette: int = 0
    streams: list[tuple[int, int, bytearray]] = field(default_factory=list)

    def raw_size(self, width: int, height: int) -> int:
        """Bytes of filtered scanlines (filter byte + packed row) of a ``width`` x ``height`` image."""
        bits = self.depth * _CHANNELS[self.colour]
        if not self.interlaced:
            return height * (1 + (width * bits + 7) // 8)
        total = 0
        for x0, y0, dx, dy in _ADAM7:
            w, h = max(0, (width - x0 + dx - 1) // dx), max(0, (height - y0 + dy - 1) // dy)
            if w and h:
                total += h * (1 + (w * bits + 7) // 8)
        return total


def check_chunk(ctype: bytes, body: bytes, layout: ImageLayout, previous: bytes) -> None:
    """Check one kept chunk's size against its definition and record pixel data for :func:`check_streams`.

    Parameters
    ----------
    ctype : bytes
        The chunk type.
    body : bytes
        Its data.
    layout : ImageLayout
        Updated in place from IHDR, PLTE, fcTL, IDAT and fdAT.
    previous : bytes
        The type of the chunk before this one (IDAT and fdAT runs must be consecutive).

    Raises
    ------
    Malformed
        A chunk with more or fewer bytes than its fields, or a bad header or palette.
    """
    name = ctype.decode("ascii", "replace")
    want = FIXED_SIZES.get(ctype)
    if want is not None and len(body) != want:
        raise Malformed(f"PNG {name} chunk holds {len(body)} bytes, expected {want}")
    if ctype == b"IHDR":
        w, h, depth, colour, _comp, _filt, interlace = struct.unpack(">IIBBBBB", body)
        if colour not in _DEPTHS or depth not in _DEPTHS[colour] or interlace > 1 or not w or not h:
            raise Malformed(f"PNG IHDR with colour type {colour}, bit depth {depth}, interlace {interlace}")
        layout.width, layout.height, layout.depth, layout.colour = w, h, depth, colour
        layout.interlaced = bool(interlace)
    elif ctype == b"PLTE":
        cap = 1 << layout.depth if layout.colour == 3 else 256
        if len(body) % 3 or not 0 < len(body) // 3 <= cap:
            raise Malformed(f"PNG PLTE chunk of {len(body)} bytes for a {layout.depth}-bit image")
        layout.palette = len(body) // 3
    elif ctype == b"tRNS":
        size = {0: 2, 2: 6}.get(layout.colour, layout.palette if layout.colour == 3 else -1)
        if len(body) != size and not (layout.colour == 3 and len(body) <= size):
            raise Malformed(f"PNG tRNS chunk of {len(body)} bytes for colour type {layout.colour}")
    elif ctype == b"bKGD":
        if len(body) != {0: 2, 4: 2, 2: 6, 6: 6, 3: 1}[layout.colour]:
            raise Malformed(f"PNG bKGD chunk of {len(body)} bytes for colour type {layout.colour}")
    elif ctype == b"sBIT":
        if len(body) != {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}[layout.colour]:
            raise Malformed(f"PNG sBIT chunk of {len(body)} bytes for colour type {layout.colour}")
    elif ctype == b"hIST":
        if len(body) != 2 * layout.palette:
            raise Malformed(f"PNG hIST chunk of {len(body)} bytes for {layout.palette} palette entries")
    elif ctype == b"fcTL":
        _seq, w, h, x, y = struct.unpack(">IIIII", body[:20])
        if not w or not h or x + w > layout.width or y + h > layout.height or body[24] > 2 or body[25] > 1:
            raise Malformed("PNG fcTL chunk with a frame outside the image or unknown operations")
        layout.streams.append((w, h, bytearray()))
    elif ctype == b"IDAT" or ctype == b"fdAT":
        data = body if ctype == b"IDAT" else body[4:]
        if ctype == b"fdAT" and len(body) < 4:
            raise Malformed("PNG fdAT chunk without its sequence number")
        if ctype == b"IDAT" and previous != b"IDAT":
            if any(s[0] < 0 for s in layout.streams):
                raise Malformed("PNG IDAT chunks are not consecutive")
            # the default image: it is also the first frame when an fcTL came before it
            if layout.streams and not layout.streams[-1][2] and layout.streams[-1][0] >= 0:
                w, h, _ = layout.streams.pop()
                if (w, h) != (layout.width, layout.height):
                    raise Malformed("PNG fcTL before IDAT does not cover the whole image")
            layout.streams.append((-1, -1, bytearray()))
        elif ctype == b"fdAT" and (not layout.streams or layout.streams[-1][0] < 0):
            raise Malformed("PNG fdAT chunk without a frame control chunk before it")
        layout.streams[-1][2].extend(data)


def check_streams(layout: ImageLayout) -> int:
    """Check that each compressed pixel stream inflates to exactly its image's scanlines and ends there.

    Parameters
    ----------
    layout : ImageLayout
        Filled by :func:`check_chunk` over the whole file.

    Returns
    -------
    int
        Bytes after the default image's zlib stream in IDAT (0 for a tight stream): slack that strip
        cuts off, since the stream before it is complete.

    Raises
    ------
    Malformed
        Bytes after an APNG frame's zlib stream, a stream that inflates to more or less than its
        image, a truncated or corrupt stream, or no IDAT at all.
    """
    slack = 0
    if not any(w < 0 for w, _, _ in layout.streams):
        raise Malformed("PNG without IDAT image data")
    for i, (w, h, data) in enumerate(layout.streams):
        what = "IDAT" if w < 0 else f"fdAT of frame {i}"
        if w < 0:
            w, h = layout.width, layout.height
        want = layout.raw_size(w, h)
        d = zlib.decompressobj()
        got, pending = 0, bytes(data)
        try:
            while not d.eof:
                out = d.decompress(pending, _STEP)
                got, pending = got + len(out), d.unconsumed_tail
                if got > want or not (out or pending):
                    break
        except zlib.error as exc:
            raise Malformed(f"PNG {what}: corrupt compressed image data ({exc})") from None
        if got != want:
            raise Malformed(f"PNG {what} inflates to more or fewer bytes than its {w}x{h} image")
        if not d.eof:
            raise Malformed(f"PNG {what}: truncated compressed image data")
        if d.unused_data and what != "IDAT":
            raise Malformed(f"PNG {what} holds {len(d.unused_data)} bytes after its compressed image")
        if what == "IDAT":
            slack = len(d.unused_data) + len(pending)
    return slack
