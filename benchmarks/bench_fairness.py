"""`veil fairness` against fairlearn's MetricFrame on the same rows, in the same run.

Run: .venv/bin/python -m pytest benchmarks/bench_fairness.py --benchmark-enable -s

Rows: ROWS labelled rows in GROUPS groups with group-dependent error rates (seeded). Both sides
compute per-group FNR, FPR, recall, precision and a percentile bootstrap with BOOT replicates:
ours draws the four confusion cells from a multinomial per group (the same distribution as
resampling rows within each group), fairlearn resamples rows (``MetricFrame(n_boot=...)``).
Point estimates are checked to agree exactly and bootstrap bounds to agree within 0.01 before
anything is timed.

fairlearn (with pandas and scikit-learn) is installed by this file into its own virtual
environment under the temp directory (``veilcv-bench-fairlearn``; set ``VEILCV_FAIRLEARN_PYTHON``
to an interpreter that already has it). It runs in a subprocess that times only the computation
(no interpreter start-up, no import). When it cannot be installed that side is skipped.

A second pair times detection-level matching (``count_detections``) against a plain Python
greedy matcher on a WIDER-val-sized synthetic set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from veilcv.evaluation.fairness import Settings, assess, counts_by_group
from veilcv.evaluation.matching import GroundTruthImage, PredictedImage, count_detections

ROWS = 100_000
GROUPS = 6
BOOT = 100

_FAIRLEARN_SCRIPT = r"""
import json, sys, time
import numpy as np
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate
from sklearn.metrics import precision_score, recall_score
d = np.load(sys.argv[1])
metrics = {"fnr": false_negative_rate, "fpr": false_positive_rate,
           "recall": recall_score, "precision": precision_score}
t = time.perf_counter()
mf = MetricFrame(metrics=metrics, y_true=d["y_true"], y_pred=d["y_pred"], sensitive_features=d["groups"],
                 n_boot=int(sys.argv[2]), ci_quantiles=[0.025, 0.975], random_state=0)
point = mf.by_group
ci = mf.by_group_ci
elapsed = time.perf_counter() - t
out = {"seconds": elapsed, "point": {g: {m: float(point.loc[g, m]) for m in metrics} for g in point.index},
       "ci": {g: {m: [float(ci[0].loc[g, m]), float(ci[1].loc[g, m])] for m in metrics} for g in point.index}}
