"""`veil redact --engine ray` when the run stops early: the files that finished are reported.

The engine is replaced by a stand-in (no Ray session, no model), so that only the driver's handling
is under test: the real engine's scheduling is tested in tests/engines/test_ray_engine.py.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from veilcv.cli.main import Interrupted, main
from veilcv.cli.redact_plan import PAIR
from veilcv.core.redact_types import FileResult, RedactOptions
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

    def finish(self, *_: Any, **__: Any) -> list[FileResult]:
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
    assert doc["unfinished_complete"] is True  # a small plan is listed whole
    assert "cut short" not in err
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


class _StoppedEngine(_DyingEngine):
    """Redacts the first file, holds the next ``held`` ones, then Ctrl-C; ``finish`` gives back the
    first held file and, with ``second_ctrl_c``, is interrupted again while it waits for the others."""

    held = 1
    second_ctrl_c = False

    def run(self, pairs: Iterable[tuple[Path, Path]], **_: Any) -> Iterator[FileResult]:
        it = iter(pairs)
        src, dst = next(it)
        yield FileResult(input=str(src), kind="image", output=str(dst), output_sha256="x")
        self._held = [str(next(it)[0]) for _ in range(self.held)]
        raise Interrupted()

    def finish(self, *_: Any, on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
        if not self.second_ctrl_c:
            return []
        src = self._held.pop(0)
        res = FileResult(input=src, kind="image", output=src + ".out", output_sha256="x")
        assert on_result is not None
        on_result(res)
        raise Interrupted()  # the user pressed Ctrl-C again while the others were still running


def _plan(n: int, each_s: float = 0.0, on: Callable[[int], None] | None = None) -> Callable[..., Any]:
    """A stand-in for the plan's walk: ``n`` inputs, each found after ``each_s`` (a slow listing)."""

    def iter_plan(inputs: Any, output: Any, in_place: bool) -> Iterator[tuple[str, Any]]:
        for i in range(n):
            if on is not None:
                on(i)
            time.sleep(each_s)
            yield PAIR, (Path(f"in/{i:07d}.jpg"), Path(f"out/{i:07d}.jpg"))

    return iter_plan


def _stopped_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plan: Callable[..., Any], engine: type = _StoppedEngine
) -> dict[str, Any]:
    import veilcv.cli.redact_ray as redact_ray
    import veilcv.engines.ray_engine as ray_engine

    monkeypatch.setattr(ray_engine, "RayRedactor", engine)
    monkeypatch.setattr(redact_ray, "iter_plan", plan)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"\xff\xd8")
    report = tmp_path / "report.json"
    args = ["redact", str(src), "-o", str(tmp_path / "out"), "--what", "faces", "--engine", "ray", "-q"]
    assert main([*args, "--report", str(report)]) == 130
    doc: dict[str, Any] = json.loads(report.read_text())
    assert doc["interrupted"] is True
    assert doc["files"][0]["input"] == str(Path("in/0000000.jpg"))
    return doc


def test_a_long_listing_is_cut_short_by_the_time_budget_and_marked_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import veilcv.cli.redact_ray as redact_ray

    monkeypatch.setattr(redact_ray, "UNFINISHED_LISTING_S", 0.2)
    n = 3000  # 30 s of listing: far more than the budget lets it list
    doc = _stopped_run(tmp_path, monkeypatch, _plan(n, each_s=0.01))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "the list of unfinished inputs was cut short" in err and "s limit" in err
    assert doc["unfinished_complete"] is False
    assert doc["unfinished"][0] == str(Path("in/0000001.jpg"))  # the file the worker held
    assert 1 <= len(doc["unfinished"]) < n - 1
    listed = doc["unfinished"][1:]
    assert listed == [str(Path(f"in/{i:07d}.jpg")) for i in range(2, 2 + len(listed))]  # in plan order


def test_a_long_listing_is_cut_short_by_the_count_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import veilcv.cli.redact_ray as redact_ray

    monkeypatch.setattr(redact_ray, "UNFINISHED_LISTING_MAX", 5)
    doc = _stopped_run(tmp_path, monkeypatch, _plan(50))
    assert doc["unfinished"] == [str(Path(f"in/{i:07d}.jpg")) for i in range(1, 7)]
    assert doc["unfinished_complete"] is False
    assert "limit of 5 inputs" in capsys.readouterr().err


def test_a_listing_of_exactly_the_cap_is_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import veilcv.cli.redact_ray as redact_ray

    monkeypatch.setattr(redact_ray, "UNFINISHED_LISTING_MAX", 5)
    doc = _stopped_run(tmp_path, monkeypatch, _plan(7))  # 1 redacted, 1 held, 5 not started
    assert doc["unfinished"] == [str(Path(f"in/{i:07d}.jpg")) for i in range(1, 7)]
    assert doc["unfinished_complete"] is True


