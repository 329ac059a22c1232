"""`veil check` over a generated repository of 10,000 files, with REUSE lint timed on the same tree.

Run: .venv/bin/python -m pytest benchmarks/bench_check.py --benchmark-enable -s

The tree: DATASETS folders, each with a ``manifest.csv`` and IMAGES_PER_DATASET small PNGs
(a few images unlisted, a few records without a source, on purpose), Terraform files with one
bucket each, and plain text files, 10,000 files in all. veil's findings are checked against that
construction before anything is timed.

The baseline is what a user would otherwise run to check the licensing of every file in a
repository: `reuse lint` (fsfe reuse-tool), installed by this file into its own virtual
environment under the temp directory (``veilcv-bench-reuse``; set ``VEILCV_REUSE`` to an existing
``reuse`` executable to reuse one). It checks less than veil does (licence headers only: no
manifests, metadata, storage or retention), so the ratio flatters REUSE. When it cannot be
installed the REUSE side is skipped. Both are timed as a user runs them, CLI start-up included.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from veilcv.linter import engine
from veilcv.policies.loader import load_policy_source

TOTAL_FILES = 10_000
DATASETS = 100
IMAGES_PER_DATASET = 80
TF_FILES = 100
UNLISTED_EVERY = 20  # every 20th dataset has one image its manifest does not list
NO_SOURCE_EVERY = 25  # every 25th dataset has one record without a source
RESULTS: dict[str, float] = {}

BUCKET = """resource "aws_s3_bucket" "b{i}" {{
  bucket = "bench-{i}"
}}
"""


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 60, 90)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench-check")
    png = _png()
    count = 0
    for d in range(DATASETS):
        folder = root / "datasets" / f"set{d:03d}"
        folder.mkdir(parents=True)
        rows = ["filename,source,license,attribution"]
        for i in range(IMAGES_PER_DATASET):
            (folder / f"img{i:03d}.png").write_bytes(png)
            if d % UNLISTED_EVERY == 0 and i == 0:
                continue
            source = "" if d % NO_SOURCE_EVERY == 0 and i == 1 else f"https://example.org/{d}/{i}"
            rows.append(f"img{i:03d}.png,{source},CC-BY-4.0,Bench Author")
        (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
        count += IMAGES_PER_DATASET + 1
    infra = root / "infra"
    infra.mkdir()
    for i in range(TF_FILES):
        (infra / f"b{i:03d}.tf").write_text(BUCKET.format(i=i))
    count += TF_FILES
    notes = root / "notes"
    notes.mkdir()
    for i in range(TOTAL_FILES - count):
        (notes / f"note{i:04d}.md").write_text(f"# Note {i}\n\nNothing personal here.\n")
    assert sum(1 for p in root.rglob("*") if p.is_file()) == TOTAL_FILES
    return root


def test_findings_match_the_construction(tree: Path) -> None:
    report = engine.check(tree, load_policy_source(pack="default"))
    counts = Counter(f.rule_id for f in report.findings)
    assert counts["VC107"] == DATASETS // UNLISTED_EVERY
    assert counts["VC105"] == DATASETS // NO_SOURCE_EVERY
    assert counts["VC205"] == TF_FILES  # every bench bucket lacks versioning
    assert not counts["VC401"] and not counts["VC402"] and not counts["VC403"]
    assert report.files_checked == TOTAL_FILES


def test_veil_check_in_process(benchmark, tree: Path) -> None:
    loaded = load_policy_source(pack="default")
    start = time.perf_counter()
    report = benchmark.pedantic(engine.check, args=(tree, loaded), rounds=3, iterations=1)
    elapsed = (time.perf_counter() - start) / 3 if benchmark.enabled else time.perf_counter() - start
    RESULTS["veil_in_process"] = elapsed
    print(
        f"\nveil check (in process): {elapsed:.2f} s, {TOTAL_FILES / elapsed:,.0f} files/s, "
        f"{len(report.findings)} findings"
    )


def test_veil_check_cli(tree: Path) -> None:
    veil = Path(sys.executable).with_name("veil")
    start = time.perf_counter()
    proc = subprocess.run([str(veil), "check", str(tree), "-f", "json"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 1, proc.stderr
    RESULTS["veil_cli"] = elapsed
    print(f"\nveil check (CLI, start-up included): {elapsed:.2f} s, {TOTAL_FILES / elapsed:,.0f} files/s")


def _reuse() -> Path | None:
    if os.environ.get("VEILCV_REUSE"):
        return Path(os.environ["VEILCV_REUSE"])
    venv = Path(tempfile.gettempdir()) / "veilcv-bench-reuse"
    exe = venv / "bin" / "reuse"
    if exe.exists():
        return exe
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
        )
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "reuse"], check=True, capture_output=True,
                       timeout=600)  # fmt: skip
    except (subprocess.SubprocessError, OSError):
        return None
    return exe if exe.exists() else None


def test_reuse_lint_baseline(tree: Path) -> None:
    exe = _reuse()
    if exe is None:
        pytest.skip("reuse could not be installed in its own environment")
    start = time.perf_counter()
    proc = subprocess.run(
        [str(exe), "--root", str(tree), "lint"], capture_output=True, text=True, timeout=1800
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 1 and "Unfortunately, your project is not compliant" in proc.stdout, (
        proc.stderr[-500:]
    )
    RESULTS["reuse"] = elapsed
    print(f"\nreuse lint: {elapsed:.2f} s, {TOTAL_FILES / elapsed:,.0f} files/s")
    if "veil_cli" in RESULTS:
        print(
            f"veil check (CLI) is {elapsed / RESULTS['veil_cli']:.1f}x as fast as reuse lint on the same tree"
        )
