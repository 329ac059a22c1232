"""PNG chunk walker (CRC-checked, bounded decompression) and chunk-by-chunk stripper.

Pixels live in IHDR/PLTE/IDAT (and APNG's fcTL/fdAT); those and the chunks that change how the
pixels are rendered are copied byte for byte, so nothing is re-encoded.
"""

from __future__ import annotations

import binascii
import struct
import zlib

from veilcv.core.metadata.blobs import classify_iptc, classify_irb, classify_xmp, icc_finding, xmp_orientation
from veilcv.core.metadata.exif import classify_exif, minimal_exif
from veilcv.core.metadata.families import (
    MAX_DECOMPRESSED,
    MAX_TEXT_CHUNK,
    Block,
    Family,
    Malformed,
    MetaFinding,
    Parsed,
)
from veilcv.core.metadata.pngdata import ImageLayout, check_chunk, check_streams

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
# Ancillary chunks that only describe how to render the pixels (colour, transparency, animation).
_RENDERING = frozenset(
    {
        b"tRNS",
        b"gAMA",
        b"cHRM",
        b"sRGB",
        b"sBIT",
        b"bKGD",
        b"pHYs",
        b"hIST",
        b"cICP",
        b"mDCv",
        b"cLLi",
        b"acTL",
        b"fcTL",
        b"fdAT",
        b"oFFs",
        b"vpAg",
    }
)
# Chunks whose free text (palette and calibration names, unit strings) no viewer shows.
_FREE_TEXT = frozenset({b"sPLT", b"pCAL", b"sCAL"})
_IDENTIFYING_KEYS = frozenset(
    {"author", "copyright", "software", "comment", "description", "source", "disclaimer", "title", "warning"}
)


def _printable(raw: bytes) -> str:
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in raw[:79])


class _Budget:
    """Decompression budget shared by every chunk of one file, so many small bombs fail too."""

    def __init__(self) -> None:
        self.left = MAX_DECOMPRESSED

    def inflate(self, data: bytes, what: str) -> bytes:
        """Decompress ``data`` within the budget, or raise :class:`Malformed` (never more memory)."""
        d = zlib.decompressobj()
        cap = min(self.left, MAX_TEXT_CHUNK)
        try:
            out = d.decompress(data, cap + 1)
        except zlib.error as exc:
            raise Malformed(f"{what}: corrupt compressed text ({exc})") from None
        if len(out) > cap or d.unconsumed_tail:
            limit = f"{MAX_TEXT_CHUNK >> 20} MiB per chunk, {MAX_DECOMPRESSED >> 20} MiB per file"
            raise Malformed(f"{what}: text decompresses beyond {limit} (decompression bomb?)")
        self.left -= len(out)
        return out


def _raw_profile(keyword: str, text: bytes, where: str, parsed: Parsed) -> list[MetaFinding]:
    """ImageMagick's ``Raw profile type X`` text: hex of an EXIF/IPTC/8BIM/ICC/XMP payload."""
    kind = keyword[len("raw profile type ") :]
    parts = text.split(b"\n", 3)
    try:
        payload = binascii.unhexlify(b"".join(parts[3].split())) if len(parts) == 4 else b""
    except (binascii.Error, ValueError):
        payload = b""
    if kind in ("exif", "app1"):
        body = payload[6:] if payload.startswith(b"Exif\x00\x00") else payload
        findings, orientation = classify_exif(body, where)
        parsed.set_alt_orientation(orientation)
        return findings or [MetaFinding(Family.EXIF, f"EXIF profile in {where}")]
    if kind == "iptc":
        return classify_iptc(payload, where)
    if kind == "8bim":
        return classify_irb(payload, where) or [MetaFinding(Family.PHOTOSHOP_IRB, f"8BIM profile in {where}")]
    if kind in ("icc", "icm"):
        return [icc_finding(payload, where)]
    if kind == "xmp":
        return classify_xmp(payload, where)
    return [MetaFinding(Family.OTHER, f"raw profile {kind!r} in {where}")]


def _text_chunk(ctype: bytes, body: bytes, budget: _Budget, parsed: Parsed) -> list[MetaFinding]:
    name = ctype.decode("ascii")
    key_raw, sep, rest = body.partition(b"\x00")
    if not sep or not 1 <= len(key_raw) <= 79:
        raise Malformed(f"{name} chunk without a valid keyword")
    keyword = _printable(key_raw)
    where = f"{name} {keyword!r}"
    if ctype == b"zTXt":
        text = budget.inflate(rest[1:], where)
    elif ctype == b"iTXt":
        if len(rest) < 2:
            raise Malformed(f"{where}: truncated iTXt header")
        compressed, fields = rest[0], rest[2:].split(b"\x00", 2)
        if len(fields) != 3:
            raise Malformed(f"{where}: truncated iTXt header")
        text = budget.inflate(fields[2], where) if compressed else fields[2]
    else:
        text = rest
    out = [MetaFinding(Family.PNG_TEXT, f"{where} ({len(text)} bytes)")]
    lower = keyword.lower()
    if lower == "xml:com.adobe.xmp":
        out.extend(classify_xmp(text, where))
        parsed.set_alt_orientation(xmp_orientation(text))
    elif lower.startswith("raw profile type "):
        out.extend(_raw_profile(lower, text, where, parsed))
    elif lower in _IDENTIFYING_KEYS:
        out.append(MetaFinding(Family.IDENTIFYING, f"{keyword} in {where}"))
    return out


