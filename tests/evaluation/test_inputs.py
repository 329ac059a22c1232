from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from veilcv.errors import InputError
from veilcv.evaluation.inputs import align_keys, read_ground_truth, read_labels, read_predictions


def test_csv_labels_and_groups(tmp_path):
    p = tmp_path / "eval.csv"
    p.write_text("y_true,y_pred,light,cam\n1,1,day,a\n0,true,night,\nyes,no,day,b\n", encoding="utf-8")
    d = read_labels(p, ["light", "cam"])
    assert d.y_true.tolist() == [1, 0, 1]
    assert d.y_pred.tolist() == [1, 1, 0]
    assert d.groups == {"light": ["day", "night", "day"], "cam": ["a", "(missing)", "b"]}


def test_jsonl_with_scores_and_threshold(tmp_path):
    p = tmp_path / "eval.jsonl"
    rows = [{"y_true": 1, "score": 0.7, "g": "x"}, {"y_true": False, "score": 0.5, "g": 3}, {}]
    p.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n\n", encoding="utf-8")
    d = read_labels(p, ["g"], threshold=0.6)
    assert d.y_pred.tolist() == [1, 0]
    assert d.groups["g"] == ["x", "3"]
    d = read_labels(p, ["g"], threshold=0.5)  # score >= threshold is positive
    assert d.y_pred.tolist() == [1, 1]


@pytest.mark.parametrize(
    "name, text, groups, kw, message",
    [
        (
            "a.csv",
            "y_true,y_pred,g\n1,1,x\nmaybe,0,y\n",
            ["g"],
            {},
            r"a\.csv:3: column 'y_true': expected 0 or 1",
        ),
        ("a.csv", "y_true,y_pred\n1,1\n", ["g"], {}, r"a\.csv:2: expected column\(s\) g"),
        ("a.csv", "y_true,score,g\n1,0.3,x\n", ["g"], {}, r"use --threshold"),
        (
            "a.csv",
            "y_true,score,g\n1,abc,x\n",
            ["g"],
            {"threshold": 0.5},
            r"a\.csv:2: column 'score': expected a finite",
        ),
        ("a.csv", "y_true,score,g\n1,nan,x\n", ["g"], {"threshold": 0.5}, r"expected a finite number"),
        ("a.csv", "y_true,y_pred,g\n1,1,x\n", ["g"], {"threshold": 0.5}, r"--threshold applies"),
        ("a.csv", "y_true,y_pred,g\n", ["g"], {}, r"at least one data row"),
        ("a.csv", "", ["g"], {}, r"expected a header row"),
        ("a.csv", "y_true,y_pred,g\n1,1,x,extra\n", ["g"], {}, r"a\.csv:2: expected 3 fields"),
        (
            "a.jsonl",
            '{"y_true": 1, "y_pred": 1, "g": "x"}\n[1]\n',
            ["g"],
            {},
            r"a\.jsonl:2: expected a JSON object",
        ),
        ("a.jsonl", '{"y_true": 1, "y_pred": 1, "g": "x"}\n{bad\n', ["g"], {}, r"a\.jsonl:2: .*invalid JSON"),
        (
            "a.jsonl",
            '{"y_true": 1, "y_pred": 1, "g": "x"}\n{"y_true": 1, "y_pred": 1}\n',
            ["g"],
            {},
            r":2: expected column 'g'",
        ),
        ("a.txt", "y_true\n", ["g"], {}, r"expected a \.csv, \.tsv or \.jsonl file"),
    ],
)
def test_bad_rows_are_one_line_errors(tmp_path, name, text, groups, kw, message):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        read_labels(p, groups, **kw)
    assert "\n" not in str(err.value)
    assert str(p) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: cannot read .*: No such file"):
        read_labels(tmp_path / "nope.csv", ["g"])


