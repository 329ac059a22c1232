"""Lossless TIFF rewrite: new IFDs with structural tags only, image strips/tiles copied byte for byte.

Nothing is decoded or re-encoded: compression, sample layout and the orientation tag are those of
the input, so every decoder shows exactly what it showed before. Files this writer does not handle
(BigTIFF, old-style JPEG with offset tags, missing strip/tile tables) return None and the caller
falls back to re-encoding.
"""

from __future__ import annotations

import struct

from veilcv.core.metadata.exif import Entry, Ifd, TiffStructure, int_value

_ICC = 34675
_LAYOUT_SPECIAL = frozenset(range(512, 522))  # old-style JPEG: offsets this writer would have to follow
_DATA_TABLES = ((273, 279), (324, 325))  # (offsets, byte counts): strips, tiles


def _ints(data: bytes, little: bool, entry: Entry) -> list[int] | None:
    fmt = {3: "H", 4: "I", 16: "Q"}.get(entry.type)
    if fmt is None or entry.offset + entry.size > len(data):
        return None
    return list(struct.unpack_from(("<" if little else ">") + fmt * entry.count, data, entry.offset))


def rewrite(data: bytes, st: TiffStructure, keep: frozenset[int]) -> bytes | None:
    """Rebuild a classic TIFF from its full-resolution pages, keeping only the tags in ``keep``.

    Parameters
    ----------
    data : bytes
        The original file.
    st : TiffStructure
        Its walked IFDs (no problems).
    keep : frozenset of int
        Tags copied to the new IFDs (structural tags, plus e.g. the ICC tag when allowed). The
        strip/tile offset tags are rewritten to point at the copied image data.

    Returns
    -------
    bytes or None
        The new file, or None when this file needs re-encoding instead.
    """
    if st.big:
        return None
    e = "<" if st.little else ">"
    pages = [
        i
        for i in st.chain()
        if 254 not in i.entries or not (int_value(data, st.little, i.entries[254]) or 0) & 1
    ]
    if not pages:
        return None
    out = bytearray(data[:4] + b"\x00\x00\x00\x00")
    link = 4  # where the offset of the next IFD goes
    for ifd in pages:
        built = _page(data, st.little, e, ifd, keep, out)
        if built is None:
            return None
        struct.pack_into(e + "I", out, link, built)
        link = built + 2 + 12 * struct.unpack_from(e + "H", out, built)[0]
    return bytes(out)


def _align(out: bytearray) -> None:
    if len(out) & 1:
        out.append(0)


def _page(data: bytes, little: bool, e: str, ifd: Ifd, keep: frozenset[int], out: bytearray) -> int | None:
    """Append one page's image data, values and IFD to ``out``; return the IFD's offset."""
    if _LAYOUT_SPECIAL & set(ifd.entries):
        return None
    table = next(((o, c) for o, c in _DATA_TABLES if o in ifd.entries and c in ifd.entries), None)
    if table is None:
        return None
    offsets = _ints(data, little, ifd.entries[table[0]])
    counts = _ints(data, little, ifd.entries[table[1]])
    if offsets is None or counts is None or len(offsets) != len(counts):
        return None
    new_offsets = []
    for off, n in zip(offsets, counts):  # noqa: B905 - lengths checked above
        if off + n > len(data):
            return None
        _align(out)
        new_offsets.append(len(out))
        out += data[off : off + n]
    if len(out) > 0xFFFFFFFF:
        return None
    values: dict[int, tuple[int, int, bytes]] = {}
    for tag, entry in ifd.entries.items():
        if tag == table[0]:
            values[tag] = (4, len(new_offsets), struct.pack(e + "I" * len(new_offsets), *new_offsets))
        elif tag in keep or tag == table[1]:
            values[tag] = (entry.type, entry.count, data[entry.offset : entry.offset + entry.size])
    entries = bytearray(struct.pack(e + "H", len(values)))
    for tag in sorted(values):
        typ, count, raw = values[tag]
        if len(raw) <= 4:
            entries += struct.pack(e + "HHI", tag, typ, count) + raw.ljust(4, b"\x00")
        else:
            _align(out)
            entries += struct.pack(e + "HHII", tag, typ, count, len(out))
            out += raw
    _align(out)
    at = len(out)
    out += entries + b"\x00\x00\x00\x00"
    return at
