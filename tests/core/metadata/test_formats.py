"""Every metadata family, per format, on generated files: detected, stripped, pixels unchanged."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps, ImageSequence

from tests.core.metadata import builders as b
from veilcv.core.metadata import Family, check_bytes, strip_bytes, strip_file
from veilcv.core.metadata.exif import walk
from veilcv.core.metadata.tiff import STRUCTURAL

F = Family


def families(data: bytes, **kw: object) -> set[Family]:
    report = check_bytes(data, **kw)
    assert report.error is None, report.error
    return set(report.families)


def decoded(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    with Image.open(io.BytesIO(data)) as im:
        frames = [(f.mode, f.size, f.tobytes()) for f in ImageSequence.Iterator(im)]
        return frames[:1] if im.format in ("JPEG", "MPO") else frames


def shown(data: bytes) -> tuple[tuple[int, int], bytes]:
    """The picture a viewer shows: orientation applied."""
    with Image.open(io.BytesIO(data)) as im:
        t = ImageOps.exif_transpose(im)
        return t.size, t.tobytes()


def no_coordinates(report_text: str) -> None:
    for digits in ("2345", "9876", "47,7", "8,31", "47.1", "8.53"):
        assert digits not in report_text


EXPECTED = {
    "jpeg": (
        b.full_jpeg,
        {
            F.EXIF,
            F.GPS,
            F.MAKERNOTES,
            F.IDENTIFYING,
            F.THUMBNAIL,
            F.XMP,
            F.XMP_GPS,
            F.IPTC,
            F.PHOTOSHOP_IRB,
            F.COMMENT,
            F.MPF,
            F.TRAILING_DATA,
            F.ICC_PROFILE,
            F.OTHER,
        },
    ),
    "png": (
        b.full_png,
        {
            F.EXIF,
            F.GPS,
            F.MAKERNOTES,
            F.IDENTIFYING,
            F.XMP,
            F.XMP_GPS,
            F.PNG_TEXT,
            F.PNG_TIME,
            F.PNG_EXIF,
            F.ICC_PROFILE,
            F.OTHER,
        },
    ),
    "webp": (
        b.full_webp,
        {
            F.EXIF,
            F.GPS,
            F.MAKERNOTES,
            F.IDENTIFYING,
            F.XMP,
            F.XMP_GPS,
            F.WEBP_EXIF,
            F.WEBP_XMP,
            F.ICC_PROFILE,
        },
    ),
    "tiff": (b.full_tiff, {F.EXIF, F.GPS, F.IDENTIFYING, F.XMP, F.XMP_GPS, F.TIFF_TAGS}),
    "gif": (b.full_gif, {F.COMMENT, F.GIF_EXTENSION, F.XMP, F.XMP_GPS, F.IDENTIFYING}),
}


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_every_family_is_reported_and_stripped(fmt: str) -> None:
    make, expected = EXPECTED[fmt]
    data = make()
    report = check_bytes(data)
    assert report.families == expected
    no_coordinates("\n".join(str(f) for f in report.findings))
    out = strip_bytes(data)
    assert check_bytes(out).clean
    assert decoded(out) == decoded(data)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "tiff"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_survives_as_the_only_tag(fmt: str, orientation: int) -> None:
    data = EXPECTED[fmt][0](orientation)
    out = strip_bytes(data)
    assert check_bytes(out).clean
    assert shown(out) == shown(data)  # the user sees the same picture
    with Image.open(io.BytesIO(out)) as im:
        if fmt == "tiff":  # a TIFF keeps its layout tags, orientation among them
            assert im.getexif().get(274) == orientation
        else:
            assert dict(im.getexif()) == {274: orientation}


def test_jpeg_strip_gives_back_exactly_the_bare_encoder_output() -> None:
    # full_jpeg() is Pillow's JPEG with metadata segments inserted and data appended; removing
    # them must restore the original byte for byte (scan data, tables, JFIF header untouched).
    assert strip_bytes(b.full_jpeg()) == b.encode("JPEG", quality=92)


def test_jpeg_adobe_app14_is_kept_for_cmyk_decoding() -> None:
    cmyk = Image.fromarray(b.pixels(16, 8, 4), mode="CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, format="JPEG", comment=b"note")
    data = buf.getvalue()
    out = strip_bytes(data)
    assert b"\xff\xeeAdobe"[:2] in out and b"Adobe" in out
    assert decoded(out) == decoded(data)


def test_jfif_thumbnail_is_removed_but_jfif_kept() -> None:
    base = b.encode("JPEG")
    thumb = bytes(2 * 2 * 3)
    jfif = b.segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x02\x02" + thumb)
    data = base[:2] + jfif + base[2 + 2 + struct.unpack(">H", base[4:6])[0] :]
    assert families(data) == {F.THUMBNAIL}
    out = strip_bytes(data)
    assert out[2:4] == b"\xff\xe0" and out[6:11] == b"JFIF\x00" and out[18:20] == b"\x00\x00"
    assert decoded(out) == decoded(data)


def test_allowed_families_are_kept() -> None:
    data = b.full_jpeg()
    assert F.ICC_PROFILE not in check_bytes(data, allowed=frozenset({F.ICC_PROFILE})).families
    out = strip_bytes(data, allowed=frozenset({F.ICC_PROFILE}))
    with Image.open(io.BytesIO(out)) as im:
        assert im.info.get("icc_profile") == b.icc_profile()
    assert check_bytes(out).families == {F.ICC_PROFILE}


def test_png_strip_keeps_only_image_chunks() -> None:
    out = strip_bytes(b.full_png())
    assert [t for t, _ in b.png_chunks(out)] == [b"IHDR", b"IDAT", b"IEND"]


def test_png_rendering_chunks_are_kept_and_clean() -> None:
    data = b.png_with(b.png_chunk(b"gAMA", struct.pack(">I", 45455)), b.png_chunk(b"pHYs", bytes(9)))
    assert check_bytes(data).clean
    assert strip_bytes(data) == data  # clean input comes back unchanged


def test_webp_vp8x_flags_follow_the_kept_chunks() -> None:
    data = b.full_webp()
    assert data[12:16] == b"VP8X" and data[20] & 0x2C == 0x2C  # ICC, EXIF, XMP
    out = strip_bytes(data)
    assert out[12:16] == b"VP8X" and out[20] & 0x2C == 0
    assert struct.unpack("<I", out[4:8])[0] == len(out) - 8
    kept = strip_bytes(data, allowed=frozenset({F.ICC_PROFILE}))
    assert kept[20] & 0x2C == 0x20
    assert decoded(kept) == decoded(data)


def test_tiff_strip_rebuilds_ifds_around_the_same_image_data() -> None:
    arr = b.pixels(6, 4)
    data = b.full_tiff(orientation=6, arr=arr)
    before = walk(data).ifds[0].entries
    out = strip_bytes(data)
    st = walk(out)
    assert [i.name for i in st.ifds] == ["IFD0"]
    assert set(st.ifds[0].entries) == set(before) & STRUCTURAL  # orientation (274) kept
    assert arr.tobytes() in out and b"Jane" not in out and b"GPS" not in out
    assert decoded(out) == decoded(data)


def test_tiff_that_cannot_be_rewritten_is_reencoded_upright(tmp_path: Path) -> None:
    im = Image.fromarray(b.pixels(5, 4))
    buf = io.BytesIO()
    im.save(buf, format="TIFF", big_tiff=True, tiffinfo={315: "Jane", 274: 6})  # BigTIFF: re-encode path
    src = tmp_path / "big.tif"
    src.write_bytes(buf.getvalue())
    result = strip_file(src, tmp_path / "out.tif")
    assert result.reencoded
    out = (tmp_path / "out.tif").read_bytes()
    assert check_bytes(out).clean and shown(out) == shown(src.read_bytes())
    with Image.open(io.BytesIO(out)) as im2:
        assert 274 not in im2.getexif()  # the pixels were turned upright instead


def test_multipage_tiff_keeps_pages() -> None:
    pages = [Image.fromarray(b.pixels(5, 4, seed=s)) for s in (1, 2)]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], tiffinfo={315: "Jane"})
    data = buf.getvalue()
    assert F.IDENTIFYING in families(data)
    out = strip_bytes(data)
    assert decoded(out) == decoded(data) and len(decoded(out)) == 2


def test_gif_strip_keeps_animation() -> None:
    frames = [Image.fromarray(b.pixels(6, 6, seed=s)).convert("P") for s in (1, 2, 3)]
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], loop=0, duration=80, comment=b"x"
    )
    data = buf.getvalue()
    assert families(data) == {F.COMMENT}
    out = strip_bytes(data)
    assert b"NETSCAPE2.0" in out and decoded(out) == decoded(data)


def test_orientation_only_exif_is_clean() -> None:
    data = b.insert_after_soi(b.encode("JPEG"), b.segment(0xE1, b"Exif\x00\x00" + b.orientation_exif(6)))
    assert check_bytes(data).clean
    assert strip_bytes(data) == data


def test_empty_gps_ifd_is_still_reported() -> None:
    exif = b.build_tiff([b.short(274, 1)], gps=[])
    data = b.insert_after_soi(b.encode("JPEG"), b.segment(0xE1, b"Exif\x00\x00" + exif))
    gps = [f for f in check_bytes(data).findings if f.family is F.GPS]
    assert gps and "without coordinates" in gps[0].detail


def test_malformed_exif_block_is_reported_and_dropped() -> None:
    bad = b"MM\x00\x2a\x00\x00\xff\xff"  # IFD0 offset far outside the block
    data = b.insert_after_soi(b.encode("JPEG"), b.segment(0xE1, b"Exif\x00\x00" + bad))
    report = check_bytes(data)
    assert report.families == {F.EXIF} and "malformed" in report.findings[0].detail
    assert check_bytes(strip_bytes(data)).clean


def test_pixels_survive_for_every_png_mode() -> None:
    for arr in (b.pixels(7, 5, 1)[..., 0], b.pixels(7, 5, 4), np.zeros((1, 1, 3), np.uint8)):
        data = b.png_with(b.png_chunk(b"tEXt", b"Author\x00x"), arr=arr)
        out = strip_bytes(data)
        assert decoded(out) == decoded(data) and check_bytes(out).clean


@pytest.mark.parametrize("linked", [False, True])
def test_bmp_profile_and_trailer_are_stripped_in_place(linked: bool) -> None:
    data = b.bmp_v5_with_profile(linked=linked, trailer=b"hidden after the image")
    report = check_bytes(data)
    assert report.families == {F.ICC_PROFILE, F.TRAILING_DATA}
    assert ("file path" in report.findings[0].detail) is linked
    out = strip_bytes(data)
    assert check_bytes(out).clean and decoded(out) == decoded(data)
    assert len(out) < len(data) and struct.unpack_from("<I", out, 2)[0] == len(out)
    assert b"jane" not in out and b"hidden" not in out
    assert check_bytes(b.encode("BMP")).clean
