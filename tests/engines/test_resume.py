"""`veil redact --resume REPORT` with the local engine and the real face model: unchanged outputs are
not written again and their records carried, changed inputs or outputs are redone, and a report of
other settings is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veilcv.cli.main import main
from veilcv.errors import ModelError

Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module", autouse=True)
def model_available() -> None:
    from veilcv.core.detection import load_detector

    try:
        load_detector("face")
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")


def photos(root: Path) -> Path:
    astronaut = Image.fromarray(skimage_data.astronaut())
    for name, side in {"a.jpg": 512, "b.png": 256, "sub/c.jpg": 384}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        astronaut.resize((side, side)).save(root / name, quality=90)
    return root


def records(report: Path) -> dict[str, dict]:
    files = json.loads(report.read_text())["files"]
    return {r["input"]: {k: v for k, v in r.items() if k != "timings_ms"} for r in files}


def test_resume_skips_what_still_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = photos(tmp_path / "in")
    out, first, second = tmp_path / "out", tmp_path / "first.json", tmp_path / "second.json"
    run = ["redact", str(src), "-o", str(out), "--what", "faces"]
    assert main([*run, "-q", "--report", str(first)]) == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    # a new input photo under an old name: its output no longer matches, it is redacted again
    Image.fromarray(skimage_data.astronaut()).resize((300, 300)).save(src / "sub" / "c.jpg", quality=80)
    capsys.readouterr()
    assert main([*run, "--report", str(second), "--resume", str(first)]) == 0
    assert f"veil: 2 file(s) unchanged since {first}: not redacted again\n" in capsys.readouterr().err
    assert {p.name for p in out.rglob("*") if p.is_file() and p.stat().st_mtime_ns != stamps[p.name]} == {
        "c.jpg"
    }
    before, after = records(first), records(second)
    assert sorted(after) == sorted(before)
    c = str(src / "sub" / "c.jpg")
    assert {k: v for k, v in after.items() if k != c} == {k: v for k, v in before.items() if k != c}
    assert (
        after[c]["ok"] and after[c]["width"] == 300 and after[c]["input_sha256"] != before[c]["input_sha256"]
    )


def test_resume_refuses_a_report_of_other_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = photos(tmp_path / "in")
    out, report = tmp_path / "out", tmp_path / "report.json"
    assert main(["redact", str(src), "-o", str(out), "--what", "faces", "-q", "--report", str(report)]) == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = ["redact", str(src), "-o", str(out), "--what", "faces", "-q", "--mode", "ellipse"]
    assert main([*again, "--resume", str(report)]) == 2
    assert capsys.readouterr().err == (
        f"veil: error: --resume {report}: expected a report written with this run's settings, got other "
        "mode; rerun without --resume (or with the settings of that run)\n"
    )
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
    (tmp_path / "not.json").write_text("[1, 2]")
    assert main([*again, "--resume", str(tmp_path / "not.json")]) == 2
    assert capsys.readouterr().err == (
        f"veil: error: --resume {tmp_path / 'not.json'}: expected a veil redact JSON report (--report), "
        "got other JSON\n"
    )
