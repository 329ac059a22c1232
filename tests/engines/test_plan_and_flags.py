"""The streamed plan every engine uses (lazy, in sorted order, the same refusals), and the engine flags'
one-line errors. No model, no Ray needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import veilcv.cli.redact_plan as redact_plan
from veilcv.cli.main import main
from veilcv.cli.redact_plan import PAIR, REFUSED, SKIPPED, iter_plan, plan_inputs


def touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")


def test_the_walk_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "in", "a/1.jpg", "b/2.jpg", "c/3.jpg", "c/d/4.jpg")
    listed: list[str] = []
    real = os.scandir

    def scandir(path: Path) -> object:
        listed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(redact_plan.os, "scandir", scandir)
    items = iter_plan([tmp_path / "in"], tmp_path / "out", in_place=False)
    assert next(items) == (PAIR, (tmp_path / "in" / "a" / "1.jpg", tmp_path / "out" / "a" / "1.jpg"))
    assert listed == ["in", "a"]  # the first file comes before the rest of the tree is listed
    assert [item[1][0].name for item in items] == ["2.jpg", "3.jpg", "4.jpg"]  # type: ignore[index]
    assert listed == ["in", "a", "b", "c", "d"]


def test_order_and_refusals_match_a_sorted_listing(tmp_path: Path) -> None:
    src = tmp_path / "in"
    touch(src, "a.c/x.jpg", "a/x.bmp", "a/x.png", "a-b/y.jpg", "a/.hidden.jpg", ".h/z.jpg", "n.txt", "z.heic")
    touch(src, "a/sub/x.png", "z.png")
    out = tmp_path / "out"
    plan = plan_inputs([src], out, in_place=False)
    hidden = [p for p in src.rglob("*") if any(part.startswith(".") for part in p.relative_to(src).parts)]
    visible = sorted(p for p in src.rglob("*") if p.is_file() and p not in hidden)
    walked = [
        item[0] if kind == PAIR else Path(item if kind == SKIPPED else item.split(": ")[0])  # type: ignore
        for kind, item in iter_plan([src], out, in_place=False)
    ]
    assert walked == visible  # the order of sorted(rglob), hidden entries left out
    assert [str(s.relative_to(src)) for s, _ in plan.pairs] == [
        "a/sub/x.png",
        "a/x.bmp",
        "a-b/y.jpg",
        "a.c/x.jpg",
        "z.heic",
    ]
    # x.bmp and x.png of one folder both become x.png: the second is refused, naming the first;
    # a/sub/x.png is another folder's x.png and is not
    assert plan.errors == [
        f"{src / 'a' / 'x.png'}: maps to the same output as {src / 'a' / 'x.bmp'} ({out / 'a' / 'x.png'}); "
        "redact them separately",
        f"{src / 'z.png'}: maps to the same output as {src / 'z.heic'} ({out / 'z.png'}); "
        "redact them separately",
    ]
    assert plan.skipped == [str(src / "n.txt")]


def test_several_inputs_are_checked_against_each_other(tmp_path: Path) -> None:
    touch(tmp_path, "one/p.jpg", "two/p.jpg", "two/q.jpg")
    out = tmp_path / "out"
    items = list(iter_plan([tmp_path / "one", tmp_path / "two"], out, in_place=False))
    assert [kind for kind, _ in items] == [PAIR, REFUSED, PAIR]
    assert items[1][1] == (
        f"{tmp_path / 'two' / 'p.jpg'}: maps to the same output as {tmp_path / 'one' / 'p.jpg'} "
        f"({out / 'p.jpg'}); redact them separately"
    )
    assert SKIPPED not in {kind for kind, _ in items}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--engine", "spark"], "--engine: expected local or ray, got 'spark'"),
        (["--address", "auto"], "--address: only with --engine ray (the local engine uses --jobs)"),
        (["--workers", "2"], "--workers: only with --engine ray (the local engine uses --jobs)"),
        (["--engine", "ray", "--jobs", "2"], "--jobs: the local engine's; with --engine ray use --workers"),
        (["--engine", "ray", "--workers", "0"], "--workers: expected an integer >= 1, got 0"),
    ],
)
def test_engine_flags_that_do_not_go_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    touch(tmp_path / "in", "p.jpg")
    assert main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q", *flags]) == 2
    assert capsys.readouterr().err == f"veil: error: {message}\n"
    assert not (tmp_path / "out").exists()


def test_engine_ray_without_ray_says_how_to_get_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    touch(tmp_path / "in", "p.jpg")
    assert main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--engine", "ray"]) == 2
    assert capsys.readouterr().err == (
        "veil: error: --engine ray: Ray is not installed; pip install 'veilcv[ray]'\n"
    )
