"""Media inputs that would make a redaction look complete when it is not."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veilcv.cli.redact import plan_inputs
from veilcv.core.media import decode_image, sniff_image_format
from veilcv.errors import InputError


def _jpeg(size: tuple[int, int] = (120, 160)) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 150, 120)).save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize("keep", [0.3, 0.5, 0.8])
def test_a_truncated_jpeg_with_an_appended_end_marker_is_refused(keep: float) -> None:
    """Decoded, its missing part would be grey and the 'redacted' output would pass for whole."""
    data = _jpeg()
    forged = data[: int(len(data) * keep)] + b"\xff\xd9"
    with pytest.raises(InputError, match="corrupt JPEG data"):
        decode_image(forged, name="cut.jpg")
    assert decode_image(data).shape == (120, 160, 3)  # the whole file still decodes


def test_a_truncated_jpeg_without_an_end_marker_is_refused() -> None:
    data = _jpeg()
    with pytest.raises(InputError, match="cut.jpg"):
        decode_image(data[: len(data) // 2], name="cut.jpg")


def test_a_gif_in_a_folder_is_refused_not_skipped(tmp_path: Path) -> None:
    src = tmp_path / "photos"
    src.mkdir()
    (src / "party.gif").write_bytes(_gif())
    (src / "photo.bak").write_bytes(_jpeg())  # a JPEG under another suffix is a picture too
    (src / "notes.txt").write_text("not a picture")
    (src / "a.jpg").write_bytes(_jpeg())
    plan = plan_inputs([src], tmp_path / "out", in_place=False)
    assert [p for p, _ in plan.pairs] == [src / "a.jpg"]
    assert plan.skipped == [str(src / "notes.txt")]
    assert len(plan.errors) == 2
    assert any("party.gif" in e and "got a GIF image" in e for e in plan.errors)
    assert any("photo.bak" in e and "got a JPEG image" in e for e in plan.errors)


def test_a_gif_named_directly_is_refused(tmp_path: Path) -> None:
    (tmp_path / "party.gif").write_bytes(_gif())
    plan = plan_inputs([tmp_path / "party.gif"], tmp_path / "out", in_place=False)
    assert not plan.pairs and len(plan.errors) == 1 and "party.gif" in plan.errors[0]


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"GIF89a", "GIF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"RIFF\x00\x00\x00\x00WEBP", "WebP"),
        (b"hello", None),
    ],
)
def test_sniffing_names_the_format_by_content(tmp_path: Path, head: bytes, name: str | None) -> None:
    (tmp_path / "f").write_bytes(head + b"\x00" * 16)
    assert sniff_image_format(tmp_path / "f") == name
