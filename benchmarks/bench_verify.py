"""The evidence behind the verifier's residual level (``veilcv.core.defaults.VERIFY_THRESHOLDS``).

Two sides, per precision the CPU runs:

- **false residuals**: every photo of the shared sets (faces_dlib_voc, a third of faces_mask_street,
  plates_openalpr_br, the astronaut) is redacted with the defaults, the encoded output is decoded and
  the face detector looks at the whole frame again; printed are the highest scores of detections
  the residual rule of ``Redactor.residuals`` keeps at any score (``residual_candidates``), and how many reach
  0.12 / 0.3 / 0.5. A correctly redacted photo should give none at the residual level.
- **faces left open**: the share of ground-truth street faces, per size, that the whole-frame pass
  scores at 0.12 / 0.3 / 0.5 on the original: what the verifier would catch if a face were left open.

Run: ``.venv/bin/python -m pytest benchmarks/bench_verify.py --benchmark-enable -s``
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.core.annotations import load_annotations
from veilcv.core.defaults import RESIDUAL_NEAR_LEVEL
from veilcv.core.geometry import size_bucket
from veilcv.core.media import decode_image
from veilcv.core.pipeline import RedactOptions, Redactor, residual_candidates

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
LEVELS = (0.12, 0.3, 0.5)


def _photos() -> list[Path]:
    from skimage import data as skd

    return (
        sorted((DATA / "faces_dlib_voc" / "images").glob("*.jpg"))
        + sorted((DATA / "faces_mask_street" / "images").glob("*.jpg"))[::3]
        + sorted((DATA / "plates_openalpr_br" / "images").glob("*.jpg"))
        + [Path(str(skd.__file__)).parent / "astronaut.png"]
    )


def false_residual_scores(precision: str) -> np.ndarray:
    """Scores of whole-frame detections outside the footprint on correctly redacted outputs."""
    r = Redactor(RedactOptions(what=("face",), precision=precision, verify=False))
    # The verifier's own pass, with every score down to 0.05 kept.
    probe = Redactor(RedactOptions(what=("face",), precision=precision, thresholds={"face": 0.05}))
    scores = []
    for path in _photos():
        out, res = r.redact_bytes(path.read_bytes(), path.suffix, name=path.name)
        img = decode_image(out)
        boxes = np.array([d["box"] for d in res.detections], np.float32).reshape(-1, 4)
        applied = r.redact_array(img.copy(), {"face": boxes})
        found = _whole_frame(probe, img)
        kept = residual_candidates(*found, applied["face"], img.shape, "face", near_level=RESIDUAL_NEAR_LEVEL)
        scores += [x["score"] for x in kept]
    return np.sort(np.array(scores))[::-1]


def _whole_frame(probe: Redactor, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    det = probe.detector("face").detect(np.ascontiguousarray(img[:, :, :3]), whole_frame=True)
    keep = det.scores >= 0.05
    return det.boxes[keep], det.scores[keep]


def open_face_scores(precision: str) -> dict[str, np.ndarray]:
    """Per size bucket, the whole-frame score of each ground-truth street face on the original."""
    src = DATA / "faces_mask_street"
    probe = Redactor(RedactOptions(what=("face",), precision=precision, thresholds={"face": 0.05}))
    out: dict[str, list[float]] = {}
    for it in load_annotations(src / "annotations", "voc")[::3]:
        b, s = _whole_frame(probe, cv2.imread(str(src / "images" / it.file)))
        for gt in it.boxes:
            best = 0.0
            for box, score in zip(b, s, strict=True):
                ix = max(0.0, min(gt[2], box[2]) - max(gt[0], box[0]))
                iy = max(0.0, min(gt[3], box[3]) - max(gt[1], box[1]))
                inter = ix * iy
                union = (gt[2] - gt[0]) * (gt[3] - gt[1]) + (box[2] - box[0]) * (box[3] - box[1]) - inter
                if union > 0 and inter / union > 0.3:
                    best = max(best, float(score))
            out.setdefault(size_bucket(gt), []).append(best)
    return {k: np.array(v) for k, v in out.items()}


def test_verifier_levels(benchmark) -> None:
    if not DATA.is_dir():
        pytest.skip("../shared/data is not present")
    from veilcv.core.detection.adapter import cpu_precisions

    precisions = [p for p in ("f32", "bf16", "int8") if p in cpu_precisions()]

    def run() -> dict:
        return {p: (false_residual_scores(p), open_face_scores(p)) for p in precisions}

    got = benchmark.pedantic(run, rounds=1, iterations=1)
    for p, (false, faces) in got.items():
        counts = " ".join(f">={lv}: {int((false >= lv).sum())}" for lv in LEVELS)
        print(f"\n{p}: false residuals {len(false)}, top {np.round(false[:5], 3).tolist()}, {counts}")
        for k in ("<16", "16-31", "32-63", ">=64"):
            v = faces.get(k, np.zeros(0))
            shares = " ".join(f">={lv}: {(v >= lv).mean() if len(v) else math.nan:.2f}" for lv in LEVELS)
            print(f"  open faces {k:6s} n={len(v):4d} {shares}")
        assert int((false >= 0.5).sum()) == 0
