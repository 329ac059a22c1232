from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from veilcv.cli.main import main
from veilcv.evaluation.stats import wilson_interval


def _write_rows(path, spec, seed=0):
    """spec: {group: (positives, fn, negatives, fp)}; rows shuffled so order cannot matter."""
    rows = []
    for g, (pos, fn, neg, fp) in spec.items():
        rows += [(1, 0, g)] * fn + [(1, 1, g)] * (pos - fn) + [(0, 1, g)] * fp + [(0, 0, g)] * (neg - fp)
    order = np.random.default_rng(seed).permutation(len(rows))
    lines = ["y_true,y_pred,lighting"] + [",".join(map(str, rows[i])) for i in order]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_rows_end_to_end_flags_disparity(tmp_path, capsys):
    data = tmp_path / "eval.csv"
    _write_rows(data, {"day": (200, 10, 150, 6), "night": (180, 54, 150, 9), "ir": (12, 6, 8, 1)})
    out = tmp_path / "out"
    code = main(
        [
            "fairness",
            str(data),
            "--group",
            "lighting",
            "--json",
            str(out / "f.json"),
            "--markdown",
            str(out / "f.md"),
            "--html",
            str(out / "f.html"),
        ]
    )
    assert code == 1  # a disparity is a finding
    rep = json.loads((out / "f.json").read_text())
    groups = {g["group"]: g for g in rep["attributes"][0]["groups"]}
    assert groups["night"]["metrics"]["fnr"]["value"] == 54 / 180
    assert groups["night"]["metrics"]["fnr"]["interval"] == list(wilson_interval(54, 180))
    assert groups["day"]["metrics"]["fpr"]["value"] == 6 / 150
    assert groups["ir"]["small"] and rep["settings"]["min_group_n"] == 30
    fnr = {r["group"]: r["verdict"] for r in rep["attributes"][0]["disparities"]["fnr"]["groups"]}
    assert fnr == {"day": "reference", "night": "disparity", "ir": "insufficient data"}
    assert "54/180" in (out / "f.md").read_text()
    assert (out / "f.html").read_text().count('class="bar ') == 6
    printed = capsys.readouterr().out
    assert "night" in printed and "1 disparity flagged" in printed
    assert "lighting=ir: n=20 is below min_group_n=30" in printed


def test_rows_without_disparity_exit_0_and_policy_min_n(tmp_path):
    data = tmp_path / "eval.csv"
    _write_rows(data, {"a": (40, 4, 40, 4), "b": (40, 5, 40, 4)})
    policy = tmp_path / "veil.yaml"
    policy.write_text("version: 1\nfairness:\n  min_group_n: 50\n", encoding="utf-8")
    assert (
        main(
            [
                "fairness",
                str(data),
                "-g",
                "lighting",
                "--policy",
                str(policy),
                "--json",
                str(tmp_path / "f.json"),
            ]
        )
        == 0
    )
    rep = json.loads((tmp_path / "f.json").read_text())
    assert rep["settings"]["min_group_n"] == 50 and rep["settings"]["min_group_n_source"] == "policy"
    assert not any(g["small"] for g in rep["attributes"][0]["groups"])  # n = 80 >= 50
    assert {g["metrics"]["fnr"]["status"] for g in rep["attributes"][0]["groups"]} == {
        "small"
    }  # 40 positives


