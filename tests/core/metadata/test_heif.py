"""HEIF/HEIC and AVIF: every metadata item found, strip keeps the primary image's coded bytes and pixels."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.metadata import builders as b
from tests.core.metadata import heif_builders as hb
from tests.core.metadata.oracle import exiftool, leaks, read_tags
from veilcv.cli.main import main
from veilcv.core.metadata import Family, check_bytes, check_file, heif, strip_bytes, strip_file
from veilcv.errors import InputError, UnsupportedFormatError

F = Family


def heif_pixels(data: bytes) -> np.ndarray:
    import pillow_heif

    return np.asarray(pillow_heif.open_heif(io.BytesIO(data)).to_pillow())


def test_phone_heic_reports_every_item() -> None:
    data, _arr, _tiles = hb.phone_heic(free=b"GPS 47.1234N 8.5310E")
    report = check_bytes(data)
    assert report.error is None and report.format == "HEIF"
    assert report.families == {
        F.EXIF,
        F.GPS,
        F.MAKERNOTES,
        F.IDENTIFYING,
        F.THUMBNAIL,
        F.XMP,
        F.XMP_GPS,
        F.OTHER,
    }
    text = "\n".join(str(f) for f in report.findings)
    assert "thumbnail image HEIF item 6" in text and "auxiliary image HEIF item 9" in text
    assert "47,7" not in text and "2345" not in text  # presence, never the coordinates


@pytest.mark.parametrize("grid_in_idat", [False, True])
def test_phone_heic_strip_keeps_the_coded_tiles_and_pixels(grid_in_idat: bool) -> None:
    data, _arr, tiles = hb.phone_heic(free=b"GPS 47.1234N 8.5310E", grid_in_idat=grid_in_idat)
    out = strip_bytes(data)
    assert check_bytes(out).clean
    assert all(t in out for t in tiles)  # the grid's HEVC tiles, byte for byte: nothing re-encoded
    assert np.array_equal(heif_pixels(out), heif_pixels(data))
    for gone in (b"SN-998877", b"Jane", b"GPS 47.1234N", b"GPSLatitude", b"portraiteffectsmatte"):
        assert gone not in out
    assert strip_bytes(out) == out  # a stripped file is already canonical


def test_heic_with_alpha_keeps_its_alpha_plane() -> None:
    buf = io.BytesIO()
    Image.fromarray(b.pixels(40, 24, 4)).save(
        buf, format="HEIF", quality=-1, exif=b"Exif\x00\x00" + b.full_exif(), xmp=b.XMP
    )
    data = buf.getvalue()
    out = strip_bytes(data)
    assert check_bytes(out).clean
    pixels = heif_pixels(out)
    assert pixels.shape[2] == 4 and np.array_equal(pixels, heif_pixels(data))


def test_avif_with_exif_and_xmp_is_stripped_without_reencoding() -> None:
    buf = io.BytesIO()
    Image.fromarray(b.pixels(48, 32)).save(
        buf, format="AVIF", exif=b"Exif\x00\x00" + b.full_exif(), xmp=b.XMP
    )
    data = buf.getvalue()
    report = check_bytes(data)
    assert report.format == "AVIF" and {F.EXIF, F.GPS, F.XMP, F.XMP_GPS} <= report.families
    out = strip_bytes(data)
    assert check_bytes(out).clean
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(out)) as after:
        assert before.tobytes() == after.tobytes()
        assert "exif" not in after.info and "xmp" not in after.info


def test_unreferenced_mdat_bytes_are_reported_and_dropped() -> None:
    data, _arr, _tiles = hb.phone_heic(depth=False)
    secret = b"GPS 47.1234N 8.5310E SN-998877 Jane Doe"
    # grow the mdat by bytes no item points to
    at = data.rindex(b"mdat") - 4
    (size,) = struct.unpack_from(">I", data, at)
    smuggled = data[:at] + struct.pack(">I", size + len(secret)) + data[at + 4 :] + secret
    assert np.array_equal(heif_pixels(smuggled), heif_pixels(data))
    assert F.OTHER in check_bytes(smuggled).families
    assert secret not in strip_bytes(smuggled)


@pytest.mark.parametrize("ptype", [b"ispe", b"hvcC"])
def test_property_with_bytes_after_its_fields_is_refused(ptype: bytes) -> None:
    props, coded = hb.encode_tile(b.pixels(16, 16))
    grown = [
        (struct.pack(">I", len(raw) + 8) + raw[4:] + b"GPS 47.1" if raw[4:8] == ptype else raw, essential)
        for raw, essential in props
    ]
    data = hb.assemble([hb.Item(1, b"hvc1", coded, grown)], [], 1)
    report = check_bytes(data)
    assert report.error is not None and report.error.startswith("cannot verify: HEIF/AVIF")
    assert "after its" in report.error or "expected" in report.error
    with pytest.raises(UnsupportedFormatError):
        strip_bytes(data)


def test_unknown_essential_property_is_refused() -> None:
    props, coded = hb.encode_tile(b.pixels(16, 16))
    odd = hb._full(b"zzzz", 0, 0, b"must understand")
    data = hb.assemble([hb.Item(1, b"hvc1", coded, [*props, (odd, True)])], [], 1)
    report = check_bytes(data)
    assert report.error is not None and "essential" in report.error


def test_unknown_optional_property_is_dropped() -> None:
    props, coded = hb.encode_tile(b.pixels(16, 16))
    odd = hb._full(b"zzzz", 0, 0, b"GPS 47.1234N 8.5310E")
    data = hb.assemble([hb.Item(1, b"hvc1", coded, [*props, (odd, False)])], [], 1)
    assert not check_bytes(data).clean
    out = strip_bytes(data)
    assert b"zzzz" not in out and check_bytes(out).clean
    assert np.array_equal(heif_pixels(out), heif_pixels(data))


def test_heic_strip_file_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _arr, _tiles = hb.phone_heic()
    src = tmp_path / "IMG_0001.HEIC"
    src.write_bytes(data)
    assert main(["meta", "check", str(src)]) == 1
    out_dir = tmp_path / "clean"
    assert main(["meta", "strip", str(src), "-o", str(out_dir)]) == 0
    assert check_file(out_dir / "IMG_0001.HEIC").clean
    assert main(["meta", "check", str(out_dir / "IMG_0001.HEIC")]) == 0
    assert src.read_bytes() == data  # the input is untouched
    result = strip_file(src, tmp_path / "again.heic")
    assert result.changed and not result.reencoded


def test_stripped_heic_and_avif_hold_nothing_for_exiftool(tmp_path: Path) -> None:
    exiftool()
    data, _arr, _tiles = hb.phone_heic(free=b"GPS 47.1234N 8.5310E")
    buf = io.BytesIO()
    Image.fromarray(b.pixels(48, 32)).save(
        buf, format="AVIF", exif=b"Exif\x00\x00" + b.full_exif(), xmp=b.XMP
    )
    files = {"phone.heic": data, "photo.avif": buf.getvalue()}
    written = []
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        strip_file(tmp_path / name, tmp_path / f"clean_{name}")
        written.append(tmp_path / f"clean_{name}")
    before = read_tags([tmp_path / n for n in files])
    assert all(any("GPS" in k for k in leaks(t)) for t in before.values())  # the oracle saw them
    assert {p.name: leaks(t) for p, t in read_tags(written).items() if leaks(t)} == {}


def test_jpeg_xl_is_refused_saying_so(tmp_path: Path) -> None:
    for data in (b"\xff\x0a" + bytes(30), b"\x00\x00\x00\x0cJXL \r\n\x87\n" + bytes(30)):
        report = check_bytes(data)
        assert report.error is not None and "JPEG XL" in report.error and "convert" in report.error


@pytest.mark.parametrize("suffix", [".dng", ".arw", ".cr3"])
def test_camera_raw_is_refused_with_what_to_do(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / f"raw{suffix}"
    src.write_bytes(b"II*\x00" + bytes(60))
    report = check_file(src)
    assert report.error is not None and "convert them to TIFF, PNG or JPEG first" in report.error
    with pytest.raises(InputError, match="convert"):
        strip_file(src, tmp_path / f"out{suffix}")


def _sei(payload: bytes) -> bytes:
    """A prefix SEI NAL unit (type 39) with a user-data-unregistered message holding ``payload``."""
    body = b"\x05" + bytes([len(payload) + 16]) + bytes(16) + payload + b"\x80"
    return bytes([39 << 1, 1]) + body


def test_sei_units_in_a_tile_and_its_hvcc_are_dropped() -> None:
    secret = b"GPS 47.1234N 8.5310E SN-998877"
    props, coded = hb.encode_tile(b.pixels(64, 64))
    nal = _sei(secret)
    smuggled = len(nal).to_bytes(4, "big") + nal + coded
    grown = []
    for raw, essential in props:
        if raw[4:8] == b"hvcC":  # append an SEI array to the decoder configuration
            body = raw[8:30] + bytes([raw[30] + 1]) + raw[31:] + bytes([39]) + b"\x00\x01"
            body += len(nal).to_bytes(2, "big") + nal
            raw = (len(body) + 8).to_bytes(4, "big") + b"hvcC" + body
        grown.append((raw, essential))
    data = hb.assemble([hb.Item(1, b"hvc1", smuggled, grown)], [], 1)
    clean = hb.assemble([hb.Item(1, b"hvc1", coded, props)], [], 1)
    assert np.array_equal(heif_pixels(data), heif_pixels(clean))  # decoders skip the SEI
    report = check_bytes(data)
    assert any("SEI" in f.detail for f in report.findings)
    out = strip_bytes(data)
    assert secret not in out and coded in out and check_bytes(out).clean
    assert np.array_equal(heif_pixels(out), heif_pixels(clean))


def test_av1_metadata_and_padding_obus_are_dropped() -> None:
    buf = io.BytesIO()
    Image.fromarray(b.pixels(48, 32)).save(buf, format="AVIF")
    data = buf.getvalue()
    secret = b"GPS 47.1234N 8.5310E SN-998877"
    metadata = bytes([5 << 3 | 2, len(secret) + 1, 4]) + secret  # METADATA OBU (ITU-T T.35 type)
    padding = bytes([15 << 3 | 2, len(secret)]) + secret
    at = data.rindex(b"mdat") + 4  # the image's OBUs start the mdat payload
    smuggled = data[:at] + metadata + data[at:] + padding
    # grow the mdat box and the item's extent length by what was added
    mdat_size = int.from_bytes(data[at - 8 : at - 4], "big") + len(metadata) + len(padding)
    smuggled = smuggled[: at - 8] + mdat_size.to_bytes(4, "big") + smuggled[at - 4 :]
    h = heif.parse(data)
    item = h.items[h.primary]
    (off, length) = item.extents[0]
    loc = data.index(off.to_bytes(4, "big") + length.to_bytes(4, "big"))
    smuggled = (
        smuggled[:loc]
        + smuggled[loc : loc + 4]
        + (length + len(metadata) + len(padding)).to_bytes(4, "big")
        + smuggled[loc + 8 :]
    )
    with Image.open(io.BytesIO(smuggled)) as im, Image.open(io.BytesIO(data)) as ref:
        assert im.tobytes() == ref.tobytes()
    assert any("metadata/padding" in f.detail for f in check_bytes(smuggled).findings)
    out = strip_bytes(smuggled)
    assert secret not in out and check_bytes(out).clean
    with Image.open(io.BytesIO(out)) as im, Image.open(io.BytesIO(data)) as ref:
        assert im.tobytes() == ref.tobytes()


def test_a_gain_map_grid_is_reported_once_with_its_tiles() -> None:
    props, coded = hb.encode_tile(b.pixels(64, 64))
    grid = struct.pack(">BBBBHH", 0, 0, 0, 1, 128, 64)
    urn = hb._full(b"auxC", 0, 0, b"urn:com:apple:photo:2020:aux:hdrgainmap\x00")
    items = [
        hb.Item(1, b"hvc1", coded, props),
        hb.Item(2, b"grid", grid, [(hb.ispe(128, 64), False), (urn, True)], hidden=True),
        hb.Item(3, b"hvc1", coded, props, hidden=True),
        hb.Item(4, b"hvc1", coded, props, hidden=True),
    ]
    data = hb.assemble(items, [(b"auxl", 2, [1]), (b"dimg", 2, [3, 4])], 1)
    details = [f.detail for f in check_bytes(data).findings]
    gain = [d for d in details if "auxiliary image" in d]
    assert gain == ["auxiliary image HEIF item 2 (with 2 tiles) (urn:com:apple:photo:2020:aux:hdrgainmap)"]
    out = strip_bytes(data)
    assert check_bytes(out).clean and out.count(coded) == 1


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
@pytest.mark.parametrize("channels", [3, 4])
def test_a_file_without_metadata_from_another_writer_checks_clean(fmt: str, channels: int) -> None:
    # libheif and libavif lay files out their own way; every byte is still a field or image data.
    buf = io.BytesIO()
    Image.fromarray(b.pixels(40, 24, channels)).save(buf, format=fmt)
    data = buf.getvalue()
    assert check_bytes(data).clean and strip_bytes(data) == data


def test_exif_bytes_left_in_mdat_by_another_tool_are_found() -> None:
    # A tool that drops the Exif item but leaves its bytes in mdat (unreferenced) still leaks them.
    props, coded = hb.encode_tile(b.pixels(16, 16))
    clean = strip_bytes(hb.assemble([hb.Item(1, b"hvc1", coded, props)], [], 1))  # (the builder names things)
    assert check_bytes(clean).clean
    at = clean.rindex(b"mdat") - 4
    secret = b"Exif\x00\x00" + b.full_exif()
    size = int.from_bytes(clean[at : at + 4], "big") + len(secret)
    leaky = clean[:at] + size.to_bytes(4, "big") + clean[at + 4 :] + secret
    assert any("no item uses" in f.detail for f in check_bytes(leaky).findings)
    assert strip_bytes(leaky) == clean
