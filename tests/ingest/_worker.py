"""Subprocess ingest for the reliability tests: ``python -m ingest._worker SRC MANIFEST STORE DETECTOR``.

Runs the real ingest pipeline with an injected detector (``fixed``, ``slow`` = fixed plus a delay
per call so a SIGKILL lands mid-run, or ``failing``), and prints the outcome counts as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from store.helpers import POLICY, FailingDetector, FixedDetector, policy

from veilcv.core.detection.types import Detections
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.ingest import Ingestor
from veilcv.store import Store, from_policy, load_master_key
from veilcv.telemetry.gate import TelemetryGate


class SlowDetector(FixedDetector):
    def detect(self, image_bgr: np.ndarray) -> Detections:
        time.sleep(0.02)
        return super().detect(image_bgr)


def main() -> int:
    src, manifest, root, kind = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    keep_raw = len(sys.argv) > 5 and sys.argv[5] == "keep-raw"
    pol = policy(keep_raw=keep_raw) if keep_raw else POLICY
    det = {"fixed": FixedDetector, "slow": SlowDetector, "failing": FailingDetector}[kind]()
    redactor = Redactor(RedactOptions(what=("face",), strict=True), detectors={"face": det})
    with Store.open(root, load_master_key(), from_policy(pol), create=True) as store:
        print("ready", flush=True)
        ingestor = Ingestor(store, pol, redactor, gate=TelemetryGate(store.policy))
        report = ingestor.run(src, manifest, jobs=2)
    print(json.dumps(report.counts), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
