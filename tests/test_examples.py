from __future__ import annotations

import subprocess
import sys

from veilcv.core.metadata import Family, check_file
from veilcv.examples import example_path, main, write_gps_photo


def test_gps_photo_carries_what_a_phone_leaves(tmp_path):
    dest = write_gps_photo(tmp_path / "photos" / "gps.jpg")
    report = check_file(dest)
    assert {Family.GPS, Family.EXIF, Family.IDENTIFYING} <= set(report.families)
    assert not [p for p in dest.parent.iterdir() if p.name != "gps.jpg"]  # no temp file left


def test_cli_lists_and_writes(tmp_path, capsys):
    assert main([]) == 0
    assert "astronaut" in capsys.readouterr().out
    assert main(["gps-photo"]) == 2
    assert "expected one destination path" in capsys.readouterr().err
    out = subprocess.run(
        [sys.executable, "-m", "veilcv.examples", "gps-photo", str(tmp_path / "g.jpg")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and (tmp_path / "g.jpg").is_file()


def test_astronaut_path_and_unknown_name(capsys):
    assert example_path("astronaut").is_file()
    assert main(["nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_lists_every_example_with_one_line_each(capsys):
    for flag in ("--help", "-h"):
        assert main([flag]) == 0
        out = capsys.readouterr().out
        listed = out.split("examples:\n", 1)[1].splitlines()
        assert [line.split()[0] for line in listed] == ["astronaut", "gps-photo"]
        assert all(len(line.split(maxsplit=1)) == 2 for line in listed)  # a name and a description
    out = subprocess.run([sys.executable, "-m", "veilcv.examples", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "gps-photo DEST" in out.stdout and out.stderr == ""


def test_unknown_name_lists_the_names(capsys):
    assert main(["astronot"]) == 2
    assert capsys.readouterr().err == (
        "veilcv.examples: error: expected an example name (astronaut, gps-photo DEST), got 'astronot'; "
        "use --help to list them\n"
    )
