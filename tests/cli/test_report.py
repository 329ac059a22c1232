"""`veil report` end to end on a small example project the test builds (policy + producer outputs)."""

from __future__ import annotations

import json
import re

import pytest

from veilcv.cli.main import main
from veilcv.core.coverage import BucketStats, CoverageReport
from veilcv.core.pipeline import FileResult
from veilcv.linter.engine import Report
from veilcv.linter.finding import Finding, RuleMeta, Severity
from veilcv.linter.reporters import json as json_reporter
from veilcv.reports.compliance import DOCUMENTS

SHA_FACE = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
SHA_TEXT = "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "veil.yaml").write_text(
        "version: 1\nextends: research\n"
        "retention:\n  prefixes:\n    raw/: {max_days: 11}\n    redacted/: {max_days: 123}\n"
        "    quarantine/: {max_days: 17}\n"
        "storage:\n  max_signed_url_seconds: 421\n"
        "redaction:\n  min_mask_scale: 1.25\n"
        "fairness:\n  min_group_n: 40\n",
        encoding="utf-8",
    )
    # Producer outputs made by the producers' own serialisers, so a format change shows up here.
    rules = (
        RuleMeta("VC203", "unencrypted-bucket", "encryption", Severity.HIGH, "r", "f", "storage"),
        RuleMeta("VC311", "retention-over-policy", "retention", Severity.MEDIUM, "r", "f", "manifest"),
    )
    findings = (
        Finding(
            "VC203",
            "bucket 'frames' has no server-side encryption",
            "infra/main.tf",
            14,
            resource="aws_s3_bucket.frames",
        ),
        Finding("VC311", "retention 45 days exceeds raw/ maximum of 11", "data/manifest.csv", 7),
    )
    report = Report(".", ("veil.yaml",), rules, findings, (), (), (), files_checked=31)
    check = json.loads(json_reporter.render(report))
    header = {
        "tool": {"name": "veilcv", "version": "9.8.7"},
        "mode": "pixelate",
        "mode_note": "weaker than a box",
        "what": ["face", "plate"],
        "mask_scale": 1.3,
        "thresholds": {"face": 0.41, "plate": 0.37},
        "verify": True,
        "verify_thresholds": {"face": 0.246, "plate": 0.222},
        "strict": False,
        "video": {"carry_frames": 5, "audio": "dropped"},
        "models": [
            {"task": "face", "name": "centerface", "sha256": SHA_FACE, "precision": "f32"},
            {"task": "plate", "name": "ppocrv4-det", "sha256": SHA_TEXT},
        ],
    }
    residual = {"label": "face", "score": 0.3, "box": [0, 0, 4, 4]}
    results = [
        FileResult("a.jpg", ok=True, regions={"face": 3, "plate": 1}),
        FileResult("b.jpg", ok=True, regions={"face": 4}, residuals=[residual]),
        FileResult("c.mp4", kind="video", ok=True, regions={"face": 29, "plate": 2}),
        FileResult("d.jpg", error="d.jpg: cannot decode"),
    ]
    redact = {
        **header,
        "created": "2026-01-02T03:04:05+00:00",
        "files": [r.to_dict() for r in results],
        "refused": ["e.gif: unsupported"],
        "skipped": [],
        "summary": {"redacted": 3, "failed": 2, "skipped": 0, "residuals": 1},
    }
    cov = CoverageReport(hit=0.8, tol=12, images=9, background_changed=313, background_pixels=10000)
    cov.buckets["<16"] = BucketStats(boxes=57, covered=41, fraction_sum=46.284)
    cov.buckets[">=64"] = BucketStats(boxes=88, covered=88, fraction_sum=87.736)
    coverage = cov.as_dict()
    for name, doc in (("check.json", check), ("report.json", redact), ("coverage.json", coverage)):
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    rows = (
        ["y_true,y_pred,lighting"]
        + ["1,0,night"] * 30
        + ["1,1,night"] * 30
        + ["1,0,day"] * 3
        + ["1,1,day"] * 57
    )
    rows += ["0,0,day"] * 50 + ["0,0,night"] * 50
    (tmp_path / "eval.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code = main(
        [
            "fairness",
            str(tmp_path / "eval.csv"),
            "-g",
            "lighting",
            "--policy",
            str(tmp_path / "veil.yaml"),
            "--json",
            str(tmp_path / "fairness.json"),
        ]
    )
    assert code == 1  # night misses 50 %, day 5 %
    return tmp_path


def _read(out):
    return {name: (out / name).read_text(encoding="utf-8") for name in DOCUMENTS}


