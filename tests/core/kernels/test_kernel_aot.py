"""The ahead-of-time kernels: the same bytes as the JIT code, built once, loaded without Numba, and a
failed or damaged build falls back to the JIT instead of failing a redaction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kernel_helpers import NOJIT

from veilcv import cachedir
from veilcv.core.kernels import _aot, _backend, black_box, pixelate
from veilcv.core.kernels import _fill_jit as F
from veilcv.core.kernels import _mosaic_jit as M
from veilcv.core.kernels import _nms_jit as N

pytestmark = pytest.mark.skipif(NOJIT, reason="the AOT module is compiled code; this run checks plain Python")

I64 = np.int64
BIG = 1 << 62


@pytest.fixture(scope="module")
def aot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding this environment's build (skips where no C compiler can build it)."""
    root = tmp_path_factory.mktemp("aot") / "kernels"
    if _aot.ensure(root) is None:
        why = _aot.failure_path(root).read_text().strip() if _aot.failure_path(root).exists() else "?"
        pytest.skip(f"no ahead-of-time build here: {why}")
    return root


@pytest.fixture(scope="module")
def aot(aot_root: Path):
    return _aot.load(aot_root)


def _boxes(rng, n, h, w):
    x = rng.integers(-w // 2, w + w // 2, (n, 2))
    y = rng.integers(-h // 2, h + h // 2, (n, 2))
    b = np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], axis=1).astype(I64)
    b[: n // 4, 2:] = b[: n // 4, :2] + rng.integers(0, 9, (n // 4, 2))  # small and zero-area ones
    return np.ascontiguousarray(b)


def _batch(rng, max_frames, max_side, max_boxes, ch):
    """Random frames with a random number of boxes each: ``(frames, boxes, offsets)``."""
    count, h, w = (
        int(rng.integers(1, max_frames)),
        int(rng.integers(1, max_side)),
        int(rng.integers(1, max_side)),
    )
    frames = rng.integers(0, 256, (count, h, w, ch), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(0, max_boxes, count))]).astype(I64)
    return frames, _boxes(rng, int(offsets[-1]), h, w), offsets


@pytest.mark.parametrize("ellipse", [False, True])
@pytest.mark.parametrize("ch", [1, 3, 4])
def test_fill_matches_jit_bytes(aot, ellipse, ch):
    rng = np.random.default_rng(ch * 2 + ellipse)
    for trial in range(40):
        frames, boxes, offsets = _batch(rng, 4, 40, 6, ch)
        count, h, w = frames.shape[:3]
        if trial % 10 == 9 and len(boxes):
            boxes[0, 2] = 2**31  # outside int32: status -1 and nothing written
        color = rng.integers(0, 256, ch, dtype=np.uint8) if trial % 2 else np.full(ch, 7, np.uint8)
        a, j = frames.copy(), frames.copy()
        args = (h, w, ch, w * ch, h * w * ch, boxes, offsets, color, ellipse, 0, count)
        assert aot.fill_kernel(a.reshape(-1), *args) == F.fill_kernel(j.reshape(-1), *args)
        assert np.array_equal(a, j), (trial, boxes)


@pytest.mark.parametrize("ch", [1, 3, 4])
def test_pixelate_matches_jit_bytes(aot, ch):
    rng = np.random.default_rng(10 + ch)
    for trial in range(40):
        frames, boxes, offsets = _batch(rng, 3, 60, 4, ch)
        count, h, w = frames.shape[:3]
        cells, noise = int(rng.integers(1, 12)), int(rng.choice([0, 0, 3, 255]))
        seed = rng.integers(0, 2**64, dtype=np.uint64)
        lo, hi = (0, BIG) if trial % 4 else (1, 3)  # a band of cell rows, as the threaded path asks
        a, j = frames.copy(), frames.copy()
        args = (h, w, ch, w * ch, h * w * ch, boxes, offsets, cells, noise, seed, 0, count, lo, hi)
        assert aot.pixelate_kernel(a.reshape(-1), *args) == M.pixelate_kernel(j.reshape(-1), *args)
        assert np.array_equal(a, j), (trial, boxes, cells, noise)


