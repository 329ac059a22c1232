"""`veil redact --report PATH`: a path that cannot take the report fails before any file is redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from veilcv.cli.main import main


@pytest.mark.parametrize("kind", ["folder", "file in the way", "link"])
def test_an_unusable_report_path_fails_before_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"\xff\xd8")
    if kind == "folder":
        report = tmp_path / "reports"
        report.mkdir()
    elif kind == "file in the way":
        (tmp_path / "plain").write_text("x")
        report = tmp_path / "plain" / "report.json"
    else:
        report = tmp_path / "report.json"
        report.symlink_to(tmp_path / "elsewhere.json")
    out = tmp_path / "out"
    assert main(["redact", str(src), "-o", str(out), "--what", "faces", "-q", "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veil: error: {report}: ") and err.count("\n") == 1, err
    assert "internal error" not in err
    assert not out.exists(), "nothing is redacted when the report could not be written"