def test_a_second_ctrl_c_stops_the_listing_and_the_report_is_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import veilcv.cli.redact_ray as redact_ray

    monkeypatch.setattr(redact_ray, "UNFINISHED_LISTING_S", 120.0)  # only the Ctrl-C can stop it in time

    def ctrl_c_at(i: int) -> None:
        if i == 5:  # while the report's listing walks the plan
            os.kill(os.getpid(), signal.SIGINT)

    doc = _stopped_run(tmp_path, monkeypatch, _plan(100_000, each_s=0.01, on=ctrl_c_at))
    err = capsys.readouterr().err
    assert "cut short" in err and "by a second Ctrl-C" in err
    assert doc["unfinished_complete"] is False
    assert doc["unfinished"][:4] == [str(Path(f"in/{i:07d}.jpg")) for i in range(1, 5)]


def test_a_second_ctrl_c_while_the_held_files_finish_keeps_those_that_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = type("_TwiceStopped", (_StoppedEngine,), {"held": 2, "second_ctrl_c": True})
    doc = _stopped_run(tmp_path, monkeypatch, _plan(4), engine=engine)
    assert [f["input"] for f in doc["files"]] == [str(Path(f"in/{i:07d}.jpg")) for i in range(2)]
    assert doc["unfinished"] == [str(Path(f"in/{i:07d}.jpg")) for i in range(2, 4)]
    assert doc["unfinished_complete"] is True
    assert "stopped waiting for the files in progress" in capsys.readouterr().err


def test_finish_gives_up_on_a_worker_that_never_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung worker cannot hold an interrupted run: its file is left unfinished after the timeout,
    as is one whose worker died; the file that did finish is returned and given to ``on_result``."""
    import ray

    from veilcv.engines import ray_engine
    from veilcv.engines.ray_engine import RayRedactor, _Job, _Slot

    done, hung, dead = object(), object(), object()
    engine = RayRedactor(RedactOptions(what=("face",)))
    slot = _Slot(actor=None)
    engine._jobs = {
        ref: (slot, _Job(Path(f"{name}.jpg"), Path(f"out/{name}.jpg")))
        for ref, name in ((done, "a"), (hung, "b"), (dead, "c"))
    }
    waits: list[float] = []

    def wait(refs: list[Any], num_returns: int, timeout: float) -> tuple[list[Any], list[Any]]:
        waits.append(timeout)
        ready = [r for r in refs if r is not hung]
        if not ready:
            time.sleep(timeout)  # the hung worker never answers
        return ready, [r for r in refs if r is hung]

    def get(ref: Any) -> FileResult:
        if ref is dead:
            raise ray.exceptions.RayActorError()
        return FileResult(input=str(Path("a.jpg").absolute()), kind="image", output="x", output_sha256="x")

    monkeypatch.setattr(ray, "wait", wait)
    monkeypatch.setattr(ray, "get", get)
    given: list[FileResult] = []
    out = engine.finish(timeout_s=0.3, on_result=given.append)
    assert [r.input for r in out] == ["a.jpg"] and given == out
    assert engine.in_flight() == ["b.jpg", "c.jpg"]
    assert waits and all(t <= ray_engine.POLL_S for t in waits)  # a Ctrl-C is seen between waits


def test_the_readme_states_the_limits_of_a_stop() -> None:
    from veilcv.cli.redact_ray import UNFINISHED_LISTING_MAX, UNFINISHED_LISTING_S
    from veilcv.engines.ray_engine import FINISH_TIMEOUT_S

    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text("utf-8").split())
    assert f"up to {FINISH_TIMEOUT_S:.0f} s to finish" in readme
    assert f"at most {UNFINISHED_LISTING_S:g} s and {UNFINISHED_LISTING_MAX:,} inputs" in readme


def test_a_report_with_a_cut_short_list_resumes(tmp_path: Path) -> None:
    """``--resume`` reads the finished records: a report whose unfinished list is incomplete is accepted."""
    from veilcv.cli.redact_report import write_report
    from veilcv.engines.resume import previous_records

    header = {"tool": "veilcv", "what": ["face"]}
    done = FileResult(input="in/a.jpg", kind="image", output="out/a.jpg", ok=True, output_sha256="x")
    report = tmp_path / "report.json"
    write_report(
        report, header, [done], refused=[], skipped=[], unfinished=["in/b.jpg"],
        unfinished_complete=False, interrupted=True,
    )  # fmt: skip
    assert json.loads(report.read_text())["unfinished_complete"] is False
    assert list(previous_records(report, header)) == ["in/a.jpg"]
