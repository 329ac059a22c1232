"""The evidence for `veil redact`'s default face threshold and mask scale.

Detects once per image at a low threshold (lower thresholds only add boxes: CenterFace's NMS and
the tile merge keep the higher-scored box), then for each threshold x mask scale redacts in memory
and measures, with ``veilcv.core.coverage``, the fraction of ground-truth faces ≥ 80 % redacted per
size bucket and the fraction of background pixels changed (the cost). Sets:

- ``bench``: the ``bench_redact.py`` set (the most crowded faces_mask_street photos letterboxed to
  1080p), where deface 1.5.0 at its defaults covered 87.1 % of the faces with 16.4 % of the
  background changed;
- ``heldout``: the next ``VEILCV_SWEEP_HELDOUT`` (default 60) most crowded photos at their own
  resolution (with faces under 16 px, which the letterboxed set lacks).

Both the default whole-frame pass (1024 px on the long side) and ``--small-faces`` are swept.
Skips without ../shared/data or the model.

Run: ``.venv/bin/python -m pytest benchmarks/bench_redact_defaults.py --benchmark-enable -s``
"""

from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest

from benchmarks.bench_redact import SHARED, N, _letterbox
from veilcv.core.annotations import load_annotations
from veilcv.core.coverage import box_fractions, redacted_mask
from veilcv.core.geometry import SIZE_BUCKETS, size_bucket
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.errors import ModelError

HELDOUT = int(os.environ.get("VEILCV_SWEEP_HELDOUT", "60"))
THRESHOLDS = (0.1, 0.12, 0.15, 0.2, 0.3, 0.5)
SCALES = (1.3, 1.4, 1.5, 1.6)


def _sets() -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    items = sorted(load_annotations(SHARED / "annotations", "voc"), key=lambda it: -len(it.boxes))
    bench, heldout = [], []
    for it in items[:N]:
        big, s, ox, oy = _letterbox(cv2.imread(str(SHARED / "images" / it.file)))
        # the benchmark feeds JPEG files (quality 92): measure on the same pixels
        big = cv2.imdecode(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])[1], cv2.IMREAD_COLOR)
        bench.append((big, it.boxes * s + np.array([ox, oy, ox, oy])))
    for it in items[N : N + HELDOUT]:
        heldout.append((cv2.imread(str(SHARED / "images" / it.file)), np.asarray(it.boxes, np.float64)))
    return {"bench": bench, "heldout": heldout}


def _score(data, dets, thr: float, scale: float, det) -> tuple[dict[str, float | None], float, float]:
    red = Redactor(
        RedactOptions(what=("face",), mask_scale=scale, thresholds={"face": thr}, verify=False),
        detectors={"face": det},
    )
    counts = {b[0]: [0, 0] for b in SIZE_BUCKETS}
    changed = background = 0
    for (img, gt), (boxes, scores) in zip(data, dets, strict=True):
        out = img.copy()
        red.redact_array(out, {"face": boxes[scores >= thr]})
        mask = redacted_mask(img, out)
        inside = np.zeros(mask.shape, bool)
        for box, f in zip(gt, box_fractions(mask, gt), strict=True):
            c = counts[size_bucket(box)]
            c[0] += 1
            c[1] += int(f >= 0.8)
            x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
            inside[y0 : math.ceil(box[3]), x0 : math.ceil(box[2])] = True
        changed += int((mask & ~inside).sum())
        background += int((~inside).sum())
    per = {k: (v[1] / v[0] if v[0] else None) for k, v in counts.items()}
    total = sum(v[0] for v in counts.values())
    return per, sum(v[1] for v in counts.values()) / total, changed / background


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/faces_mask_street is absent")
def test_default_threshold_and_scale(benchmark) -> None:
    from veilcv.core.detection import load_detector

    try:
        # the default plan (whole frame at the registry's 1024 px) and --small-faces, both at the
        # default precision (int8 where the CPU has it)
        plans = {
            "whole": load_detector("face", threshold=0.1, small_objects=False),
            "tiles": load_detector("face", threshold=0.1),
        }
    except ModelError as exc:
        pytest.skip(str(exc))
    sets = _sets()
    print(f"\n{'set':8s} {'plan':5s} {'thr':>5s} {'scale':>5s} {'covered':>8s} ", end="")
    print(" ".join(f"{b[0]:>6s}" for b in SIZE_BUCKETS), f"{'bg chg':>7s}")
    for name, data in sets.items():
        for plan, det in plans.items():

            def detect_all(det=det, data=data) -> list[tuple[np.ndarray, np.ndarray]]:
                return [(d.boxes, d.scores) for d in (det.detect(img) for img, _ in data)]

            if name == "bench" and plan == "whole":
                dets = benchmark.pedantic(detect_all, rounds=1, iterations=1)
                dets = dets if dets is not None else detect_all()
            else:
                dets = detect_all()
            for thr in THRESHOLDS:
                for scale in SCALES:
                    per, cov, bg = _score(data, dets, thr, scale, det)
                    cells = " ".join("     -" if v is None else f"{v * 100:5.1f}%" for v in per.values())
                    head = f"{name:8s} {plan:5s} {thr:5.2f} {scale:5.1f} {cov * 100:7.1f}%"
                    print(f"{head} {cells} {bg * 100:6.2f}%")
                    assert 0.0 <= cov <= 1.0 and 0.0 <= bg <= 1.0
