"""`veil fairness`: per-group FNR/FPR with Wilson intervals, from labels or from detection boxes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from veilcv.atomic import write_text
from veilcv.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

# numpy, the evaluation modules, the renderers and rich load inside the command: `veil --help`
# must not pay for them.


def _provenance(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"file": str(path), "sha256": h.hexdigest()}


def _policy_fairness(policy: Path | None) -> dict[str, Any]:
    if policy is None:
        return {}
    from veilcv.policies import load_policy

    section = load_policy(policy).get("fairness") or {}
    return section if isinstance(section, dict) else {}


def _print_table(report: dict[str, Any], console: Console) -> None:
    from rich.table import Table

    from veilcv.evaluation.fairness import COUNTED
    from veilcv.reports._format import metric_cell

    for attr in report["attributes"]:
        table = Table(title=f"{attr['name']}", title_justify="left")
        for col in ("group", "n", "pos", "neg", "FNR", "FPR", "verdict"):
            table.add_column(col, justify="right" if col in ("n", "pos", "neg") else "left")
        verdicts: dict[str, dict[str, list[str]]] = {}
        for metric, d in attr["disparities"].items():
            for r in d["groups"]:
                if metric in COUNTED and r["verdict"] in ("disparity", "reference"):
                    verdicts.setdefault(r["group"], {}).setdefault(r["verdict"], []).append(metric.upper())
        for g in attr["groups"]:
            m = g["metrics"]
            table.add_row(
                g["group"],
                str(g["n"]),
                str(g["positives"]),
                str(g["negatives"]),
                metric_cell(m["fnr"]),
                metric_cell(m["fpr"]),
                "; ".join(f"{v}: {', '.join(ms)}" for v, ms in sorted(verdicts.get(g["group"], {}).items()))
                or ("small n" if g["small"] else ""),
            )
        console.print(table)
    for w in report["warnings"]:
        console.print(f"warning: {w}", markup=False, highlight=False)
    n = report["summary"]["disparities"]
    console.print(f"{n} disparit{'y' if n == 1 else 'ies'} flagged", markup=False, highlight=False)


def fairness(
    input: Path | None = typer.Argument(
        None, help="CSV/TSV/JSONL of y_true, y_pred (or score) and group columns."
    ),
    group: list[str] = typer.Option(..., "--group", "-g", help="Group column or box attribute (repeatable)."),
    threshold: float | None = typer.Option(
        None, help="Rows: score >= T predicts 1. Boxes: drop predictions < T."
    ),
    gt: Path | None = typer.Option(
        None, "--gt", help="Ground-truth boxes with attributes (JSON or WIDER FACE txt)."
    ),
    pred: Path | None = typer.Option(
        None, "--pred", help="Predicted boxes (JSON, or a veil redact report with boxes)."
    ),
    iou: float = typer.Option(0.5, help="IoU needed for a prediction to match a ground-truth box."),
    pred_class: list[str] = typer.Option([], "--class", help="Only predictions of this class (repeatable)."),
    y_true: str = typer.Option("y_true", help="Column of true labels."),
    y_pred: str = typer.Option("y_pred", help="Column of predicted labels."),
    score: str = typer.Option("score", help="Column of scores (used with --threshold)."),
    confidence: float = typer.Option(0.95, help="Confidence of the intervals."),
    min_group_n: int | None = typer.Option(
        None, help="Minimum n for a verdict (default: the policy's fairness.min_group_n)."
    ),
    max_difference: float | None = typer.Option(
        None, help="Differences up to this (0-1) are never flagged (default: policy, else 0)."
    ),
    bootstrap: int = typer.Option(0, help="Stratified bootstrap replicates (0: off)."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    policy: Path | None = typer.Option(None, help="Policy file (its fairness.min_group_n applies)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write the report as Markdown."),
    html: Path | None = typer.Option(None, "--html", help="Write the report as HTML with charts."),
) -> None:
    """Per-group error rates with Wilson intervals; exit 1 when a disparity is flagged.

    Groups come only from the input; nothing is inferred. Groups below the minimum n are shown
    with their intervals but get no verdict.

    Rows: CSV/TSV with a header, or JSONL; y_true and y_pred are 0/1 (or a score column with
    --threshold). Boxes: --gt is {"images": [{"file", "attributes": {..}, "boxes": [{"box":
    [x0, y0, x1, y1], "attributes": {..}, "ignore": false}]}]} or a WIDER FACE *_bbx_gt.txt;
    --pred is {"images": [{"file", "detections": [{"box", "score", "class"}]}]}. A ground-truth
    box no prediction matches (IoU >= --iou, greedy by score, one-to-one) is a miss.

    Example: veil fairness eval.csv --group lighting --group camera --html fairness.html

    Example: veil fairness --gt gt.json --pred pred.json --iou 0.5 --group blur --json fairness.json
    """
    from rich.console import Console

    from veilcv.cli.outputs import check_writable, write_error
    from veilcv.evaluation.fairness import Settings, assess, counts_by_group
    from veilcv.evaluation.inputs import (
        align_keys,
        check_attributes,
        read_ground_truth,
        read_labels,
        read_predictions,
    )
    from veilcv.evaluation.matching import count_detections
    from veilcv.policies.loader import default_policy
    from veilcv.reports.fairness_html import render_html
    from veilcv.reports.fairness_md import render_markdown

    detection = gt is not None or pred is not None
    if detection and input is not None:
        raise InputError(f"{input}: expected either INPUT (rows) or --gt/--pred (boxes), got both")
    if detection and (gt is None or pred is None):
        raise InputError("detection mode: expected both --gt and --pred, got only one")
    if not detection and input is None:
        raise InputError("expected INPUT (rows) or --gt GT --pred PRED (boxes), got neither")
    section = _policy_fairness(policy)
    source = "option" if min_group_n is not None else ("policy" if "min_group_n" in section else "default")
    extra: dict[str, Any] = {"min_group_n_source": source, "policy": str(policy) if policy else None}
    extra.update({"iou": iou, "score_threshold": threshold} if detection else {"threshold": threshold})
    settings = Settings(
        confidence=confidence,
        min_group_n=min_group_n
        if min_group_n is not None
        else int(section.get("min_group_n", default_policy()["fairness"]["min_group_n"])),
        max_difference=max_difference
        if max_difference is not None
        else float(section.get("max_difference", 0.0)),
        bootstrap=bootstrap,
        seed=seed,
        extra=extra,
    )
    if gt is not None and pred is not None:
        truth = read_ground_truth(gt)
        check_attributes(gt, truth, group)
        preds, warnings = align_keys(truth, read_predictions(pred, pred_class))
        counts, unavailable = count_detections(
            truth, preds, group, iou_threshold=iou, score_threshold=threshold
        )
        inputs = {"gt": _provenance(gt), "pred": _provenance(pred)}
        report = assess(
            counts, settings, mode="detection", unavailable=unavailable, inputs=inputs, warnings=warnings
        )
    else:
        assert input is not None
        data = read_labels(input, group, y_true=y_true, y_pred=y_pred, score=score, threshold=threshold)
        counts = {g: counts_by_group(data.y_true, data.y_pred, data.groups[g]) for g in group}
        inputs = {"rows": {**_provenance(input), "n": int(data.y_true.size)}}
        report = assess(counts, settings, mode="classification", inputs=inputs)
    # Render everything before writing anything, so a rendering error leaves no output behind.
    outputs = []
    if json_out:
        outputs.append((json_out, json.dumps(report, indent=2, sort_keys=False) + "\n"))
    if markdown:
        outputs.append((markdown, render_markdown(report)))
    if html:
        outputs.append((html, render_html(report)))
    for path, _text in outputs:  # every destination checked first: one bad path writes nothing
        check_writable(path)
    for path, text in outputs:
        try:
            write_text(path, text)
        except OSError as exc:
            raise write_error(path, exc) from None
    _print_table(report, Console(width=140))
    if report["summary"]["disparities"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("fairness")(fairness)
