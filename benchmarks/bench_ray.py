"""`veil redact --engine ray` against the local engine: files/s on the same folder, on this machine.

Two sets from ``../shared/data`` (the benchmark skips without it):

- ``street``: the first ``VEILCV_BENCH_IMAGES`` (default 48) faces_mask_street photos by name, as
  they are (about 400 px wide: per-file overheads show);
- ``street-1080p``: the same photos letterboxed to 1920x1080 (camera frames: compute dominates).

Per set, the local engine (``Redactor.run`` with `veil redact`'s default jobs: one more than the cores,
at most 4) and the Ray engine with 1 and 2 workers (1 CPU each, an embedded local Ray of 2 CPUs) redact
the folder with ``--what faces`` settings. Set-up (Ray start, actor start and model load) is timed apart
from the files; files/s is over the files alone. Each run writes into a fresh folder; the outputs are
checked first: every engine's must be byte-identical to the local engine's. Each configuration runs
``VEILCV_BENCH_REPEAT`` times (default 2); the table shows the best and the median.

Run: ``.venv/bin/python benchmarks/bench_ray.py`` (or through pytest with ``-s``).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
N = int(os.environ.get("VEILCV_BENCH_IMAGES", "48"))
REPEAT = int(os.environ.get("VEILCV_BENCH_REPEAT", "2"))


def make_sets(root: Path) -> dict[str, Path]:
    import cv2
    import numpy as np

    photos = sorted((DATA / "faces_mask_street" / "images").glob("*.jpg"))[:N]
    street, hd = root / "street", root / "street-1080p"
    street.mkdir()
    hd.mkdir()
    for p in photos:
        (street / p.name).write_bytes(p.read_bytes())
        img = cv2.imread(str(p))
        s = min(1920 / img.shape[1], 1080 / img.shape[0])
        small = cv2.resize(
            img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA
        )
        frame = np.zeros((1080, 1920, 3), np.uint8)
        y, x = (1080 - small.shape[0]) // 2, (1920 - small.shape[1]) // 2
        frame[y : y + small.shape[0], x : x + small.shape[1]] = small
        cv2.imwrite(str(hd / p.name), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return {"street": street, "street-1080p": hd}


def digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def pairs_of(folder: Path, out: Path) -> list[tuple[Path, Path]]:
    return [(p, out / p.name) for p in sorted(folder.iterdir())]


def driver_cpu() -> float:
    """CPU seconds of this process (the driver) so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_local(folder: Path, out: Path) -> tuple[float, float]:
    """(set-up s, files s) of the local engine as `veil redact` runs it."""
    from veilcv.core.pipeline import RedactOptions, Redactor
    from veilcv.engines import timed_load

    jobs = min(4, (os.cpu_count() or 1) + 1)
    start = time.perf_counter()
    redactor = Redactor(RedactOptions(what=("face",)))
    timed_load(redactor, jobs)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    results = list(redactor.run(pairs_of(folder, out), jobs=jobs))
    elapsed = time.perf_counter() - start
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return setup, elapsed


#: Per Ray configuration: the driver's CPU seconds per file, and the bytes of a file's report record.
DRIVER: dict[int, list[float]] = {1: [], 2: []}
RECORD: dict[int, list[float]] = {1: [], 2: []}


def run_ray(workers: int) -> Callable[[Path, Path], tuple[float, float]]:
    def run(folder: Path, out: Path) -> tuple[float, float]:
        from veilcv.core.pipeline import RedactOptions
        from veilcv.engines.ray_engine import RayRedactor, RaySettings

        start = time.perf_counter()
        with RayRedactor(RedactOptions(what=("face",)), RaySettings(workers=workers)) as engine:
            setup = time.perf_counter() - start
            start = time.perf_counter()
            cpu = driver_cpu()
            results = list(engine.run(pairs_of(folder, out)))
            elapsed = time.perf_counter() - start
            DRIVER[workers].append((driver_cpu() - cpu) / len(results))
            RECORD[workers].append(sum(len(json.dumps(r.to_dict())) for r in results) / len(results))
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        return setup, elapsed

    return run


def table() -> str:
    import ray

    started = time.perf_counter()
    from veilcv.engines.ray_worker import embedded

    ray.init(**embedded(2))  # the local Ray `veil redact --engine ray` starts, with 2 CPUs
    ray_start = time.perf_counter() - started
    engines = {"local": run_local, "ray, 1 worker": run_ray(1), "ray, 2 workers": run_ray(2)}
    rows = [
        f"{os.cpu_count()} CPUs, {N} photos per set, {REPEAT} runs each; "
        f"embedded Ray start: {ray_start:.1f} s",
        "",
        "| set | engine | files/s (best) | files/s (median) | set-up s (median) |",
        "|---|---|---|---|---|",
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sets = make_sets(Path(tmp))
            for name, folder in sets.items():
                reference: dict[str, str] | None = None
                for label, run in engines.items():
                    rates, setups = [], []
                    for i in range(REPEAT):
                        out = Path(tmp) / f"out-{name}-{label}-{i}".replace(" ", "").replace(",", "")
                        setup, elapsed = run(folder, out)
                        got = digests(out)
                        reference = reference or got
                        assert got == reference, f"{label}: outputs differ from the local engine's"
                        rates.append(len(got) / elapsed)
                        setups.append(setup)
                    rows.append(
                        f"| {name} | {label} | {max(rates):.2f} | {statistics.median(rates):.2f} "
                        f"| {statistics.median(setups):.1f} |"
                    )
    finally:
        ray.shutdown()
    for workers in DRIVER:
        rows.append(
            f"ray, {workers} worker(s): driver CPU "
            f"{1000 * statistics.median(DRIVER[workers]):.2f} ms per file, "
            f"report record {statistics.median(RECORD[workers]):.0f} bytes per file (medians over both sets)"
        )
    return "\n".join(rows)


def test_ray_against_local() -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'veilcv[ray]')")
    if not (DATA / "faces_mask_street" / "images").is_dir():
        pytest.skip("../shared/data is not present")
    print("\n" + table())


if __name__ == "__main__":
    if not (DATA / "faces_mask_street" / "images").is_dir():
        sys.exit("../shared/data is not present")
    print(table())
