"""TIFF/EXIF IFD walker with bounds checks, shared by EXIF blocks (JPEG, PNG, WebP) and TIFF files.

The walker never trusts an offset: every IFD and every value is checked against the buffer, IFD
loops are cut, and entry counts are capped. In an EXIF *block* a problem only marks the block as
malformed (the block is dropped whole on strip, so nothing in it survives); in a TIFF *file* the
caller treats problems as fatal ("cannot verify").
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from veilcv.core.metadata.families import Family, Malformed, MetaFinding

_TYPE_SIZES = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
_MAX_IFDS = 512
_MAX_ENTRIES = 4096

EXIF_IFD, GPS_IFD, INTEROP_IFD, SUB_IFDS = 34665, 34853, 40965, 330
ORIENTATION = 274
MAKERNOTE = 37500

#: Tags whose values identify a person, a device or a document (reported by name, never value).
IDENTIFYING_TAGS: dict[int, str] = {
    269: "DocumentName",
    270: "ImageDescription",
    305: "Software",
    315: "Artist",
    316: "HostComputer",
    33432: "Copyright",
    37510: "UserComment",
    40092: "XPComment",
    40093: "XPAuthor",
    42016: "ImageUniqueID",
    42032: "CameraOwnerName",
    42033: "BodySerialNumber",
    42037: "LensSerialNumber",
    50735: "CameraSerialNumber",
    50708: "UniqueCameraModel",
}

#: EXIF IFD0 tags that say nothing about who, where or with what: an EXIF block holding only
#: these is clean (this is also exactly what strip writes back to keep the orientation).
BENIGN_EXIF_TAGS = frozenset({ORIENTATION, 282, 283, 296, 531})


@dataclass(frozen=True)
class Entry:
    """One IFD entry; ``offset`` is where its value bytes start in the buffer (inline or not)."""

    tag: int
    type: int
    count: int
    offset: int  # absolute offset of the value bytes in the buffer
    size: int


@dataclass
class Ifd:
    """One IFD: its name (``IFD0``, ``Exif``, ``GPS``, ...), offset and entries by tag."""

    name: str
    offset: int
    entries: dict[int, Entry] = field(default_factory=dict)


@dataclass
class TiffStructure:
    """All IFDs reachable from the header, with any structural problems found on the way."""

    little: bool
    big: bool
    ifds: list[Ifd] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def chain(self) -> list[Ifd]:
        """The main IFD chain (IFD0, IFD1, ...), without sub-IFDs."""
        return [i for i in self.ifds if i.name.startswith("IFD")]

    def first(self, name: str) -> Ifd | None:
        """The first IFD called ``name``, or None."""
        return next((i for i in self.ifds if i.name == name), None)


def walk(data: bytes) -> TiffStructure:
    """Walk every IFD of a TIFF/EXIF buffer (classic or BigTIFF), recording problems.

    Parameters
    ----------
    data : bytes
        The buffer starting at the byte-order mark (``II*\\0`` / ``MM\\0*`` or BigTIFF).

    Returns
    -------
    TiffStructure
        The IFDs found; ``problems`` lists out-of-bounds offsets, loops and bad counts.

    Raises
    ------
    Malformed
        When the header itself is not a TIFF header.
    """
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        raise Malformed("expected a TIFF header (II/MM), got something else")
    little = data[:2] == b"II"
    e = "<" if little else ">"
    (version,) = struct.unpack_from(e + "H", data, 2)
    if version == 42:
        big = False
        (first,) = struct.unpack_from(e + "I", data, 4)
    elif version == 43 and len(data) >= 16:
        big = True
        (first,) = struct.unpack_from(e + "Q", data, 8)
    else:
        raise Malformed(f"expected TIFF version 42 or 43, got {version}")
    st = TiffStructure(little=little, big=big)
    _Walker(data, e, st).run(first)
    return st


class _Walker:
    def __init__(self, data: bytes, e: str, st: TiffStructure) -> None:
        self.data, self.e, self.st = data, e, st
        self.seen: set[int] = set()
        self.head, self.count_fmt, self.off_fmt = (20, "Q", "Q") if st.big else (12, "I", "I")
        self.inline = 8 if st.big else 4

    def run(self, first: int) -> None:
        """Walk the IFD chain from ``first``, following sub-IFD pointers."""
        offset, index = first, 0
        while offset and len(self.seen) < _MAX_IFDS:
            nxt = self.ifd(f"IFD{index}", offset)
            if nxt is None:
                break
            offset, index = nxt, index + 1

    def ifd(self, name: str, offset: int) -> int | None:
        """Record the IFD at ``offset`` and its sub-IFDs; return the next-IFD offset (None: stop)."""
        st, data, e = self.st, self.data, self.e
        if offset in self.seen:
            st.problems.append(f"{name}: IFD loop at offset {offset}")
            return None
        if len(self.seen) >= _MAX_IFDS:
            st.problems.append("too many IFDs")
            return None
        cnt_size = 8 if st.big else 2
        if offset < 8 or offset + cnt_size > len(data):
            st.problems.append(f"{name}: offset {offset} outside the data")
            return None
        self.seen.add(offset)
        (n,) = struct.unpack_from(e + ("Q" if st.big else "H"), data, offset)
        base = offset + cnt_size
        if n > _MAX_ENTRIES or base + n * self.head + (8 if st.big else 4) > len(data):
            st.problems.append(f"{name}: {n} entries run past the data")
            return None
        ifd = Ifd(name, offset)
        st.ifds.append(ifd)
        for i in range(n):
            pos = base + i * self.head
            tag, typ = struct.unpack_from(e + "HH", data, pos)
            (count,) = struct.unpack_from(e + self.count_fmt, data, pos + 4)
            size = _TYPE_SIZES.get(typ, 0) * count
            if typ not in _TYPE_SIZES:
                st.problems.append(f"{name}: tag {tag} has unknown type {typ}")
            if size <= self.inline:
                voff = pos + 4 + (8 if st.big else 4)
            else:
                (voff,) = struct.unpack_from(e + self.off_fmt, data, pos + 4 + (8 if st.big else 4))
                if voff + size > len(data):
                    st.problems.append(f"{name}: tag {tag} value outside the data")
            ifd.entries[tag] = Entry(tag, typ, count, voff, size)
        (nxt,) = struct.unpack_from(e + self.off_fmt, data, base + n * self.head)
        for tag, sub in ((EXIF_IFD, "Exif"), (GPS_IFD, "GPS"), (INTEROP_IFD, "Interop")):
            if tag in ifd.entries:
                for off in self.offsets(ifd.entries[tag]):
                    self.ifd(sub, off)
        if SUB_IFDS in ifd.entries:
            for off in self.offsets(ifd.entries[SUB_IFDS]):
                self.ifd(f"SubIFD of {name}", off)
        return nxt

    def offsets(self, entry: Entry) -> list[int]:
        """Integer values of a pointer tag (LONG, IFD, LONG8, IFD8); empty when unusable."""
        fmt = {4: "I", 13: "I", 16: "Q", 18: "Q", 3: "H"}.get(entry.type)
        if fmt is None or entry.offset + entry.size > len(self.data) or entry.count > _MAX_IFDS:
            self.st.problems.append(f"tag {entry.tag}: unusable IFD pointer")
            return []
        return list(struct.unpack_from(self.e + fmt * entry.count, self.data, entry.offset))


def int_value(data: bytes, little: bool, entry: Entry) -> int | None:
    """First value of a SHORT/LONG tag, or None when it is not a readable integer."""
    fmt = {3: "H", 4: "I", 16: "Q"}.get(entry.type)
    if fmt is None or entry.count < 1 or entry.offset + struct.calcsize(fmt) > len(data):
        return None
    return struct.unpack_from(("<" if little else ">") + fmt, data, entry.offset)[0]


def gps_finding(ifd: Ifd | None, where: str) -> MetaFinding:
    """The ``gps`` finding for a GPS IFD: whether it holds coordinates and how many tags, never values.

    Parameters
    ----------
    ifd : Ifd or None
        The walked GPS IFD, or None when its pointer could not be followed.
    where : str
        Location for the finding detail.

    Returns
    -------
    MetaFinding
    """
    if ifd is None:
        return MetaFinding(Family.GPS, f"GPS IFD pointer in {where} (unreadable)")
    coords = 2 in ifd.entries and 4 in ifd.entries
    what = "with coordinates" if coords else "without coordinates"
    return MetaFinding(Family.GPS, f"GPS IFD {what} in {where} ({len(ifd.entries)} tags)")


def classify_exif(data: bytes, where: str) -> tuple[list[MetaFinding], int]:
    """Findings and orientation of an EXIF block (the TIFF structure after ``Exif\\0\\0``).

    Parameters
    ----------
    data : bytes
        The TIFF-structured EXIF payload.
    where : str
        Where the block sits (e.g. ``"APP1"``), used in finding details.

    Returns
    -------
    findings : list of MetaFinding
        Empty when the block holds only orientation/resolution tags.
    orientation : int
        The EXIF orientation (1-8), 1 when absent or unreadable.
    """
    try:
        st = walk(data)
    except Malformed as exc:
        return [MetaFinding(Family.EXIF, f"malformed EXIF in {where}: {exc}")], 1
    findings: list[MetaFinding] = []
    orientation = 1
    ifd0 = st.first("IFD0")
    if ifd0 is not None and ORIENTATION in ifd0.entries:
        value = int_value(data, st.little, ifd0.entries[ORIENTATION])
        orientation = value if value in range(1, 9) else 1
    tags = sum(len(i.entries) for i in st.ifds)
    benign = ifd0 is not None and len(st.ifds) == 1 and set(ifd0.entries) <= BENIGN_EXIF_TAGS
    if not benign or st.problems:
        extra = f", malformed: {st.problems[0]}" if st.problems else ""
        findings.append(MetaFinding(Family.EXIF, f"EXIF in {where} ({tags} tags{extra})"))
    elif slack := unaccounted(data, st):
        # An orientation-only block is clean only when every byte is its header, IFD or values:
        # anything else (a tail, a gap before the IFD, non-zero padding) is data no reader shows.
        findings.append(MetaFinding(Family.EXIF, f"EXIF in {where} with {slack} bytes outside its tags"))
    if ifd0 is not None and GPS_IFD in ifd0.entries:
        findings.append(gps_finding(st.first("GPS"), where))
    findings.extend(tag_findings(st, where))
    ifd1 = st.first("IFD1")
    if ifd1 is not None:
        size = int_value(data, st.little, ifd1.entries[514]) if 514 in ifd1.entries else 0
        findings.append(MetaFinding(Family.THUMBNAIL, f"EXIF IFD1 thumbnail in {where} ({size} bytes)"))
    return findings, orientation


def unaccounted(data: bytes, st: TiffStructure) -> int:
    """Bytes of a walked TIFF/EXIF buffer that belong to no header, IFD or tag value.

    Unused bytes of inline value fields count unless zero; a single zero byte after a table or
    value is word-alignment padding and does not count.

    Parameters
    ----------
    data : bytes
        The buffer :func:`walk` read.
    st : TiffStructure
        Its walked structure.

    Returns
    -------
    int
        The number of bytes no reader of the tags ever looks at (0 for a tight block).
    """
    head, entry, inline = (16, 20, 8) if st.big else (8, 12, 4)
    spans = [(0, head)]
    loose = 0
    for ifd in st.ifds:
        table = ifd.offset + (8 if st.big else 2)
        spans.append((ifd.offset, table + entry * len(ifd.entries) + (8 if st.big else 4)))
        for e in ifd.entries.values():
            if e.size > inline:
                spans.append((e.offset, e.offset + e.size))
            else:
                loose += sum(1 for c in data[e.offset + e.size : e.offset + inline] if c)
    spans.sort()
    pos = 0
    for start, end in spans:
        gap = data[pos:start] if start > pos else b""
        if gap and not (len(gap) == 1 and gap == b"\x00"):
            loose += len(gap)
        pos = max(pos, end)
    tail = data[pos:]
    if tail and not (len(tail) == 1 and tail == b"\x00"):
        loose += len(tail)
    return loose


def tag_findings(st: TiffStructure, where: str) -> list[MetaFinding]:
    """Maker-note and identifying-tag findings over every IFD (tag names only)."""
    out: list[MetaFinding] = []
    names = sorted({IDENTIFYING_TAGS[t] for i in st.ifds for t in i.entries if t in IDENTIFYING_TAGS})
    if any(MAKERNOTE in i.entries for i in st.ifds):
        out.append(MetaFinding(Family.MAKERNOTES, f"MakerNote in {where}"))
    if names:
        out.append(MetaFinding(Family.IDENTIFYING, f"{', '.join(names)} in {where}"))
    return out


def minimal_exif(orientation: int) -> bytes:
    """A big-endian EXIF/TIFF payload holding only IFD0 Orientation (what strip writes back)."""
    if orientation not in range(1, 9):
        raise ValueError(f"expected an orientation in 1..8, got {orientation}")
    return b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">HHHIHHI", 1, ORIENTATION, 3, 1, orientation, 0, 0)
