"""BMP checker and in-place stripper: the only metadata a BMP holds is a V4/V5 colour profile
(embedded, or *linked by file path*) and bytes after the image; pixels are never touched."""

from __future__ import annotations

import struct

from veilcv.core.metadata.families import Block, Family, Malformed, MetaFinding, Parsed

_DIB_SIZES = (12, 40, 52, 56, 64, 108, 124)
_EMBEDDED, _LINKED, _SRGB = 0x4D424544, 0x4C494E4B, 0x73524742  # 'MBED', 'LINK', 'sRGB'


def _layout(data: bytes) -> tuple[int, int, int, int, int]:
    """(dib size, pixel start, pixel end, profile start, profile size); profile fields 0 when none."""
    if len(data) < 26 or data[:2] != b"BM":
        raise Malformed("expected a BMP header, got something else")
    (offbits,) = struct.unpack_from("<I", data, 10)
    (dib,) = struct.unpack_from("<I", data, 14)
    if dib not in _DIB_SIZES or 14 + dib > len(data):
        raise Malformed(f"BMP header size {dib} is not one of {_DIB_SIZES} or runs past the file")
    if dib == 12:
        w, h = struct.unpack_from("<HH", data, 18)
        bpp, comp, size_image = struct.unpack_from("<H", data, 24)[0], 0, 0
    else:
        w, h = struct.unpack_from("<ii", data, 18)
        bpp, comp, size_image = struct.unpack_from("<HII", data, 28)
    if not size_image:
        size_image = ((w * bpp + 31) // 32) * 4 * abs(h)
    end = offbits + size_image
    if offbits < 14 + dib or end > len(data):
        raise Malformed(
            f"BMP pixel data ({offbits}..{end}) runs past the end of the file ({len(data)} bytes)"
        )
    prof_start = prof_size = 0
    if dib == 124:
        cstype, pdata, psize = (
            struct.unpack_from("<I", data, 70)[0],
            *struct.unpack_from("<II", data, 14 + 112),
        )
        if cstype in (_EMBEDDED, _LINKED):
            prof_start, prof_size = 14 + pdata, psize
            if prof_start + prof_size > len(data):
                raise Malformed("BMP colour profile runs past the end of the file")
    return dib, offbits, end, prof_start, prof_size


def parse(data: bytes) -> Parsed:
    """Check a BMP: colour profile (embedded or linked) and data after the image.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Parsed
        One block for the headers and pixels (with the profile finding), one for trailing data.

    Raises
    ------
    Malformed
        Unknown header size, or pixel data / profile beyond the end of the file.
    """
    dib, _, end, prof_start, prof_size = _layout(data)
    findings: list[MetaFinding] = []
    if prof_size:
        linked = struct.unpack_from("<I", data, 70)[0] == _LINKED
        what = "linked colour profile (a file path)" if linked else f"ICC profile in BMP ({prof_size} bytes)"
        findings.append(MetaFinding(Family.ICC_PROFILE, what))
    stop = max(end, prof_start + prof_size)
    parsed = Parsed("BMP", [Block(data[:stop], tuple(findings), "bmp")])
    if data[stop:].strip(b"\x00"):
        found = MetaFinding(Family.TRAILING_DATA, f"{len(data) - stop} bytes after the image")
        parsed.blocks.append(Block(data[stop:], (found,), "trailer"))
    return parsed


def build(parsed: Parsed, allowed: frozenset[Family]) -> bytes:
    """Drop the profile (header says sRGB instead) and trailing bytes; pixels are copied unchanged.

    Parameters
    ----------
    parsed : Parsed
        Output of :func:`parse`.
    allowed : frozenset of Family
        Families to keep.

    Returns
    -------
    bytes
        The stripped BMP.
    """
    main = parsed.blocks[0]
    out = bytearray(main.data)
    if not main.allowed(allowed):
        _, offbits, end, prof_start, prof_size = _layout(bytes(out))
        struct.pack_into("<I", out, 70, _SRGB)
        struct.pack_into("<II", out, 14 + 112, 0, 0)
        if prof_start >= end:
            del out[end:]
        else:  # a profile between the headers and the pixels: blank it, the offsets stay valid
            out[prof_start : prof_start + prof_size] = bytes(prof_size)
    tail = [b.data for b in parsed.blocks[1:] if b.allowed(allowed)]
    out += b"".join(tail)
    struct.pack_into("<I", out, 2, len(out))
    return bytes(out)
