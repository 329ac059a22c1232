"""Nothing hidden in slack space: bytes a decoder never reads must not pass ``check`` or survive ``strip``.

Each vector smuggles a whole GPS-tagged JPEG into a part of a file that looks structural (an APP14
that is longer than its fields, a JFIF header with a 0x0 thumbnail plus extra bytes, an
orientation-only EXIF block with a tail, bytes after a WebP bitstream, PNG palette/calibration
text, an over-long fcTL, a DQT with bytes after its tables). ``check`` must report or refuse the
file; ``strip`` must refuse it or write an output that holds none of the smuggled bytes.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tests.core.metadata import builders as b
from veilcv.core.metadata import check_bytes, strip_bytes
from veilcv.errors import UnsupportedFormatError


def secret() -> bytes:
    """The smuggled payload: a whole JPEG carrying GPS, serial numbers and a thumbnail."""
    return b.full_jpeg()


def decoded(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as im:
        return im.mode, im.size, im.tobytes()


def assert_caught(data: bytes, payload: bytes, *, decodes: bool = True) -> None:
    report = check_bytes(data)
    assert not report.clean, "slack passed check as clean"
    try:
        out = strip_bytes(data)
    except UnsupportedFormatError:
        return  # refused: nothing written
    assert payload not in out
    assert b"SN-998877" not in out and b"Jane Doe" not in out  # no piece of it either
    assert check_bytes(out).clean
    if decodes:
        assert decoded(out) == decoded(data)


def replace_app0(jpeg: bytes, app0: bytes) -> bytes:
    assert jpeg[2:4] == b"\xff\xe0"
    (n,) = struct.unpack(">H", jpeg[4:6])
    return jpeg[:2] + app0 + jpeg[4 + n :]


def test_adobe_app14_longer_than_its_fields() -> None:
    payload = secret()
    app14 = b.segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01" + payload)
    assert_caught(b.insert_after_soi(b.encode("JPEG"), app14), payload)


def test_adobe_app14_is_regenerated_canonically() -> None:
    # The flag fields are 4 bytes a decoder ignores: strip writes its own APP14, keeping only the
    # colour transform the decoder needs.
    cmyk = Image.fromarray(b.pixels(16, 8, 4), mode="CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, format="JPEG")
    data = buf.getvalue()
    at = data.index(b"\xff\xeeAdobe"[:2] + b"\x00\x0eAdobe")
    odd = data[: at + 11] + b"\x12\x34\x56\x78" + data[at + 15 :]
    assert not check_bytes(odd).clean
    out = strip_bytes(odd)
    assert b"\x12\x34\x56\x78" not in out and check_bytes(out).clean
    assert decoded(out) == decoded(data)
    assert check_bytes(data).clean and strip_bytes(data) == data


def test_jfif_with_empty_thumbnail_and_extra_bytes() -> None:
    payload = secret()
    app0 = b.segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + payload)
    assert_caught(replace_app0(b.encode("JPEG"), app0), payload)


def test_orientation_only_exif_with_trailing_bytes() -> None:
    payload = secret()
    exif = b.segment(0xE1, b"Exif\x00\x00" + b.orientation_exif(6) + payload)
    data = b.insert_after_soi(b.encode("JPEG"), exif)
    assert_caught(data, payload)
    with Image.open(io.BytesIO(strip_bytes(data))) as im:
        assert dict(im.getexif()) == {274: 6}  # a fresh orientation-only block


def test_orientation_only_exif_with_bytes_between_header_and_ifd() -> None:
    payload = b"GPS 47.1234N 8.5310E serial SN-998877 Jane Doe"
    body = b"MM\x00\x2a" + struct.pack(">I", 8 + len(payload)) + payload
    body += struct.pack(">HHHIHHI", 1, 274, 3, 1, 6, 0, 0)
    data = b.insert_after_soi(b.encode("JPEG"), b.segment(0xE1, b"Exif\x00\x00" + body))
    assert_caught(data, payload)


def test_exact_orientation_only_exif_stays_clean() -> None:
    data = b.insert_after_soi(b.encode("JPEG"), b.segment(0xE1, b"Exif\x00\x00" + b.orientation_exif(6)))
    assert check_bytes(data).clean and strip_bytes(data) == data


def test_dqt_with_bytes_after_its_tables() -> None:
    payload = secret()
    base = b.encode("JPEG")
    at = base.index(b"\xff\xdb")
    (n,) = struct.unpack(">H", base[at + 2 : at + 4])
    body = base[at + 4 : at + 2 + n] + payload
    data = base[:at] + b"\xff\xdb" + struct.pack(">H", len(body) + 2) + body + base[at + 2 + n :]
    assert_caught(data, payload, decodes=False)


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(c + struct.pack("<I", len(d)) + d + b"\x00" * (len(d) & 1) for c, d in chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 12
    while pos < len(data):
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_bitstream_chunk_with_trailing_bytes(lossless: bool) -> None:
    payload = secret()
    base = b.encode("WEBP", lossless=lossless, quality=80)
    chunks = _webp_chunks(base)
    assert chunks[0][0] == (b"VP8L" if lossless else b"VP8 ")
    data = _riff([(chunks[0][0], chunks[0][1] + payload), *chunks[1:]])
    assert decoded(data) == decoded(base)  # the decoder never reads the payload
    assert_caught(data, payload)
    assert check_bytes(base).clean and strip_bytes(base) == base


def test_webp_alpha_chunk_with_trailing_bytes() -> None:
    payload = secret()
    base = b.encode("WEBP", b.pixels(24, 16, 4), quality=80)
    chunks = _webp_chunks(base)
    kinds = [c for c, _ in chunks]
    assert kinds[:2] == [b"VP8X", b"ALPH"]
    chunks[1] = (b"ALPH", chunks[1][1] + payload)
    data = _riff(chunks)
    assert decoded(data) == decoded(base)
    assert_caught(data, payload)


def test_webp_reserved_vp8x_bytes_and_odd_pad_byte() -> None:
    base = b.encode("WEBP", b.pixels(24, 16, 4), quality=80)
    assert base[12:16] == b"VP8X"
    reserved = base[:21] + b"\x47\x11\x08" + base[24:]
    assert decoded(reserved) == decoded(base)
    assert not check_bytes(reserved).clean
    out = strip_bytes(reserved)
    assert out[21:24] == b"\x00\x00\x00" and check_bytes(out).clean


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b.png_with(*(b.png_chunk(t, d) for t, d in chunks))


def test_png_splt_name_and_entries() -> None:
    payload = secret()
    body = payload[:79].replace(b"\x00", b"_") + b"\x00\x08"
    body += payload.ljust(-(-len(payload) // 6) * 6, b"\x00")
    assert_caught(_png([(b"sPLT", body)]), payload[100:200])


def test_png_pcal_text() -> None:
    payload = secret()
    body = b"GPS 47.1234N 8.5310E\x00" + struct.pack(">iiBB", 0, 255, 0, 2) + b"m\x000\x00"
    body += payload.hex().encode()
    assert_caught(_png([(b"pCAL", body)]), payload.hex().encode())


def test_png_scal_text() -> None:
    body = b"\x01" + b"1.0\x00" + b"47123485310998877"
    assert_caught(_png([(b"sCAL", body)]), b"47123485310998877")


def test_png_fixed_size_chunk_with_extra_bytes() -> None:
    payload = secret()
    assert_caught(_png([(b"gAMA", struct.pack(">I", 45455) + payload)]), payload)


def test_apng_fctl_with_extra_bytes() -> None:
    payload = secret()
    frames = [Image.fromarray(b.pixels(8, 6, seed=s)) for s in (1, 2)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:], duration=50)
    out, parts = bytearray(buf.getvalue()[:8]), b.png_chunks(buf.getvalue())
    for ctype, body in parts:
        out += b.png_chunk(ctype, body + payload if ctype == b"fcTL" else body)
    assert_caught(bytes(out), payload, decodes=False)


def test_png_idat_with_bytes_after_the_zlib_stream() -> None:
    payload = secret()
    arr = b.pixels(8, 6)
    raw = b"".join(b"\x00" + row.tobytes() for row in arr)
    ihdr = struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0)
    idat = zlib.compress(raw) + payload
    data = b"\x89PNG\r\n\x1a\n" + b"".join(
        b.png_chunk(t, d) for t, d in ((b"IHDR", ihdr), (b"IDAT", idat), (b"IEND", b""))
    )
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), arr)
    assert_caught(data, payload)
    out = strip_bytes(data)  # not refused: the stream before the slack is whole, so strip cuts there
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(out))), arr)


def test_png_idat_inflating_to_more_than_the_image() -> None:
    arr = b.pixels(8, 6)
    raw = b"".join(b"\x00" + row.tobytes() for row in arr) + b"GPS 47.1234N 8.5310E SN-998877"
    ihdr = struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + b"".join(
        b.png_chunk(t, d) for t, d in ((b"IHDR", ihdr), (b"IDAT", zlib.compress(raw)), (b"IEND", b""))
    )
    assert not check_bytes(data).clean


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_scan_with_bytes_after_its_coded_data(progressive: bool) -> None:
    # libjpeg discards what follows a scan's last coded block (with at most a warning), so the
    # bytes before the next marker could carry anything; strip cuts them, pixels unchanged.
    payload = b"GPS 47.1234N 8.5310E SN-998877 Jane Doe " * 4
    base = b.encode("JPEG", progressive=progressive)
    at = base.rindex(b"\xff\xd9")
    data = base[:at] + payload + base[at:]
    assert decoded(data) == decoded(base)
    assert_caught(data, payload)
    assert check_bytes(base).clean and strip_bytes(base) == base


def test_jpeg_scan_slack_of_a_few_bytes_is_found() -> None:
    base = b.encode("JPEG")
    at = base.rindex(b"\xff\xd9")
    data = base[:at] + b"\x47\x11\x08\x53\x10\x99" + base[at:]  # 6 bytes: below libjpeg's own warning
    assert not check_bytes(data).clean
    out = strip_bytes(data)
    assert check_bytes(out).clean and decoded(out) == decoded(base)


def test_progressive_jpeg_slack_between_scans() -> None:
    from veilcv.core.metadata.jpeg import scan_end

    payload = b"GPS 47.1234N 8.5310E SN-998877 Jane Doe " * 4
    base = b.encode("JPEG", progressive=True)
    sos = base.index(b"\xff\xda")
    end = scan_end(base, sos + 2 + struct.unpack(">H", base[sos + 2 : sos + 4])[0])
    assert base[end + 1] != 0xD9  # another scan or table follows the first scan
    data = base[:end] + payload + base[end:]
    assert decoded(data) == decoded(base)
    assert_caught(data, payload)
