"""Units inside a coded HEVC or AV1 image that carry no picture: SEI, filler, metadata and padding.

An HEVC image item is a run of length-prefixed NAL units; an AV1 one a run of OBUs. Besides the
coded slices or tiles and their parameter sets, both formats allow units that decoders skip: HEVC
SEI messages (user data can hold any bytes), filler data and unspecified types; AV1 metadata OBUs
(ITU-T T.35 user data), padding OBUs and reserved types. Strip drops them and keeps every other
unit byte for byte; the HEIF writer then checks that the picture decodes the same.
"""

from __future__ import annotations

from veilcv.core.metadata.families import Malformed

#: HEVC NAL unit types kept: VCL (0-31) and the VPS, SPS and PPS (32-34).
_HEVC_KEEP = range(0, 35)
#: AV1 OBU types kept: sequence header, temporal delimiter, frame header, tile group, frame,
#: redundant frame header, tile list.
_AV1_KEEP = frozenset({1, 2, 3, 4, 6, 7, 8})


def hevc(data: bytes, length_size: int) -> tuple[bytes, int]:
    """Drop the non-picture NAL units of a length-prefixed HEVC stream.

    Parameters
    ----------
    data : bytes
        The item's data.
    length_size : int
        Bytes of each NAL unit's length prefix (``lengthSizeMinusOne + 1`` from ``hvcC``).

    Returns
    -------
    bytes, int
        The stream without SEI, filler and unspecified units, and how many were dropped.

    Raises
    ------
    Malformed
        A NAL unit that runs past the data.
    """
    out, pos, dropped = [], 0, 0
    while pos < len(data):
        if pos + length_size > len(data):
            raise Malformed("HEVC NAL unit length runs past the image data")
        n = int.from_bytes(data[pos : pos + length_size], "big")
        end = pos + length_size + n
        if n < 2 or end > len(data):
            raise Malformed("HEVC NAL unit runs past the image data")
        if (data[pos + length_size] >> 1) & 0x3F in _HEVC_KEEP:
            out.append(data[pos:end])
        else:
            dropped += 1
        pos = end
    return b"".join(out), dropped


def hvcc(raw: bytes) -> tuple[bytes, int]:
    """An ``hvcC`` property box with only its VPS/SPS/PPS arrays (SEI arrays dropped)."""
    body = raw[8:]
    if len(body) < 23:
        raise Malformed("HEIF hvcC property shorter than its header")
    pos, arrays, dropped = 23, [], 0
    for _ in range(body[22]):
        start = pos
        kind, count = body[pos] & 0x3F, int.from_bytes(body[pos + 1 : pos + 3], "big")
        pos += 3
        for _ in range(count):
            pos += 2 + int.from_bytes(body[pos : pos + 2], "big")
        if kind in (32, 33, 34):
            arrays.append(body[start:pos])
        else:
            dropped += count
    if not dropped:
        return raw, 0
    new = body[:22] + bytes([len(arrays)]) + b"".join(arrays)
    return (len(new) + 8).to_bytes(4, "big") + b"hvcC" + new, dropped


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        if pos + i >= len(data):
            raise Malformed("AV1 OBU size runs past the image data")
        value |= (data[pos + i] & 0x7F) << (7 * i)
        if not data[pos + i] & 0x80:
            return value, pos + i + 1
    raise Malformed("AV1 OBU size longer than 8 bytes")


def av1(data: bytes) -> tuple[bytes, int]:
    """Drop the metadata, padding and reserved OBUs of an AV1 image item (or of ``av1C``'s OBUs).

    Parameters
    ----------
    data : bytes
        A run of OBUs.

    Returns
    -------
    bytes, int
        The kept OBUs, byte for byte, and how many were dropped.

    Raises
    ------
    Malformed
        An OBU that runs past the data.
    """
    out, pos, dropped = [], 0, 0
    while pos < len(data):
        head = data[pos]
        kind, ext, sized = (head >> 3) & 15, head >> 2 & 1, head >> 1 & 1
        body = pos + 1 + ext
        if sized:
            size, body = _leb128(data, body)
            end = body + size
        else:
            end = len(data)
        if head & 0x80 or end > len(data):
            raise Malformed("AV1 OBU runs past the image data")
        if kind in _AV1_KEEP:
            out.append(data[pos:end])
        else:
            dropped += 1
        pos = end
    return b"".join(out), dropped
