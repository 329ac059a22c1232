"""Every byte of a HEIF/AVIF file accounted for: what is neither a defined field nor an item's data.

The items themselves (Exif, XMP, thumbnails, ...) are reported by :mod:`heif`. Here are the bytes
around them that a writer may fill with anything and no reader shows: top-level boxes besides
``ftyp``/``meta``/``mdat`` (empty free space aside), ``meta`` children HEIF does not define for a
picture, unknown brands and a non-zero minor version, reserved and flag fields, the handler and item
names (beyond a few generic ones), properties no item uses, and ``mdat``/``idat`` bytes that no
item's extents cover.
"""

from __future__ import annotations

from veilcv.core.metadata import isobmff as bmff
from veilcv.core.metadata.heifmodel import KNOWN_BRANDS, Heif

_META_CHILDREN = frozenset({b"hdlr", b"pitm", b"iloc", b"iinf", b"iref", b"iprp", b"idat", b"dinf"})
#: Item names that writers give every file (libavif, phone encoders): they say nothing about anyone.
_GENERIC_NAMES = frozenset({b"", b"Color", b"Alpha", b"Exif", b"XMP", b"HEVC Image", b"Image", b"Thumbnail"})
#: The one data-information box a single-file HEIF needs: a self-contained ``url `` entry.
_DINF = bmff.box(b"dref", bytes(4) + (1).to_bytes(4, "big") + bmff.full_box(b"url ", 0, 1, b""))


def _uncovered(ranges: list[tuple[int, int]], spans: list[tuple[int, int]]) -> int:
    """Bytes of ``ranges`` (start, end) that no span (start, end) covers."""
    total = 0
    for lo, hi in ranges:
        pos = lo
        for s, e in sorted(spans):
            if e <= pos or s >= hi:
                continue
            total += max(0, s - pos)
            pos = max(pos, e)
        total += max(0, hi - pos)
    return total


def unaccounted(data: bytes, h: Heif) -> list[str]:
    """What in ``data`` is neither a defined field nor an item's data, in words (empty: nothing).

    Parameters
    ----------
    data : bytes
        The whole file, as parsed into ``h``.
    h : Heif
        The parsed file.

    Returns
    -------
    list of str
        One short reason per kind of unaccounted byte.
    """
    reasons: list[str] = []
    top = list(bmff.boxes(data))
    extra = sorted(
        {
            b.name()
            for b in top
            if b.type not in (b"ftyp", b"meta", b"mdat")
            and not (b.type in (b"free", b"skip") and not any(data[b.body : b.end]))
        }
    )
    if extra:
        reasons.append(f"boxes {', '.join(extra)}")
    ftyp = top[0]
    if any(data[ftyp.body + 4 : ftyp.body + 8]) or not {h.major, *h.brands} <= KNOWN_BRANDS:
        reasons.append("unknown brands or a minor version in ftyp")
    meta = next(b for b in top if b.type == b"meta")
    children = list(bmff.boxes(data, meta.body + 4, meta.end))
    others = sorted({c.name() for c in children if c.type not in _META_CHILDREN})
    if others:
        reasons.append(f"meta boxes {', '.join(others)}")
    if any(data[meta.body : meta.body + 4]):
        reasons.append("meta version or flags")
    for c in children:
        if c.type == b"hdlr" and (any(data[c.body : c.body + 8]) or any(data[c.body + 12 : c.end])):
            reasons.append("handler name or reserved fields")
        elif c.type == b"dinf" and bytes(data[c.body : c.end]) != _DINF:
            reasons.append("data references (dinf)")
        elif c.type in (b"pitm", b"iinf", b"iref", b"iloc") and any(data[c.body + 1 : c.body + 4]):
            reasons.append(f"{c.name()} flags")
    if any(item.name not in _GENERIC_NAMES or item.loose for item in h.items.values()):
        reasons.append("item names or bytes after infe fields")
    used = {i for item in h.items.values() for i, _ in item.props}
    if set(range(1, len(h.props) + 1)) - used:
        reasons.append("properties no item uses")
    mdat = [(b.body, b.end) for b in top if b.type == b"mdat"]
    spans = [
        (o, len(data) if n == 0 else o + n)
        for it in h.items.values()
        if it.method == 0
        for o, n in it.extents
    ]
    loose = _uncovered(mdat, spans)
    in_idat = [
        (o, len(h.idat) if n == 0 else o + n)
        for it in h.items.values()
        if it.method == 1
        for o, n in it.extents
    ]
    loose += _uncovered([(0, len(h.idat))], in_idat) if h.idat else 0
    if loose:
        reasons.append(f"{loose} bytes of mdat/idat that no item uses")
    return reasons
