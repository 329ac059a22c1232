"""Regenerate the face model's INT8 activation ranges (``veilcv/core/detection/centerface_int8.yaml``).

Calibration photos: every 12th faces_mask_street photo after the 84 most crowded, so none of the
photos the redaction benchmarks measure on (``bench_redact.py``: the 24 most crowded;
``bench_redact_defaults.py``: the next 60; ``bench_precision.py`` leaves these out) shaped the
ranges. Each photo goes through the face
detector's own whole-frame preprocessing (at most 1024 px on the long side, padded to 32).

Run: ``.venv/bin/python benchmarks/calibrate_face_int8.py`` (needs ../shared/data and the model).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from veilcv.core.annotations import load_annotations  # noqa: E402
from veilcv.core.detection import load_detector, registry  # noqa: E402
from veilcv.core.detection.adapter import core  # noqa: E402
from veilcv.core.detection.provision import ensure  # noqa: E402
from veilcv.core.detection.quantize import calibrate, write_ranges  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "faces_mask_street"
FIRST, STEP = 84, 12
FLOAT_FIRST = 3  # MobileNetV2's stem and first block stay float (quantize.py says why)


def photos() -> list[Path]:
    items = sorted(load_annotations(SHARED / "annotations", "voc"), key=lambda it: -len(it.boxes))
    return [SHARED / "images" / it.file for it in items[FIRST::STEP]]


def main() -> None:
    spec = registry.load_registry().get("face")
    det = load_detector("face", threshold=0.5, precision="f32", small_objects=False)
    files = photos()

    def blobs():
        for path in files:
            img = cv2.imread(str(path))
            yield det._prep(img, det.plan(*img.shape[:2])[0])[0]

    rows = calibrate(core().read_model(str(ensure(spec, auto_pull=True))), blobs(), float_first=FLOAT_FIRST)
    out = registry.int8_ranges_path(spec)
    header = {
        "model": spec.name,
        "model_sha256": spec.sha256,
        "method": "per tensor, the min and max over the photos of every activation "
        f"that feeds a convolution or a residual add, measured in f32 (the first {FLOAT_FIRST} "
        "convolutions and the output heads stay float); weights: per output channel, from the pinned "
        "weights at load time",
        "calibration": f"{len(files)} faces_mask_street photos (every {STEP}th after the {FIRST} most "
        "crowded), whole frame at most 1024 px on the long side; regenerate with "
        "benchmarks/calibrate_face_int8.py",
    }
    write_ranges(out, rows, header)
    print(f"wrote {len(rows)} tensor ranges from {len(files)} photos to {out}")


if __name__ == "__main__":
    main()
