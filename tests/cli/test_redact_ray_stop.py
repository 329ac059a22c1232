"""`veil redact --engine ray` when the run stops early: the files that finished are reported.

The engine is replaced by a stand-in (no Ray session, no model), so that only the driver's handling
is under test: the real engine's scheduling is tested in tests/engines/test_ray_engine.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from veilcv.cli.main import main
from veilcv.core.redact_types import FileResult
from veilcv.errors import RedactionError

pytest.importorskip("ray", reason="Ray is not installed (pip install 'veilcv[ray]')")


class _DyingEngine:
    """Redacts the first file, then every worker 'dies' with the second in flight."""

    closed = 0

    def __init__(self, options: Any, settings: Any) -> None:
        self.header = {"tool": "veilcv", "what": list(options.what)}
        self.setup_ms: dict[str, float] = {}
        self.workers = 1
        self.unused: list[str] = []
        self._held: list[str] = []

    def start(self) -> None:
        pass

    def run(self, pairs: Iterable[tuple[Path, Path]], **_: Any) -> Iterator[FileResult]:
        it = iter(pairs)
        src, dst = next(it)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(b"redacted")
        yield FileResult(input=str(src), kind="image", output=str(dst), output_sha256="x")
        self._held.append(str(next(it)[0]))
        raise RedactionError(
            "--engine ray: every worker died (2 started); the files not reported are unfinished"
        )

    def finish(self) -> list[FileResult]:
        return []

    def in_flight(self) -> list[str]:
        return list(self._held)

    def close(self) -> None:
        type(self).closed += 1


@pytest.mark.parametrize("quiet", [True, False])
def test_every_worker_dead_still_reports_the_files_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quiet: bool
) -> None:
    import veilcv.engines.ray_engine as ray_engine

    monkeypatch.setattr(ray_engine, "RayRedactor", _DyingEngine)
    _DyingEngine.closed = 0
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (src / name).write_bytes(b"\xff\xd8")
    report = tmp_path / "report.json"
    args = ["redact", str(src), "-o", str(tmp_path / "out"), "--what", "faces", "--engine", "ray"]
    assert main([*args, "--report", str(report), *(["-q"] if quiet else [])]) == 2
    err = capsys.readouterr().err
    assert "veil: error: --engine ray: every worker died" in err
    assert "Traceback" not in err
    doc = json.loads(report.read_text())
    assert doc["interrupted"] is True
    assert [f["input"] for f in doc["files"]] == [str(src / "a.jpg")]
    assert doc["unfinished"] == [str(src / "b.jpg"), str(src / "c.jpg")]
    assert _DyingEngine.closed >= 1


def test_a_start_that_fails_leaves_no_worker_or_ray_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """``with RayRedactor(...)``: __exit__ never runs when __enter__ (start) fails, so start cleans up."""
    from veilcv.core.redact_types import RedactOptions
    from veilcv.engines.ray_engine import RayRedactor
    from veilcv.errors import ModelError

    closed: list[bool] = []

    def failing_start(self: RayRedactor) -> None:
        raise ModelError("face model: sha256 mismatch")

    monkeypatch.setattr(RayRedactor, "_start", failing_start)
    monkeypatch.setattr(RayRedactor, "close", lambda self: closed.append(True))
    with pytest.raises(ModelError), RayRedactor(RedactOptions(what=("face",))):
        pass
    assert closed == [True]
