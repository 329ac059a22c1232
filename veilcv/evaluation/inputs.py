"""Readers for `veil fairness` inputs; every bad row is a one-line error naming file and line/path.

Row-level input (CSV with a header row, or JSONL with one object per line)::

    y_true,y_pred,skin_tone,camera          y_true,score,lighting
    1,1,V,dashcam                           1,0.91,night

``y_true`` and ``y_pred`` are 0/1 (also true/false, yes/no); with ``score`` instead of
``y_pred`` a ``--threshold`` turns scores into predictions (``score >= threshold`` is 1). An
empty group value becomes the group ``(missing)``, reported like any other.

Detection-level ground truth (JSON), boxes ``[x0, y0, x1, y1]`` in pixels::

    {"images": [{"file": "a.jpg", "attributes": {"lighting": "night"},
                 "boxes": [{"box": [10, 20, 50, 70], "attributes": {"blur": "heavy"},
                            "ignore": false}]}]}

or a WIDER FACE ``*_bbx_gt.txt`` file (attributes ``blur``, ``expression``, ``illumination``,
``occlusion``, ``pose`` with WIDER's integer codes; ``invalid`` boxes are ignored).

Detection-level predictions (JSON)::

    {"images": [{"file": "a.jpg", "detections": [{"box": [12, 19, 52, 69], "score": 0.93,
                                                  "class": "face"}]}]}

or a ``veil redact --report`` JSON whose per-file entries list their detections.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from veilcv.core.annotations import read_wider
from veilcv.errors import InputError
from veilcv.evaluation.fairness import MISSING_GROUP
from veilcv.evaluation.matching import GroundTruthImage, PredictedImage
from veilcv.safeio import read_text

_TRUE = {"1", "true", "yes", "1.0"}
_FALSE = {"0", "false", "no", "0.0"}


@dataclass(frozen=True)
class LabelData:
    """Row-level labels and predictions with the group value of every row per attribute."""

    y_true: np.ndarray
    y_pred: np.ndarray
    groups: dict[str, list[str]]


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row) from a CSV or JSONL file, chosen by suffix."""
    text = read_text(path, "a .csv, .tsv or .jsonl file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{lineno}: expected a JSON object, got invalid JSON ({exc.msg})"
                ) from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            yield lineno, row
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if suffix == ".tsv" else ",")
        if not reader.fieldnames:
            raise InputError(f"{path}: expected a header row, got an empty file")
        for row in reader:
            if None in row:
                raise InputError(
                    f"{path}:{reader.line_num}: expected {len(reader.fieldnames)} fields, got more"
                )
            if any(v is None for v in row.values()):  # csv fills a short row's missing fields with None
                raise InputError(
                    f"{path}:{reader.line_num}: expected {len(reader.fieldnames)} fields, got fewer"
                )
            yield reader.line_num, row
    else:
        raise InputError(f"{path}: expected a .csv, .tsv or .jsonl file, got '{path.suffix or path.name}'")


