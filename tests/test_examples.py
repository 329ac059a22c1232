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
