"""JPEG (and MPO/JPS) segment walker and lossless stripper.

Stripping copies every segment the decoder needs (SOF, DQT, DHT, DRI, SOS and the entropy-coded
data, a clean JFIF APP0, the Adobe APP14 that selects the colour transform) byte for byte and drops
the rest, so the decoded pixels cannot change. The orientation survives as a one-tag EXIF block.
"""

from __future__ import annotations

import struct

from veilcv.core.metadata.blobs import classify_irb, classify_xmp, icc_finding, xmp_orientation
from veilcv.core.metadata.exif import classify_exif, minimal_exif
from veilcv.core.metadata.families import Block, Family, Malformed, MetaFinding, Parsed
from veilcv.core.metadata.jpegscan import scan_slack

# End of an entropy-coded segment: 0xFF (plus fill bytes) followed by anything but a stuffed zero
# or a restart marker.
_ESSENTIAL = frozenset(range(0xC0, 0xD0)) | {0xDB, 0xDD, 0xDC, 0xDF, 0xF7, 0xF8}
_SOF = (_ESSENTIAL & frozenset(range(0xC0, 0xD0))) - {0xC4, 0xC8, 0xCC} | {0xF7}
_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/\x00"


def _ident(payload: bytes) -> str:
    head = payload.split(b"\x00", 1)[0][:24]
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in head)


def scan_end(data: bytes, pos: int) -> int:
    """Offset of the first marker after entropy-coded data starting at ``pos``, or -1.

    A marker is a run of 0xFF bytes followed by a byte other than 0x00 (a stuffed data byte),
    0xD0-0xD7 (restart markers, part of the scan) or 0xFF; the offset is the run's first byte.
    The scan of a redacted 1080p photo holds some 3,000 0xFF bytes: jumping between them with
    ``bytes.find`` took 0.7 ms where a regular expression took 2.7 ms (every output is checked).
    """
    n = len(data)
    find = data.find
    while True:
        i = find(b"\xff", pos)
        if i < 0:
            return -1
        j = i + 1
        while j < n and data[j] == 0xFF:
            j += 1
        if j >= n:
            return -1
        b = data[j]
        if b != 0 and not 0xD0 <= b <= 0xD7:
            return i
        pos = j + 1


def adobe_app14(transform: int) -> bytes:
    """The canonical Adobe APP14 segment (version 100, no flags) with a colour transform 0, 1 or 2."""
    return b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + bytes([min(transform, 2)])


def _tables(m: int, payload: bytes) -> int:
    """Bytes left over after the tables of a DQT/DHT payload, or after a fixed-size segment's fields.

    A decoder reads the tables and nothing else; left-over bytes are slack that could carry anything.
    Raises Malformed when a table runs past the segment.
    """
    pos, n = 0, len(payload)
    if m == 0xDB:  # DQT: Pq/Tq byte, then 64 one- or two-byte values
        while pos < n:
            pq, tq = payload[pos] >> 4, payload[pos] & 15
            if pq > 1 or tq > 3:
                raise Malformed(f"DQT table with precision {pq} and id {tq}")
            pos += 1 + 64 * (pq + 1)
    elif m == 0xC4:  # DHT: Tc/Th byte, 16 code counts, the values
        while pos < n:
            if pos + 17 > n:
                raise Malformed("DHT table header runs past its segment")
            pos += 17 + sum(payload[pos + 1 : pos + 17])
    elif m in _SOF and m != 0xF7:
        pos = 6 + 3 * payload[5] if n >= 6 else n + 1
    elif m == 0xDA:
        pos = 1 + 2 * payload[0] + 3 if n else 1
    elif m in (0xDD, 0xDC):  # DRI, DNL
        pos = 2
    else:
        return 0
    if pos > n:
        raise Malformed(f"JPEG segment 0xFF{m:02X} is shorter than its fields")
    return n - pos