def parse(data: bytes) -> Parsed:
    """Walk a PNG file chunk by chunk, checking every CRC.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Parsed
        One block per chunk (rendering chunks without findings), the eXIf orientation.

    Raises
    ------
    Malformed
        Bad signature, truncated chunk, CRC mismatch, unknown critical chunk, missing IHDR/IEND,
        or a text chunk that decompresses beyond the cap.
    """
    if not data.startswith(SIGNATURE):
        raise Malformed("expected the PNG signature, got something else")
    parsed = Parsed("PNG", [Block(SIGNATURE, (), "signature")])
    budget = _Budget()
    layout, previous = ImageLayout(), b""
    pos, size = 8, len(data)
    while True:
        if pos + 12 > size:
            raise Malformed("truncated PNG: no IEND chunk")
        length, ctype = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > size:
            raise Malformed(f"PNG chunk {_printable(ctype)!r} at offset {pos} runs past the end of the file")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(data[pos + 4 : pos + 8 + length]) != crc:
            raise Malformed(f"PNG chunk {_printable(ctype)!r} at offset {pos} has a bad CRC")
        if not ctype.isalpha():
            raise Malformed(f"PNG chunk type {ctype!r} at offset {pos} is not four letters")
        if pos == 8 and ctype != b"IHDR":
            raise Malformed(f"expected IHDR as the first PNG chunk, got {_printable(ctype)!r}")
        raw = data[pos:end]
        pos = end
        if ctype in _CRITICAL or ctype in _RENDERING:
            check_chunk(ctype, body, layout, previous)
            parsed.blocks.append(Block(raw, (), ctype.decode()))
            if ctype == b"IEND":
                break
        elif ctype in _FREE_TEXT:
            found = MetaFinding(Family.OTHER, f"{ctype.decode()} chunk with free text ({length} bytes)")
            parsed.blocks.append(Block(raw, (found,), "other"))
        elif ctype[0:1].isupper():
            raise Malformed(f"unknown critical PNG chunk {ctype.decode()!r}")
        elif ctype in (b"tEXt", b"zTXt", b"iTXt"):
            parsed.blocks.append(Block(raw, tuple(_text_chunk(ctype, body, budget, parsed)), "text"))
        elif ctype == b"eXIf":
            findings, orientation = classify_exif(body, "eXIf")
            if not parsed.seen_exif:
                parsed.orientation, parsed.seen_exif = orientation, True
            exif_found = MetaFinding(Family.PNG_EXIF, f"eXIf chunk ({length} bytes)")
            parsed.blocks.append(Block(raw, tuple([exif_found] * bool(findings) + findings), "exif"))
        elif ctype == b"tIME":
            parsed.blocks.append(Block(raw, (MetaFinding(Family.PNG_TIME, "tIME chunk"),), "time"))
        elif ctype == b"iCCP":
            parsed.blocks.append(Block(raw, (icc_finding(body, "iCCP"),), "icc"))
        else:
            found = MetaFinding(
                Family.OTHER, f"unknown ancillary PNG chunk {ctype.decode()!r} ({length} bytes)"
            )
            parsed.blocks.append(Block(raw, (found,), "other"))
        previous = ctype
    slack = check_streams(layout)
    if slack:
        _cut_idat(parsed, slack)
    if data[pos:]:
        found = MetaFinding(Family.TRAILING_DATA, f"{size - pos} bytes after IEND")
        parsed.blocks.append(Block(data[pos:], (found,), "trailer"))
    return parsed.finish()


def _cut_idat(parsed: Parsed, slack: int) -> None:
    """Mark the IDAT chunks as holding ``slack`` bytes past the zlib stream; strip writes one IDAT without."""
    idats = [i for i, b in enumerate(parsed.blocks) if b.kind == "IDAT"]
    stream = b"".join(parsed.blocks[i].data[8:-4] for i in idats)
    found = MetaFinding(
        Family.OTHER, f"{slack} bytes after the compressed image in IDAT (no decoder reads them)"
    )
    for n, i in enumerate(idats):
        block = parsed.blocks[i]
        first = chunk(b"IDAT", stream[: len(stream) - slack]) if n == 0 else b""
        parsed.blocks[i] = Block(block.data, (found,), "IDAT", first)


def chunk(ctype: bytes, body: bytes) -> bytes:
    """Serialise one PNG chunk with its CRC."""
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def build(parsed: Parsed, allowed: frozenset[Family]) -> bytes:
    """Serialise the kept chunks; re-add the orientation as a one-tag eXIf before the first IDAT.

    Parameters
    ----------
    parsed : Parsed
        Output of :func:`parse`.
    allowed : frozenset of Family
        Families whose chunks are kept.

    Returns
    -------
    bytes
        The stripped PNG; kept chunks are byte-identical to the input's.
    """
    kept = [b for b in parsed.blocks if b.allowed(allowed) or b.fallback]
    out = [b.data if b.allowed(allowed) else b.fallback for b in kept]
    if parsed.orientation != 1 and not any(b.kind == "exif" for b in kept):
        at = next(i for i, b in enumerate(kept) if b.kind in ("IDAT", "IEND"))
        out.insert(at, chunk(b"eXIf", minimal_exif(parsed.orientation)))
    return b"".join(out)
