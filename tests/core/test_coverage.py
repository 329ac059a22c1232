"""Coverage against ground truth: known redactions give known figures, per size bucket."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.cli.main import main
from veilcv.core.annotations import ImageBoxes
from veilcv.core.coverage import measure_coverage, redacted_mask
from veilcv.core.geometry import size_bucket


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = cv2.resize(
        rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC
    )
    return np.clip(base.astype(int) + rng.integers(-3, 4, (h, w, 1)), 0, 255).astype(np.uint8)


def setup(tmp: Path, suffix: str = ".jpg") -> tuple[list[ImageBoxes], np.ndarray]:
    img = textured(200, 300)
    img[150:190, 190:260] = np.random.default_rng(1).integers(0, 20, (40, 70, 3))  # a dark patch
    boxes = np.array(
        [
            [10, 10, 20, 20],  # <16, redacted
            [40, 10, 64, 34],  # 16-31, half redacted: a miss
            [100, 10, 140, 50],  # 32-63, untouched: a miss
            [190, 150, 260, 190],  # >=64, the dark patch, blacked out
            [10, 100, 90, 180],  # >=64, redacted
        ],
        np.float64,
    )
    red = img.copy()
    for i in (0, 4, 3):
        x0, y0, x1, y1 = boxes[i].astype(int)
        red[y0:y1, x0:x1] = 0
    red[10:34, 40:52] = 0  # left half of box 1
    (tmp / "images").mkdir()
    (tmp / "redacted").mkdir()
    cv2.imwrite(str(tmp / "images" / "a.png"), img)
    cv2.imwrite(str(tmp / "redacted" / f"a{suffix}"), red, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return [ImageBoxes("a.png", boxes, ("face",) * 5, (300, 200))], boxes


def test_buckets_by_longest_side() -> None:
    assert [
        size_bucket(np.array(b)) for b in ([0, 0, 15, 15], [0, 0, 16, 3], [0, 0, 10, 63], [0, 0, 64, 1])
    ] == [
        "<16",
        "16-31",
        "32-63",
        ">=64",
    ]


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_known_redaction_gives_known_coverage(tmp_path: Path, suffix: str) -> None:
    gt, _ = setup(tmp_path, suffix)
    rep = measure_coverage(gt, tmp_path / "images", tmp_path / "redacted", overlays_dir=tmp_path / "ov")
    d = rep.as_dict()
    assert d["buckets"]["<16"]["covered"] == 1
    assert d["buckets"]["16-31"]["covered"] == 0
    assert 0.4 < d["buckets"]["16-31"]["mean_redacted_fraction"] < 0.65
    assert d["buckets"]["32-63"]["covered"] == 0 and d["buckets"]["32-63"]["mean_redacted_fraction"] < 0.05
    # the dark patch counts as redacted thanks to the flatness rule
    assert d["buckets"][">=64"]["covered"] == 2
    assert d["all"]["covered"] == 3 and d["all"]["boxes"] == 5
    # nothing outside the boxes was redacted; JPEG re-encoding of this synthetic, strongly
    # coloured texture flags a few percent (real photos: under 0.1 %, see the shared-data test)
    assert 0 <= d["background_changed_fraction"] < (0.001 if suffix == ".png" else 0.08)
    assert (tmp_path / "ov" / "a.png").is_file()


def test_identical_image_is_zero_everywhere() -> None:
    img = textured(64, 64, 3)
    assert not redacted_mask(img, img.copy()).any()


def test_jpeg_reencoding_of_real_photos_is_not_redaction(shared_data: Path) -> None:
    files = sorted((shared_data / "faces_mask_street" / "images").glob("*.jpg"))[:20]
    if not files:
        pytest.skip("faces_mask_street not present")
    fractions = []
    for f in files:
        a = cv2.imread(str(f))
        ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, 95])
        fractions.append(redacted_mask(a, cv2.imdecode(buf, cv2.IMREAD_COLOR)).mean())
    assert np.mean(fractions) < 0.005


def test_no_overlay_without_misses(tmp_path: Path) -> None:
    gt, boxes = setup(tmp_path, ".png")
    only_hits = [ImageBoxes("a.png", boxes[[0, 4]], ("face", "face"), None)]
    rep = measure_coverage(
        only_hits, tmp_path / "images", tmp_path / "redacted", overlays_dir=tmp_path / "ov"
    )
    assert rep.misses == 0 and not (tmp_path / "ov").exists()


def test_cli_coverage_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt, boxes = setup(tmp_path, ".png")
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 300, "height": 200}],
        "annotations": [
            {"image_id": 1, "bbox": [x0, y0, x1 - x0, y1 - y0], "category_id": 1}
            for x0, y0, x1, y1 in boxes.tolist()
        ],
    }
    (tmp_path / "gt.json").write_text(json.dumps(doc))
    args = [
        "coverage",
        "--gt",
        str(tmp_path / "gt.json"),
        "--images",
        str(tmp_path / "images"),
        "--redacted",
        str(tmp_path / "redacted"),
        "--json",
        str(tmp_path / "cov.json"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "16-31" in out and "background changed" in out
    rep = json.loads((tmp_path / "cov.json").read_text())
    assert rep["all"]["covered"] == 3
    assert main([*args, "--fail-under", "0.9"]) == 1
    (tmp_path / "redacted" / "a.png").unlink()
    assert main(args) == 2
    assert f"{tmp_path / 'redacted' / 'a.png'}: redacted output not found" in capsys.readouterr().err


def test_coverage_help_warns_about_overlays() -> None:
    from typer.testing import CliRunner

    from veilcv.cli.main import app

    text = CliRunner().invoke(app, ["coverage", "--help"]).output
    assert "personal data" in text and "Example: veil coverage" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--json", "{d}/gt.json/cov.json"], "cov.json: cannot write: expected a folder at"),
        (["--json", "{d}"], "cannot write: expected a file name, got a folder"),
        (["--overlays", "{d}/gt.json/ov"], "--overlays expects a folder, got a file at"),
        (["--tolerance", "-5"], "--tolerance: expected a per-channel difference in 0..255, got -5"),
        (["--fail-under", "7"], "--fail-under: expected a fraction in [0, 1], got 7.0"),
    ],
)
def test_cli_bad_options_fail_before_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    _gt, boxes = setup(tmp_path, ".png")
    doc = {
        "images": [{"id": 1, "file_name": "a.png"}],
        "annotations": [{"image_id": 1, "bbox": [10, 10, 10, 10], "category_id": 1}],
    }
    (tmp_path / "gt.json").write_text(json.dumps(doc))
    base = ["coverage", "--gt", str(tmp_path / "gt.json"), "--images", str(tmp_path / "images")]
    code = main([*base, "--redacted", str(tmp_path / "redacted"), *(a.format(d=tmp_path) for a in extra)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""  # no table: the error comes before the measuring
    assert captured.err.startswith("veil: error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err