def test_gt_json_and_predictions(tmp_path):
    gt = {
        "images": [
            {
                "file": "x/a.jpg",
                "attributes": {"light": "night"},
                "boxes": [
                    {"box": [0, 0, 10, 10], "attributes": {"blur": 2}},
                    {"box": [1, 1, 2, 2], "ignore": True},
                ],
            },
            {"file": "b.jpg", "boxes": []},
        ]
    }
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    imgs = read_ground_truth(tmp_path / "gt.json")
    assert [i.key for i in imgs] == ["x/a.jpg", "b.jpg"]
    assert imgs[0].boxes.tolist() == [[0, 0, 10, 10], [1, 1, 2, 2]]
    assert imgs[0].box_attributes[0] == {"blur": "2"} and imgs[0].ignore == (False, True)
    assert imgs[0].attributes == {"light": "night"}
    pred = {
        "images": [
            {
                "file": "a.jpg",
                "detections": [
                    {"box": [0, 0, 9, 9], "score": 0.8, "class": "face"},
                    {"box": [5, 5, 9, 9], "score": 0.9, "class": "plate"},
                ],
            },
            {"file": "zzz.jpg", "detections": []},
        ]
    }
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    preds = read_predictions(tmp_path / "pred.json", ["face"])
    assert preds["a.jpg"].boxes.tolist() == [[0, 0, 9, 9]] and preds["a.jpg"].scores.tolist() == [0.8]
    aligned, warnings = align_keys(imgs, preds)
    assert set(aligned) == {"x/a.jpg"}  # matched by unique file name
    assert any("no ground truth" in w for w in warnings)
    assert any("b.jpg" not in w and "count as misses" in w for w in warnings)


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            {"images": [{"file": "a.jpg", "boxes": [{"box": [0, 0, 1]}]}]},
            r"\$\.images\[0\]\.boxes\[0\]\.box: expected \[x0",
        ),
        ({"images": [{"boxes": []}]}, r"\$\.images\[0\]\.file: expected a file name"),
        ({"imgs": []}, r"\$: expected an object with an 'images' list"),
        (
            {"images": [{"file": "a", "boxes": [{"box": [0, 0, 1, 1], "attributes": {"a": [1]}}]}]},
            r"attributes: expected",
        ),
    ],
)
def test_gt_json_errors_name_json_path(tmp_path, doc, message):
    (tmp_path / "gt.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=message):
        read_ground_truth(tmp_path / "gt.json")


def test_invalid_json_names_line(tmp_path):
    (tmp_path / "gt.json").write_text('{\n"images": [,]\n}')
    with pytest.raises(InputError, match=r"gt\.json:2: expected JSON"):
        read_ground_truth(tmp_path / "gt.json")


def test_wider_face_txt(tmp_path):
    text = (
        "0--Parade/a.jpg\n2\n10 20 30 40 2 0 1 0 1 0 \n50 60 5 5 0 0 0 1 0 0 \n"
        "1--Handshaking/b.jpg\n0\n0 0 0 0 0 0 0 0 0 0 \n"
    )
    (tmp_path / "wider_face_val_bbx_gt.txt").write_text(text)
    imgs = read_ground_truth(tmp_path / "wider_face_val_bbx_gt.txt")
    assert [i.key for i in imgs] == ["0--Parade/a.jpg", "1--Handshaking/b.jpg"]
    assert imgs[0].boxes.tolist() == [[10, 20, 40, 60], [50, 60, 55, 65]]
    assert imgs[0].box_attributes[0] == {
        "blur": "2",
        "expression": "0",
        "illumination": "1",
        "invalid": "0",
        "occlusion": "1",
        "pose": "0",
    }
    assert imgs[0].ignore == (False, True)
    assert imgs[1].boxes.shape == (0, 4)
    (tmp_path / "bad.txt").write_text("a.jpg\n1\n10 20 x 40\n")
    with pytest.raises(InputError, match=r"bad\.txt:3: expected 'x y w h"):
        read_ground_truth(tmp_path / "bad.txt")


def test_redact_report_without_boxes_is_refused(tmp_path):
    report = {"tool": {"name": "veilcv"}, "files": [{"input": "a.jpg", "ok": True, "regions": {"face": 2}}]}
    (tmp_path / "report.json").write_text(json.dumps(report))
    with pytest.raises(InputError, match="holds no boxes"):
        read_predictions(tmp_path / "report.json")
    report["files"][0]["detections"] = [{"box": [0, 0, 4, 4], "score": 0.7, "class": "face"}]
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert read_predictions(tmp_path / "report.json")["a.jpg"].boxes.tolist() == [[0, 0, 4, 4]]


def test_csv_quoted_group_values(tmp_path):
    p = tmp_path / "eval.csv"
    p.write_text('y_true,y_pred,site\n1,1,"Paris, FR"\n0,0,"line\nbreak"\n1,0,x\n', encoding="utf-8")
    d = read_labels(p, ["site"])
    assert d.groups["site"] == ["Paris, FR", "line\nbreak", "x"]
    (tmp_path / "bad.csv").write_text('y_true,y_pred,site\n1,1,"a\nb"\n7,0,x\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv:4: column 'y_true'"):
        read_labels(tmp_path / "bad.csv", ["site"])


def test_prediction_score_errors_name_json_path(tmp_path):
    doc = {"images": [{"file": "a.jpg", "detections": [{"box": [0, 0, 1, 1], "score": "high"}]}]}
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(
        InputError, match=r"p\.json: \$\.images\[0\]\.detections\[0\]\.score: expected a finite number"
    ):
        read_predictions(tmp_path / "p.json")
    doc["images"][0]["detections"][0]["score"] = 0.5
    doc["images"].append({"file": "a.jpg", "detections": []})
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="expected one entry per image, got 'a.jpg' twice"):
        read_predictions(tmp_path / "p.json")


def test_a_veil_redact_report_is_read_as_predictions(tmp_path):
    import json

    from veilcv.core.pipeline import FileResult
    from veilcv.evaluation.inputs import read_predictions

    res = FileResult(input="photos/a.jpg", ok=True)
    res.detections = [
        {"class": "face", "box": [10.0, 20.0, 50.0, 70.0], "score": 0.9},
        {"class": "plate", "box": [0.0, 0.0, 5.0, 5.0], "score": 0.5},
    ]
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"files": [res.to_dict()]}))
    preds = read_predictions(path, classes=("face",))
    assert list(preds) == ["photos/a.jpg"]
    assert preds["photos/a.jpg"].boxes.tolist() == [[10.0, 20.0, 50.0, 70.0]]
    assert preds["photos/a.jpg"].scores.tolist() == [0.9]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize(
    ("args", "fifo"),
    [
        (["{fifo}", "-g", "lighting"], "rows.csv"),
        (["--gt", "{fifo}", "--pred", "{other}", "-g", "blur"], "gt.json"),
        (["--gt", "{other}", "--pred", "{fifo}", "-g", "blur"], "pred.json"),
        (["--gt", "{fifo}", "--pred", "{other}", "-g", "blur"], "wider_bbx_gt.txt"),
    ],
)
def test_veil_fairness_on_a_fifo_fails_in_one_line_instead_of_hanging(
    tmp_path: Path, args: list[str], fifo: str
) -> None:
    os.mkfifo(tmp_path / fifo)  # nothing ever writes to it: a plain read would block forever
    other = tmp_path / "other.json"
    image = {"file": "a.jpg", "attributes": {"blur": "0"}, "boxes": [], "detections": []}
    other.write_text(json.dumps({"images": [image]}))
    argv = [a.format(fifo=tmp_path / fifo, other=other) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "veilcv", "fairness", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    what = _WHAT[Path(fifo).suffix]
    assert proc.stderr.splitlines() == [
        f"veil: error: {tmp_path / fifo}: expected {what}, got a special file (FIFO, socket or device)"
    ]


_WHAT = {
    ".csv": "a .csv, .tsv or .jsonl file",
    ".json": "a JSON file",
    ".txt": "a WIDER FACE annotation file",
}
