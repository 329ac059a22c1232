"""HEIF item properties: which are kept with the primary image, and that each holds only its fields.

A property box kept in a stripped file must be one whose every byte is a defined field, or the
bytes after its fields could carry anything. Unknown properties are dropped when the file marks
them non-essential and refused when a decoder must understand them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from veilcv.core.metadata import isobmff as bmff
from veilcv.core.metadata.families import Malformed, Unsupported

if TYPE_CHECKING:
    from veilcv.core.metadata.heifmodel import Heif

ALPHA_URNS = frozenset({b"urn:mpeg:hevc:2015:auxid:1", b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"})

#: Payload sizes (after the box header) of fixed-size properties; full boxes include their 4 bytes.
_FIXED = {
    b"ispe": 12,
    b"irot": 1,
    b"imir": 1,
    b"clap": 32,
    b"pasp": 8,
    b"rloc": 12,
    b"clli": 4,
    b"mdcv": 24,
    b"amve": 6,
    b"lsel": 2,
    b"a1op": 1,
}


def aux_type(h: Heif, item_id: int) -> bytes:
    """The ``auxC`` type URN of an item ('' when it has none)."""
    item = h.items.get(item_id)
    for index, _ in item.props if item else ():
        raw = h.props[index - 1] if 0 < index <= len(h.props) else b""
        if raw[4:8] == b"auxC":
            return raw[12:].split(b"\x00", 1)[0]
    return b""


def _hvcc_end(raw: bytes) -> int:
    r = bmff.Reader(raw, 8, len(raw), "HEIF hvcC property")
    r.take(22)
    for _ in range(r.uint(1)):
        r.uint(1)
        for _ in range(r.uint(2)):
            r.take(r.uint(2))
    return r.pos


def check_property(raw: bytes, essential: bool) -> str:
    """Classify one property box of a kept item.

    Parameters
    ----------
    raw : bytes
        The whole property box (header included).
    essential : bool
        Whether an association marks it essential.

    Returns
    -------
    str
        ``"keep"``, ``"icc"`` (a ``colr`` ICC profile, kept only when allowed) or ``"drop"``
        (unknown and non-essential: not needed to decode the picture).

    Raises
    ------
    Malformed
        A known property with bytes beyond its fields.
    Unsupported
        An unknown property marked essential.
    """
    if len(raw) < 8 or raw[:4] == b"\x00\x00\x00\x01":
        raise Malformed("HEIF property box with a 64-bit or bad size")
    ptype, body = raw[4:8], raw[8:]
    name = ptype.decode("ascii", "replace")
    if ptype in _FIXED:
        if len(body) != _FIXED[ptype]:
            raise Malformed(f"HEIF {name} property of {len(body)} bytes, expected {_FIXED[ptype]}")
        return "keep"
    if ptype == b"colr":
        kind = body[:4]
        if kind == b"nclx":
            if len(body) != 11:
                raise Malformed(f"HEIF colr nclx property of {len(body)} bytes, expected 11")
            return "keep"
        if kind in (b"prof", b"rICC"):
            return "icc"
        raise Malformed(f"HEIF colr property of unknown kind {kind!r}")
    if ptype == b"hvcC":
        end = _hvcc_end(raw)
        if end != len(raw):
            raise Malformed(f"HEIF hvcC property holds {len(raw) - end} bytes after its parameter sets")
        return "keep"
    if ptype == b"pixi":
        if len(body) < 5 or len(body) != 5 + body[4]:
            raise Malformed("HEIF pixi property size does not match its channel count")
        return "keep"
    if ptype == b"auxC":
        urn_end = body.find(b"\x00", 4)
        if urn_end < 0 or (body[4:urn_end] in ALPHA_URNS and urn_end + 1 != len(body)):
            raise Malformed("HEIF auxC property with bytes after its type")
        return "keep"
    if ptype in (b"av1C", b"a1lx"):
        if ptype == b"av1C" and (len(body) < 4 or body[0] != 0x81):
            raise Malformed("HEIF av1C property without its marker and version")
        return "keep"
    if essential:
        raise Unsupported(f"HEIF property {name!r} is marked essential and not understood")
    return "drop"
