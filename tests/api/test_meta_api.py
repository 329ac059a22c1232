"""``veilcv.meta``: the same reports and strips as `veil meta`, on files and on bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import veilcv
from tests.core.metadata import builders as b
from veilcv.cli.main import main
from veilcv.errors import InputError, UnsupportedFormatError, ValidationError


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    (root / "gps.jpg").write_bytes(b.full_jpeg(orientation=6))
    (root / "text.png").write_bytes(b.full_png())
    (root / "clean.png").write_bytes(b.encode("PNG"))
    (root / "anim.gif").write_bytes(b.full_gif())
    (root / "scan.tiff").write_bytes(b.full_tiff())
    (root / "phone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(16))
    (root / "empty.jpg").write_bytes(b"")
    return root


def as_cli_json(report: veilcv.meta.MetaReport) -> dict[str, object]:
    return {
        "path": report.path,
        "format": report.format,
        "clean": report.clean,
        "error": report.error,
        "findings": [{"family": f.family.value, "detail": f.detail} for f in report.findings],
    }


@pytest.mark.parametrize("allow", ["", "icc_profile,xmp"])
def test_check_reports_what_veil_meta_check_reports(photos: Path, allow: str, capsys) -> None:
    assert main(["meta", "check", str(photos), "--format", "json", "--allow", allow]) == 2
    cli = {Path(f["path"]).name: f for f in json.loads(capsys.readouterr().out)["files"]}
    api = {p.name: as_cli_json(veilcv.meta.check(p, allow=allow)) for p in sorted(photos.iterdir())}
    assert api == cli
    assert not api["gps.jpg"]["clean"] and api["clean.png"]["clean"]
    assert str(api["phone.heic"]["error"]).startswith("cannot verify")  # never clean


def test_check_bytes_and_paths_agree(photos: Path) -> None:
    for path in sorted(photos.iterdir()):
        on_disk, in_memory = veilcv.meta.check(str(path)), veilcv.meta.check(path.read_bytes())
        assert on_disk.findings == in_memory.findings and on_disk.clean == in_memory.clean
    assert "gps" in {f.value for f in veilcv.meta.check(photos / "gps.jpg").families}


def test_strip_writes_a_clean_copy_and_strip_bytes_matches_it(photos: Path, tmp_path: Path) -> None:
    src = photos / "gps.jpg"
    before = src.read_bytes()
    result = veilcv.meta.strip(src, tmp_path / "clean.jpg")
    assert result.changed and "gps" in {f.family.value for f in result.removed}
    assert src.read_bytes() == before  # the input is untouched
    assert veilcv.meta.check(tmp_path / "clean.jpg").clean
    assert veilcv.meta.strip_bytes(before) == (tmp_path / "clean.jpg").read_bytes()
    for allow in ("icc_profile", [veilcv.meta.Family.PNG_TEXT, "png_time"]):
        kept = veilcv.meta.strip_bytes(b.full_png(), allow=allow)
        assert veilcv.meta.check(kept, allow=allow).clean


def test_strip_refuses_what_it_cannot_verify(photos: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"phone.heic: cannot verify"):
        veilcv.meta.strip(photos / "phone.heic", tmp_path / "out.heic")
    assert not (tmp_path / "out.heic").exists()
    with pytest.raises(UnsupportedFormatError, match="cannot verify"):
        veilcv.meta.strip_bytes(b"GIF89a not really")


def test_bad_arguments_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="allow: expected one of exif, gps"):
        veilcv.meta.check(b"", allow="gps,location")
    with pytest.raises(ValidationError, match="source: expected a path or bytes, got int"):
        veilcv.meta.check(3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="data: expected bytes, got str; use strip"):
        veilcv.meta.strip_bytes("photo.jpg")  # type: ignore[arg-type]