def test_work_area_and_nms_match_jit(aot):
    rng = np.random.default_rng(3)
    for n in (0, 1, 5, 40, 300):
        boxes = _boxes(rng, n, 50, 70)
        assert aot.work_area(boxes, 50, 70) == F.work_area(boxes, 50, 70)
        xy = rng.uniform(0, 300, (n, 2))
        fb = np.ascontiguousarray(np.concatenate([xy, xy + rng.uniform(0, 60, (n, 2))], axis=1))
        order = np.argsort(-np.round(rng.uniform(0, 1, n), 2), kind="stable").astype(I64)
        for thr in (0.0, 0.3, 0.7):
            assert aot.greedy(fb, order, thr).tolist() == N.greedy(fb, order, thr).tolist()


def test_public_kernels_take_the_aot_module_and_agree_with_jit(aot, monkeypatch):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    boxes = _boxes(rng, 12, 37, 53)
    results = {}
    for name, backend in (("aot", aot), ("jit", _backend.jit())):
        monkeypatch.setattr(_backend, "_serial", backend)
        out = img.copy()
        black_box(out, boxes[:6], color=(1, 2, 3), shape="ellipse")
        pixelate(out, boxes[6:], cells=4, noise=5, seed=9)
        black_box(out[:, :, 1], boxes[:2], color=255)  # a strided view: copied, filled, copied back
        results[name] = out
    assert np.array_equal(results["aot"], results["jit"])
    assert not np.array_equal(results["aot"], img)


def test_non_contiguous_arguments_never_reach_the_aot_module(aot, monkeypatch):
    monkeypatch.setattr(_backend, "_serial", aot)
    buf = np.zeros(20, np.uint8)
    assert _backend.serial(buf) is aot
    assert _backend.serial(buf[::2]) is _backend.jit()