def test_report_end_to_end_figures_come_from_inputs(project, capsys):
    p = project
    code = main(
        [
            "report",
            "--policy",
            str(p / "veil.yaml"),
            "--check",
            str(p / "check.json"),
            "--redact",
            str(p / "report.json"),
            "--coverage",
            str(p / "coverage.json"),
            "--fairness",
            str(p / "fairness.json"),
            "-o",
            str(p / "docs"),
        ]
    )
    assert code == 0
    docs = _read(p / "docs")
    assert set(capsys.readouterr().out.split()) == {str(p / "docs" / d) for d in DOCUMENTS}
    # Retention per prefix, from the policy (values no pack has).
    for prefix, days in (("raw/", 11), ("redacted/", 123), ("quarantine/", 17)):
        assert re.search(rf"\| `{prefix}` \| {days} \|", docs["retention.md"]), prefix
        assert re.search(rf"\| `{prefix}` \| (yes|no) \| {days} \|", docs["data-map.md"]), prefix
    assert "| `raw/` | yes | 11 | writer, admin |" in docs["data-map.md"]
    assert "| reader | redacted/ |" in docs["data-map.md"]
    assert "| Files by kind | image: 3; video: 1 |" in docs["data-map.md"]
    assert "| Video audio | dropped |" in docs["data-map.md"]
    # Redaction SOP: models with hashes, thresholds, mode, totals, coverage.
    sop = docs["redaction-sop.md"]
    assert f"| face | centerface | `{SHA_FACE}` | precision: f32 |" in sop
    assert f"`{SHA_TEXT}`" in sop
    assert "| Detection thresholds | face: 0.41; plate: 0.37 |" in sop
    assert "| Mode | pixelate |" in sop and "| Tool version | 9.8.7 |" in sop
    assert (
        "| Files | 4 |" in sop
        and "| Files redacted | 3 |" in sop
        and "| Files failed (nothing written) | 2 |" in sop
    )
    assert (
        "| Inputs refused before redaction | 1 |" in sop and "| Run at | 2026-01-02T03:04:05+00:00 |" in sop
    )
    assert "| Regions redacted per class | face: 36; plate: 3 |" in sop
    assert "| Residual detections after redaction | 1 |" in sop
    assert "| Mask scale at least the minimum | pass | 1.3 vs 1.25 |" in sop
    assert "| No failed files | **FAIL** | 2 failed |" in sop
    assert "| &lt;16 | 57 | 41 | 0.7193 | 0.812 |" in sop
    assert "| 16-31 | 0 | 0 | n/a | n/a |" in sop  # an empty bucket has no rate, not 0
    assert "| covered_fraction | 0.8897 |" in sop and "| background_changed_fraction | 0.0313 |" in sop
    assert "| images | 9 |" in sop and "| hit_threshold | 0.8 |" in sop
    # Incident checklist: figures from the policy, findings from check, contacts not invented.
    inc = docs["incident-checklist.md"]
    assert (
        "within 421 seconds" in inc and "veil store rotate-key" in inc and "veil store purge --dry-run" in inc
    )
    assert "**Not provided.** The policy names no contacts" in inc
    assert "| VC203 unencrypted-bucket | high | encryption | infra/main.tf:14 (aws_s3_bucket.frames) |" in inc
    assert "VC311" in docs["retention.md"] and "VC311" not in docs["data-map.md"]
    assert "VC203" in docs["data-map.md"]
    # Fairness findings, with the policy's min n.
    fair = docs["fairness.md"]
    assert "lighting = night" in fair and "50.0 % [37.7, 62.3] %" in fair and "(30/60)" in fair
    assert "Note:" not in fair  # the report used the policy's min_group_n (40)
    # Provenance.
    assert "Open `veil check` findings: 2 (by severity: " not in docs["index.md"]  # only counts
    assert (
        "Open `veil check` findings: 2 (files checked: 31; suppressed: 0; baselined: 0; skipped: 0)."
        in docs["index.md"]
    )
    assert "Coverage overall: boxes: 145; covered: 129; covered_fraction: 0.8897" in docs["index.md"]
    assert "Fairness disparities flagged: 1." in docs["index.md"]
    assert "| check | check.json | `" in docs["index.md"]
    # Deterministic: the same inputs give the same bytes.
    assert (
        main(
            [
                "report",
                "--policy",
                str(p / "veil.yaml"),
                "--check",
                str(p / "check.json"),
                "--redact",
                str(p / "report.json"),
                "--coverage",
                str(p / "coverage.json"),
                "--fairness",
                str(p / "fairness.json"),
                "-o",
                str(p / "docs2"),
            ]
        )
        == 0
    )
    assert _read(p / "docs2") == docs


