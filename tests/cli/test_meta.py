"""`veil meta check|strip` through the CLI entry point (exit codes, output, folders, atomicity)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.metadata import builders as b
from veilcv.cli.main import main
from veilcv.core.metadata import check_file


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "trip" / "day1").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "trip" / "day1" / "gps.jpg").write_bytes(b.full_jpeg(orientation=6))
    (root / "trip" / "text.png").write_bytes(b.full_png())
    (root / "clean.png").write_bytes(b.encode("PNG"))
    (root / "anim.gif").write_bytes(b.full_gif())
    (root / "scan.tiff").write_bytes(b.full_tiff())
    (root / "notes.txt").write_text("not an image")
    (root / ".git" / "hidden.jpg").write_bytes(b.full_jpeg())
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_check_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.png").write_bytes(b.encode("PNG"))
    assert main(["meta", "check", str(tmp_path / "a.png")]) == 0
    out = capsys.readouterr()
    assert out.out == "" and "1 file checked: 1 clean" in out.err


def test_check_folder_reports_findings_without_coordinates(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["meta", "check", str(photos)]) == 1
    out = capsys.readouterr().out
    assert "gps.jpg: gps: GPS IFD with coordinates" in out
    assert "text.png: png_text: tEXt 'Author'" in out
    assert "scan.tiff: tiff_tags" in out and "anim.gif: comment" in out
    assert "hidden.jpg" not in out and "notes.txt" not in out and "clean.png" not in out
    for digits in ("2345", "9876", "47,7", "8,31"):
        assert digits not in out


def test_check_unverifiable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.jpg").write_bytes(b.full_jpeg())
    (tmp_path / "b.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(16))
    assert main(["meta", "check", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "b.heic: cannot verify: HEIF/AVIF" in out and "a.jpg: exif" in out


def test_check_json_and_allow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "icc.jpg"
    path.write_bytes(
        b.insert_after_soi(b.encode("JPEG"), b.segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b.icc_profile()))
    )
    assert main(["meta", "check", "--format", "json", str(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    first = doc["files"][0]
    assert first["findings"][0]["family"] == "icc_profile" and first["clean"] is False
    assert doc["skipped"] == [] and doc["summary"]["with_metadata"] == 1
    assert main(["meta", "check", "--allow", "icc_profile", str(path)]) == 0


def test_bad_allow_value_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meta", "check", "--allow", "gpss", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("veil: error: --allow: expected one of exif, gps") and "got 'gpss'" in err


def test_strip_mirrors_tree_and_leaves_inputs(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(photos)
    out = tmp_path / "clean"
    assert main(["meta", "strip", str(photos), "-o", str(out)]) == 0
    assert snapshot(photos) == before
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["anim.gif", "clean.png", "scan.tiff", "trip/day1/gps.jpg", "trip/text.png"]
    assert main(["meta", "check", str(out)]) == 0
    text = capsys.readouterr().out
    assert "clean.png: already clean" in text and "re-encoded losslessly" in text


def test_strip_in_place_and_output_inside_input(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meta", "strip", str(photos), "-o", str(photos / "out")]) == 0
    assert main(["meta", "strip", str(photos), "-o", str(photos / "out")]) == 0  # out/ is not walked
    assert not (photos / "out" / "out").exists()
    assert main(["meta", "strip", "--in-place", str(photos / "trip")]) == 0
    assert check_file(photos / "trip" / "text.png").clean


def test_strip_needs_exactly_one_destination(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meta", "strip", str(photos)]) == 2
    assert "expected exactly one of -o OUT or --in-place" in capsys.readouterr().err
    assert main(["meta", "strip", str(photos), "-o", str(photos), "--in-place"]) == 2


def test_strip_refuses_to_overwrite_inputs(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(photos)
    assert main(["meta", "strip", str(photos / "clean.png"), "-o", str(photos)]) == 2
    assert "use --in-place" in capsys.readouterr().err
    assert snapshot(photos) == before


def test_strip_failure_is_one_line_and_others_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad.png").write_bytes(b.encode("PNG")[:-8] + bytes(8))
    (src / "good.jpg").write_bytes(b.full_jpeg())
    assert main(["meta", "strip", str(src), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("veil: error:")]
    assert len(lines) == 1 and "bad.png: cannot verify: " in lines[0] and "bad CRC" in lines[0]
    assert "Traceback" not in err
    assert (tmp_path / "out" / "good.jpg").exists() and not (tmp_path / "out" / "bad.png").exists()


def test_help_texts_have_examples() -> None:
    for cmd in ("check", "strip"):
        out = subprocess.run(
            [sys.executable, "-m", "veilcv", "meta", cmd, "--help"], capture_output=True, text=True
        )
        assert out.returncode == 0 and "Example: veil meta " + cmd in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "veilcv", "meta", "strip", "--help"], capture_output=True, text=True
    )
    assert "Orientation" in out.stdout


def test_strip_output_that_is_a_file_is_a_one_line_error(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(photos)
    target = photos / "clean.png"
    assert main(["meta", "strip", str(photos / "trip" / "text.png"), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"veil: error: -o {target}: expected a folder, got a file; "
        "use -o FOLDER (outputs keep their names)\n"
    )
    assert snapshot(photos) == before


def test_strip_output_that_cannot_be_created_is_a_one_line_error(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    out = blocker / "clean"
    assert main(["meta", "strip", str(photos / "trip" / "text.png"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"veil: error: {out / 'text.png'}: cannot write the output: " in err
    assert "internal error" not in err and "Traceback" not in err


def test_special_files_and_symlink_loops_in_a_folder_do_not_hang_or_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    os.mkfifo(src / "pipe.jpg")
    (src / "loop.jpg").symlink_to("loop.jpg")
    (src / "good.jpg").write_bytes(b.full_jpeg())
    assert main(["meta", "check", str(src)]) == 2
    out = capsys.readouterr().out
    assert f"{src / 'pipe.jpg'}: cannot verify: expected an image file, got a special file" in out
    assert f"{src / 'loop.jpg'}: cannot verify: cannot read: " in out
    assert main(["meta", "strip", str(src), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.jpg"]


def test_in_place_strip_of_a_symlinked_file_keeps_the_link_and_cleans_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "real.jpg").write_bytes(b.full_jpeg())
    (tmp_path / "link.jpg").symlink_to("real.jpg")
    assert main(["meta", "strip", str(tmp_path), "--in-place"]) == 0
    assert (tmp_path / "link.jpg").is_symlink()
    assert check_file(tmp_path / "real.jpg").clean
    assert "1 of 1 file written clean" in capsys.readouterr().err


def test_meta_group_help_has_an_example() -> None:
    out = subprocess.run([sys.executable, "-m", "veilcv", "meta", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Example: veil meta check" in out.stdout


def test_a_folder_that_cannot_be_listed_fails_instead_of_passing(
    photos: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # chmod 000 does not stop root, so make listing that one folder fail.
    real_scandir = os.scandir
    locked = str(photos / "trip")

    def scandir(path: object = ".") -> object:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["meta", "check", str(photos)]) == 2
    assert capsys.readouterr().err == f"veil: error: {locked}: cannot list the folder: Permission denied\n"


def test_non_utf8_file_names_print_on_a_strict_utf8_stdout(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    with open(name, "wb") as fh:
        fh.write(b.full_jpeg())
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # as under an en_US.UTF-8 locale
    for args in (["check", str(tmp_path)], ["strip", str(tmp_path), "-o", str(tmp_path / "out")]):
        proc = subprocess.run(
            [sys.executable, "-m", "veilcv", "meta", *args], capture_output=True, text=True, env=env
        )
        assert "internal error" not in proc.stderr and "caf\\xe9.jpg" in proc.stdout, proc.stderr
    assert check_file(os.fsdecode(os.fsencode(tmp_path) + b"/out/caf\xe9.jpg")).clean


def test_control_characters_in_file_names_stay_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a\nb.jpg").write_bytes(b.full_jpeg())  # a forged "b.jpg: clean" line in a CI log
    assert main(["meta", "check", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith(f"{tmp_path}/a\\nb.jpg: ") for line in lines)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A shoot as a camera and an editor leave it: images, XMP sidecars, a video, a manifest."""
    root = tmp_path / "shoot"
    (root / "day1").mkdir(parents=True)
    (root / "day1" / "a.png").write_bytes(b.encode("PNG"))
    (root / "day1" / "a.xmp").write_text("<x:xmpmeta/>")
    (root / "day1" / "clip.avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI LIST")  # (MP4/MOV are checked)
    (root / "manifest.csv").write_text("filename,license\nday1/a.png,CC0-1.0\n")
    (root / ".DS_Store").write_bytes(b"\x00")  # hidden: not entered, like hidden folders
    return root


