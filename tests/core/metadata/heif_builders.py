"""Phone-like HEIC files assembled from pillow-heif's coded images, written by a box writer of the tests' own.

An iPhone HEIC holds its picture as a grid of hidden HEVC tiles, plus a thumbnail (``thmb``), an
Exif item and an XMP item (``cdsc``), auxiliary images such as a depth map (``auxl``), and, in
the wild, item names and free space. pillow-heif writes none of the grid/thumbnail/aux layout, so
the tiles are encoded one by one and assembled here.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from tests.core.metadata import builders as b


def _box(t: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + t + payload


def _full(t: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(t, bytes([version]) + flags.to_bytes(3, "big") + payload)


def _children(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    out, pos = {}, start
    while pos < end:
        size, t = struct.unpack_from(">I4s", data, pos)
        out.setdefault(t, (pos + 8, pos + size))
        pos += size
    return out


def encode_tile(arr: np.ndarray) -> tuple[list[tuple[bytes, bool]], bytes]:
    """``([(property box, essential)], coded bytes)`` of one image encoded by pillow-heif (lossless)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="HEIF", quality=-1, chroma=444)
    data = buf.getvalue()
    top = _children(data, 0, len(data))
    ms, me = top[b"meta"]
    meta = _children(data, ms + 4, me)
    ps, pe = meta[b"iprp"]
    cs, ce = _children(data, ps, pe)[b"ipco"]
    props, pos = [], cs
    while pos < ce:
        (size,) = struct.unpack_from(">I", data, pos)
        raw = data[pos : pos + size]
        props.append((raw, raw[4:8] in (b"hvcC", b"clap")))
        pos += size
    ls, _le = meta[b"iloc"]
    # iloc v0, 4-byte offsets and lengths, one item with one extent (pillow-heif's layout)
    assert data[ls] in (0, 1) and data[ls + 4] == 0x44
    head = ls + 4 + 2 + 2 + 2 + (2 if data[ls] == 1 else 0) + 2
    base_size = data[ls + 5] >> 4
    base = int.from_bytes(data[head : head + base_size], "big")
    off, length = struct.unpack_from(">II", data, head + base_size + 2)
    return props, data[base + off : base + off + length]


@dataclass
class Item:
    id: int
    type: bytes
    data: bytes
    props: list[tuple[bytes, bool]] = field(default_factory=list)
    hidden: bool = False
    name: bytes = b""
    content_type: bytes = b""
    in_idat: bool = False  # stored in the meta box's idat (construction method 1), as libheif stores grids


def assemble(
    items: list[Item], refs: list[tuple[bytes, int, list[int]]], primary: int, tail: bytes = b""
) -> bytes:
    """A HEIC of ``items`` (all data in one mdat), with ``tail`` as a top-level box after the meta."""
    ftyp = _box(b"ftyp", b"heic" + bytes(4) + b"mif1heicmiaf")
    hdlr = _full(b"hdlr", 0, 0, bytes(4) + b"pict" + bytes(12) + b"Jane's camera\x00")
    pitm = _full(b"pitm", 0, 0, struct.pack(">H", primary))
    infe = b""
    for it in items:
        body = struct.pack(">HH", it.id, 0) + it.type + it.name + b"\x00"
        if it.type == b"mime":
            body += it.content_type + b"\x00"
        infe += _full(b"infe", 2, int(it.hidden), body)
    iinf = _full(b"iinf", 0, 0, struct.pack(">H", len(items)) + infe)
    iref = _full(
        b"iref",
        0,
        0,
        b"".join(
            _box(t, struct.pack(">HH", s, len(d)) + b"".join(struct.pack(">H", x) for x in d))
            for t, s, d in refs
        ),
    )
    props: list[bytes] = []
    ipma = b""
    for it in items:
        assoc = []
        for raw, essential in it.props:
            if raw not in props:
                props.append(raw)
            assoc.append((props.index(raw) + 1) | (0x80 if essential else 0))
        ipma += struct.pack(">HB", it.id, len(assoc)) + bytes(assoc)
    iprp = _box(
        b"iprp", _box(b"ipco", b"".join(props)) + _full(b"ipma", 0, 0, struct.pack(">I", len(items)) + ipma)
    )

    idat = b"".join(it.data for it in items if it.in_idat)

    def meta(at: int) -> bytes:
        loc = bytes([0x44, 0x00]) + struct.pack(">H", len(items))
        idat_at = 0
        for it in items:
            if it.in_idat:
                loc += struct.pack(">HHHHII", it.id, 1, 0, 1, idat_at, len(it.data))
                idat_at += len(it.data)
            else:
                loc += struct.pack(">HHHHII", it.id, 0, 0, 1, at, len(it.data))
                at += len(it.data)
        body = hdlr + pitm + _full(b"iloc", 1, 0, loc) + iinf + iref + iprp
        return _full(b"meta", 0, 0, body + (_box(b"idat", idat) if idat else b""))

    mdat_at = len(ftyp) + len(meta(0)) + len(tail) + 8
    return ftyp + meta(mdat_at) + tail + _box(b"mdat", b"".join(it.data for it in items if not it.in_idat))


def ispe(w: int, h: int) -> bytes:
    return _full(b"ispe", 0, 0, struct.pack(">II", w, h))


def phone_heic(
    free: bytes = b"", depth: bool = True, grid_in_idat: bool = False
) -> tuple[bytes, np.ndarray, list[bytes]]:
    """A 2x2 grid of 64x64 lossless tiles with a thumbnail, Exif, XMP and a depth map.

    Returns the file, the picture the grid shows and the coded bytes of the tiles.
    """
    arr = b.pixels(128, 128, seed=3)
    tiles = [arr[y : y + 64, x : x + 64] for y in (0, 64) for x in (0, 64)]
    coded = [encode_tile(np.ascontiguousarray(t)) for t in tiles]
    thumb_props, thumb = encode_tile(b.pixels(16, 16, seed=4))
    grid = struct.pack(">BBBBHH", 0, 0, 1, 1, 128, 128)
    items = [
        Item(1, b"grid", grid, [(ispe(128, 128), False), coded[0][0][0]], name=b"Jane", in_idat=grid_in_idat)
    ]
    for i, (props, data) in enumerate(coded):
        items.append(Item(2 + i, b"hvc1", data, props, hidden=True))
    items.append(Item(6, b"hvc1", thumb, thumb_props))
    items.append(Item(7, b"Exif", b"\x00\x00\x00\x06Exif\x00\x00" + b.full_exif()))
    items.append(Item(8, b"mime", b.XMP, content_type=b"application/rdf+xml"))
    refs = [(b"dimg", 1, [2, 3, 4, 5]), (b"thmb", 6, [1]), (b"cdsc", 7, [1]), (b"cdsc", 8, [1])]
    if depth:
        urn = _full(b"auxC", 0, 0, b"urn:com:apple:photo:2018:aux:portraiteffectsmatte\x00")
        items.append(Item(9, b"hvc1", thumb, [*thumb_props, (urn, True)], hidden=True))
        refs.append((b"auxl", 9, [1]))
    tail = _box(b"free", free) if free else b""
    return assemble(items, refs, 1, tail), arr, [d for _, d in coded]
