"""MP4/MOV/M4V: the container's metadata found box by box; strip copies the streams with ffmpeg.

``check`` walks every box of the movie: ``udta`` and ``meta`` items (``©xyz`` and
``com.apple.quicktime.location.ISO6709`` locations, make, model, software, serials, cover art),
XMP ``uuid`` boxes, creation and modification times in ``mvhd``/``tkhd``/``mdhd``, handler names,
tracks other than video and audio (timed metadata, chapters, timecode), free space holding data and
``mdat`` bytes no track reads. ``strip`` has the ffmpeg binary of imageio-ffmpeg copy the video and
audio streams into a new container without any metadata (never re-encoding; SEI, filler and AV1
metadata units, which no decoder needs, are filtered out of the video), then checks the written
file with this walker and compares its tracks' sample counts with the input's.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from veilcv.core.metadata import isobmff as bmff
from veilcv.core.metadata.blobs import classify_xmp
from veilcv.core.metadata.families import Family, Malformed, MetadataError, MetaFinding, Parsed, Unsupported
from veilcv.errors import InputError

SUFFIXES = frozenset({".mp4", ".mov", ".m4v"})
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"mvex"})
_STRUCTURAL = frozenset(
    b"mvhd tkhd elst mdhd vmhd smhd nmhd gmhd dref stsd stts ctts cslg stss stps sdtp stsc stsz stz2 stco "
    b"co64 sgpd sbgp iods tapt trex mehd subs saiz saio".split()
)
_GENERIC_HANDLERS = frozenset(
    {
        b"",
        b"VideoHandler",
        b"SoundHandler",
        b"DataHandler",
        b"Core Media Video",
        b"Core Media Audio",
        b"Core Media Data Handler",
        b"Apple Video Media Handler",
        b"Apple Sound Media Handler",
        b"Apple Alias Data Handler",
        b"Alias Data Handler",
        b"Video Media Handler",
        b"Sound Media Handler",
        b"Data Handler",
        b"MP4 Video Handler",
        b"MP4 Sound Handler",
    }
)
_GPS_NAMES = (b"\xa9xyz", b"loci", b"location", b"gps", b"iso6709")
_IDENTIFYING_NAMES = (b"serial", b"camera.identifier", b"owner", b"\xa9aut", b"auth", b"\xa9art", b"cprt")
_IMAGE_NAMES = (b"covr", b"thmb", b"thumb", b"preview")
#: Units inside the coded video that carry no picture, dropped on strip by ffmpeg's filter_units
#: (still a stream copy): H.264 SEI and filler, HEVC filler and SEI, AV1 metadata and padding.
_NON_PICTURE_UNITS = {
    b"avc1": "6|12",
    b"avc3": "6|12",
    b"hvc1": "38-40",
    b"hev1": "38-40",
    b"av01": "5|15",
}


@dataclass
class Movie(Parsed):
    """What the walk found: the tracks' handler types and sample counts, besides the findings."""

    tracks: list[tuple[bytes, int]] = field(default_factory=list)  # (handler type, sample count)
    video_codecs: list[bytes] = field(default_factory=list)  # sample entry types of the video tracks
    mdat: list[tuple[int, int]] = field(default_factory=list)
    chunks: list[tuple[int, int]] = field(default_factory=list)


def _name(raw: bytes) -> str:
    return "".join(chr(c) if 32 <= c < 127 or c == 0xA9 else "?" for c in raw)


def _named(name: bytes, where: str) -> MetaFinding:
    low = name.lower()
    shown = _name(name)
    if any(k in low for k in _GPS_NAMES):
        return MetaFinding(Family.GPS, f"location {shown!r} in {where}")
    if any(k in low for k in _IMAGE_NAMES):
        return MetaFinding(Family.THUMBNAIL, f"picture {shown!r} in {where}")
    if any(k in low for k in _IDENTIFYING_NAMES):
        return MetaFinding(Family.IDENTIFYING, f"{shown!r} in {where}")
    if low.startswith(b"xmp"):
        return MetaFinding(Family.XMP, f"XMP {shown!r} in {where}")
    return MetaFinding(Family.VIDEO_TAGS, f"tag {shown!r} in {where}")


