"""`veil coverage --gt FOLDER` where the folder holds one COCO JSON, as a dataset export lays it out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from veilcv.cli.main import main
from veilcv.core.media import encode_image

COCO = {
    "images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}],
    "categories": [{"id": 1, "name": "face"}],
    "annotations": [{"image_id": 1, "bbox": [8, 8, 20, 20], "category_id": 1}],
}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    img = np.full((48, 64, 3), 200, np.uint8)
    (tmp_path / "photos").mkdir()
    (tmp_path / "redacted").mkdir()
    (tmp_path / "photos" / "a.png").write_bytes(encode_image(img, ".png"))
    img[8:28, 8:28] = 0
    (tmp_path / "redacted" / "a.png").write_bytes(encode_image(img, ".png"))
    (tmp_path / "annotations").mkdir()
    return tmp_path


def run(root: Path, *extra: str) -> int:
    folders = ["--images", str(root / "photos"), "--redacted", str(root / "redacted")]
    return main(
        ["coverage", "--gt", str(root / "annotations"), *folders, "--json", str(root / "c.json"), *extra]
    )


@pytest.mark.parametrize("fmt", [[], ["--format", "coco"]])
def test_folder_with_one_coco_json_is_read(
    dataset: Path, fmt: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (dataset / "annotations" / "instances.json").write_text(json.dumps(COCO))
    (dataset / "annotations" / ".hidden.json").write_text("not read")
    assert run(dataset, *fmt) == 0, capsys.readouterr().err
    figures = json.loads((dataset / "c.json").read_text())["all"]
    assert figures["boxes"] == 1 and figures["covered"] == 1


@pytest.mark.parametrize("fmt", [[], ["--format", "coco"]])
def test_folder_with_several_coco_jsons_names_them(
    dataset: Path, fmt: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("train.json", "val.json"):
        (dataset / "annotations" / name).write_text(json.dumps(COCO))
    assert run(dataset, *fmt) == 2
    gt = dataset / "annotations"
    assert capsys.readouterr().err == (
        f"veil: error: {gt}: expected one COCO .json in the folder, got 2 (train.json, val.json); "
        "pass the one to use as --gt FILE\n"
    )


def test_folder_without_annotations_says_what_it_expected(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt = dataset / "annotations"
    assert run(dataset) == 2
    assert capsys.readouterr().err == (
        f"veil: error: {gt}: expected a folder of VOC .xml or YOLO .txt files or one COCO .json, "
        "got none of them; use --format\n"
    )
    assert run(dataset, "--format", "coco") == 2
    assert capsys.readouterr().err == (
        f"veil: error: {gt}: expected a COCO .json file or a folder holding one, got a folder with none\n"
    )
