"""`veil meta check|strip` throughput on the metadata corpus, with ExifTool timed on the same files.

Run: .venv/bin/python -m pytest benchmarks/bench_metadata.py --benchmark-enable -s
ExifTool (Debian: libimage-exiftool-perl) is skipped when absent. The ratios are printed at the end.
Results are checked before anything is timed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from veilcv.core.metadata import check_file, strip_bytes, strip_file

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "data" / "metadata_corpus"
EXIFTOOL = shutil.which("exiftool")
RESULTS: dict[str, float] = {}
# Strip outputs go to disk (every veil output is fsync'd, ~10 ms per file on a shared disk; ExifTool
# does not fsync) and to tmpfs, where fsync is free, to separate durability cost from work.
TMPFS = Path("/dev/shm")
PLACES = ["disk"] + (["tmpfs"] if TMPFS.is_dir() and os.access(TMPFS, os.W_OK) else [])


def _workdir(place: str, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=str(TMPFS) if place == "tmpfs" else None))


pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/data/metadata_corpus is not present")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")


@pytest.fixture(scope="module")
def all_files() -> list[Path]:
    return sorted(p for p in (CORPUS / "files").rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def supported(all_files: list[Path]) -> list[Path]:
    return [p for p in all_files if check_file(p).error is None]


def _mb(files: list[Path]) -> float:
    return sum(p.stat().st_size for p in files) / 1e6


def timed(
    benchmark, key: str, files: list[Path], fn: Callable[[], object], setup=None, rounds: int = 5
) -> None:  # noqa: ANN001
    """Run ``fn`` under pytest-benchmark (or once, timed, when benchmarks are disabled)."""
    if benchmark.disabled:
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        mean = time.perf_counter() - t0
    else:
        benchmark.pedantic(fn, setup=setup, rounds=rounds, iterations=1, warmup_rounds=1)
        mean = benchmark.stats.stats.mean
    RESULTS[key] = mean
    benchmark.extra_info.update(
        files=len(files),
        files_per_s=len(files) / mean,
        mb_per_s=_mb(files) / mean,
        ms_per_file=1e3 * mean / len(files),
    )


def test_veil_check_library(benchmark, all_files: list[Path]) -> None:  # noqa: ANN001
    reports = [check_file(p) for p in all_files]
    assert sum(r.error is None for r in reports) >= 150
    assert any(r.findings for r in reports)
    timed(benchmark, "check_lib", all_files, lambda: [check_file(p) for p in all_files])


def test_veil_check_cli(benchmark, all_files: list[Path]) -> None:  # noqa: ANN001
    cmd = [sys.executable, "-m", "veilcv", "meta", "check", *map(str, all_files)]
    assert subprocess.run(cmd, capture_output=True).returncode == 2  # unsupported files are refused
    timed(benchmark, "check_cli", all_files, lambda: subprocess.run(cmd, capture_output=True), rounds=3)


@needs_exiftool
def test_exiftool_check(benchmark, all_files: list[Path]) -> None:  # noqa: ANN001
    cmd = [EXIFTOOL, "-r", "-a", "-G1", *map(str, all_files)]
    out = subprocess.run(cmd, capture_output=True)
    assert b"GPS Latitude" in out.stdout
    timed(benchmark, "check_exiftool", all_files, lambda: subprocess.run(cmd, capture_output=True), rounds=3)


@pytest.mark.parametrize("place", PLACES)
def test_veil_strip_library(benchmark, supported: list[Path], place: str) -> None:  # noqa: ANN001
    out = _workdir(place, "veil-bench-")

    def run() -> None:
        for i, p in enumerate(supported):
            try:
                strip_file(p, out / f"{i}{p.suffix}")
            except Exception:  # the few TIFFs Pillow cannot decode are refused; that is the contract
                pass

    run()
    written = list(out.iterdir())
    assert len(written) >= 150 and all(check_file(p).clean for p in written)
    timed(benchmark, f"strip_lib_{place}", supported, run)
    shutil.rmtree(out)


def test_veil_strip_in_memory(benchmark, supported: list[Path]) -> None:  # noqa: ANN001
    # The same work without the file system: shows how much of strip_file is fsync/rename.
    blobs = [p.read_bytes() for p in supported]

    def run() -> None:
        for data in blobs:
            try:
                strip_bytes(data)
            except Exception:
                pass

    timed(benchmark, "strip_mem", supported, run)


@needs_exiftool
@pytest.mark.parametrize("place", PLACES)
def test_exiftool_strip(benchmark, supported: list[Path], place: str) -> None:  # noqa: ANN001
    work = _workdir(place, "exiftool-bench-")

    def setup() -> None:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        for i, p in enumerate(supported):
            shutil.copyfile(p, work / f"{i}{p.suffix}")

    cmd = [EXIFTOOL, "-q", "-q", "-all=", "-overwrite_original", str(work)]
    timed(
        benchmark,
        f"strip_exiftool_{place}",
        supported,
        lambda: subprocess.run(cmd, capture_output=True),
        setup,
        rounds=3,
    )
    shutil.rmtree(work)


def test_report_ratios() -> None:
    lines = []
    for ours, theirs, what in (
        ("check_lib", "check_exiftool", "check (library) vs exiftool -r -a -G1"),
        ("check_cli", "check_exiftool", "check (veil CLI, incl. start-up) vs exiftool -r -a -G1"),
        (
            "strip_lib_disk",
            "strip_exiftool_disk",
            "strip to files on disk (atomic, fsync'd) vs exiftool -all=",
        ),
        ("strip_lib_tmpfs", "strip_exiftool_tmpfs", "strip to files on tmpfs vs exiftool -all= on tmpfs"),
        ("strip_mem", "strip_exiftool_tmpfs", "strip in memory (strip_bytes) vs exiftool -all= on tmpfs"),
    ):
        if ours in RESULTS and theirs in RESULTS:
            lines.append(f"{what}: ExifTool time / veil time = {RESULTS[theirs] / RESULTS[ours]:.2f} "
                         f"(veil {RESULTS[ours]:.3f} s, ExifTool {RESULTS[theirs]:.3f} s)")  # fmt: skip
    print("\n" + "\n".join(lines or ["(ExifTool not installed: no ratios)"]))