def _label(path: Path, lineno: int, col: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    s = str(value).strip().lower() if value is not None else ""
    if s in _TRUE:
        return 1
    if s in _FALSE:
        return 0
    raise InputError(f"{path}:{lineno}: column '{col}': expected 0 or 1 (or true/false), got {value!r}")


def _score(path: Path, lineno: int, col: str, value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        f = float(value)
    except (TypeError, ValueError):
        f = math.nan
    if not math.isfinite(f):
        raise InputError(f"{path}:{lineno}: column '{col}': expected a finite number, got {value!r}")
    return f


def read_labels(
    path: str | Path,
    groups: Sequence[str],
    *,
    y_true: str = "y_true",
    y_pred: str = "y_pred",
    score: str = "score",
    threshold: float | None = None,
) -> LabelData:
    """Read a CSV/TSV/JSONL file of labels, predictions (or scores) and group columns."""
    path = Path(path)
    if not groups:
        raise InputError(f"{path}: expected at least one group column; use --group COLUMN")
    truths: list[int] = []
    preds: list[int] = []
    values: dict[str, list[str]] = {g: [] for g in groups}
    use_score: bool | None = None
    for lineno, row in _rows(path):
        if use_score is None:
            use_score = y_pred not in row
            needed = [y_true, *groups, score if use_score else y_pred]
            missing = [c for c in needed if c not in row]
            if missing:
                hint = f"; columns present: {', '.join(map(str, row))}"
                raise InputError(f"{path}:{lineno}: expected column(s) {', '.join(missing)}, got none{hint}")
            if use_score and threshold is None:
                raise InputError(
                    f"{path}: column '{score}' holds scores; use --threshold T to turn them into predictions"
                )
            if not use_score and threshold is not None:
                raise InputError(
                    f"{path}: --threshold applies to a '{score}' column, but the file has '{y_pred}'"
                )
        for col in (y_true, score if use_score else y_pred, *groups):
            if col not in row:
                raise InputError(f"{path}:{lineno}: expected column '{col}', got a row without it")
        truths.append(_label(path, lineno, y_true, row[y_true]))
        if use_score:
            preds.append(int(_score(path, lineno, score, row[score]) >= threshold))  # type: ignore[operator]
        else:
            preds.append(_label(path, lineno, y_pred, row[y_pred]))
        for g in groups:
            v = row[g]
            v = "" if v is None else str(v).strip()
            values[g].append(v if v else MISSING_GROUP)
    if not truths:
        raise InputError(f"{path}: expected at least one data row, got none")
    return LabelData(np.asarray(truths, dtype=np.int8), np.asarray(preds, dtype=np.int8), values)


def _load_json(path: Path) -> Any:
    text = read_text(path, "a JSON file")
    if not text.strip():
        raise InputError(f"{path}: expected JSON, got an empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: expected JSON, got invalid JSON ({exc.msg})") from None


def _json_score(path: Path, where: str, value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise InputError(f"{path}: {where}: expected a finite number, got {json.dumps(value)[:60]}")


def _box(path: Path, where: str, value: Any) -> list[float]:
    ok = isinstance(value, list) and len(value) == 4
    if ok:
        try:
            out = [float(v) for v in value if not isinstance(v, bool)]
            ok = len(out) == 4 and all(math.isfinite(v) for v in out)
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise InputError(
            f"{path}: {where}: expected [x0, y0, x1, y1] (4 numbers), got {json.dumps(value)[:60]}"
        )
    if out[2] < out[0] or out[3] < out[1]:  # a swapped box would silently never match anything
        raise InputError(
            f"{path}: {where}: expected x0 <= x1 and y0 <= y1 (corners, not x, y, w, h), "
            f"got {json.dumps(value)[:60]}"
        )
    return out


def _attrs(path: Path, where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or any(isinstance(v, dict | list) for v in value.values()):
        raise InputError(
            f"{path}: {where}: expected an object of attribute: value, got {json.dumps(value)[:60]}"
        )
    return {str(k): MISSING_GROUP if v in (None, "") else str(v) for k, v in value.items()}


def _images(path: Path, doc: Any) -> list[Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise InputError(f"{path}: $: expected an object with an 'images' list, got {type(doc).__name__}")
    for i, img in enumerate(doc["images"]):
        if not isinstance(img, dict) or not isinstance(img.get("file"), str) or not img["file"]:
            raise InputError(f"{path}: $.images[{i}].file: expected a file name, got {json.dumps(img)[:60]}")
    return doc["images"]


def read_ground_truth(path: str | Path) -> list[GroundTruthImage]:
    """Read ground-truth boxes with attributes from the JSON format above or WIDER FACE txt."""
    path = Path(path)
    if path.suffix.lower() == ".txt":
        return _read_wider(path)
    out = []
    for i, img in enumerate(_images(path, _load_json(path))):
        boxes, battrs, ignore = [], [], []
        if not isinstance(img.get("boxes", []), list):
            raise InputError(
                f"{path}: $.images[{i}].boxes: expected a list, got {type(img['boxes']).__name__}"
            )
        for j, b in enumerate(img.get("boxes", [])):
            where = f"$.images[{i}].boxes[{j}]"
            if not isinstance(b, dict):
                raise InputError(f"{path}: {where}: expected an object with 'box', got {json.dumps(b)[:60]}")
            boxes.append(_box(path, where + ".box", b.get("box")))
            battrs.append(_attrs(path, where + ".attributes", b.get("attributes")))
            ignore.append(bool(b.get("ignore", False)))
        out.append(
            GroundTruthImage(
                key=img["file"],
                boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
                box_attributes=tuple(battrs),
                attributes=_attrs(path, f"$.images[{i}].attributes", img.get("attributes")),
                ignore=tuple(ignore),
            )
        )
    return out


def _read_wider(path: Path) -> list[GroundTruthImage]:
    """WIDER FACE ground truth, read by the annotation reader `veil coverage` uses."""
    out = [
        GroundTruthImage(item.file, item.boxes, item.attributes, {}, item.ignore)
        for item in read_wider(path, "a WIDER FACE annotation file")
    ]
    if not out:
        raise InputError(f"{path}: expected WIDER FACE annotations, got no images")
    return out


def read_predictions(path: str | Path, classes: Sequence[str] = ()) -> dict[str, PredictedImage]:
    """Read predictions from the JSON format above or a `veil redact --report` JSON."""
    path = Path(path)
    doc = _load_json(path)
    entries = _redact_report_entries(path, doc) if isinstance(doc, dict) and "images" not in doc else None
    if entries is None:
        entries = [
            (f"$.images[{i}]", img["file"], img.get("detections")) for i, img in enumerate(_images(path, doc))
        ]
    out: dict[str, PredictedImage] = {}
    for where, key, dets in entries:
        if dets is None:
            dets = []
        if not isinstance(dets, list):
            raise InputError(f"{path}: {where}.detections: expected a list, got {type(dets).__name__}")
        boxes, scores = [], []
        for j, d in enumerate(dets):
            w = f"{where}.detections[{j}]"
            if not isinstance(d, dict):
                raise InputError(
                    f"{path}: {w}: expected an object with 'box' and 'score', got {json.dumps(d)[:60]}"
                )
            if classes and str(d.get("class", d.get("label", ""))) not in classes:
                continue
            boxes.append(_box(path, w + ".box", d.get("box", d.get("bbox"))))
            scores.append(_json_score(path, w + ".score", d["score"]) if "score" in d else 1.0)
        if key in out:
            raise InputError(f"{path}: {where}: expected one entry per image, got '{key}' twice")
        out[key] = PredictedImage(
            key, np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64)
        )
    return out


def _redact_report_entries(path: Path, doc: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Per-file detections from a `veil redact --report` JSON (the one place that knows its layout)."""
    files = doc.get("files")
    if not isinstance(files, list):
        raise InputError(
            f"{path}: $: expected an 'images' list (predictions) or a 'files' list (veil redact report)"
        )
    out = []
    for i, f in enumerate(files):
        if not isinstance(f, dict):
            raise InputError(f"{path}: $.files[{i}]: expected an object, got {type(f).__name__}")
        key = f.get("input")
        dets = f.get("detections", f.get("regions"))
        if not isinstance(key, str) or not isinstance(dets, list):
            raise InputError(
                f"{path}: $.files[{i}]: expected 'input' and a 'detections' list with boxes, got none; "
                "this report holds no boxes, use a predictions JSON"
            )
        out.append((f"$.files[{i}]", key, dets))
    return out


def check_attributes(path: Path, images: Sequence[GroundTruthImage], names: Sequence[str]) -> None:
    """Refuse a ``--group`` that no image or box carries (a typo would put everything in "(missing)")."""
    present = {k for img in images for k in img.attributes}
    present |= {k for img in images for attrs in img.box_attributes for k in attrs}
    absent = [n for n in names if n not in present]
    if absent:
        raise InputError(
            f"{path}: expected attribute(s) {', '.join(absent)} on the images or boxes, got none; "
            f"attributes present: {', '.join(sorted(present)) or 'none'}"
        )


def align_keys(
    gt: Sequence[GroundTruthImage], preds: dict[str, PredictedImage]
) -> tuple[dict[str, PredictedImage], list[str]]:
    """Key predictions like the ground truth: exact path first, else a unique file name."""
    warnings: list[str] = []
    gt_keys = {g.key for g in gt}
    by_name: dict[str, list[str]] = {}
    for k in gt_keys:
        by_name.setdefault(Path(k).name, []).append(k)
    out: dict[str, PredictedImage] = {}
    unknown = 0
    for k, p in preds.items():
        if k in gt_keys:
            out[k] = p
        elif len(by_name.get(Path(k).name, [])) == 1 and by_name[Path(k).name][0] not in preds:
            out[by_name[Path(k).name][0]] = p
        else:
            unknown += 1
    if unknown:
        warnings.append(f"{unknown} predicted image(s) have no ground truth and were left out")
    absent = len(gt_keys - set(out))
    if absent:
        warnings.append(
            f"{absent} ground-truth image(s) have no prediction entry; their boxes count as misses"
        )
    return out, warnings
