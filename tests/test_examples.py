from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys

import cv2
import numpy as np
from PIL import Image

from veilcv.core.metadata import Family, check_file
from veilcv.examples import (
    example_path,
    main,
    write_annotations,
    write_clip,
    write_eval_rows,
    write_gps_photo,
    write_photos,
)


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
        assert [line.split()[0] for line in listed] == [
            "astronaut", "coffee", "chelsea", "gps-photo", "photos", "annotations", "clip", "eval-rows"
        ]  # fmt: skip
        assert all(len(line.split(maxsplit=1)) == 2 for line in listed)  # a name and a description
    out = subprocess.run([sys.executable, "-m", "veilcv.examples", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "gps-photo DEST" in out.stdout and out.stderr == ""


def test_unknown_name_lists_the_names(capsys):
    assert main(["astronot"]) == 2
    assert capsys.readouterr().err == (
        "veilcv.examples: error: expected an example name (astronaut, coffee, chelsea, gps-photo DEST, "
        "photos DIR, annotations DIR, clip DEST, eval-rows DEST), got 'astronot'; use --help to list them\n"
    )


def test_photos_come_with_a_manifest_the_default_policy_accepts(tmp_path):
    from veilcv.linter.rules.manifest.reader import read_manifest
    from veilcv.policies.licences import record_problems
    from veilcv.policies.loader import load_policy

    dest = write_photos(tmp_path / "photos")
    images = sorted(p.name for p in dest.glob("*.jpg"))
    assert images == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg"]
    records = read_manifest(dest / "manifest.csv")
    assert sorted(r.filename for r in records) == images
    policy = load_policy(pack="default")
    for record in records:
        assert record.sha256 == hashlib.sha256((dest / record.filename).read_bytes()).hexdigest()
        assert record_problems(record, policy) == [], record.filename


def test_annotations_box_the_astronauts_face(tmp_path):
    photos = write_photos(tmp_path / "photos")
    coco = json.loads((write_annotations(tmp_path / "gt") / "faces.json").read_text())
    by_id = {img["id"]: img for img in coco["images"]}
    for img in coco["images"]:
        with Image.open(photos / img["file_name"]) as photo:
            assert photo.size == (img["width"], img["height"])
    (ann,) = coco["annotations"]
    assert by_id[ann["image_id"]]["file_name"] == "astronaut.jpg"
    x, y, w, h = ann["bbox"]
    assert 0 <= x < x + w <= 512 and 0 <= y < y + h <= 512 and w * h == ann["area"]


def test_clip_is_a_video_opencv_reads(tmp_path):
    dest = write_clip(tmp_path / "clip.mp4", frames=6)
    cap = cv2.VideoCapture(str(dest))
    frames = []
    ok, frame = cap.read()
    while ok:
        frames.append(frame)
        ok, frame = cap.read()
    cap.release()
    assert len(frames) == 6 and frames[0].shape == (256, 320, 3)
    assert not np.array_equal(frames[0], frames[-1])  # it pans
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temp file left


def test_eval_rows_have_the_columns_fairness_reads(tmp_path):
    rows = list(csv.DictReader(write_eval_rows(tmp_path / "eval.csv").open()))
    assert set(rows[0]) == {"image", "y_true", "y_pred", "lighting"}
    groups = {r["lighting"] for r in rows}
    assert groups == {"daylight", "indoor", "low_light"}
    assert {r["y_true"] for r in rows} == {r["y_pred"] for r in rows} == {"0", "1"}
    assert write_eval_rows(tmp_path / "again.csv").read_text() == (tmp_path / "eval.csv").read_text()


def test_cli_writes_several_examples_and_needs_a_destination(tmp_path, capsys):
    assert main(["photos", str(tmp_path / "p"), "eval-rows", str(tmp_path / "e.csv"), "astronaut"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [str(tmp_path / "p"), str(tmp_path / "e.csv")] and out[2].endswith("astronaut.png")
    assert main(["clip"]) == 2
    assert capsys.readouterr().err == (
        "veilcv.examples: error: clip: expected one destination path after it (clip DEST)\n"
    )