def test_a_process_with_the_module_built_never_imports_numba(aot_root):
    code = (
        "import sys, numpy as np\n"
        "from veilcv.core.kernels import _backend, black_box, pixelate\n"
        "from veilcv.core.detection.nms import nms, load_compiled\n"
        "print(_backend.prepare())\n"
        "load_compiled()\n"
        "img = np.full((30, 30, 3), 90, np.uint8)\n"
        "black_box(img, [[2, 2, 12, 12]], shape='ellipse')\n"
        "pixelate(img, [[15, 15, 30, 30]], cells=3)\n"
        "xy = np.random.default_rng(0).uniform(0, 100, (64, 2))\n"
        "keep = nms(np.concatenate([xy, xy + 20], 1), np.linspace(1, 0, 64), 0.3)\n"
        "print(int(img[7, 7, 0]), len(keep) > 0, 'numba' in sys.modules, 'llvmlite' in sys.modules)\n"
    )
    env = dict(os.environ, VEILCV_CACHE_DIR=str(aot_root.parent))
    env.pop("VEILCV_KERNELS", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["aot", "0", "True", "False", "False"]


def test_veilcv_kernels_jit_turns_the_module_off(aot_root):
    code = "from veilcv.core.kernels import _backend\nprint(_backend.prepare())\n"
    env = dict(os.environ, VEILCV_CACHE_DIR=str(aot_root.parent), VEILCV_KERNELS="jit")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "jit"


def test_key_changes_with_the_sources(monkeypatch):
    key = _aot.build_key()
    monkeypatch.setattr(_aot, "_key", None)
    monkeypatch.setattr(_aot, "SOURCES", (*_aot.SOURCES, "fill.py"))
    assert _aot.build_key() != key


def test_failed_build_is_noted_once_and_the_jit_serves(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "warning: x\nRuntimeError: no C compiler found\n")

    monkeypatch.setattr(_aot.subprocess, "run", fake_run)
    root = tmp_path / "kernels"
    assert _aot.ensure(root) is None
    assert _aot.failure_path(root).read_text() == (
        "building the ahead-of-time kernels failed: RuntimeError: no C compiler found\n"
    )
    assert _aot.ensure(root) is None and len(calls) == 1  # not retried for the same key
    assert [p.name for p in root.iterdir()] == [_aot.failure_path(root).name]  # no build folder left


def test_build_timeout_counts_as_failure(tmp_path, monkeypatch):
    def slow(cmd, **kwargs):
        raise subprocess.TimeoutExpired(cmd, kwargs.get("timeout"))

    monkeypatch.setattr(_aot.subprocess, "run", slow)
    assert _aot.ensure(tmp_path) is None
    assert "TimeoutExpired" in _aot.failure_path(tmp_path).read_text()


def test_unwritable_cache_folder_means_jit_without_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _aot.build(blocker / "kernels") is False
    assert _aot.ensure(blocker / "kernels") is None


def test_damaged_module_is_rebuilt(aot_root, tmp_path, monkeypatch):
    root = tmp_path / "kernels"
    good = _aot.module_path(aot_root)
    bad = _aot.module_path(root)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\x7fELF truncated")
    assert _aot.load(root) is None

    def rebuild(cmd, **kwargs):  # the builder's output, without compiling it again
        (Path(cmd[3]) / good.name).write_bytes(good.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(_aot.subprocess, "run", rebuild)
    assert _aot.ensure(root) is not None
    assert bad.read_bytes() == good.read_bytes() and not _aot.failure_path(root).exists()


def test_a_build_that_lost_the_race_keeps_the_winner(aot_root, tmp_path, monkeypatch):
    root = tmp_path / "kernels"
    final = _aot.module_path(root).parent
    real_run = subprocess.run

    def race(cmd, **kwargs):  # another process finishes first, while ours is still building
        final.mkdir(parents=True)
        (final / _aot.module_path(root).name).write_bytes(_aot.module_path(aot_root).read_bytes())
        return real_run([sys.executable, "-c", "pass"], **kwargs)

    monkeypatch.setattr(_aot.subprocess, "run", race)
    assert _aot.build(root) is True
    assert sorted(p.name for p in root.iterdir()) == [final.name]  # our temporary folder is gone
    assert _aot.load(root) is not None


def test_the_builder_refuses_sources_other_than_the_callers(tmp_path):
    cmd = [sys.executable, "-m", "veilcv.core.kernels._aot_build", str(tmp_path), "0" * 24, ""]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    want = f"this veilcv's kernels have build key {_aot.build_key()}, the caller's {'0' * 24}"
    assert out.stderr.strip() == want
    assert list(tmp_path.iterdir()) == []


def test_a_build_that_cannot_be_moved_into_place_is_a_noted_failure(aot_root, tmp_path, monkeypatch):
    root = tmp_path / "kernels"
    root.mkdir()
    (root / _aot.build_key()).write_text("a file where the build folder goes")

    def built(cmd, **kwargs):
        (Path(cmd[3]) / _aot.module_path(aot_root).name).write_bytes(_aot.module_path(aot_root).read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(_aot.subprocess, "run", built)
    assert _aot.build(root) is False
    assert (
        _aot.failure_path(root)
        .read_text()
        .startswith("building the ahead-of-time kernels failed: cannot move the build into place:")
    )
    assert sorted(p.name for p in root.iterdir()) == sorted([_aot.build_key(), _aot.failure_path(root).name])


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_a_build_others_can_write_is_never_loaded(aot_root, tmp_path):
    """Native code is loaded only from a folder and file of this user's that no one else can write:
    a build planted in (or swapped into) a shared cache folder must not run."""
    root = tmp_path / "kernels"
    planted = _aot.module_path(root)
    planted.parent.mkdir(parents=True)
    planted.write_bytes(_aot.module_path(aot_root).read_bytes())
    os.chmod(root, 0o755)
    os.chmod(planted.parent, 0o777)
    assert _aot.load(root) is None  # its folder is writable by others
    os.chmod(planted.parent, 0o755)
    os.chmod(planted, 0o666)
    assert _aot.load(root) is None  # the file itself is writable by others
    os.chmod(planted, 0o644)
    assert _aot.load(root) is not None  # the control: the same bytes, private, load


def test_a_cache_folder_of_another_user_gets_no_build_and_the_jit_serves(tmp_path, monkeypatch):
    root = tmp_path / "kernels"
    root.mkdir()
    monkeypatch.setattr(cachedir, "_uid", lambda: 12345)  # as if another user owned the folder
    built = []
    monkeypatch.setattr(_aot.subprocess, "run", lambda cmd, **kw: built.append(cmd))
    assert _aot.ensure(root) is None
    assert built == [] and list(root.iterdir()) == []  # nothing built or written there


POSIX = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
PROC_FD = pytest.mark.skipif(not os.path.isdir(_aot._PROC_FD), reason="loads through /proc/self/fd (Linux)")


def _plant(aot_root: Path, root: Path) -> Path:
    """A private copy of the real build at ``root/<key>/<module>``; the file's path."""
    planted = _aot.module_path(root)
    planted.parent.mkdir(parents=True)
    planted.write_bytes(_aot.module_path(aot_root).read_bytes())
    for p in (root.parent, root, planted.parent):
        os.chmod(p, 0o700)
    os.chmod(planted, 0o600)
    return planted


def _works(mod) -> bool:
    boxes = np.array([[1, 2, 30, 40], [5, 5, 9, 9], [-3, -3, 80, 4]], I64)
    return mod is not None and mod.work_area(boxes, 50, 70) == F.work_area(boxes, 50, 70) > 0


@POSIX
def test_a_kernels_folder_others_can_write_is_never_loaded_from(aot_root, tmp_path):
    """Whoever can write ``kernels`` can swap the private ``<key>`` folder inside it for their own."""
    root = tmp_path / "kernels"
    _plant(aot_root, root)
    os.chmod(root, 0o777)
    assert _aot.load(root) is None
    os.chmod(root, 0o770)
    assert _aot.load(root) is None  # group-writable: the same
    os.chmod(root, 0o755)
    assert _works(_aot.load(root))  # the control: the same chain, private, loads and runs


@POSIX
def test_a_link_anywhere_in_the_chain_is_never_followed(aot_root, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "kernels"
    _plant(aot_root, elsewhere)
    assert _works(_aot.load(elsewhere))  # the control: the folder linked to is private and loads

    root = tmp_path / "kernels"
    root.mkdir(mode=0o700)
    (root / _aot.build_key()).symlink_to(elsewhere / _aot.build_key())  # the key's folder a link
    assert _aot.load(root) is None

    (root / _aot.build_key()).unlink()
    (root / _aot.build_key()).mkdir(mode=0o700)
    _aot.module_path(root).symlink_to(_aot.module_path(elsewhere))  # the module a link
    assert _aot.load(root) is None

    linked = tmp_path / "linked"
    linked.symlink_to(elsewhere)  # the kernels folder itself a link
    assert _aot.load(linked) is None


@POSIX
@PROC_FD
def test_a_folder_swapped_after_the_checks_changes_nothing(aot_root, tmp_path, monkeypatch):
    """Between the checks and the load, another user who can write above ``kernels`` swaps the key's
    folder for a link to their own build: the module loaded is still the file checked."""
    root = tmp_path / "kernels"
    planted = _plant(aot_root, root)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / planted.name).write_bytes(b"\x7fELF their code")  # loading it would fail: load gives None
    real_open = cachedir.open_trusted

    def open_then_swap(folder, *names):
        fd = real_open(folder, *names)
        planted.parent.rename(tmp_path / "moved")
        planted.parent.symlink_to(theirs)
        return fd

    monkeypatch.setattr(cachedir, "open_trusted", open_then_swap)
    mod = _aot.load(root)
    assert _works(mod)
    assert (planted.parent / planted.name).read_bytes() == b"\x7fELF their code"  # the swap took place


@POSIX
def test_without_proc_fd_the_folders_above_must_be_private_too(aot_root, tmp_path, monkeypatch):
    """Where the module must be loaded by its path (macOS), a folder above ``kernels`` that others
    can write is refused; a sticky one (like ``/tmp``) is not, since others cannot move entries there."""
    monkeypatch.setattr(_aot, "_PROC_FD", str(tmp_path / "no-proc"))
    shared = tmp_path / "shared"
    root = shared / "cache" / "kernels"
    shared.mkdir()
    _plant(aot_root, root)
    assert _works(_aot.load(root))  # the control: a private chain loads by its path
    os.chmod(shared, 0o777)
    assert _aot.load(root) is None
    os.chmod(shared, 0o1777)
    assert _works(_aot.load(root))
    monkeypatch.undo()
    os.chmod(shared, 0o777)
    if os.path.isdir(_aot._PROC_FD):  # through the descriptor, the folders above do not matter
        assert _works(_aot.load(root))
