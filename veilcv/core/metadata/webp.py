"""RIFF/WebP chunk walker and chunk-by-chunk stripper (fixes the VP8X feature flags, never re-encodes)."""

from __future__ import annotations

import struct

from veilcv.core.metadata.blobs import classify_xmp, icc_finding, xmp_orientation
from veilcv.core.metadata.exif import classify_exif, minimal_exif
from veilcv.core.metadata.families import Block, Family, Malformed, MetaFinding, Parsed
from veilcv.core.metadata.webpdata import Chunk, sub_chunks, trim_bitstreams

_IMAGE = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})
_ICC, _ALPHA, _EXIF, _XMP, _ANIM = 0x20, 0x10, 0x08, 0x04, 0x02
_RESERVED = 0xC1  # VP8X flag bits the format reserves (must be zero)


def _fourcc(raw: bytes) -> str:
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in raw)


def parse(data: bytes) -> Parsed:
    """Walk a RIFF/WebP file chunk by chunk.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Parsed
        One block per chunk; the EXIF orientation.

    Raises
    ------
    Malformed
        Bad RIFF header, truncated chunks, or a file whose first chunk is not VP8/VP8L/VP8X.
    """
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Malformed("expected a RIFF/WEBP header, got something else")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = riff_size + 8
    if end > len(data) or riff_size & 1:
        raise Malformed(f"RIFF size {riff_size} does not match the file size {len(data)}")
    parsed = Parsed("WEBP", [])
    image: dict[int, Chunk] = {}  # block index -> the image chunk, for the bitstream slack search
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise Malformed(f"truncated WebP chunk header at offset {pos}")
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        stop = pos + 8 + size + (size & 1)
        if pos + 8 + size > end:
            raise Malformed(f"WebP chunk {_fourcc(fourcc)!r} at offset {pos} runs past the RIFF end")
        body = data[pos + 8 : pos + 8 + size]
        raw = data[pos : pos + 8 + size] + (b"\x00" if size & 1 else b"")
        if pos == 12 and fourcc not in (b"VP8 ", b"VP8L", b"VP8X"):
            raise Malformed(f"expected VP8/VP8L/VP8X as the first WebP chunk, got {_fourcc(fourcc)!r}")
        if (
            fourcc == b"VP8X"
            and size != 10
            or fourcc == b"ANIM"
            and size != 6
            or fourcc == b"ANMF"
            and size < 16
        ):
            raise Malformed(f"WebP {_fourcc(fourcc)!r} chunk of {size} bytes, not its defined size")
        if size & 1 and data[pos + 8 + size : pos + 9 + size] not in (b"\x00", b""):
            found = MetaFinding(Family.OTHER, f"non-zero pad byte after WebP chunk {_fourcc(fourcc)!r}")
            parsed.extra.append(found)  # raw is written with a zero pad byte
        pos = stop
        if fourcc in _IMAGE:
            if fourcc == b"VP8X" and (body[0] & _RESERVED or body[1:4] != b"\x00\x00\x00"):
                parsed.extra.append(MetaFinding(Family.OTHER, "VP8X reserved bits set"))
            if fourcc == b"ANMF":
                image[len(parsed.blocks)] = Chunk(fourcc, body[:16], sub_chunks(body[16:]))
            else:
                image[len(parsed.blocks)] = Chunk(fourcc, body)
            parsed.blocks.append(Block(raw, (), fourcc.decode().strip()))
        elif fourcc == b"EXIF":
            payload = body[6:] if body.startswith(b"Exif\x00\x00") else body
            findings, orientation = classify_exif(payload, "EXIF chunk")
            if not parsed.seen_exif:
                parsed.orientation, parsed.seen_exif = orientation, True
            head = [MetaFinding(Family.WEBP_EXIF, f"EXIF chunk ({size} bytes)")] if findings else []
            parsed.blocks.append(Block(raw, tuple(head + findings), "exif"))
        elif fourcc == b"XMP ":
            found = [
                MetaFinding(Family.WEBP_XMP, f"XMP chunk ({size} bytes)"),
                *classify_xmp(body, "XMP chunk"),
            ]
            parsed.set_alt_orientation(xmp_orientation(body))
            parsed.blocks.append(Block(raw, tuple(found), "xmp"))
        elif fourcc == b"ICCP":
            parsed.blocks.append(Block(raw, (icc_finding(body, "ICCP chunk"),), "icc"))
        else:
            found = MetaFinding(Family.OTHER, f"unknown WebP chunk {_fourcc(fourcc)!r} ({size} bytes)")
            parsed.blocks.append(Block(raw, (found,), "other"))
    trimmed = {id(c): n for c, n in trim_bitstreams(list(image.values()))}
    for index, chunk in image.items():
        if id(chunk) in trimmed:
            found = MetaFinding(
                Family.OTHER, f"{trimmed[id(chunk)]} bytes after the image data in {_fourcc(chunk.fourcc)!r}"
            )
            old = parsed.blocks[index]
            parsed.blocks[index] = Block(old.data, (found,), old.kind, chunk.serialise())
    if data[end:]:
        found = MetaFinding(Family.TRAILING_DATA, f"{len(data) - end} bytes after the RIFF container")
        parsed.blocks.append(Block(data[end:], (found,), "trailer"))
    return parsed.finish()


def build(parsed: Parsed, allowed: frozenset[Family]) -> bytes:
    """Serialise the kept chunks with a corrected VP8X flag byte and RIFF size.

    Parameters
    ----------
    parsed : Parsed
        Output of :func:`parse`.
    allowed : frozenset of Family
        Families whose chunks are kept.

    Returns
    -------
    bytes
        The stripped WebP; image chunks are byte-identical to the input's.
    """
    chunks: list[bytes] = []
    kinds: list[str] = []
    for b in parsed.blocks:
        if b.kind != "trailer" and (b.allowed(allowed) or b.fallback):
            chunks.append(b.data if b.allowed(allowed) else b.fallback)  # fallback: the trimmed chunk
            kinds.append(b.kind)
    if parsed.orientation != 1 and "exif" not in kinds:
        body = minimal_exif(parsed.orientation)
        at = kinds.index("xmp") if "xmp" in kinds else len(chunks)
        chunks.insert(at, b"EXIF" + struct.pack("<I", len(body)) + body)
        kinds.insert(at, "exif")
    if kinds and kinds[0] == "VP8X":
        vp8x = bytearray(chunks[0])
        flags = vp8x[8] & (_ALPHA | _ANIM)
        flags |= _ICC * ("icc" in kinds) | _EXIF * ("exif" in kinds) | _XMP * ("xmp" in kinds)
        vp8x[8:12] = bytes([flags, 0, 0, 0])  # reserved bits and bytes zeroed
        chunks[0] = bytes(vp8x)
    body = b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body