def _qt_meta(buf: bytes, b: bmff.Box, where: str, m: Movie) -> None:
    # QuickTime's meta has no version/flags; ISO's has them (then hdlr follows them).
    start = b.body if buf[b.body + 4 : b.body + 8] == b"hdlr" else b.body + 4
    keys: list[bytes] = []
    children = list(bmff.boxes(buf, start, b.end))
    for c in children:
        if c.type == b"keys":
            r = bmff.Reader(buf, c.body + 4, c.end, "keys box")
            for _ in range(r.uint(4)):
                size = r.uint(4)
                keys.append(r.take(size - 4)[4:] if size >= 8 else b"")
    for c in children:
        if c.type == b"ilst":
            for item in bmff.boxes(buf, c.body, c.end):
                index = int.from_bytes(item.type, "big")
                name = keys[index - 1] if keys and 0 < index <= len(keys) else item.type
                m.extra.append(_named(name, f"{where} meta"))
        elif c.type in (b"hdlr", b"keys"):
            continue
        elif c.type == b"free" and not any(buf[c.body : c.end]):
            continue
        else:
            m.extra.append(_named(c.type, f"{where} meta"))


def _udta(buf: bytes, b: bmff.Box, where: str, m: Movie) -> None:
    for c in bmff.boxes(buf, b.body, b.end):
        if c.type == b"meta":
            _qt_meta(buf, c, f"{where}/udta", m)
        elif c.type == b"XMP_":
            m.extra += classify_xmp(bytes(buf[c.body : c.end]), f"{where}/udta")
        else:
            m.extra.append(_named(c.type, f"{where}/udta"))


def _times(buf: bytes, b: bmff.Box, where: str, m: Movie) -> None:
    version, _flags, pos = bmff.full_header(buf, b)
    n = 8 if version == 1 else 4
    created, modified = (int.from_bytes(buf[pos + i * n : pos + (i + 1) * n], "big") for i in (0, 1))
    if created or modified:
        m.extra.append(MetaFinding(Family.VIDEO_TAGS, f"creation/modification time in {where}/{b.name()}"))


def _handler(buf: bytes, b: bmff.Box, where: str, m: Movie) -> bytes:
    _v, _f, pos = bmff.full_header(buf, b)
    htype = bytes(buf[pos + 4 : pos + 8])
    name = bytes(buf[pos + 20 : b.end]).rstrip(b"\x00")
    if name[:1] and name[0] == len(name) - 1:
        name = name[1:]  # QuickTime: a Pascal string
    if name not in _GENERIC_HANDLERS:
        m.extra.append(MetaFinding(Family.VIDEO_TAGS, f"handler name {_name(name[:40])!r} in {where}"))
    return htype


def _sample_table(buf: bytes, stbl: bmff.Box) -> tuple[int, list[tuple[int, int]]]:
    kids = {c.type: c for c in bmff.boxes(buf, stbl.body, stbl.end)}
    if b"stsz" not in kids or b"stsc" not in kids or not ({b"stco", b"co64"} & set(kids)):
        return 0, []
    sz = kids[b"stsz"]
    size, count = struct.unpack_from(">II", buf, sz.body + 4)
    if not size and sz.body + 12 + 4 * count > sz.end:
        raise Malformed("stsz box shorter than its sample count")
    sizes = [size] * count if size else list(struct.unpack_from(f">{count}I", buf, sz.body + 12))
    co = kids.get(b"stco") or kids[b"co64"]
    wide = co.type == b"co64"
    (nchunks,) = struct.unpack_from(">I", buf, co.body + 4)
    if co.body + 8 + nchunks * (8 if wide else 4) > co.end:
        raise Malformed("chunk offset box shorter than its count")
    offsets = struct.unpack_from(f">{nchunks}{'Q' if wide else 'I'}", buf, co.body + 8)
    sc = kids[b"stsc"]
    (nruns,) = struct.unpack_from(">I", buf, sc.body + 4)
    if sc.body + 8 + 12 * nruns > sc.end:
        raise Malformed("stsc box shorter than its count")
    runs = [struct.unpack_from(">III", buf, sc.body + 8 + 12 * i)[:2] for i in range(nruns)]
    chunks, sample = [], 0
    for i, (first, per) in enumerate(runs):
        last = runs[i + 1][0] - 1 if i + 1 < len(runs) else nchunks
        for chunk in range(first, last + 1):
            if not 0 < chunk <= nchunks:
                raise Malformed("stsc refers to a chunk that does not exist")
            length = sum(sizes[sample : sample + per])
            chunks.append((offsets[chunk - 1], length))
            sample += per
    return count, chunks


