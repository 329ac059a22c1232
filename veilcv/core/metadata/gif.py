"""GIF block walker and block-by-block stripper (image data and animation control copied verbatim)."""

from __future__ import annotations

from veilcv.core.metadata.blobs import classify_xmp, icc_finding
from veilcv.core.metadata.families import Block, Family, Malformed, MetaFinding, Parsed

_KEEP_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # loop count: changes how the animation plays


def _sub_blocks(data: bytes, pos: int) -> int:
    """Return the offset just past a chain of data sub-blocks starting at ``pos``."""
    size = len(data)
    while True:
        if pos >= size:
            raise Malformed("truncated GIF: data sub-blocks run past the end of the file")
        n = data[pos]
        pos += 1 + n
        if n == 0:
            return pos


def parse(data: bytes) -> Parsed:
    """Walk a GIF file block by block.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Parsed
        Header, images and graphic-control/looping extensions as structural blocks; comments,
        XMP, ICC and other extensions with findings.

    Raises
    ------
    Malformed
        A truncated file, an unknown block introducer, or no trailer.
    """
    if len(data) < 13 or data[:6] not in (b"GIF87a", b"GIF89a"):
        raise Malformed("expected a GIF header, got something else")
    packed = data[10]
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    if pos > len(data):
        raise Malformed("truncated GIF: global colour table runs past the end of the file")
    parsed = Parsed("GIF", [Block(data[:pos], (), "header")])
    images = 0
    while True:
        if pos >= len(data):
            raise Malformed("truncated GIF: no trailer")
        start, intro = pos, data[pos]
        if intro == 0x3B:
            parsed.blocks.append(Block(b"\x3b", (), "trailer"))
            pos += 1
            break
        if intro == 0x2C:
            if pos + 11 > len(data):
                raise Malformed("truncated GIF image descriptor")
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1  # + LZW minimum code size
            pos = _sub_blocks(data, pos)
            parsed.blocks.append(Block(data[start:pos], (), "image"))
            images += 1
            continue
        if intro != 0x21 or pos + 2 > len(data):
            raise Malformed(f"unknown GIF block 0x{intro:02X} at offset {pos}")
        label = data[pos + 1]
        pos = _sub_blocks(data, pos + 2)
        raw = data[start:pos]
        body = raw[2:]
        if label == 0xF9:
            parsed.blocks.append(Block(raw, (), "control"))
        elif label == 0xFE:
            found = MetaFinding(Family.COMMENT, f"GIF comment extension ({len(body)} bytes)")
            parsed.blocks.append(Block(raw, (found,), "comment"))
        elif label == 0xFF and body[:1] == b"\x0b" and body[1:12] in _KEEP_APPS:
            parsed.blocks.append(Block(raw, (), "loop"))
        elif label == 0xFF and body[1:12] == b"XMP DataXMP":
            parsed.blocks.append(
                Block(raw, tuple(classify_xmp(body[12:], "GIF application extension")), "xmp")
            )
        elif label == 0xFF and body[1:12] == b"ICCRGBG1012":
            parsed.blocks.append(Block(raw, (icc_finding(body[12:], "GIF application extension"),), "icc"))
        else:
            name = (
                "".join(chr(c) if 32 <= c < 127 else "?" for c in body[1:12])
                if label == 0xFF
                else f"0x{label:02X}"
            )
            found = MetaFinding(Family.GIF_EXTENSION, f"GIF extension {name!r} ({len(body)} bytes)")
            parsed.blocks.append(Block(raw, (found,), "extension"))
    if not images:
        raise Malformed("GIF has no image")
    if data[pos:].strip(b"\x00"):
        found = MetaFinding(Family.TRAILING_DATA, f"{len(data) - pos} bytes after the GIF trailer")
        parsed.blocks.append(Block(data[pos:], (found,), "trailing"))
    return parsed


def build(parsed: Parsed, allowed: frozenset[Family]) -> bytes:
    """Serialise the kept blocks (image and control blocks always; metadata only if allowed).

    Parameters
    ----------
    parsed : Parsed
        Output of :func:`parse`.
    allowed : frozenset of Family
        Families whose blocks are kept.

    Returns
    -------
    bytes
        The stripped GIF.
    """
    return b"".join(b.data for b in parsed.blocks if b.allowed(allowed))
