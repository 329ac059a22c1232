"""Decode with EXIF orientation applied, encode without metadata, refuse what cannot be trusted."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from veilcv.core import metadata
from veilcv.core.media import decode_image, encode_image, media_kind
from veilcv.errors import InputError, UnsupportedFormatError


def marked(h: int = 40, w: int = 60) -> np.ndarray:
    """RGB image, grey, with a red 8x8 marker in the top-left corner."""
    arr = np.full((h, w, 3), 128, np.uint8)
    arr[:8, :8] = (255, 0, 0)
    return arr


def jpeg_with_orientation(orientation: int) -> bytes:
    im = Image.fromarray(marked())
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = "Jane Photographer"  # Artist: must never reach an output
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(
    ("orientation", "shape", "corner"),
    [
        (1, (40, 60), (0, 0)),
        (3, (40, 60), (39, 59)),
        (6, (60, 40), (0, 39)),  # rotate 90 CW for display: top-left goes to top-right
        (8, (60, 40), (59, 0)),
    ],
)
def test_exif_orientation_is_applied_before_anything_else(
    orientation: int, shape: tuple, corner: tuple
) -> None:
    img = decode_image(jpeg_with_orientation(orientation))
    assert img.shape == (*shape, 3) and img.dtype == np.uint8 and img.flags.c_contiguous
    y, x = corner
    b, g, r = img[y, x]
    assert r > 200 and g < 60 and b < 60, f"marker not at {corner} for orientation {orientation}"


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic"])
def test_roundtrip_every_format(suffix: str) -> None:
    bgr = np.ascontiguousarray(marked()[:, :, ::-1])
    data = encode_image(bgr, suffix)
    back = decode_image(data, name=f"x{suffix}")
    assert back.shape == bgr.shape
    err = np.abs(back.astype(int) - bgr.astype(int))
    if suffix in (".png", ".tif", ".tiff", ".bmp"):
        assert err.max() == 0
    else:  # lossy: chroma subsampling smears the marker's edge, the rest stays close
        assert err.mean() < 4


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_encoded_outputs_carry_no_metadata(suffix: str) -> None:
    img = decode_image(jpeg_with_orientation(6))
    data = encode_image(img, suffix)
    report = metadata.check_bytes(data, suffix=suffix)
    assert report.error is None and report.clean, report.findings
    assert b"Jane Photographer" not in data


def test_alpha_is_kept_and_jpeg_drops_it() -> None:
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 3] = 100
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    img = decode_image(out.getvalue())
    assert img.shape == (10, 12, 4) and (img[..., 3] == 100).all()
    assert decode_image(encode_image(img, ".jpg")).shape == (10, 12, 3)


def test_sixteen_bit_grey_scales_by_type_range() -> None:
    arr = np.full((4, 4), 65535, np.uint16)
    arr[0, 0] = 256
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    img = decode_image(out.getvalue())
    assert img.shape == (4, 4, 3) and img[1, 1, 0] == 255 and img[0, 0, 0] == 1


def test_multi_page_tiff_is_refused() -> None:
    out = io.BytesIO()
    a, b = Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8), "white")
    a.save(out, format="TIFF", save_all=True, append_images=[b])
    with pytest.raises(InputError, match="expected a single-frame image, got 2 frames"):
        decode_image(out.getvalue(), name="pages.tif")


def test_truncated_and_unknown_data_fail_with_the_name() -> None:
    good = encode_image(np.zeros((64, 64, 3), np.uint8), ".png")
    with pytest.raises(InputError, match="cut.png"):
        decode_image(good[: len(good) // 2], name="cut.png")
    with pytest.raises(UnsupportedFormatError, match="notes.jpg: expected an image"):
        decode_image(b"hello, not an image", name="notes.jpg")


def test_pixel_bomb_is_refused_before_decoding() -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    with pytest.raises(InputError, match="bomb.png"):
        decode_image(data, name="bomb.png")


def test_unknown_output_suffix() -> None:
    with pytest.raises(UnsupportedFormatError, match="expected an output suffix"):
        encode_image(np.zeros((2, 2, 3), np.uint8), ".gif")


def test_media_kind() -> None:
    assert media_kind("a/B.JPG") == "image" and media_kind("c.MkV") == "video" and media_kind("x.txt") is None


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_transpose(orientation: int) -> None:
    from PIL import ImageOps

    rng = np.random.default_rng(orientation)
    arr = np.kron(rng.integers(0, 255, (5, 7, 3), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=98, exif=exif.tobytes())
    want = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))).convert("RGB"))[
        :, :, ::-1
    ]
    got = decode_image(buf.getvalue())
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).mean() < 3


def test_truncated_jpeg_is_refused_not_grey_filled() -> None:
    data = encode_image(np.full((256, 256, 3), 90, np.uint8), ".jpg")
    with pytest.raises(InputError, match="cut.jpg"):
        decode_image(data[: len(data) // 2], name="cut.jpg")


def test_jpeg_fast_path_equals_opencv_decode_bit_for_bit() -> None:
    """The simplejpeg path must give the pixels OpenCV's decoder gives (same libjpeg-turbo maths)."""
    import cv2

    rng = np.random.default_rng(7)
    textured = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (5, 5), 0)
    for sub in (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444):
        data = cv2.imencode(
            ".jpg", textured, [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sub]
        )[1]
        want = cv2.imdecode(data, cv2.IMREAD_COLOR)
        got = decode_image(data.tobytes())
        assert got.shape == want.shape and np.array_equal(got, want)


def test_grey_jpeg_decodes_to_three_channels() -> None:
    buf = io.BytesIO()
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))).save(buf, format="JPEG", quality=95)
    img = decode_image(buf.getvalue())
    assert img.shape == (48, 64, 3) and img.flags.c_contiguous
    assert (img[:, :, 0] == img[:, :, 1]).all() and (img[:, :, 1] == img[:, :, 2]).all()


def test_decoding_heic_leaves_pillows_formats_as_they_were() -> None:
    # pillow-heif is used directly: importing veilcv must not register a Pillow plugin for the host
    import subprocess
    import sys

    code = (
        "import veilcv.core.media as m, numpy as np\n"
        "from PIL import Image\n"
        "data = m.encode_image(np.zeros((8, 8, 3), np.uint8), '.heic')\n"
        "assert m.decode_image(data).shape == (8, 8, 3)\n"
        "print('HEIF' in Image.OPEN)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
