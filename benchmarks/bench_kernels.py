"""Redaction kernels against what a user would otherwise write, in the same run.

Run: ``.venv/bin/python -m pytest benchmarks/bench_kernels.py --benchmark-enable``

Every case first checks that our result is right (against the baseline where they must agree, or against
a vectorised NumPy form of the documented rule), then times it. Kernels are compiled before timing; the
cold compile and the warm-cache start-up are measured in fresh subprocesses. A ratio table (baseline time
/ our time, > 1 means we are faster; by median and by minimum, since the machine is shared) is printed
at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.core.kernels import black_box, black_box_batch, pixelate, pixelate_batch

RES = {"1080p": (1080, 1920), "4K": (2160, 3840)}
CASES = ["5x120", "50x60", "1x800", "whole"]
RESULTS: dict[tuple[str, str, str], dict[str, tuple[float, float]]] = defaultdict(dict)
STARTUP: dict[str, float] = {}


def make_boxes(case: str, h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if case == "whole":
        return np.array([[0, 0, w, h]])
    if case == "1x800":
        return np.array([[(w - 800) // 2, (h - 800) // 2, (w + 800) // 2, (h + 800) // 2]])
    n, size = (5, 120) if case == "5x120" else (50, 60)
    s = rng.integers(size * 5 // 6, size * 7 // 6 + 1, (n, 2))
    x0 = rng.integers(0, w - s[:, 0])
    y0 = rng.integers(0, h - s[:, 1])
    return np.stack([x0, y0, x0 + s[:, 0], y0 + s[:, 1]], 1)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(7)
    return {name: rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for name, (h, w) in RES.items()}


@pytest.fixture(scope="module", autouse=True)
def ratio_table(request):
    yield
    if not RESULTS and not STARTUP:
        return
    lines = [
        "",
        "kernel ratios: baseline / ours (> 1: ours faster), by median and [by min]; shared 2-core machine",
    ]
    lines.append(f"{'op':12} {'res':5} {'case':6} {'ours ms':>8}  baselines: ms, ratio [ratio by min]")
    for (op, res, case), row in sorted(RESULTS.items()):
        if "ours" not in row:
            continue
        ours, ours_min = row["ours"]
        rest = "  ".join(
            f"{k} {v * 1e3:.3f} {v / ours:.2f}x [{m / ours_min:.2f}x]"
            for k, (v, m) in row.items()
            if k != "ours"
        )
        lines.append(f"{op:12} {res:5} {case:6} {ours * 1e3:8.3f}  {rest}")
    for k, v in STARTUP.items():
        lines.append(f"start-up: {k} {v:.3f} s")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n".join(lines))


def record(benchmark, op: str, res: str, case: str, method: str) -> None:
    if benchmark.stats is not None and not getattr(benchmark, "disabled", False):
        RESULTS[(op, res, case)][method] = (benchmark.stats.stats.median, benchmark.stats.stats.min)


# -- references for the checks (vectorised NumPy forms of the documented rules) ----------------------


def ellipse_mask(box, h: int, w: int) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in box)
    a, b = x1 - x0, y1 - y0
    ys, xs = np.ogrid[:h, :w]
    cx, cy = 2 * xs + 1 - (x0 + x1), 2 * ys + 1 - (y0 + y1)
    inside = cx * cx * b * b + cy * cy * a * a <= a * a * b * b
    return inside & (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)


def np_pixelate(img: np.ndarray, boxes, cells: int = 8) -> np.ndarray:
    out = img.copy()
    for x0, y0, x1, y1 in boxes:
        k = -(-min(x1 - x0, y1 - y0) // cells)
        for ya in range(y0, y1, k):
            for xa in range(x0, x1, k):
                cell = out[ya : min(ya + k, y1), xa : min(xa + k, x1)]
                n = cell.shape[0] * cell.shape[1]
                cell[:] = (2 * cell.sum((0, 1), dtype=np.int64) + n) // (2 * n)
    return out


# -- the methods -----------------------------------------------------------------------------------


def np_slice_loop(img, boxes):
    for x0, y0, x1, y1 in boxes:
        img[y0:y1, x0:x1] = 0


def cv2_rect(img, boxes):
    for x0, y0, x1, y1 in boxes:
        cv2.rectangle(img, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), (0, 0, 0), thickness=-1)


def cv2_ellipse(img, boxes):
    for x0, y0, x1, y1 in boxes:
        c, ax = (int(x0 + x1) // 2, int(y0 + y1) // 2), (int(x1 - x0) // 2, int(y1 - y0) // 2)
        cv2.ellipse(img, c, ax, 0, 0, 360, (0, 0, 0), thickness=-1)


def cv2_mosaic(img, boxes, cells: int = 8):
    for x0, y0, x1, y1 in boxes:
        roi = img[y0:y1, x0:x1]
        h, w = roi.shape[:2]
        k = -(-min(w, h) // cells)
        small = cv2.resize(roi, (-(-w // k), -(-h // k)), interpolation=cv2.INTER_AREA)
        roi[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def nbytes(boxes) -> int:
    return int(sum((x1 - x0) * (y1 - y0) * 3 for x0, y0, x1, y1 in boxes))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("res", list(RES))
@pytest.mark.parametrize("method", ["ours", "numpy slice loop", "cv2.rectangle", "memset"])
def test_black_box(benchmark, images, res, case, method):
    img = images[res].copy()
    h, w = img.shape[:2]
    boxes = make_boxes(case, h, w)
    fn = {
        "ours": lambda: black_box(img, boxes),
        "numpy slice loop": lambda: np_slice_loop(img, boxes),
        "cv2.rectangle": lambda: cv2_rect(img, boxes),
    }.get(method)
    if fn is None:
        flat = np.empty(nbytes(boxes), np.uint8)
        fn = lambda: flat.fill(0)  # noqa: E731
    else:
        fn()
        expect = images[res].copy()
        np_slice_loop(expect, boxes)
        np.testing.assert_array_equal(img, expect)
    benchmark(fn)
    record(benchmark, "black_box", res, case, method)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("res", list(RES))
@pytest.mark.parametrize("method", ["ours", "cv2.ellipse"])
def test_ellipse(benchmark, images, res, case, method):
    img = images[res].copy()
    h, w = img.shape[:2]
    boxes = make_boxes(case, h, w)
    fn = (
        (lambda: black_box(img, boxes, shape="ellipse"))
        if method == "ours"
        else (lambda: cv2_ellipse(img, boxes))
    )
    fn()
    mask = np.zeros((h, w), bool)
    for box in boxes:
        mask |= ellipse_mask(box, h, w)
    if method == "ours":
        np.testing.assert_array_equal(
            img == 0, np.broadcast_to(mask[..., None], img.shape) | (images[res] == 0)
        )
    else:
        assert (img[mask] == 0).mean() > 0.99
    benchmark(fn)
    record(benchmark, "ellipse", res, case, method)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("res", list(RES))
@pytest.mark.parametrize("method", ["ours", "cv2.resize", "copy"])
def test_pixelate(benchmark, images, res, case, method):
    src = images[res]
    img = src.copy()
    h, w = img.shape[:2]
    boxes = make_boxes(case, h, w)
    if method == "copy":
        a, b = np.empty(nbytes(boxes), np.uint8), np.ones(nbytes(boxes), np.uint8)
        fn = lambda: np.copyto(a, b)  # noqa: E731
    else:
        fn = (lambda: pixelate(img, boxes)) if method == "ours" else (lambda: cv2_mosaic(img, boxes))
        fn()
        if method == "ours":
            np.testing.assert_array_equal(img, np_pixelate(src, boxes))
        else:
            assert not np.array_equal(img, src)
        # Timed runs re-mosaic the mosaic: the same work on different pixels.
    benchmark(fn)
    record(benchmark, "pixelate", res, case, method)


@pytest.mark.parametrize("case", ["5x120", "50x60"])
@pytest.mark.parametrize("method", ["ours", "cv2.resize"])
def test_pixelate_cache_cold(benchmark, images, case, method):
    """Each call gets the next of 8 distinct 1080p frames (50 MB), so the pixels come from memory."""
    pool = [images["1080p"].copy() for _ in range(8)]
    boxes = make_boxes(case, 1080, 1920)
    state = {"i": 0}
    op = (lambda im: pixelate(im, boxes)) if method == "ours" else (lambda im: cv2_mosaic(im, boxes))

    def fn():
        state["i"] = (state["i"] + 1) % len(pool)
        op(pool[state["i"]])

    fn()
    benchmark(fn)
    record(benchmark, "pixel-cold", "1080p", case, method)


_PRANGE: dict[str, object] = {}


def prange_batch(op: str, frames: np.ndarray, boxes: np.ndarray, offsets: np.ndarray) -> None:
    """The batch through Numba's own parallel loop over frames (``prange``, workqueue layer): the
    alternative to the kernels' thread pool and atomic claim (``_threading``, ``_claim``). Same
    per-frame kernels, so the same bytes. Not in veilcv: workqueue aborts the process when two Python
    threads enter a parallel function at once, and choosing a layer is a process-wide setting."""
    if not _PRANGE:
        import numba

        from veilcv.core.kernels import _fill_jit, _mosaic_jit

        numba.config.THREADING_LAYER = "workqueue"

        @numba.njit(parallel=True, nogil=True)
        def fill(buf, h, w, ch, row, frame, boxes, offsets, color, count):  # pragma: no cover
            for t in numba.prange(count):
                _fill_jit.fill_kernel(buf, h, w, ch, row, frame, boxes, offsets, color, False, t, t + 1)

        @numba.njit(parallel=True, nogil=True)
        def pix(buf, h, w, ch, row, frame, boxes, offsets, seed, count):  # pragma: no cover
            for t in numba.prange(count):
                _mosaic_jit.pixelate_kernel(
                    buf, h, w, ch, row, frame, boxes, offsets, 8, 0, seed, t, t + 1, 0, 1 << 62
                )

        _PRANGE.update(black_box=fill, pixelate=pix)
    from veilcv.core.kernels._validate import as_boxes, as_offsets, pack_frames

    p = pack_frames(frames)
    b = as_boxes(boxes)
    off = as_offsets(offsets, p.count, b.shape[0])
    if op == "black_box":
        _PRANGE[op](p.buf, p.h, p.w, p.ch, p.row, p.frame, b, off, np.zeros(p.ch, np.uint8), p.count)
    else:
        _PRANGE[op](p.buf, p.h, p.w, p.ch, p.row, p.frame, b, off, np.uint64(0), p.count)
    p.finish()


@pytest.mark.parametrize("case", ["5x120", "50x60", "whole"])
@pytest.mark.parametrize("op", ["black_box", "pixelate"])
@pytest.mark.parametrize("method", ["ours", "one thread", "numba prange", "loop of single calls"])
def test_batch(benchmark, images, op, case, method):
    """The batch kernels' threads (pool and atomic claim) against one thread, against Numba's
    ``prange`` with the workqueue layer, and against a loop of single-frame calls."""
    frames = np.stack([np.roll(images["1080p"], 37 * t, axis=1) for t in range(8)])
    per_frame = [make_boxes(case, 1080, 1920, seed=t) for t in range(8)]
    boxes = np.concatenate(per_frame)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in per_frame])])
    single, batch = (black_box, black_box_batch) if op == "black_box" else (pixelate, pixelate_batch)
    got = frames.copy()

    def loop():
        for f, b in zip(got, per_frame, strict=True):
            single(f, b)

    fn = {
        "ours": lambda: batch(got, boxes, offsets),
        "one thread": lambda: batch(got, boxes, offsets, threads=1),
        "numba prange": lambda: prange_batch(op, got, boxes, offsets),
    }.get(method, loop)
    fn()
    expect = frames.copy()
    for f, b in zip(expect, per_frame, strict=True):
        single(f, b)
    np.testing.assert_array_equal(got, expect)
    benchmark(fn)
    record(benchmark, f"{op[:5]}-batch8", "1080p", case, method)


# The first call of each public kernel, timed by both start-up scripts.
FIRST_CALLS = """
img = np.zeros((32, 32, 3), np.uint8)
frames = np.zeros((2, 32, 32, 3), np.uint8)
black_box(img, [[1, 1, 9, 9]])
black_box(img, [[1, 1, 9, 9]], color=(1, 2, 3), shape="ellipse")
pixelate(img, [[1, 1, 9, 9]], noise=3)
black_box_batch(frames, [[1, 1, 9, 9]], [0, 1, 1])
pixelate_batch(frames, [[1, 1, 9, 9]], [0, 1, 1])
t2 = time.perf_counter()
"""

STARTUP_SCRIPT = (
    textwrap.dedent(
        """
        import time
        t0 = time.perf_counter()
        import numpy as np
        from veilcv.core.kernels import black_box, black_box_batch, pixelate, pixelate_batch
        from veilcv.core.kernels._fill_jit import work_area
        t1 = time.perf_counter()
        work_area(np.zeros((0, 4), np.int64), 1, 1)  # Numba's one-off JIT start-up, paid by any first call
        t15 = time.perf_counter()
        """
    )
    + FIRST_CALLS
    + "print(t1 - t0, t15 - t1, t2 - t15)\n"
)


# Numba's start-up imports SciPy's BLAS bindings when SciPy is installed (a probe in numba.np.arraymath),
# about 0.15 s. veilcv does not depend on SciPy; the dev extra's scikit-image does. This prefix makes
# SciPy unimportable, as in an environment with veilcv's runtime dependencies only.
NO_SCIPY = textwrap.dedent(
    """
    import sys
    class _NoScipy:
        def find_spec(self, name, path=None, target=None):
            if name == "scipy" or name.startswith("scipy."):
                raise ImportError("SciPy hidden for this measurement")
    sys.meta_path.insert(0, _NoScipy())
    """
)


AOT_SCRIPT = (
    textwrap.dedent(
        """
        import sys, time
        t0 = time.perf_counter()
        import numpy as np
        from veilcv.core.kernels import _backend, black_box, black_box_batch, pixelate, pixelate_batch
        t1 = time.perf_counter()
        assert _backend.prepare(build=sys.argv[1] == "build") == "aot"  # builds it when missing
        t15 = time.perf_counter()
        """
    )
    + FIRST_CALLS
    + 'assert "numba" not in sys.modules\nprint(t1 - t0, t15 - t1, t2 - t15)\n'
)


def test_startup(benchmark):
    """JIT, cold: an empty Numba cache (everything compiles). JIT, warm: the same cache again, a new
    process, with SciPy importable (as in this dev environment) and without (runtime dependencies
    only). AOT: the ahead-of-time module built into an empty cache folder, then loaded by a new
    process (what `veil redact` does; no Numba at all)."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as aot_cache:
        base = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        jit_env = dict(base, NUMBA_CACHE_DIR=cache, VEILCV_KERNELS="jit")
        aot_env = dict(base, VEILCV_CACHE_DIR=aot_cache, VEILCV_KERNELS="auto")
        runs = (
            ("JIT cold", jit_env, [STARTUP_SCRIPT], "Numba start-up"),
            ("JIT warm", jit_env, [STARTUP_SCRIPT], "Numba start-up"),
            ("JIT warm (no SciPy)", jit_env, [NO_SCIPY + STARTUP_SCRIPT], "Numba start-up"),
            ("AOT build", aot_env, [AOT_SCRIPT, "build"], "building the module"),
            ("AOT warm", aot_env, [AOT_SCRIPT, "load"], "loading the module"),
        )
        for label, env, args, step in runs:
            out = subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True, env=env)
            assert out.returncode == 0, out.stderr
            imp, init, calls = (float(v) for v in out.stdout.split())
            key = (
                f"{label}: total {imp + init + calls:.3f} s = import {imp:.3f} s + {step}"
                f" {init:.3f} s + first call of each kernel"
            )
            STARTUP[key] = calls
    benchmark(lambda: None)  # keeps this test in benchmark runs only