print(json.dumps(out))
"""


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    groups = rng.integers(0, GROUPS, ROWS)
    y_true = (rng.random(ROWS) < 0.4).astype(np.int8)
    miss = 0.05 + 0.03 * groups  # group-dependent miss rate
    flip = np.where(y_true == 1, rng.random(ROWS) < miss, rng.random(ROWS) < 0.04)
    y_pred = np.where(flip, 1 - y_true, y_true).astype(np.int8)
    return y_true, y_pred, np.array([f"g{g}" for g in groups])


def _fairlearn_python() -> str | None:
    exe = os.environ.get("VEILCV_FAIRLEARN_PYTHON")
    if exe:
        return exe
    venv = Path(tempfile.gettempdir()) / "veilcv-bench-fairlearn"
    py = venv / "bin" / "python"
    if not py.is_file():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True)
        if made.returncode != 0:
            return None
    probe = subprocess.run([str(py), "-c", "import fairlearn"], capture_output=True)
    if probe.returncode != 0:
        inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "fairlearn"], capture_output=True)
        if inst.returncode != 0:
            return None
    return str(py)


def _ours(y_true: np.ndarray, y_pred: np.ndarray, groups: list[str]) -> dict:
    return assess({"g": counts_by_group(y_true, y_pred, groups)}, Settings(bootstrap=BOOT, seed=0))


def test_fairness_vs_fairlearn(benchmark, tmp_path):
    y_true, y_pred, groups = _data()
    glist = groups.tolist()
    rep = _ours(y_true, y_pred, glist)
    ours = {g["group"]: g["metrics"] for g in rep["attributes"][0]["groups"]}
    py = _fairlearn_python()
    fl = None
    if py is not None:
        np.savez(tmp_path / "rows.npz", y_true=y_true, y_pred=y_pred, groups=groups)
        # One run: it takes seconds, far above the timer's noise, and the machine is shared.
        out = subprocess.run(
            [py, "-c", _FAIRLEARN_SCRIPT, str(tmp_path / "rows.npz"), str(BOOT)],
            capture_output=True,
            text=True,
            check=True,
        )
        fl = json.loads(out.stdout)
        for g, metrics in fl["point"].items():
            for m, v in metrics.items():
                assert ours[g][m]["value"] == pytest.approx(v, abs=1e-12), (g, m)
                lo, hi = fl["ci"][g][m]
                assert ours[g][m]["bootstrap"][0] == pytest.approx(lo, abs=0.01), (g, m)
                assert ours[g][m]["bootstrap"][1] == pytest.approx(hi, abs=0.01), (g, m)
    benchmark.pedantic(_ours, args=(y_true, y_pred, glist), rounds=5, iterations=1, warmup_rounds=1)
    mean = benchmark.stats.stats.mean
    print(
        f"\nveil fairness core: {ROWS} rows, {GROUPS} groups, {BOOT} bootstrap replicates: "
        f"{mean * 1e3:.1f} ms"
    )
    if fl is None:
        print("fairlearn: not available (install failed); baseline skipped")
        return
    print(f"fairlearn MetricFrame(n_boot={BOOT}): {fl['seconds'] * 1e3:.1f} ms (one run)")
    print(f"ratio: veilcv is {fl['seconds'] / mean:.1f}x faster, with Wilson intervals as well")


def _synthetic_detection(n_images: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    gts, preds = [], {}
    for i in range(n_images):
        k = int(rng.integers(1, 25))
        xy = rng.uniform(0, 1000, (k, 2))
        wh = rng.uniform(8, 120, (k, 2))
        boxes = np.hstack([xy, xy + wh])
        attrs = tuple({"blur": str(int(rng.integers(0, 3)))} for _ in range(k))
        gts.append(GroundTruthImage(f"{i}.jpg", boxes, attrs))
        keep = boxes[rng.random(k) < 0.8]  # the detector misses about one face in five
        jitter = keep + rng.normal(0, 3, keep.shape)
        extra = np.hstack([rng.uniform(0, 1000, (3, 2)), rng.uniform(0, 1000, (3, 2)) + 20])
        pb = np.vstack([jitter, extra])
        preds[f"{i}.jpg"] = PredictedImage(f"{i}.jpg", pb, rng.random(len(pb)))
    return gts, preds


def _python_greedy(gts, preds, thr: float = 0.5) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for img in gts:
        p = preds[img.key]
        order = sorted(range(len(p.boxes)), key=lambda j: -p.scores[j])
        taken = [False] * len(img.boxes)
        g = img.boxes.tolist()
        pb = p.boxes.tolist()
        for j in order:
            best, bi = thr, -1
            for i, a in enumerate(g):
                if taken[i]:
                    continue
                b = pb[j]
                iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
                ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
                inter = iw * ih
                union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
                v = inter / union if union > 0 else 0.0
                if v > best or (v == best and bi < 0):
                    best, bi = v, i
            if bi >= 0:
                taken[bi] = True
        for i, hit in enumerate(taken):
            c = out.setdefault(img.box_attributes[i]["blur"], [0, 0])
            c[0 if hit else 1] += 1
    return out


def test_matching_vs_python_loop(benchmark):
    gts, preds = _synthetic_detection()
    counts, _ = count_detections(gts, preds, ["blur"])
    ref = _python_greedy(gts, preds)
    assert {g: [c.tp, c.fn] for g, c in counts["blur"].items()} == ref
    t = time.perf_counter()
    _python_greedy(gts, preds)
    base = time.perf_counter() - t
    benchmark.pedantic(count_detections, args=(gts, preds, ["blur"]), rounds=3, iterations=1)
    mean = benchmark.stats.stats.mean
    n_boxes = sum(len(g.boxes) for g in gts)
    print(
        f"\nmatching {len(gts)} images / {n_boxes} boxes: veilcv {mean * 1e3:.0f} ms, "
        f"python loop {base * 1e3:.0f} ms, ratio {base / mean:.1f}x"
    )