def test_check_counts_and_names_skipped_files(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meta", "check", str(mixed)]) == 0  # every checked file is clean; the skip is visible
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "1 file checked: 1 clean, 0 with metadata, 0 cannot be verified"
    day1 = mixed / "day1"
    assert err[1] == (
        f"skipped 3 files veil cannot check (.avi 1, .csv 1, .xmp 1): "
        f"{mixed / 'manifest.csv'}, {day1 / 'a.xmp'}, {day1 / 'clip.avi'}"
    )


def test_check_json_lists_skipped_files(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meta", "check", "--format", "json", str(mixed)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped"] == [
        str(mixed / "manifest.csv"),
        str(mixed / "day1" / "a.xmp"),
        str(mixed / "day1" / "clip.avi"),
    ]
    assert doc["summary"] == {"checked": 1, "clean": 1, "with_metadata": 0, "cannot_verify": 0, "skipped": 3}


def test_fail_on_skip_exits_2_only_when_something_was_skipped(
    mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["meta", "check", "--fail-on-skip", str(mixed)]) == 2
    assert "skipped 3 files veil cannot check" in capsys.readouterr().err
    assert main(["meta", "check", "--fail-on-skip", str(mixed / "day1" / "a.png")]) == 0


def test_long_skip_lists_are_cut_with_a_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(14):
        (tmp_path / f"s{i:02d}.xmp").write_text("<x/>")
    assert main(["meta", "check", str(tmp_path)]) == 0
    line = capsys.readouterr().err.splitlines()[-1]
    assert line.startswith("skipped 14 files veil cannot check (.xmp 14): ")
    assert line.count(".xmp,") == 10 and "s10.xmp" not in line
    assert line.endswith(", ... and 4 more (--format json lists them all)")


def test_strip_names_what_it_neither_stripped_nor_copied(
    mixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clean"
    assert main(["meta", "strip", str(mixed), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.png"]
    assert capsys.readouterr().err.splitlines()[-1].startswith("skipped 3 files veil cannot strip (")
