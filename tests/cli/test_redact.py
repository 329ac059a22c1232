"""`veil redact` through the CLI with the real model: folders mirrored, report, errors per file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veilcv.cli.main import main
from veilcv.core.media import decode_image, encode_image
from veilcv.errors import ModelError

skimage_data = pytest.importorskip("skimage.data")
FACE = (185, 70, 265, 170)
VEIL = Path(sys.executable).with_name("veil")


@pytest.fixture(scope="module", autouse=True)
def model_available() -> None:
    from veilcv.core.detection import load_detector

    try:
        load_detector("face")
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])


def covered(path: Path) -> bool:
    x0, y0, x1, y1 = FACE
    return int(decode_image(path.read_bytes())[y0:y1, x0:x1, :3].max()) <= 16


def jpeg_with_artist() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Jane Photographer"
    buf = io.BytesIO()
    Image.fromarray(skimage_data.astronaut()).save(buf, format="JPEG", quality=92, exif=exif.tobytes())
    return buf.getvalue()


def make_tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.jpg").write_bytes(jpeg_with_artist())
    (root / "a" / "mid.png").write_bytes(encode_image(astronaut(), ".png"))
    (root / "a" / "b" / "deep.webp").write_bytes(encode_image(astronaut(), ".webp"))
    (root / "a" / "b" / "scan.bmp").write_bytes(encode_image(astronaut(), ".bmp"))
    (root / "a" / "notes.txt").write_text("not an image")
    (root / ".hidden.jpg").write_bytes(b"ignored")


def test_folder_is_mirrored_with_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "photos", tmp_path / "out"
    make_tree(src)
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    # An exact residual count: the precision is pinned (tests/core/test_verify_precisions.py holds
    # every precision the CPU runs to the same verdict).
    args = ["--what", "faces", "--precision", "f32", "--report", str(out / "report.json")]
    rc = main(["redact", str(src), "-o", str(out), *args])
    assert rc == 0, capsys.readouterr().err
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a/b/deep.webp", "a/b/scan.png", "a/mid.png", "report.json", "top.jpg"]
    for rel in ("top.jpg", "a/mid.png", "a/b/deep.webp", "a/b/scan.png"):
        assert covered(out / rel), rel
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before  # inputs untouched
    rep = json.loads((out / "report.json").read_text())
    assert rep["tool"]["version"] and rep["mode"] == "box"
    assert rep["thresholds"] == {"face": 0.12} and rep["mask_scale"] == 1.5
    assert rep["small_faces"] is True  # gated small-face passes are the default
    assert rep["models"][0]["sha256"] and rep["models"][0]["name"]
    assert rep["summary"] == {"redacted": 4, "failed": 0, "skipped": 1, "residuals": 0}
    assert rep["skipped"] == [str(src / "a" / "notes.txt")]
    for f in rep["files"]:
        assert f["ok"] and len(f["input_sha256"]) == 64 and len(f["output_sha256"]) == 64
        assert f["regions"] == {"face": 1} and f["timings_ms"]["detect"] > 0
    text = (out / "report.json").read_text()
    assert "Jane Photographer" not in text  # no metadata values in the report
    assert b"Jane Photographer" not in (out / "top.jpg").read_bytes()
    err = capsys.readouterr().err
    assert "files redacted" in err and "images/s" in err


def test_bad_file_fails_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "good.png").write_bytes(encode_image(astronaut(), ".png"))
    good = encode_image(astronaut(), ".jpg")
    (src / "broken.jpg").write_bytes(good[: len(good) // 3])
    rc = main(
        [
            "redact",
            str(src),
            str(tmp_path / "missing.png"),
            "-o",
            str(out),
            "--what",
            "faces",
            "--report",
            str(tmp_path / "r.json"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("veil: error:")]
    assert any("broken.jpg" in ln for ln in lines) and any("missing.png: no such file" in ln for ln in lines)
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["good.png"]
    assert covered(out / "good.png")
    rep = json.loads((tmp_path / "r.json").read_text())
    bad = [f for f in rep["files"] if not f["ok"]]
    assert len(bad) == 1 and "broken.jpg" in bad[0]["error"] and bad[0]["output"] is None
    assert rep["summary"]["failed"] == 2


def test_in_place_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(encode_image(astronaut(), ".png"))
    assert main(["redact", str(p), "--what", "faces"]) == 2
    assert "expected exactly one of -o OUT or --in-place, got neither" in capsys.readouterr().err
    assert main(["redact", str(p), "-o", str(tmp_path), "--in-place"]) == 2
    assert main(["redact", str(p), "-o", str(tmp_path), "--what", "faces"]) == 2  # would overwrite the input
    assert "would overwrite the input" in capsys.readouterr().err
    assert main(["redact", str(p), "--in-place", "--what", "faces", "--mode", "blur"]) == 2
    assert "--mode: expected one of box, ellipse, pixelate, got 'blur'" in capsys.readouterr().err
    assert main(["redact", str(p), "--in-place", "--what", "faces", "--threshold", "face:0.3"]) == 2
    assert main(["redact", str(p), "--in-place", "--what", "faces", "-q"]) == 0
    assert covered(p)
    bmp = tmp_path / "b.bmp"
    bmp.write_bytes(encode_image(astronaut(), ".bmp"))
    assert main(["redact", str(bmp), "--in-place", "--what", "faces", "-q"]) == 2
    assert "cannot be redacted in place" in capsys.readouterr().err
    assert not covered(bmp)


def test_help_has_an_example() -> None:
    from typer.testing import CliRunner

    from veilcv.cli.main import app

    text = CliRunner().invoke(app, ["redact", "--help"]).output
    assert "Example: veil redact" in text and "--keep-audio" in text and "weaker than a box" in text


def test_readme_first_command(tmp_path: Path) -> None:
    """The README's main job, as a user runs it: the example photo, default classes, a report."""
    if not VEIL.exists():
        pytest.skip("veil console script not installed in this environment")
    photo = subprocess.run(
        [sys.executable, "-m", "veilcv.examples", "astronaut"], capture_output=True, text=True, check=True
    ).stdout.strip()
    out = tmp_path / "redacted"
    proc = subprocess.run(
        [str(VEIL), "redact", photo, "-o", str(out), "--report", str(out / "report.json")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert covered(out / "astronaut.png")
    rep = json.loads((out / "report.json").read_text())
    assert rep["what"] == ["face", "plate"] and rep["files"][0]["regions"]["face"] == 1


def test_small_faces_opt_in_still_redacts_and_is_recorded(tmp_path: Path) -> None:
    src = tmp_path / "wide.jpg"
    canvas = np.full((1080, 1920, 3), 120, np.uint8)
    canvas[100:612, 300:812] = astronaut()
    src.write_bytes(encode_image(canvas, ".jpg"))
    rep = tmp_path / "r.json"
    argv = ["redact", str(src), "-o", str(tmp_path / "out"), "--what", "faces", "-q", "--report", str(rep)]
    assert main([*argv, "--small-faces"]) == 0
    x0, y0, x1, y1 = FACE
    assert (
        int(
            decode_image((tmp_path / "out" / "wide.jpg").read_bytes())[
                100 + y0 : 100 + y1, 300 + x0 : 300 + x1
            ].max()
        )
        <= 16
    )
    doc = json.loads(rep.read_text())
    assert doc["small_faces"] is True and doc["files"][0]["regions"] == {"face": 1}
    assert "small-object tiles" in doc["models"][0]["input_policy"]


def test_first_redact_builds_the_kernels_and_no_run_starts_numba(tmp_path: Path) -> None:
    """`veil redact` builds the ahead-of-time kernels into an empty cache once; neither that run nor
    the next imports Numba in the redacting process, and both redact the face."""
    from veilcv.core.kernels import _aot

    src = tmp_path / "in.png"
    src.write_bytes(encode_image(astronaut(), ".png"))
    env = dict(os.environ, VEILCV_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("VEILCV_KERNELS", None)
    for run in ("first", "second"):
        out = tmp_path / run
        code = (
            "import sys\n"
            "from veilcv.cli.main import main\n"
            f"rc = main(['redact', {str(src)!r}, '-o', {str(out)!r}, '--what', 'faces', '-q'])\n"
            "print(rc, 'numba' in sys.modules)\n"
        )
        cmd = [sys.executable, "-c", code]
        got = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert got.returncode == 0, got.stderr[-2000:]
        if (tmp_path / "cache" / "kernels" / f"{_aot.build_key()}.failed").exists():
            pytest.skip("no ahead-of-time build here (no C compiler)")
        assert got.stdout.split() == ["0", "False"], (run, got.stderr[-2000:])
        assert covered(out / "in.png"), run
        assert (tmp_path / "cache" / "kernels" / _aot.build_key()).is_dir()
