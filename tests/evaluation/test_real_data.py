"""`veil fairness` in detection mode on real photos with the real face model.

Groups: the mask label of each annotated face (with / without / worn incorrectly) and its size
bucket; both come from the annotations, nothing is inferred. The matching is checked against a
naive reference written here, and a loose recall floor catches a broken box convention.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import pytest

from veilcv.cli.main import main
from veilcv.errors import ModelError

pytestmark = [pytest.mark.model, pytest.mark.shared_data, pytest.mark.slow]
N_IMAGES = 30
LABELS = {
    "con_mascarilla": "with_mask",
    "sin_mascarilla": "without_mask",
    "mascarilla_mal_puesta": "incorrect",
}


def _size_bucket(w: float, h: float) -> str:
    side = max(w, h)
    return "<16" if side < 16 else "16-31" if side < 32 else "32-63" if side < 64 else ">=64"


def _naive_tp(gt: list[list[float]], pred: list[list[float]], scores: list[float], thr: float) -> list[bool]:
    def iou(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0

    taken = [False] * len(gt)
    for j in sorted(range(len(pred)), key=lambda j: -scores[j]):
        best, best_i = thr, None
        for i, g in enumerate(gt):
            v = iou(g, pred[j])
            if not taken[i] and (v > best or (v == best and best_i is None)):
                best, best_i = v, i
        if best_i is not None:
            taken[best_i] = True
    return taken


def test_detection_mode_on_real_faces(shared_data, tmp_path):
    folder = shared_data / "faces_mask_street"
    if not (folder / "annotations").is_dir():
        pytest.skip("faces_mask_street is not in the shared data")
    from veilcv.core.detection import load_detector

    try:
        det = load_detector("face", threshold=0.3, precision="f32", auto_pull=False)
    except ModelError as exc:
        pytest.skip(f"face model cannot be had here: {exc}")
    gt_images, pred_images, expected = [], [], {}
    for xml in sorted((folder / "annotations").glob("*.xml"))[:N_IMAGES]:
        root = ET.parse(xml).getroot()
        name = root.findtext("filename") or xml.with_suffix(".jpg").name
        image = cv2.imread(str(folder / "images" / Path(name).with_suffix(".jpg").name))
        assert image is not None
        boxes = []
        for obj in root.iter("object"):
            bb = obj.find("bndbox")
            x0, y0, x1, y1 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            attrs = {
                "mask": LABELS.get(obj.findtext("name"), obj.findtext("name")),
                "size": _size_bucket(x1 - x0, y1 - y0),
            }
            boxes.append({"box": [x0, y0, x1, y1], "attributes": attrs})
        found = det.detect(image)
        dets = [
            {"box": [float(v) for v in b], "score": float(s), "class": "face"}
            for b, s in zip(found.boxes, found.scores, strict=True)
        ]
        gt_images.append({"file": name, "boxes": boxes})
        pred_images.append({"file": name, "detections": dets})
        hit = _naive_tp([b["box"] for b in boxes], [d["box"] for d in dets], [d["score"] for d in dets], 0.3)
        for b, h in zip(boxes, hit, strict=True):
            tp_fn = expected.setdefault(b["attributes"]["mask"], [0, 0])
            tp_fn[0 if h else 1] += 1
    (tmp_path / "gt.json").write_text(json.dumps({"images": gt_images}))
    (tmp_path / "pred.json").write_text(json.dumps({"images": pred_images}))
    out = tmp_path / "f.json"
    code = main(
        [
            "fairness",
            "--gt",
            str(tmp_path / "gt.json"),
            "--pred",
            str(tmp_path / "pred.json"),
            "--iou",
            "0.3",
            "-g",
            "mask",
            "-g",
            "size",
            "--json",
            str(out),
            "--html",
            str(tmp_path / "f.html"),
        ]
    )
    assert code in (0, 1)
    rep = json.loads(out.read_text())
    mask = {g["group"]: g for g in rep["attributes"][0]["groups"]}
    assert {g: [v["tp"], v["fn"]] for g, v in mask.items()} == expected
    total = sum(sum(v) for v in expected.values())
    size = rep["attributes"][1]["groups"]
    assert sum(g["n"] for g in size) == total
    recall = sum(v[0] for v in expected.values()) / total
    assert recall > 0.3, recall  # a flipped or scaled box convention would give ~0
    assert 'data-metric="fnr"' in (tmp_path / "f.html").read_text()