def _non_picture_units(buf: bytes, stsd: bmff.Box, chunks: list[tuple[int, int]]) -> int:
    """Count the SEI and filler NAL units (which can hold any bytes) in an H.264 or HEVC track's samples."""
    entries = list(bmff.boxes(buf, stsd.body + 8, stsd.end))
    if not entries or entries[0].type not in (b"avc1", b"avc3", b"hvc1", b"hev1"):
        return 0
    entry = entries[0]
    config = {c.type: c for c in bmff.boxes(buf, entry.body + 78, entry.end)}
    if b"avcC" in config:
        length_size, kinds, shift, mask = (buf[config[b"avcC"].body + 4] & 3) + 1, (6, 12), 0, 0x1F
    elif b"hvcC" in config:
        length_size, kinds, shift, mask = (buf[config[b"hvcC"].body + 21] & 3) + 1, (38, 39, 40), 1, 0x3F
    else:
        return 0
    found = 0
    for offset, length in chunks:
        pos, end = offset, min(offset + length, len(buf))
        while pos + length_size < end:
            n = int.from_bytes(buf[pos : pos + length_size], "big")
            if (buf[pos + length_size] >> shift) & mask in kinds:
                found += 1
            pos += length_size + max(n, 1)
    return found


def _walk(buf: bytes, start: int, end: int, where: str, m: Movie) -> None:
    for b in bmff.boxes(buf, start, end):
        here = f"{where}/{b.name()}" if where else b.name()
        if b.type == b"trak":
            _trak(buf, b, here, m)
        elif b.type in _CONTAINERS:
            _walk(buf, b.body, b.end, here, m)
        elif b.type == b"udta":
            _udta(buf, b, where or "file", m)
        elif b.type == b"meta":
            _qt_meta(buf, b, where or "file", m)
        elif b.type == b"uuid":
            uuid = bytes(buf[b.body - 16 : b.body])
            if uuid == XMP_UUID:
                m.extra += classify_xmp(bytes(buf[b.body : b.end]), f"uuid box in {where or 'file'}")
            else:
                m.extra.append(MetaFinding(Family.OTHER, f"uuid box {uuid.hex()} in {where or 'file'}"))
        elif b.type in (b"mvhd", b"tkhd", b"mdhd"):
            _times(buf, b, where, m)
        elif b.type == b"hdlr":
            _handler(buf, b, where, m)
        elif b.type in (b"free", b"skip", b"wide"):
            if any(buf[b.body : b.end]):
                m.extra.append(MetaFinding(Family.OTHER, f"{b.name()} box holding data in {where or 'file'}"))
        elif b.type == b"mdat":
            m.mdat.append((b.body, b.end))
        elif b.type in (b"moof", b"mfra", b"sidx"):
            raise Unsupported("fragmented MP4 is not supported; remux it first (ffmpeg -c copy)")
        elif b.type == b"tref":
            for ref in bmff.boxes(buf, b.body, b.end):
                if ref.type == b"chap":
                    m.extra.append(MetaFinding(Family.VIDEO_TAGS, f"chapter track reference in {where}"))
        elif b.type in _STRUCTURAL or (b.type == b"ftyp" and not where):
            continue
        else:
            m.extra.append(MetaFinding(Family.OTHER, f"unknown box {b.name()!r} in {where or 'file'}"))


def _trak(buf: bytes, b: bmff.Box, where: str, m: Movie) -> None:
    _walk(buf, b.body, b.end, where, m)
    mdia = next((c for c in bmff.boxes(buf, b.body, b.end) if c.type == b"mdia"), None)
    if mdia is None:
        raise Malformed(f"{where} has no mdia box")
    kids = {c.type: c for c in bmff.boxes(buf, mdia.body, mdia.end)}
    htype = bytes(buf[kids[b"hdlr"].body + 8 : kids[b"hdlr"].body + 12]) if b"hdlr" in kids else b""
    count, chunks = 0, []
    if b"minf" in kids:
        stbl = next(
            (c for c in bmff.boxes(buf, kids[b"minf"].body, kids[b"minf"].end) if c.type == b"stbl"), None
        )
        if stbl is not None:
            count, chunks = _sample_table(buf, stbl)
            stsd = next((c for c in bmff.boxes(buf, stbl.body, stbl.end) if c.type == b"stsd"), None)
            if htype == b"vide" and stsd is not None:
                m.video_codecs.append(bytes(buf[stsd.body + 12 : stsd.body + 16]))
                units = _non_picture_units(buf, stsd, chunks)
                if units:
                    m.extra.append(
                        MetaFinding(Family.OTHER, f"{units} SEI/filler units in the coded video of {where}")
                    )
    m.tracks.append((htype, count))
    m.chunks += chunks
    kinds = {
        b"meta": "timed metadata",
        b"mdta": "timed metadata",
        b"tmcd": "timecode",
        b"text": "text/chapter",
    }
    if htype not in (b"vide", b"soun"):
        what = kinds.get(htype, f"{_name(htype)!r}")
        m.extra.append(
            MetaFinding(Family.VIDEO_TAGS, f"{what} track in {where} (only video and audio are kept)")
        )