def _classify_app(m: int, payload: bytes, seg: bytes) -> Block:
    n = m - 0xE0
    where = f"APP{n}"
    if m == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
        # The header is 14 bytes; a thumbnail of X*Y*3 bytes may follow, nothing else. Dropped,
        # it is rewritten as the bare 14-byte header (version, units and density kept).
        clean = b"\xff\xe0" + struct.pack(">H", 16) + payload[:12] + b"\x00\x00"
        thumb = 3 * payload[12] * payload[13]
        found = []
        if thumb:
            found.append(MetaFinding(Family.THUMBNAIL, f"JFIF thumbnail {payload[12]}x{payload[13]} in APP0"))
        if len(payload) != 14 + thumb:
            extra = len(payload) - 14 - thumb
            found.append(MetaFinding(Family.OTHER, f"JFIF APP0 with {extra:+d} bytes beyond its header"))
        return Block(seg, tuple(found), "jfif", clean)
    if m == 0xE0 and payload.startswith(b"JFXX\x00"):
        return Block(seg, (MetaFinding(Family.THUMBNAIL, "JFXX thumbnail in APP0"),), "app")
    if m == 0xE1 and payload[:4] == b"Exif" and payload[4:5] == b"\x00":
        findings, orientation = classify_exif(payload[6:], where)
        if payload[5:6] != b"\x00" and not findings:
            findings = [MetaFinding(Family.EXIF, f"EXIF in {where} with a non-zero header pad byte")]
        return Block(seg, tuple(findings), "exif", orientation=orientation)
    if m == 0xE1 and payload.startswith(_XMP_ID):
        return Block(seg, tuple(classify_xmp(payload[len(_XMP_ID) :], where)), "xmp")
    if m == 0xE1 and payload.startswith(_XMP_EXT_ID):
        return Block(
            seg, tuple(classify_xmp(payload[len(_XMP_EXT_ID) + 40 :], f"extended XMP {where}")), "app"
        )
    if m == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
        return Block(seg, (icc_finding(payload[14:], where),), "app")
    if m == 0xE2 and payload.startswith(b"MPF\x00"):
        return Block(seg, (MetaFinding(Family.MPF, f"MPF index in {where}"),), "app")
    if m == 0xED and payload.startswith(b"Photoshop 3.0\x00"):
        found = classify_irb(payload[14:], where) or [
            MetaFinding(Family.PHOTOSHOP_IRB, f"empty IRB in {where}")
        ]
        return Block(seg, tuple(found), "app")
    if m == 0xEE and payload.startswith(b"Adobe") and len(payload) >= 12:
        # Needed to decode the pixels: the colour transform (last byte). Only a segment whose every
        # field holds a known value is clean; any other is reported and rewritten canonically.
        canonical = adobe_app14(payload[11])
        version, flags0, flags1, transform = struct.unpack(">HHHB", payload[5:12])
        if (
            len(payload) == 12
            and version in (100, 101)
            and not flags0 & 0x3FFF
            and not flags1
            and transform < 3
        ):
            return Block(seg, (), "adobe")  # every field a known value (Photoshop sets flags0 bits 15, 14)
        found = MetaFinding(
            Family.OTHER, f"Adobe APP14 with unknown field values or length ({len(payload)} bytes)"
        )
        return Block(seg, (found,), "adobe", canonical)
    return Block(
        seg,
        (MetaFinding(Family.OTHER, f"{where} segment {_ident(payload)!r} ({len(payload)} bytes)"),),
        "app",
    )


