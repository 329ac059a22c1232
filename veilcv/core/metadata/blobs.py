"""Classifiers for payloads that several containers embed: XMP packets, Photoshop IRB, IPTC-IIM, ICC."""

from __future__ import annotations

import re
import struct

from veilcv.core.metadata.families import Family, MetaFinding

# GPS and location properties in XMP (exif:, exifEX:, Iptc4xmpExt:, photoshop: and MWG namespaces).
_XMP_GPS = re.compile(
    rb"GPS(?:Latitude|Longitude|Altitude|Coordinates|Position|DestLatitude|DestLongitude|Timestamp)"
    rb"|LocationShown|LocationCreated|(?:photoshop|Iptc4xmpCore):(?:City|State|Country|Location)"
    rb"|GeoCoordinates|:GeoTag|:Latitude\b|:Longitude\b"
)
_XMP_IDENTIFYING = re.compile(
    rb"(?:xmpMM:(?:DocumentID|InstanceID|OriginalDocumentID)|xmp:CreatorTool|dc:creator|dc:rights"
    rb"|aux:SerialNumber|aux:OwnerName|exifEX:BodySerialNumber|exifEX:CameraOwnerName|aux:LensSerialNumber"
    rb"|tiff:Artist|tiff:Software|exif:UserComment|exifEX:LensSerialNumber|Iptc4xmpCore:CreatorContactInfo)\b"
)


_XMP_MAKERNOTE = re.compile(rb"(?i)maker_?note")
_XMP_ORIENTATION = re.compile(rb"tiff:Orientation\s*(?:=\s*[\"']|>)\s*([1-8])")


def xmp_orientation(packet: bytes) -> int | None:
    """The ``tiff:Orientation`` of an XMP packet (attribute or element form), or None."""
    hit = _XMP_ORIENTATION.search(packet)
    return int(hit.group(1)) if hit else None


def classify_xmp(packet: bytes, where: str) -> list[MetaFinding]:
    """Findings of one XMP packet: always ``xmp``, plus ``xmp_gps`` and ``identifying`` by property name.

    Parameters
    ----------
    packet : bytes
        The XMP packet (any encoding that keeps ASCII property names readable).
    where : str
        Location for the finding details.

    Returns
    -------
    list of MetaFinding
        Also ``makernotes`` when the packet carries maker notes (e.g. Google's HDR+ notes).
    """
    text = packet.replace(b"\x00", b"") if packet[:2] in (b"\xfe\xff", b"\xff\xfe") else packet
    out = [MetaFinding(Family.XMP, f"XMP packet in {where} ({len(packet)} bytes)")]
    if _XMP_GPS.search(text):
        out.append(MetaFinding(Family.XMP_GPS, f"GPS/location properties in XMP in {where}"))
    if _XMP_MAKERNOTE.search(text):
        out.append(MetaFinding(Family.MAKERNOTES, f"maker notes in XMP in {where}"))
    names = sorted({m.decode("ascii", "replace") for m in _XMP_IDENTIFYING.findall(text)})
    if names:
        out.append(MetaFinding(Family.IDENTIFYING, f"{', '.join(names)} in XMP in {where}"))
    return out


_IPTC_NAMES = {
    (2, 80): "By-line",
    (2, 116): "CopyrightNotice",
    (2, 120): "Caption-Abstract",
    (2, 118): "Contact",
}


def classify_iptc(data: bytes, where: str) -> list[MetaFinding]:
    """Findings of an IPTC-IIM record stream (``0x1C record dataset length value`` tuples).

    Parameters
    ----------
    data : bytes
        The IIM stream.
    where : str
        Location for the finding details.

    Returns
    -------
    list of MetaFinding
        ``iptc`` always; ``identifying`` for by-line, copyright, caption and contact datasets.
    """
    names: set[str] = set()
    pos, count = 0, 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        rec, ds, length = data[pos + 1], data[pos + 2], struct.unpack_from(">H", data, pos + 3)[0]
        pos += 5
        if length & 0x8000:  # extended length: the low bits give the size of the length field
            nbytes = length & 0x7FFF
            length = int.from_bytes(data[pos : pos + nbytes], "big")
            pos += nbytes
        pos += length
        count += 1
        if (rec, ds) in _IPTC_NAMES:
            names.add(_IPTC_NAMES[(rec, ds)])
    out = [MetaFinding(Family.IPTC, f"IPTC-IIM in {where} ({count} datasets)")]
    if names:
        out.append(MetaFinding(Family.IDENTIFYING, f"{', '.join(sorted(names))} in IPTC in {where}"))
    return out


_IRB_IPTC, _IRB_THUMBS = 0x0404, (0x0409, 0x040C)


def classify_irb(data: bytes, where: str) -> list[MetaFinding]:
    """Findings of Photoshop image resource blocks (``8BIM`` resources).

    Parameters
    ----------
    data : bytes
        The resource blocks, without the ``Photoshop 3.0\\0`` prefix.
    where : str
        Location for the finding details.

    Returns
    -------
    list of MetaFinding
        ``iptc`` for resource 0x0404, ``thumbnail`` for 0x0409/0x040C, ``xmp`` for 0x0424,
        ``photoshop_irb`` for the rest (and for blocks that do not parse).
    """
    out: list[MetaFinding] = []
    other: list[int] = []
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] in (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR"):
        rid = struct.unpack_from(">H", data, pos + 4)[0]
        nlen = data[pos + 6]
        pos += 6 + ((nlen + 2) & ~1)  # Pascal name padded to even length
        if pos + 4 > len(data):
            break
        (size,) = struct.unpack_from(">I", data, pos)
        body = data[pos + 4 : pos + 4 + size]
        pos += 4 + size + (size & 1)
        if rid == _IRB_IPTC:
            out.extend(classify_iptc(body, f"Photoshop IRB in {where}"))
        elif rid in _IRB_THUMBS:
            out.append(MetaFinding(Family.THUMBNAIL, f"Photoshop thumbnail in {where} ({size} bytes)"))
        elif rid == 0x0424:
            out.extend(classify_xmp(body, f"Photoshop IRB in {where}"))
        else:
            other.append(rid)
    if other or pos < len(data.rstrip(b"\x00")):
        out.append(MetaFinding(Family.PHOTOSHOP_IRB, f"Photoshop IRB in {where} ({len(other)} resources)"))
    return out


def icc_finding(data: bytes, where: str) -> MetaFinding:
    """The ``icc_profile`` finding of an embedded profile (its size, never its description)."""
    return MetaFinding(Family.ICC_PROFILE, f"ICC profile in {where} ({len(data)} bytes)")
