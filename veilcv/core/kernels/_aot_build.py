"""Build the ahead-of-time kernels: ``python -m veilcv.core.kernels._aot_build OUT_DIR KEY [CPU]``.

Run by ``_aot.build`` in a child process (Numba's ahead-of-time compiler and the C compiler stay out
of the calling process). Refuses when this veilcv's build key is not ``KEY`` (the caller's: the child
imported other sources). Compiles the JIT kernels' Python functions with the argument types the
wrappers pass (``EXPORTS``), for ``CPU`` (``host``, or the architecture's generic CPU when empty),
into ``OUT_DIR``, then loads the result and checks it on small cases whose answers are computed here
independently; any failure exits non-zero with one line on stderr and the caller keeps the JIT.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np

MODULE = "veilcv_kernels_aot"

# name -> (module, function, signature). The wrappers in fill.py, mosaic.py and nms.py pass exactly
# these types (int64 C-contiguous boxes and offsets, uint8 C-contiguous pixels and colours, Python
# ints for sizes, uint64 seeds); the JIT compiles the same functions for the same types.
EXPORTS = {
    "fill_kernel": (
        "_fill_jit",
        "fill_kernel",
        "i8(u1[::1], i8, i8, i8, i8, i8, i8[:, ::1], i8[::1], u1[::1], b1, i8, i8)",
    ),
    "work_area": ("_fill_jit", "work_area", "i8(i8[:, ::1], i8, i8)"),
    "pixelate_kernel": (
        "_mosaic_jit",
        "pixelate_kernel",
        "i8(u1[::1], i8, i8, i8, i8, i8, i8[:, ::1], i8[::1], i8, i8, u8, i8, i8, i8, i8)",
    ),
    "greedy": ("_nms_jit", "greedy", "i8[::1](f8[:, ::1], i8[::1], f8)"),
}


def compile_module(out: Path, cpu: str) -> Path:
    warnings.simplefilter("ignore")  # numba.pycc announces its deprecation on import
    from numba.pycc import CC

    cc = CC(MODULE)
    cc.output_dir = str(out)
    cc.verbose = False
    if cpu:
        cc.target_cpu = cpu
    for name, (module, func, sig) in EXPORTS.items():
        fn = getattr(importlib.import_module(f"veilcv.core.kernels.{module}"), func)
        cc.export(name, sig)(fn.py_func)
    cc.compile()
    path = out / (MODULE + importlib.machinery.EXTENSION_SUFFIXES[0])
    if not path.is_file():
        raise RuntimeError(f"the compiler wrote no {path.name}")
    return path


def check(path: Path) -> None:
    """Run the built module on small cases with known answers; raise on any difference."""
    spec = importlib.util.spec_from_file_location(MODULE, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    i64 = np.int64
    one_frame = np.array([0, 1], i64)
    # two boxes (one partly outside) in a 3-channel colour
    img = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    want = img.copy()
    want[1:5, 1:4] = want[0:1, 0:2] = (7, 8, 9)
    boxes = np.array([[1, 1, 4, 5], [-3, -3, 2, 1]], i64)
    color = np.array([7, 8, 9], np.uint8)
    two = np.array([0, 2], i64)
    status = mod.fill_kernel(img.reshape(-1), 6, 8, 3, 24, 144, boxes, two, color, False, 0, 1)
    if status != 0 or not np.array_equal(img, want):
        raise RuntimeError("fill_kernel: wrong pixels on the check case")
    # the 4x6 ellipse by the pixel-centre rule (X^2 B^2 + Y^2 A^2 <= A^2 B^2), in NumPy
    img = np.full((4, 6), 200, np.uint8)
    ys, xs = np.mgrid[0:4, 0:6]
    inside = (2 * xs + 1 - 6) ** 2 * 16 + (2 * ys + 1 - 4) ** 2 * 36 <= 36 * 16
    box = np.array([[0, 0, 6, 4]], i64)
    mod.fill_kernel(img.reshape(-1), 4, 6, 1, 6, 24, box, one_frame, np.zeros(1, np.uint8), True, 0, 1)
    if not np.array_equal(img == 0, inside):
        raise RuntimeError("fill_kernel: wrong ellipse on the check case")
    # 2x2 cells of a 4x4 ramp: the cell means, rounded half up
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    box = np.array([[0, 0, 4, 4]], i64)
    mod.pixelate_kernel(img.reshape(-1), 4, 4, 1, 4, 16, box, one_frame, 2, 0, np.uint64(0), 0, 1, 0, 1 << 62)
    if img.tolist() != [[3, 3, 5, 5], [3, 3, 5, 5], [11, 11, 13, 13], [11, 11, 13, 13]]:
        raise RuntimeError("pixelate_kernel: wrong cell means on the check case")
    if mod.work_area(np.array([[-2, 0, 3, 2], [5, 1, 9, 2], [5, 5, 9, 9]], i64), 4, 6) != 7:
        raise RuntimeError("work_area: wrong area on the check case")
    b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [0, 0, 10, 9]], np.float64)
    if mod.greedy(b, np.array([3, 0, 1, 2], i64), 0.5).tolist() != [3, 2]:
        raise RuntimeError("greedy: wrong boxes kept on the check case")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: python -m veilcv.core.kernels._aot_build OUT_DIR KEY [CPU]\n")
        return 2
    from veilcv.core.kernels._aot import build_key

    if build_key() != argv[1]:
        sys.stderr.write(f"this veilcv's kernels have build key {build_key()}, the caller's {argv[1]}\n")
        return 1
    try:
        check(compile_module(Path(argv[0]), argv[2] if len(argv) == 3 else ""))
    except Exception as exc:  # one line for the caller's .failed note
        sys.stderr.write(" ".join(f"{type(exc).__name__}: {exc}".split())[:300] + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
