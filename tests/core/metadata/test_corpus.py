"""The real-file corpus (../shared/data/metadata_corpus, manifest made by ExifTool).

Every family the manifest marks must be reported; after strip the check is clean and decoded
pixels are identical; files we cannot handle are refused and left untouched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageOps, ImageSequence

from veilcv.core.metadata import Family, check_file, strip_file
from veilcv.core.metadata.families import MetaReport
from veilcv.errors import InputError

pytestmark = pytest.mark.shared_data
F = Family
ALL = frozenset(Family)
# Where the manifest says a family is present, any of these findings counts as reporting it.
REQUIRED: dict[str, set[Family]] = {
    "gps_any_tag": {F.GPS, F.XMP_GPS},
    "xmp": {F.XMP},
    "iptc": {F.IPTC, F.TRAILING_DATA},  # AFCP puts IPTC in a trailer, which is dropped whole
    "makernotes": {F.MAKERNOTES, F.OTHER},  # Casio QVCI keeps maker notes in its own APP1 ("other")
    "icc_profile": {F.ICC_PROFILE},
    "photoshop_irb": {F.PHOTOSHOP_IRB, F.IPTC, F.THUMBNAIL, F.XMP},
    "comment": {F.COMMENT, F.PNG_TEXT},  # PNG's "Comment" is a tEXt keyword
    "embedded_images": {F.THUMBNAIL, F.MPF, F.TRAILING_DATA},
    "png_text_keys": {F.PNG_TEXT, F.PNG_TIME},  # ExifTool lists tIME as the key "ModifyDate"
    "identifying_tags": {
        F.IDENTIFYING,
        F.EXIF,
        F.XMP,
        F.IPTC,
        F.PNG_TEXT,
        F.TIFF_TAGS,
        F.COMMENT,
        F.OTHER,
        F.TRAILING_DATA,
    },
}
_BENIGN_EXIF = {"Orientation", "XResolution", "YResolution", "ResolutionUnit", "YCbCrPositioning"}


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "metadata_corpus_load", shared_data / "metadata_corpus" / "load.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reports(corpus: ModuleType) -> list[tuple[Path, dict, MetaReport]]:
    return [(Path(p), e, check_file(p, allowed=frozenset())) for p, e in corpus.load()]


def _missing(entry: dict, tags: dict[str, object], report: MetaReport) -> list[str]:
    found = set(report.families)
    missing = [key for key, fams in REQUIRED.items() if entry.get(key) and not found & fams]
    if (
        report.format == "TIFF"
        and entry["embedded_images"] == ["PreviewImage"]
        and "EXIF:IFD0:PreviewImageStart" in tags
    ):
        # ExifTool names the old-style JPEG stream of IFD0 (tags 513/514) "PreviewImage": in a
        # TIFF that stream is the picture itself, not an extra preview.
        missing = [m for m in missing if m != "embedded_images"]
    exif_tags = {k.rsplit(":", 1)[-1] for k in tags if k.startswith("EXIF:")}
    # In a TIFF file the IFD0 layout tags are "EXIF" to ExifTool; the TIFF checker covers those.
    if report.format != "TIFF" and exif_tags - _BENIGN_EXIF and not found & {F.EXIF, F.GPS, F.THUMBNAIL}:
        missing.append("exif")
    return missing


def test_every_marked_family_is_reported(reports: list, corpus: ModuleType) -> None:
    tags = corpus.load_tags()
    checked, problems = 0, []
    for _path, entry, report in reports:
        if report.error is not None:
            continue
        checked += 1
        missing = _missing(entry, tags.get(entry["path"], {}), report)
        if missing:
            problems.append(f"{entry['path']}: not reported: {missing}")
    assert checked >= 150  # JPEG, PNG, WebP, GIF and TIFF files of the corpus are all handled
    assert problems == []


def test_gps_files_report_gps_without_coordinates(reports: list) -> None:
    with_gps = [(e, r) for _, e, r in reports if e["gps_coordinates"] and r.error is None]
    assert len(with_gps) >= 8  # (ultrahdr.jpg is truncated: refused, see the refusal test)
    for entry, report in with_gps:
        assert report.families & {F.GPS, F.XMP_GPS}, entry["path"]
        text = "\n".join(str(f) for f in report.findings)
        for value in entry["gps_latlon"] or ():
            if isinstance(value, (int, float)):
                whole = str(abs(int(value)))
                assert (
                    f"{abs(value):.3f}" not in text and f"{whole}/1" not in text and f" {whole}," not in text
                )


def _frames(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    with Image.open(io.BytesIO(data)) as im:
        if im.format in ("JPEG", "MPO"):
            return [(im.mode, im.size, im.tobytes())]
        return [(f.mode, f.size, f.tobytes()) for f in ImageSequence.Iterator(im)]


def _shown(data: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as im:
        t = ImageOps.exif_transpose(im)
        return t.size, t.tobytes()


def test_strip_is_clean_and_keeps_pixels(reports: list, tmp_path: Path) -> None:
    stripped = 0
    for path, entry, report in reports:
        if report.error is not None:
            continue
        dst = tmp_path / entry["path"]
        try:
            result = strip_file(path, dst)
        except InputError as exc:
            # Only TIFFs whose pixels Pillow cannot decode may be refused at strip time.
            assert report.format == "TIFF" and not entry["pillow_decode"]["ok"] or "cannot decode" in str(exc)
            assert not dst.exists()
            continue
        stripped += 1
        assert check_file(dst).clean, entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]  # input untouched
        if not entry["pillow_decode"]["ok"]:
            continue
        before, after = path.read_bytes(), dst.read_bytes()
        if report.format in ("HEIF", "AVIF"):
            # HEIF's orientation is its irot/imir properties, kept with the image; an Exif or XMP
            # orientation is ignored by HEIF readers (Pillow alone applies one from XMP).
            assert _frames(after) == _frames(before), entry["path"]
            continue
        assert _shown(after) == _shown(before), entry["path"]  # the picture a viewer shows
        if not result.reencoded:
            assert _frames(after) == _frames(before), entry["path"]
    assert stripped >= 150


def test_unhandled_files_are_refused_and_untouched(reports: list, tmp_path: Path) -> None:
    refused = [(p, e, r) for p, e, r in reports if r.error is not None]
    assert len(refused) >= 50  # PSD, HEIF/AVIF, camera raw, video, JPEG 2000, XMP sidecars, ...
    for path, entry, report in refused:
        assert report.error.startswith("cannot verify: ") and "\n" not in report.error
        dst = tmp_path / "out" / path.name
        with pytest.raises(InputError, match="cannot verify"):
            strip_file(path, dst)
        assert not dst.exists()
        with pytest.raises(InputError):
            strip_file(path, path)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]


def test_decompression_bomb_is_a_one_line_error(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from veilcv.cli.main import main

    bomb = shared_data / "metadata_corpus" / "files" / "pillow" / "png_decompression_dos.png"
    assert main(["meta", "check", str(bomb)]) == 2
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 1 and "decompression bomb" in lines[0] and "Traceback" not in out.err