def test_missing_inputs_say_not_provided_and_invent_nothing(project):
    p = project
    assert main(["report", "--policy", str(p / "veil.yaml"), "-o", str(p / "docs")]) == 0
    docs = _read(p / "docs")
    assert docs["fairness.md"].count("**Not provided.**") == 1 and "veil fairness" in docs["fairness.md"]
    sop = docs["redaction-sop.md"]
    assert "--redact" in sop and "--coverage" in sop
    assert "sha256" not in sop and "Files redacted" not in sop
    assert "Not provided" in docs["retention.md"] and "Not provided" in docs["incident-checklist.md"]
    assert "| check | not provided |" in docs["index.md"]
    # Only figures from the policy remain: every number in the SOP is one the policy holds.
    numbers = set(re.findall(r"\b\d+(?:\.\d+)?\b", sop))
    assert numbers <= {"1", "2", "3", "4", "1.25"}, numbers


def test_policy_mismatch_is_noted(project):
    p = project
    (p / "veil.yaml").write_text((p / "veil.yaml").read_text().replace("min_group_n: 40", "min_group_n: 100"))
    assert (
        main(
            [
                "report",
                "--policy",
                str(p / "veil.yaml"),
                "--fairness",
                str(p / "fairness.json"),
                "-o",
                str(p / "d"),
            ]
        )
        == 0
    )
    assert "used min_group_n = 40, the policy asks for 100" in (p / "d" / "fairness.md").read_text()


@pytest.mark.parametrize(
    "flag, content, message",
    [
        ("--check", "{not json", "check.json:1: expected JSON (check)"),
        ("--check", '{"findings": [{"message": "x"}]}', "$.findings[0].rule_id: expected a rule ID"),
        ("--redact", '{"models": []}', "$.files: expected a list of per-file records"),
        ("--coverage", '{"overall": {}}', "$.buckets: expected per size bucket figures"),
        ("--fairness", '{"schema": "other"}', "$.schema: expected 'veilcv.fairness/1'"),
        ("--check", '{"findings": 3}', "$.findings: expected a list of findings, got 3"),
        ("--coverage", '{"buckets": {}, "all": 5}', "$.all: expected an object of overall figures, got 5"),
        ("--coverage", '{"buckets": {}, "all": {"boxes": -3}}', "$.all.boxes: expected a count"),
        (
            "--coverage",
            '{"buckets": {"<16": {"covered_fraction": 4}}}',
            "covered_fraction: expected a fraction",
        ),
        (
            "--fairness",
            '{"schema": "veilcv.fairness/1", "settings": 1, "attributes": 2, "warnings": 3, "summary": 4}',
            "$.settings: expected an object, got 1",
        ),
        ("--fairness", "GROUP_N_MANY", "$.attributes[0].groups[0].n: expected a count (an integer >= 0)"),
        ("--fairness", "METRIC_STRING", "$.attributes[0].groups[0].metrics.fnr: expected an object"),
        ("--fairness", "INTERVAL_BAD", "metrics.fnr.interval: expected [low, high] within [0, 1]"),
    ],
)
def test_bad_inputs_fail_with_one_line_and_write_nothing(project, capsys, flag, content, message):
    p = project
    if content.isupper():  # a real fairness report with one figure broken
        doc = json.loads((p / "fairness.json").read_text())
        group = doc["attributes"][0]["groups"][0]
        if content == "GROUP_N_MANY":
            group["n"] = "many"
        elif content == "METRIC_STRING":
            group["metrics"]["fnr"] = "bad"
        else:
            group["metrics"]["fnr"]["interval"] = [0.1, 7]
        content = json.dumps(doc)
    bad = p / "check.json"
    bad.write_text(content, encoding="utf-8")
    code = main(["report", "--policy", str(p / "veil.yaml"), flag, str(bad), "-o", str(p / "docs")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err and "check.json" in err
    assert not (p / "docs").exists()


def test_bad_policy_and_output_path(project, capsys):
    p = project
    (p / "bad.yaml").write_text("version: 1\nretention: {prefixes: {raw/: {max_days: -3}}}\n")
    assert main(["report", "--policy", str(p / "bad.yaml"), "-o", str(p / "docs")]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert not (p / "docs").exists()
    (p / "file").write_text("x")
    assert main(["report", "--policy", str(p / "veil.yaml"), "-o", str(p / "file")]) == 2
    assert "expected a folder" in capsys.readouterr().err
    assert main(["report", "--policy", str(p / "veil.yaml"), "-o", str(p / "file" / "docs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--output expects a folder, got a file at" in err, err