def parse(data: bytes) -> Parsed:
    """Walk a JPEG file segment by segment.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Parsed
        Blocks in file order (structural ones with no findings), the EXIF orientation.

    Raises
    ------
    Malformed
        Truncated segments or scans, a missing end-of-image marker, no frame or scan, or a marker
        this walker does not know.
    """
    if data[:3] != b"\xff\xd8\xff":
        raise Malformed("expected a JPEG start-of-image marker, got something else")
    parsed = Parsed("JPEG", [Block(b"\xff\xd8", (), "soi")])
    pos, size, frames, scans = 2, len(data), 0, 0
    while True:
        if pos >= size:
            raise Malformed("truncated JPEG: no end-of-image marker")
        if data[pos] != 0xFF:
            nxt = data.find(b"\xff", pos)
            if nxt < 0:
                raise Malformed("truncated JPEG: no end-of-image marker")
            found = MetaFinding(Family.OTHER, f"{nxt - pos} unparsed bytes between segments at offset {pos}")
            parsed.blocks.append(Block(data[pos:nxt], (found,), "junk"))
            pos = nxt
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            raise Malformed("truncated JPEG: no end-of-image marker")
        m = data[pos]
        pos += 1
        if m == 0x00 or 0xD0 <= m <= 0xD7 or m == 0x01:
            # Stray stuffed byte, restart or TEM outside a scan: carries nothing, decoders skip it.
            continue
        if m == 0xD9:
            parsed.blocks.append(Block(b"\xff\xd9", (), "eoi"))
            break
        if pos + 2 > size:
            raise Malformed(f"truncated JPEG: marker 0xFF{m:02X} at the end of the file")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > size:
            raise Malformed(f"JPEG segment 0xFF{m:02X} at offset {pos - 2} runs past the end of the file")
        seg = b"\xff" + bytes([m]) + data[pos : pos + length]
        payload = data[pos + 2 : pos + length]
        pos += length
        if m == 0xDA:
            if left := _tables(m, payload):
                raise Malformed(
                    f"JPEG scan header at offset {pos - length - 2} has {left} bytes after its fields"
                )
            end = scan_end(data, pos)
            if end < 0:
                raise Malformed("truncated JPEG: scan data without an end-of-image marker")
            parsed.blocks.append(Block(seg + data[pos:end], (), "scan"))
            pos = end
            scans += 1
        elif 0xE0 <= m <= 0xEF:
            block = _classify_app(m, payload, seg)
            if block.kind == "exif" and not parsed.seen_exif:
                parsed.orientation, parsed.seen_exif = block.orientation, True
            elif block.kind == "xmp":
                parsed.set_alt_orientation(xmp_orientation(payload))
            parsed.blocks.append(block)
        elif m == 0xFE:
            parsed.blocks.append(
                Block(seg, (MetaFinding(Family.COMMENT, f"COM segment ({len(payload)} bytes)"),))
            )
        elif m in _ESSENTIAL:
            if left := _tables(m, payload):
                raise Malformed(
                    f"JPEG segment 0xFF{m:02X} at offset {pos - length - 2} has {left} bytes after its fields"
                )
            frames += m in _SOF
            parsed.blocks.append(Block(seg, (), "frame"))
        else:
            raise Malformed(f"unsupported JPEG marker 0xFF{m:02X} at offset {pos - length - 2}")
    if not frames or not scans:
        raise Malformed("JPEG has no frame header or no scan")
    tail = data[pos:]
    if tail.strip(b"\x00\xff"):
        what = "an embedded JPEG" if tail.lstrip(b"\x00")[:2] == b"\xff\xd8" else "unknown data"
        found = MetaFinding(Family.TRAILING_DATA, f"{len(tail)} bytes after the end-of-image marker ({what})")
        parsed.blocks.append(Block(tail, (found,), "trailer"))
    elif tail:
        parsed.blocks.append(Block(tail, (), "padding"))
    for index, cut in scan_slack(parsed).items():
        scan = parsed.blocks[index]
        found = MetaFinding(
            Family.OTHER, f"{cut} bytes after the coded data of a scan (no decoder reads them)"
        )
        parsed.blocks[index] = Block(scan.data, (found,), "scan", scan.data[:-cut])
    return parsed.finish()


def build(parsed: Parsed, allowed: frozenset[Family]) -> bytes:
    """Serialise the kept blocks; re-add the orientation as a one-tag EXIF APP1 when EXIF was dropped.

    Parameters
    ----------
    parsed : Parsed
        Output of :func:`parse`.
    allowed : frozenset of Family
        Families whose blocks are kept.

    Returns
    -------
    bytes
        The stripped JPEG (junk and padding are always dropped).
    """
    out: list[bytes] = []
    exif_kept = False
    for block in parsed.blocks:
        if block.kind == "padding":
            continue
        if block.allowed(allowed):
            out.append(block.data)
            exif_kept |= block.kind == "exif"
        elif block.fallback:
            out.append(block.fallback)
    if parsed.orientation != 1 and not exif_kept:
        payload = b"Exif\x00\x00" + minimal_exif(parsed.orientation)
        at = 2 if len(out) > 1 and out[1][:2] == b"\xff\xe0" else 1
        out.insert(at, b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload)
    return b"".join(out)
