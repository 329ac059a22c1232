"""Small image files carrying every metadata family, generated from raw bytes and Pillow.

The TIFF/EXIF writer here is independent of the library's walker, so the tests compare two
implementations rather than one with itself.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
from PIL import Image

TAIL = object()  # placeholder: "offset of the tail blob"
LAT = (47, 1, 7, 1, 2345, 100)  # 47° 7' 23.45": the digits must never appear in any output
LON = (8, 1, 31, 1, 9876, 100)

_TYPES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1}


def pixels(w: int = 24, h: int = 16, channels: int = 3, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.add.outer(np.arange(h) * 9, np.arange(w) * 5)[..., None] + np.arange(channels) * 60
    return ((base + rng.integers(0, 30, size=(h, w, channels))) % 256).astype(np.uint8)


def encode(fmt: str, arr: np.ndarray | None = None, **kwargs: object) -> bytes:
    im = Image.fromarray(pixels() if arr is None else arr)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def entry(tag: int, typ: int, value: object) -> tuple[int, int, object]:
    return (tag, typ, value)


def ascii_(tag: int, text: str) -> tuple[int, int, object]:
    return (tag, 2, text.encode() + b"\x00")


def short(tag: int, *values: int) -> tuple[int, int, object]:
    return (tag, 3, struct.pack(f">{len(values)}H", *values))


def long_(tag: int, value: object) -> tuple[int, int, object]:
    return (tag, 4, value)


def rational(tag: int, *parts: int) -> tuple[int, int, object]:
    return (tag, 5, struct.pack(f">{len(parts)}I", *parts))


def _ifd_size(entries: list) -> int:
    size = 2 + 12 * len(entries) + 4
    for _, _typ, value in entries:
        if isinstance(value, bytes) and len(value) > 4:
            size += len(value) + (len(value) & 1)
    return size


def build_tiff(
    ifd0: list, exif: list | None = None, gps: list | None = None, ifd1: list | None = None, tail: bytes = b""
) -> bytes:
    """Big-endian TIFF/EXIF with IFD0 (+Exif, GPS sub-IFDs, IFD1) and a tail blob (pixels/thumbnail).

    Values are bytes (inline when <= 4 bytes), ints (LONG) or TAIL; pointer tags are added here.
    """
    ifd0 = list(ifd0)
    if exif is not None:
        ifd0.append((34665, 4, 0))
    if gps is not None:
        ifd0.append((34853, 4, 0))
    order = [("ifd0", ifd0)] + [
        (n, e) for n, e in (("exif", exif), ("gps", gps), ("ifd1", ifd1)) if e is not None
    ]
    offsets, pos = {}, 8
    for name, entries in order:
        offsets[name] = pos
        pos += _ifd_size(entries)
    tail_off = pos
    out = bytearray(b"MM\x00\x2a" + struct.pack(">I", 8))
    for name, entries in order:
        base = offsets[name]
        data_pos = base + 2 + 12 * len(entries) + 4
        head, blobs = bytearray(struct.pack(">H", len(entries))), bytearray()
        for tag, typ, value in sorted(entries, key=lambda e: e[0]):
            if tag == 34665:
                value = offsets["exif"]
            elif tag == 34853:
                value = offsets["gps"]
            if value is TAIL:
                value = tail_off
            if isinstance(value, int):
                head += struct.pack(">HHII", tag, typ, 1, value)
                continue
            count = len(value) // _TYPES[typ]
            if len(value) <= 4:
                head += struct.pack(">HHI", tag, typ, count) + value.ljust(4, b"\x00")
            else:
                head += struct.pack(">HHII", tag, typ, count, data_pos + len(blobs))
                blobs += value + b"\x00" * (len(value) & 1)
        nxt = offsets["ifd1"] if name == "ifd0" and "ifd1" in offsets else 0
        out += head + struct.pack(">I", nxt) + blobs
    assert len(out) == tail_off
    return bytes(out + tail)


def gps_ifd() -> list:
    return [entry(1, 2, b"N\x00"), rational(2, *LAT), entry(3, 2, b"E\x00"), rational(4, *LON)]


def full_exif(orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    ifd0 = [
        ascii_(271, "Acme"),
        ascii_(272, "Cam 1"),
        short(274, orientation),
        ascii_(305, "Editor 2.1"),
        ascii_(315, "Jane Doe"),
    ]
    exif = [
        ascii_(42033, "SN-998877"),
        (37500, 7, b"ACME\x00\x01\x02\x03maker"),
        ascii_(36867, "2020:01:01 10:00:00"),
    ]
    ifd1 = None
    if thumbnail is not None:
        ifd1 = [short(259, 6), long_(513, TAIL), long_(514, len(thumbnail))]
    return build_tiff(ifd0, exif=exif, gps=gps_ifd(), ifd1=ifd1, tail=thumbnail or b"")


def orientation_exif(orientation: int) -> bytes:
    return build_tiff([short(274, orientation)])


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
    b' exif:GPSLatitude="47,7.39N" exif:GPSLongitude="8,31.65E" xmpMM:DocumentID="xmp.did:1234"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
XMP_PLAIN = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def iptc() -> bytes:
    def ds(rec: int, num: int, value: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, rec, num, len(value)) + value

    return ds(1, 90, b"\x1b%G") + ds(2, 80, b"Jane Doe") + ds(2, 120, b"A caption")


def irb(resources: list[tuple[int, bytes]]) -> bytes:
    out = b""
    for rid, body in resources:
        out += b"8BIM" + struct.pack(">H", rid) + b"\x00\x00" + struct.pack(">I", len(body)) + body
        out += b"\x00" * (len(body) & 1)
    return out


@functools.lru_cache(maxsize=1)
def icc_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def insert_after_soi(jpeg: bytes, *segments: bytes) -> bytes:
    assert jpeg[:2] == b"\xff\xd8"
    # keep Pillow's JFIF APP0 first, as the JFIF spec requires
    app0_len = struct.unpack(">H", jpeg[4:6])[0] + 2 if jpeg[2:4] == b"\xff\xe0" else 0
    return jpeg[: 2 + app0_len] + b"".join(segments) + jpeg[2 + app0_len :]


def full_jpeg(orientation: int = 1) -> bytes:
    """A JPEG carrying every JPEG-borne family, plus a second image after EOI (MPF) and a trailer."""
    base = encode("JPEG", quality=92)
    thumb = encode("JPEG", pixels(8, 8), quality=50)
    return (
        insert_after_soi(
            base,
            segment(0xE1, b"Exif\x00\x00" + full_exif(orientation, thumbnail=thumb)),
            segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP),
            segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + icc_profile()),
            segment(0xE2, b"MPF\x00" + b"MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"),
            segment(
                0xED, b"Photoshop 3.0\x00" + irb([(0x0404, iptc()), (0x040C, thumb), (0x03ED, b"\x00" * 16)])
            ),
            segment(0xFE, b"shot by Jane at home"),
            segment(0xEB, b"JP\x00\x00private stuff"),
        )
        + thumb
        + b"TRAILERDATA"
    )


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        out.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]))
        pos += 12 + n
    return out


def png_with(*chunks: bytes, arr: np.ndarray | None = None, after_idat: bytes = b"") -> bytes:
    base = encode("PNG", arr)
    ihdr_end = 8 + 25
    iend = base.rindex(b"IEND") - 4
    return base[:ihdr_end] + b"".join(chunks) + base[ihdr_end:iend] + after_idat + base[iend:]


def full_png(orientation: int = 1) -> bytes:
    itxt = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP
    ztxt = b"Comment\x00\x00" + zlib.compress(b"private comment")
    return png_with(
        png_chunk(b"iCCP", b"sRGB\x00\x00" + zlib.compress(icc_profile())),
        png_chunk(b"tEXt", b"Author\x00Jane Doe"),
        png_chunk(b"zTXt", ztxt),
        png_chunk(b"iTXt", itxt),
        png_chunk(b"eXIf", full_exif(orientation)),
        png_chunk(b"tIME", struct.pack(">HBBBBB", 2020, 1, 2, 3, 4, 5)),
        png_chunk(b"prVW", b"private preview"),
    )


def full_webp(orientation: int = 1) -> bytes:
    return encode(
        "WEBP",
        lossless=True,
        exif=b"Exif\x00\x00" + full_exif(orientation),
        xmp=XMP,
        icc_profile=icc_profile(),
    )


def full_tiff(orientation: int = 1, arr: np.ndarray | None = None) -> bytes:
    arr = pixels(6, 4) if arr is None else arr
    h, w, _ = arr.shape
    ifd0 = [
        long_(256, w),
        long_(257, h),
        short(258, 8, 8, 8),
        short(259, 1),
        short(262, 2),
        long_(273, TAIL),
        short(274, orientation),
        short(277, 3),
        long_(278, h),
        long_(279, arr.nbytes),
        short(284, 1),
        ascii_(270, "family picnic"),
        ascii_(305, "Editor 2.1"),
        ascii_(315, "Jane Doe"),
        (700, 1, XMP),
        ascii_(65000, "private tag"),
    ]
    return build_tiff(ifd0, exif=[ascii_(42033, "SN-1")], gps=gps_ifd(), tail=arr.tobytes())


def full_gif() -> bytes:
    base = encode("GIF", comment=b"shot by Jane")
    app = b"\x21\xff\x0bMYAPPLIC1.0\x05hello\x00"
    blocks = b"".join(bytes([len(XMP[i : i + 255])]) + XMP[i : i + 255] for i in range(0, len(XMP), 255))
    xmp = b"\x21\xff\x0bXMP DataXMP" + blocks + b"\x00"
    return base[:-1] + app + xmp + base[-1:]


def bmp_v5_with_profile(linked: bool = False, trailer: bytes = b"") -> bytes:
    """A 24-bit BMP with a BITMAPV5HEADER carrying an embedded (or linked) colour profile."""
    base = encode("BMP")
    (offbits,) = struct.unpack_from("<I", base, 10)
    info, pixel_data = bytearray(base[14:54]), base[offbits:]
    struct.pack_into("<I", info, 0, 124)
    profile = b"C:\\Users\\jane\\profile.icc\x00" if linked else icc_profile()
    cstype = b"KNIL" if linked else b"DEBM"
    v5 = (
        bytes(info)
        + bytes(16)
        + cstype
        + bytes(48)
        + struct.pack("<IIII", 4, 124 + len(pixel_data), len(profile), 0)
    )
    body = v5 + pixel_data + profile
    return b"BM" + struct.pack("<IHHI", 14 + len(body), 0, 0, 14 + 124) + body + trailer
