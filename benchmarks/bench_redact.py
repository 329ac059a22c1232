"""`veil redact` against the deface CLI on the same folder of 1080p JPEGs with faces, same cores.

Reports images/s (wall clock of each CLI, start-up included, as a user runs it) and coverage of the
ground-truth faces (``veilcv.core.coverage``: a face counts when ≥ 80 % of its pixels changed),
side by side, and the ratio. deface==1.5.0 is installed by this benchmark into its own virtual
environment in the temp folder (it pulls non-headless OpenCV and onnxruntime, which must never
enter ours); the benchmark skips when that install fails.

The images: with ``../shared/data`` present, street photos of ``faces_mask_street`` letterboxed
to 1920×1080 (ground truth scaled with them); otherwise generated 1080p scenes with the public
domain astronaut face pasted at several sizes.

Run: ``.venv/bin/python -m pytest benchmarks/bench_redact.py --benchmark-enable -s``
(``VEILCV_BENCH_IMAGES`` sets the number of images, default 24).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.core.annotations import ImageBoxes, load_annotations
from veilcv.core.coverage import measure_coverage

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "faces_mask_street"
DEFACE_VERSION = "1.5.0"
VEIL = Path(sys.executable).with_name("veil")
N = int(os.environ.get("VEILCV_BENCH_IMAGES", "24"))


def _letterbox(img: np.ndarray, w: int = 1920, h: int = 1080) -> tuple[np.ndarray, float, int, int]:
    s = min(w / img.shape[1], h / img.shape[0])
    r = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_CUBIC)
    out = np.full((h, w, 3), 114, np.uint8)
    ox, oy = (w - r.shape[1]) // 2, (h - r.shape[0]) // 2
    out[oy : oy + r.shape[0], ox : ox + r.shape[1]] = r
    return out, s, ox, oy


def _from_shared(folder: Path) -> list[ImageBoxes]:
    items = load_annotations(SHARED / "annotations", "voc")
    # The photos with the most faces first: crowds are what a redactor is for.
    items = sorted(items, key=lambda it: -len(it.boxes))[:N]
    out = []
    for i, it in enumerate(items):
        img = cv2.imread(str(SHARED / "images" / it.file))
        big, s, ox, oy = _letterbox(img)
        name = f"img{i:03d}.jpg"
        cv2.imwrite(str(folder / name), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
        boxes = it.boxes * s + np.array([ox, oy, ox, oy])
        out.append(ImageBoxes(name, boxes, it.labels, (1920, 1080)))
    return out


def _generated(folder: Path) -> list[ImageBoxes]:
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[40:200, 160:290, ::-1])
    rng = np.random.default_rng(0)
    out = []
    for i in range(N):
        bg = cv2.resize(
            rng.integers(60, 200, (34, 60, 3), dtype=np.uint8), (1920, 1080), interpolation=cv2.INTER_CUBIC
        )
        boxes = []
        for j in range(6):
            s = float(rng.uniform(0.3, 1.2))
            c = cv2.resize(face, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            x, y = 40 + j * 300, int(rng.integers(0, 1080 - c.shape[0]))
            bg[y : y + c.shape[0], x : x + c.shape[1]] = c
            boxes.append([x + 25 * s, y + 30 * s, x + 105 * s, y + 130 * s])
        name = f"img{i:03d}.jpg"
        cv2.imwrite(str(folder / name), bg, [cv2.IMWRITE_JPEG_QUALITY, 92])
        out.append(ImageBoxes(name, np.array(boxes), ("face",) * len(boxes), (1920, 1080)))
    return out


@pytest.fixture(scope="module")
def bench_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ImageBoxes], str]:
    folder = tmp_path_factory.mktemp("bench1080p") / "images"
    folder.mkdir()
    if SHARED.is_dir():
        return folder, _from_shared(folder), f"faces_mask_street letterboxed to 1080p ({N} most crowded)"
    return folder, _generated(folder), f"generated 1080p scenes ({N})"


@pytest.fixture(scope="module")
def deface_cli() -> Path:
    venv = Path(tempfile.gettempdir()) / f"veilcv-bench-deface-{DEFACE_VERSION}"
    exe = venv / "bin" / "deface"
    if not exe.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", f"deface=={DEFACE_VERSION}"],
                check=True,
                capture_output=True,
                timeout=1200,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"cannot install deface=={DEFACE_VERSION} into {venv}: {exc}")
    return exe


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one CLI run."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, f"{cmd[0]} failed: {proc.stderr[-2000:]}"
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def _coverage(gt: list[ImageBoxes], images: Path, redacted: Path) -> dict:
    rep = measure_coverage(gt, images, redacted)
    assert not rep.errors, rep.errors[:3]
    return rep.as_dict()


def test_redact_vs_deface(benchmark, bench_set, deface_cli, tmp_path: Path) -> None:
    images, gt, what = bench_set
    n = len(gt)
    env = {**os.environ, "OMP_NUM_THREADS": str(os.cpu_count() or 2)}

    def deface(k: int) -> tuple[float, float, dict]:
        # deface writes NAME_anonymized.jpg beside each input: give it a copy of the folder.
        work, out = tmp_path / f"deface{k}", tmp_path / f"deface{k}_out"
        work.mkdir()
        out.mkdir()
        for p in images.iterdir():
            (work / p.name).write_bytes(p.read_bytes())
        wall, cpu = _run([str(deface_cli), str(work), "--replacewith", "solid", "--boxes"], env)
        for p in work.glob("*_anonymized.jpg"):
            p.rename(out / p.name.replace("_anonymized", ""))
        return wall, cpu, _coverage(gt, images, out)

    # deface's --mask-scale 1.3 grows each side by 30 % of the box (the box becomes 1.6x as wide);
    # ours grows the box about its centre, so our 1.6 is deface's geometry. Our default is 1.5 at
    # threshold 0.12 with the whole frame seen at 1024 px (benchmarks/bench_redact_defaults.py).
    runs = {
        "veil defaults (face 0.12, scale 1.5, 1024 px, verify)": [],
        "veil defaults, --no-verify": ["--no-verify"],
        "veil --small-faces (adds tiles), verify": ["--small-faces"],
    }
    rows = [("deface 1.5.0 (onnxruntime, solid boxes), first", *deface(0))]
    # warm the kernels (their ahead-of-time build) and the OpenVINO cache: no run pays a first-ever compile
    _run(
        [
            str(VEIL),
            "redact",
            str(images / gt[0].file),
            "-o",
            str(tmp_path / "warm"),
            "--what",
            "faces",
            "-q",
        ],
        env,
    )
    for label, extra in runs.items():
        out = tmp_path / f"veil{len(rows)}"
        cmd = [str(VEIL), "redact", str(images), "-o", str(out), "--what", "faces", "-q", *extra]
        if len(rows) == 1:
            got = benchmark.pedantic(lambda c=cmd: _run(c, env), rounds=1, iterations=1)
            wall, cpu = got if isinstance(got, tuple) else _run(cmd, env)
        else:
            wall, cpu = _run(cmd, env)
        rows.append((label, wall, cpu, _coverage(gt, images, out)))
    # deface again at the end: the machine's load drifts, so the baseline brackets our runs
    rows.append(("deface 1.5.0 (onnxruntime, solid boxes), last", *deface(1)))

    # Start-up: each CLI on one image (twice, the faster run kept). (n - 1) / (t_n - t_1) is the rate
    # once started: what a folder much larger than this one approaches.
    def one_image(k: int, tool: str) -> float:
        work = tmp_path / f"one_{tool}{k}"
        work.mkdir()
        (work / gt[0].file).write_bytes((images / gt[0].file).read_bytes())
        if tool == "deface":
            return _run([str(deface_cli), str(work), "--replacewith", "solid", "--boxes"], env)[0]
        cmd = [str(VEIL), "redact", str(work), "-o", str(tmp_path / f"one_out{k}"), "--what", "faces", "-q"]
        return _run(cmd, env)[0]

    start = {tool: min(one_image(k, tool) for k in range(2)) for tool in ("deface", "veil")}

    print(f"\n{what}; {os.cpu_count()} CPUs; per CLI run, start-up included; ratios against the mean of")
    print("both deface runs; CPU s/img = user + system time of the run (less sensitive to a busy machine)")
    print(
        f"{'tool':58s} {'images/s':>9s} {'ratio':>6s} {'CPU s/img':>9s} {'ratio':>6s} {'covered':>8s} "
        f"{'<16':>6s} {'16-31':>6s} "
        f"{'32-63':>6s} {'>=64':>6s} {'bg chg':>7s}"
    )
    dfc = [r for r in rows if r[0].startswith("deface")]
    base = n / (sum(r[1] for r in dfc) / len(dfc))
    base_cpu = sum(r[2] for r in dfc) / len(dfc) / n
    for label, t, cpu, cov in rows:
        b = cov["buckets"]
        cells = [b[k]["covered_fraction"] for k in ("<16", "16-31", "32-63", ">=64")]
        fmt = " ".join("     -" if c is None else f"{c * 100:5.1f}%" for c in cells)
        print(
            f"{label:58s} {n / t:9.3f} {n / t / base:6.2f} {cpu / n:9.2f} {base_cpu / (cpu / n):6.2f} "
            f"{cov['all']['covered_fraction'] * 100:7.1f}% {fmt} "
            f"{cov['background_changed_fraction'] * 100:6.2f}%"
        )
    if n > 1:
        d_rate = (n - 1) / (sum(r[1] for r in dfc) / len(dfc) - start["deface"])
        v_rate = (n - 1) / (rows[1][1] - start["veil"])
        print(
            f"start-up (one image): deface {start['deface']:.2f} s, veil {start['veil']:.2f} s; "
            f"after start-up: deface {d_rate:.2f} images/s, veil defaults {v_rate:.2f} images/s, "
            f"ratio {v_rate / d_rate:.2f}"
        )
    (Path(tempfile.gettempdir()) / "veilcv-bench-redact.json").write_text(
        json.dumps(
            [
                {"tool": r[0], "seconds": r[1], "cpu_seconds": r[2], "images": n, "coverage": r[3]}
                for r in rows
            ],
            indent=2,
        )
    )
