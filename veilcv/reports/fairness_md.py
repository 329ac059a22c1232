"""Markdown rendering of a fairness report (the dict that `veilcv.evaluation.fairness.assess` returns)."""

from __future__ import annotations

from typing import Any

from veilcv.evaluation.fairness import COUNTED, METRICS
from veilcv.reports._format import interval, metric_cell, pct, ratio, signed_pct


def escape_md(text: object) -> str:
    # Group names come from user data: keep them from breaking the table or injecting markup.
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def verdict_rule(settings: dict[str, Any]) -> str:
    conf = round(100 * settings["confidence"])
    tol = settings.get("max_difference") or 0.0
    return (
        f"A group is flagged with a *disparity* on a metric when its {conf} % Wilson interval lies "
        "entirely on the worse side of the best group's interval"
        + (f" and the difference exceeds {100 * tol:.1f} percentage points" if tol else "")
        + f". Groups with fewer than {settings['min_group_n']} cases in a metric's denominator are shown "
        "with their intervals but get no verdict and cannot be the reference. Recall is 1 − FNR, so "
        "its verdict mirrors FNR's and is not counted again."
    )


def group_table(attr: dict[str, Any]) -> list[str]:
    lines = [
        "| Group | n | Positives | Negatives | FNR | FPR | Recall | Precision | Notes |",
        "|---|---:|---:|---:|---|---|---|---|---|",
    ]
    for g in attr["groups"]:
        m = g["metrics"]
        notes = "; ".join(([f"small group (n={g['n']})"] if g["small"] else []) + g["notes"])
        lines.append(
            f"| {escape_md(g['group'])} | {g['n']} | {g['positives']} | {g['negatives']} | "
            + " | ".join(escape_md(metric_cell(m[k])) for k in ("fnr", "fpr", "recall", "precision"))
            + f" | {escape_md(notes)} |"
        )
    return lines


def disparity_table(attr: dict[str, Any], bootstrap: bool) -> list[str]:
    lines: list[str] = []
    for name, d in attr["disparities"].items():
        label = METRICS[name][0]
        ref = d["reference"]
        head = f"**{label}** — reference (best) group: " + (
            f"`{escape_md(ref)}`" if ref is not None else "none"
        )
        lines += ["", head + (f". {d['note']}" if d.get("note") else ""), ""]
        cols = (
            "| Group | Difference | Ratio |"
            + (" Difference, bootstrap CI |" if bootstrap else "")
            + " Verdict |"
        )
        lines += [cols, "|---|---:|---:|" + ("---|" if bootstrap else "") + "---|"]
        for r in d["groups"]:
            cells = [escape_md(r["group"]), signed_pct(r.get("difference")), ratio(r.get("ratio"))]
            if bootstrap:
                iv = r.get("difference_bootstrap")
                cells.append(f"[{signed_pct(iv[0])}, {signed_pct(iv[1])}]" if iv else "n/a")
            verdict = r["verdict"] + (f" ({r['reason']})" if r.get("reason") else "")
            lines.append("| " + " | ".join(cells) + f" | {escape_md(verdict)} |")
    return lines


def findings(report: dict[str, Any]) -> list[str]:
    """One bullet per flagged disparity, or a sentence saying there is none."""
    out = []
    for attr in report["attributes"]:
        groups = {g["group"]: g for g in attr["groups"]}
        for name, d in attr["disparities"].items():
            if name not in COUNTED:
                continue
            ref = groups.get(d["reference"]) if d["reference"] is not None else None
            for r in d["groups"]:
                if r["verdict"] != "disparity" or ref is None:
                    continue
                m, rm = groups[r["group"]]["metrics"][name], ref["metrics"][name]
                who = f"{escape_md(attr['name'])} = {escape_md(r['group'])}"
                out.append(
                    f"- **{who}**: {METRICS[name][0]} {pct(m['value'])} {interval(m['interval'])} vs "
                    f"{pct(rm['value'])} {interval(rm['interval'])} for `{escape_md(d['reference'])}` "
                    f"({signed_pct(r['difference'])}, ratio {ratio(r['ratio'])})."
                )
    return out or ["- No disparity met the verdict rule."]


def render_markdown(report: dict[str, Any], *, heading_level: int = 1) -> str:
    """Render the whole fairness report as Markdown (deterministic: same report, same text)."""
    h = "#" * heading_level
    s = report["settings"]
    lines = [f"{h} Fairness report", ""]
    lines.append(
        f"Mode: {report['mode']}. Interval: Wilson score, {round(100 * s['confidence'])} % confidence."
    )
    if s.get("bootstrap"):
        b = s["bootstrap"]
        lines.append(f"Stratified bootstrap: {b['replicates']} replicates, seed {b['seed']}.")
    for key in ("threshold", "iou", "score_threshold"):
        if s.get(key) is not None:
            lines.append(f"{key.replace('_', ' ').capitalize()}: {s[key]}.")
    for name, meta in report.get("inputs", {}).items():
        if isinstance(meta, dict) and "sha256" in meta:
            lines.append(f"Input {name}: `{escape_md(meta.get('file', ''))}` (sha256 `{meta['sha256']}`).")
    lines += ["", "Groups are taken only from the input; no attribute is inferred.", "", verdict_rule(s), ""]
    lines += [f"{h}# Findings", "", *findings(report), ""]
    if report["warnings"]:
        lines += [f"{h}# Warnings", ""] + [f"- {escape_md(w)}" for w in report["warnings"]] + [""]
    for attr in report["attributes"]:
        lines += [f"{h}# Attribute `{escape_md(attr['name'])}`", ""]
        for metric, reason in attr.get("unavailable", {}).items():
            lines.append(f"- {METRICS[metric][0]}: not applicable — {escape_md(reason)}.")
        if attr.get("unavailable"):
            lines.append("")
        lines += group_table(attr)
        lines += disparity_table(attr, bool(s.get("bootstrap")))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
