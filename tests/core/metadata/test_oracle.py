"""ExifTool reads every file we strip (generated and real): no GPS, no serial number, no thumbnail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.core.metadata import builders as b
from tests.core.metadata.oracle import exiftool, leaks, read_tags
from veilcv.core.metadata import check_file, strip_file
from veilcv.errors import InputError

GENERATED = {
    "full.jpg": b.full_jpeg,
    "rotated.jpg": lambda: b.full_jpeg(6),
    "full.png": b.full_png,
    "full.webp": b.full_webp,
    "full.tif": b.full_tiff,
    "full.gif": b.full_gif,
    "profile.bmp": b.bmp_v5_with_profile,
    "slack_exif.jpg": lambda: b.insert_after_soi(
        b.encode("JPEG"), b.segment(0xE1, b"Exif\x00\x00" + b.orientation_exif(6) + b.full_jpeg())
    ),
    "slack_app14.jpg": lambda: b.insert_after_soi(
        b.encode("JPEG"), b.segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01" + b.full_jpeg())
    ),
}


def _strip_all(pairs: list[tuple[Path, Path]]) -> list[Path]:
    written = []
    for src, dst in pairs:
        strip_file(src, dst)
        written.append(dst)
    return written


def test_oracle_sees_what_it_must_catch(tmp_path: Path) -> None:
    # The oracle itself can fail: in the unstripped files it finds GPS, serials and thumbnails.
    exiftool()
    src = tmp_path / "gps.jpg"
    thumb = b.encode("JPEG", b.pixels(8, 8), quality=50)
    exif = b.segment(0xE1, b"Exif\x00\x00" + b.full_exif(thumbnail=thumb))
    src.write_bytes(b.insert_after_soi(b.encode("JPEG"), exif))  # (full_jpeg's fake APP11 stalls ExifTool)
    found = leaks(read_tags([src])[src])
    assert any("GPS" in k for k in found) and any("Serial" in k for k in found)
    assert any("Thumbnail" in k for k in found)


def test_generated_files_strip_clean_for_exiftool(tmp_path: Path) -> None:
    exiftool()
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    pairs = []
    for name, make in GENERATED.items():
        src = tmp_path / "in" / name
        src.write_bytes(make())
        pairs.append((src, tmp_path / "out" / name))
    written = _strip_all(pairs)
    tags = read_tags(written)
    assert set(tags) == set(written)
    assert {p.name: leaks(t) for p, t in tags.items() if leaks(t)} == {}


@pytest.mark.shared_data
def test_corpus_strips_clean_for_exiftool(shared_data: Path, tmp_path: Path) -> None:
    exiftool()
    spec = importlib.util.spec_from_file_location(
        "metadata_corpus_oracle", shared_data / "metadata_corpus" / "load.py"
    )
    assert spec is not None and spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    pairs, gps_inputs = [], []
    for path, entry in corpus.load():
        path = Path(path)
        if check_file(path).error is not None:
            continue  # refused: nothing is written (the corpus tests check that)
        pairs.append((path, tmp_path / entry["path"]))
        if entry["gps_coordinates"]:
            gps_inputs.append(path)
    written = []
    for src, dst in pairs:
        try:
            written += _strip_all([(src, dst)])
        except InputError:
            assert not dst.exists()  # a TIFF whose pixels cannot be decoded is refused whole
    assert len(written) >= 150
    tags = read_tags(written)
    assert set(tags) == set(written)
    assert {str(p.relative_to(tmp_path)): leaks(t) for p, t in tags.items() if leaks(t)} == {}
    before = read_tags(gps_inputs)
    assert sum(any("GPS" in k for k in leaks(t)) for t in before.values()) >= 8  # the oracle saw them