def parse(buf: bytes) -> Movie:
    """Walk an MP4/MOV file's boxes and list its metadata (see the module docstring).

    Parameters
    ----------
    buf : bytes-like
        The whole file (bytes or a read-only memory map).

    Returns
    -------
    Movie
        Findings in ``extra``; the tracks' handler types and sample counts.

    Raises
    ------
    Malformed, Unsupported
        Boxes that do not fit, a fragmented file, no movie box.
    """
    m = Movie("MOV" if bytes(buf[8:12]) == b"qt  " else "MP4")
    _walk(buf, 0, len(buf), "", m)
    if not m.tracks:
        raise Malformed("no movie (moov) box with tracks")
    loose = _unread(m)
    if loose:
        m.extra.append(MetaFinding(Family.OTHER, f"{loose} bytes in mdat that no track reads"))
    return m


def _unread(m: Movie) -> int:
    total = sum(end - start for start, end in m.mdat)
    covered, pos = 0, -1
    for start, length in sorted(m.chunks):
        lo, hi = max(start, pos), start + length
        if hi > lo:
            covered += sum(max(0, min(hi, e) - max(lo, s)) for s, e in m.mdat)
            pos = hi
    return max(0, total - covered)


def map_file(path: Path) -> mmap.mmap:
    """Map a regular file read-only (a FIFO or device is refused, never read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("expected a video file, got something that is not a regular file")
        if st.st_size == 0:
            raise InputError("expected a video, got an empty file (0 bytes)")
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)


def strip(src: Path, out: Path, ffmpeg: str | None) -> Movie:
    """Copy the video and audio streams of ``src`` into ``out`` without metadata; check ``out``.

    Parameters
    ----------
    src : Path
        The input video.
    out : Path
        Where to write (a temporary path: the caller renames it).
    ffmpeg : str or None
        The ffmpeg binary (None: refused, saying how to get it).

    Returns
    -------
    Movie
        The parsed input.

    Raises
    ------
    MetadataError
        ffmpeg failed, the output still holds metadata, or its tracks differ from the input's.
    """
    if ffmpeg is None:
        raise Unsupported(
            "stripping a video needs the ffmpeg binary of imageio-ffmpeg; install imageio-ffmpeg"
        )
    with map_file(src) as buf:
        before = parse(buf)
    fmt = "mov" if out.suffix.lower() == ".mov" else "mp4"
    cmd = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-y",
        "-i",
        str(src),
        "-map",
        "0:V?",
        "-map",
        "0:a?",
    ]
    cmd += ["-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]
    units = {_NON_PICTURE_UNITS.get(c) for c in before.video_codecs}
    if len(units) == 1 and None not in units:  # (one filter for every video stream)
        cmd += ["-bsf:v", f"filter_units=remove_types={units.pop()}"]
    cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact", "-f", fmt, str(out)]
    proc = subprocess.run(cmd, capture_output=True, timeout=3600)
    if proc.returncode != 0 or not out.exists():
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise MetadataError(f"ffmpeg could not copy the streams: {tail[0]}")
    with map_file(out) as buf:
        after = parse(buf)
    left = after.findings(frozenset())
    if left:
        raise MetadataError(f"stripped video still holds {left[0]}; nothing written")
    want = sorted(t for t in before.tracks if t[0] in (b"vide", b"soun"))
    if sorted(after.tracks) != want:
        raise MetadataError(
            "the stripped video's tracks differ from the input's video and audio; nothing written"
        )
    return before