def test_scores_threshold_and_bootstrap_are_reproducible(tmp_path):
    data = tmp_path / "eval.jsonl"
    rng = np.random.default_rng(3)
    rows = [
        {"y_true": int(t), "score": float(s), "cam": c}
        for t, s, c in zip(rng.integers(0, 2, 300), rng.random(300), rng.choice(["x", "y"], 300), strict=True)
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = ["fairness", str(data), "-g", "cam", "--threshold", "0.5", "--bootstrap", "300", "--seed", "4"]
    main([*args, "--json", str(tmp_path / "a.json")])
    main([*args, "--json", str(tmp_path / "b.json")])
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a == b
    assert a["settings"]["threshold"] == 0.5 and a["settings"]["bootstrap"]["replicates"] == 300
    x = next(g for g in a["attributes"][0]["groups"] if g["group"] == "x")
    expected_fn = sum(1 for r in rows if r["cam"] == "x" and r["y_true"] == 1 and r["score"] < 0.5)
    assert x["fn"] == expected_fn
    assert x["metrics"]["fnr"]["bootstrap"] is not None


def test_detection_mode(tmp_path):
    gt = {
        "images": [
            {
                "file": "a.jpg",
                "attributes": {"light": "day"},
                "boxes": [
                    {"box": [0, 0, 20, 20], "attributes": {"blur": "clear"}},
                    {"box": [40, 0, 60, 20], "attributes": {"blur": "heavy"}},
                    {"box": [80, 0, 100, 20], "attributes": {"blur": "heavy"}},
                ],
            },
            {
                "file": "b.jpg",
                "attributes": {"light": "night"},
                "boxes": [{"box": [0, 0, 20, 20], "attributes": {"blur": "clear"}}],
            },
        ]
    }
    pred = {
        "images": [
            {
                "file": "a.jpg",
                "detections": [
                    {"box": [1, 1, 20, 20], "score": 0.9},
                    {"box": [40, 0, 59, 20], "score": 0.8},
                    {"box": [200, 0, 220, 20], "score": 0.7},
                ],
            },
            {"file": "b.jpg", "detections": [{"box": [0, 0, 20, 20], "score": 0.3}]},
        ]
    }
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    code = main(
        [
            "fairness",
            "--gt",
            str(tmp_path / "gt.json"),
            "--pred",
            str(tmp_path / "pred.json"),
            "--threshold",
            "0.5",
            "-g",
            "blur",
            "-g",
            "light",
            "--json",
            str(tmp_path / "f.json"),
            "--html",
            str(tmp_path / "f.html"),
        ]
    )
    assert code == 0
    html = (tmp_path / "f.html").read_text()
    assert 'data-metric="fnr"' in html and 'data-metric="fpr"' not in html  # no FPR without negatives
    assert "detection has no true negatives" in html
    rep = json.loads((tmp_path / "f.json").read_text())
    assert rep["mode"] == "detection" and rep["settings"]["iou"] == 0.5
    blur = {g["group"]: g for g in rep["attributes"][0]["groups"]}
    assert (blur["clear"]["tp"], blur["clear"]["fn"]) == (1, 1)  # b.jpg's face scored below the threshold
    assert (blur["heavy"]["tp"], blur["heavy"]["fn"]) == (1, 1)
    assert blur["heavy"]["metrics"]["fpr"]["status"] == "unavailable"
    assert blur["heavy"]["metrics"]["precision"]["status"] == "unavailable"
    light = {g["group"]: g for g in rep["attributes"][1]["groups"]}
    assert (light["day"]["tp"], light["day"]["fp"], light["day"]["fn"]) == (2, 1, 1)
    assert light["day"]["metrics"]["precision"]["value"] == 2 / 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["fairness", "{d}/eval.csv", "-g", "nope"], "eval.csv:2: expected column(s) nope"),
        (["fairness", "{d}/bad.csv", "-g", "lighting"], "bad.csv:3: column 'y_true': expected 0 or 1"),
        (["fairness", "-g", "x"], "expected INPUT (rows) or --gt GT --pred PRED"),
        (["fairness", "--gt", "{d}/gt.json", "-g", "x"], "expected both --gt and --pred"),
        (["fairness", "{d}/eval.csv", "-g", "lighting", "--policy", "{d}/missing.yaml"], "missing.yaml"),
        (
            ["fairness", "{d}/latin1.csv", "-g", "lighting"],
            "latin1.csv: expected a .csv, .tsv or .jsonl file as UTF-8 text, got byte 0xe9",
        ),
        (["fairness", "{d}/short.csv", "-g", "lighting"], "short.csv:3: expected 3 fields, got fewer"),
        (["fairness", "{d}", "-g", "lighting"], "expected a .csv, .tsv or .jsonl file, got a folder"),
        (
            ["fairness", "--gt", "{d}/gt.json", "--pred", "{d}/pred.json", "-g", "blurr"],
            "gt.json: expected attribute(s) blurr on the images or boxes, got none; attributes present: blur",
        ),
        (
            ["fairness", "--gt", "{d}/swapped.json", "--pred", "{d}/pred.json", "-g", "blur"],
            "swapped.json: $.images[0].boxes[0].box: expected x0 <= x1 and y0 <= y1",
        ),
        (
            ["fairness", "--gt", "{d}/empty.json", "--pred", "{d}/pred.json", "-g", "blur"],
            "got an empty file",
        ),
        (
            ["fairness", "{d}/eval.csv", "-g", "lighting", "--html", "{d}/eval.csv/sub/f.html"],
            "cannot write: expected a folder at",
        ),
    ],
)
def test_errors_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    _write_rows(tmp_path / "eval.csv", {"a": (5, 1, 5, 1)})
    (tmp_path / "bad.csv").write_text("y_true,y_pred,lighting\n1,1,a\n2,1,a\n")
    (tmp_path / "latin1.csv").write_bytes(b"y_true,y_pred,lighting\n1,1,caf\xe9\n")
    (tmp_path / "short.csv").write_text("y_true,y_pred,lighting\n1,1,a\n0,1\n")
    box = {"box": [0, 0, 10, 10], "attributes": {"blur": "1"}}
    (tmp_path / "gt.json").write_text(json.dumps({"images": [{"file": "a.jpg", "boxes": [box]}]}))
    swapped = {"images": [{"file": "a.jpg", "boxes": [{**box, "box": [10, 10, 0, 0]}]}]}
    (tmp_path / "swapped.json").write_text(json.dumps(swapped))
    (tmp_path / "pred.json").write_text(json.dumps({"images": [{"file": "a.jpg", "detections": []}]}))
    (tmp_path / "empty.json").write_text("")
    out = tmp_path / "o.json"
    code = main([a.format(d=tmp_path) for a in args] + ["--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("veil: error: ") and err.count("\n") == 1 and message in err, err
    assert not out.exists()  # a bad second output stops the first one too


def test_console_script_help_has_example():
    out = subprocess.run(
        [sys.executable, "-m", "veilcv", "fairness", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "Example: veil fairness" in out.stdout


def test_unwritable_output_is_one_line_error(tmp_path, capsys):
    _write_rows(tmp_path / "eval.csv", {"a": (5, 1, 5, 1)})
    (tmp_path / "dir.json").mkdir()
    assert (
        main(["fairness", str(tmp_path / "eval.csv"), "-g", "lighting", "--json", str(tmp_path / "dir.json")])
        == 2
    )
    err = capsys.readouterr().err
    assert (
        err.startswith("veil: error: ")
        and "dir.json: cannot write: expected a file name, got a folder" in err
        and err.count("\n") == 1
    )
