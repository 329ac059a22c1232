"""A self-contained HTML fairness report: tables plus inline SVG bar charts drawn here.

No plotting library and no external asset: one file a reviewer can open offline. Each chart
shows one metric of one attribute, one bar per group whose rate is defined, with its Wilson
interval as a whisker. Bars carry ``data-group``/``data-value`` attributes and a ``<title>``
(tooltip and screen readers); the y scale is stated on the ``<svg>`` as ``data-ymax``.
Colours: the reference group green, flagged groups red, small groups grey and hatched.
"""

from __future__ import annotations

from html import escape
from typing import Any

from veilcv.evaluation.fairness import METRICS
from veilcv.reports import fairness_md
from veilcv.reports._format import interval, metric_cell, pct, ratio, signed_pct

PLOT_H = 180.0
TOP, BOTTOM, LEFT, RIGHT = 16.0, 64.0, 52.0, 16.0
# Axis maxima and how many gridline intervals each gets, so every tick is a round percentage.
_NICE = {0.01: 5, 0.02: 4, 0.05: 5, 0.1: 5, 0.2: 4, 0.25: 5, 0.5: 5, 0.75: 3, 1.0: 4}
_COLOURS = {"reference": "#2e7d32", "disparity": "#c62828", "small": "#9e9e9e", "other": "#1565c0"}

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:13px}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right}.warn{background:#fff8e1;border-left:4px solid #f9a825;padding:.5rem 1rem}
.flag{background:#ffebee;border-left:4px solid #c62828;padding:.5rem 1rem}.ok{color:#2e7d32}
figure{display:inline-block;margin:0 1.5rem 1rem 0}figcaption{font-size:13px;color:#555}
svg text{font:11px system-ui,sans-serif;fill:#333}.legend span{display:inline-block;margin-right:1rem}
.sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle}
"""


def y_max(values: list[float]) -> float:
    """The smallest "nice" axis maximum that holds every value (intervals included)."""
    top = max(values, default=0.0)
    return next((n for n in _NICE if top <= n + 1e-12), 1.0)


def _bar_class(group: dict[str, Any], verdict: str | None, entry: dict[str, Any]) -> str:
    if verdict == "reference":
        return "reference"
    if verdict == "disparity":
        return "disparity"
    return "small" if entry["status"] == "small" else "other"


def bar_chart(attr: dict[str, Any], metric: str, chart_id: str = "c0") -> str:
    """One SVG bar chart of ``metric`` for the groups of ``attr``, or "" when nothing is defined."""
    verdicts = {r["group"]: r["verdict"] for r in attr["disparities"].get(metric, {}).get("groups", [])}
    groups = [g for g in attr["groups"] if g["metrics"][metric]["status"] != "unavailable"]
    if not groups:
        return ""
    highs = [g["metrics"][metric]["interval"][1] for g in groups if g["metrics"][metric]["interval"]]
    ymax = y_max(highs)
    slot = max(44.0, min(90.0, 560.0 / len(groups)))
    width = LEFT + RIGHT + slot * len(groups)
    height = TOP + PLOT_H + BOTTOM
    label = METRICS[metric][0]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" data-metric="{metric}" '
        f'data-attribute="{escape(attr["name"])}" data-ymax="{ymax}" data-plot-height="{PLOT_H}">',
        f"<title>{escape(label)} by {escape(attr['name'])}</title>",
        f'<defs><pattern id="hatch-{chart_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#bdbdbd"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#757575" stroke-width="2"/></pattern></defs>',
    ]
    base = TOP + PLOT_H
    ticks = _NICE.get(ymax, 4)
    for i in range(ticks + 1):
        v = ymax * i / ticks
        y = base - PLOT_H * i / ticks
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.2f}" x2="{width - RIGHT:.2f}" y2="{y:.2f}" stroke="#e0e0e0"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.2f}" text-anchor="end">{round(100 * v, 1):g}%</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#555"/>')
    for i, g in enumerate(groups):
        e = g["metrics"][metric]
        cx = LEFT + slot * (i + 0.5)
        name = escape(g["group"])
        short = escape(g["group"] if len(g["group"]) <= 12 else g["group"][:11] + "…")
        parts.append(
            f'<text x="{cx:.2f}" y="{base + 14}" text-anchor="middle">{short}</text>'
            f'<text x="{cx:.2f}" y="{base + 28}" text-anchor="middle" fill="#777">{e["k"]}/{e["n"]}</text>'
        )
        if e["value"] is None:
            parts.append(f'<text x="{cx:.2f}" y="{base - 6}" text-anchor="middle" class="na">n/a</text>')
            continue
        cls = _bar_class(g, verdicts.get(g["group"]), e)
        h = PLOT_H * e["value"] / ymax
        bw = slot * 0.6
        fill = f"url(#hatch-{chart_id})" if cls == "small" else _COLOURS[cls]
        lo, hi = e["interval"]
        parts.append(
            f'<rect class="bar {cls}" x="{cx - bw / 2:.2f}" y="{base - h:.4f}" width="{bw:.2f}" '
            f'height="{h:.4f}" fill="{fill}" data-group="{name}" data-value="{e["value"]!r}" '
            f'data-low="{lo!r}" data-high="{hi!r}"><title>{name}: {pct(e["value"])} '
            f"{interval(e['interval'])}, {e['k']}/{e['n']}</title></rect>"
        )
        y_lo, y_hi = base - PLOT_H * lo / ymax, base - PLOT_H * hi / ymax
        parts.append(
            f'<g class="ci" data-group="{name}" stroke="#111" stroke-width="1.5">'
            f'<line x1="{cx:.2f}" y1="{y_lo:.4f}" x2="{cx:.2f}" y2="{y_hi:.4f}"/>'
            f'<line x1="{cx - 6:.2f}" y1="{y_lo:.4f}" x2="{cx + 6:.2f}" y2="{y_lo:.4f}"/>'
            f'<line x1="{cx - 6:.2f}" y1="{y_hi:.4f}" x2="{cx + 6:.2f}" y2="{y_hi:.4f}"/></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(attr: dict[str, Any]) -> str:
    rows = [
        "<table><tr><th>Group</th><th>n</th><th>Positives</th><th>Negatives</th><th>FNR</th><th>FPR</th>"
        "<th>Recall</th><th>Precision</th><th>Notes</th></tr>"
    ]
    for g in attr["groups"]:
        notes = ([f"small group (n={g['n']})"] if g["small"] else []) + g["notes"]
        cells = "".join(
            f"<td>{escape(metric_cell(g['metrics'][m]))}</td>" for m in ("fnr", "fpr", "recall", "precision")
        )
        rows.append(
            f"<tr><td>{escape(g['group'])}</td><td class=num>{g['n']}</td><td class=num>{g['positives']}</td>"
            f"<td class=num>{g['negatives']}</td>{cells}<td>{escape('; '.join(notes))}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _disparities(attr: dict[str, Any]) -> str:
    out = []
    for metric, d in attr["disparities"].items():
        ref = escape(str(d["reference"])) if d["reference"] is not None else "none"
        out.append(
            f"<p><b>{escape(METRICS[metric][0])}</b>: reference group <code>{ref}</code>. "
            f"{escape(d.get('note', ''))}</p>"
        )
        out.append("<table><tr><th>Group</th><th>Difference</th><th>Ratio</th><th>Verdict</th></tr>")
        for r in d["groups"]:
            v = r["verdict"] + (f" ({r['reason']})" if r.get("reason") else "")
            out.append(
                f"<tr><td>{escape(r['group'])}</td><td class=num>{signed_pct(r.get('difference'))}</td>"
                f"<td class=num>{ratio(r.get('ratio'))}</td><td>{escape(v)}</td></tr>"
            )
        out.append("</table>")
    return "".join(out)


def render_html(report: dict[str, Any]) -> str:
    """Render the fairness report as one self-contained HTML page (deterministic)."""
    s = report["settings"]
    conf = round(100 * s["confidence"])
    body = [
        f"<h1>Fairness report</h1><p>Mode: {escape(report['mode'])}. Bars show the rate per group; "
        f"whiskers its {conf} % Wilson interval. Groups are taken only from the input; none is inferred.</p>"
    ]
    body.append(f"<p>{escape(fairness_md.verdict_rule(s)).replace('*', '')}</p>")
    legend = "".join(
        f'<span><i class="sw" style="background:{c}"></i>{k}</span>' for k, c in _COLOURS.items()
    )
    body.append(f'<p class="legend">{legend}</p>')
    flagged = [line[2:] for line in fairness_md.findings(report) if "**" in line]
    if flagged:
        items = "".join(f"<li>{escape(f.replace('**', '').replace('`', ''))}</li>" for f in flagged)
        body.append(f'<div class="flag"><b>Disparities</b><ul>{items}</ul></div>')
    else:
        body.append('<p class="ok">No disparity met the verdict rule.</p>')
    if report["warnings"]:
        body.append(
            '<div class="warn"><b>Warnings</b><ul>'
            + "".join(f"<li>{escape(w)}</li>" for w in report["warnings"])
            + "</ul></div>"
        )
    for a, attr in enumerate(report["attributes"]):
        body.append(f"<h2>Attribute <code>{escape(attr['name'])}</code></h2>")
        for metric, reason in attr.get("unavailable", {}).items():
            body.append(f"<p>{escape(METRICS[metric][0])}: not applicable — {escape(reason)}.</p>")
        for metric in ("fnr", "fpr"):
            chart = bar_chart(attr, metric, f"a{a}-{metric}")
            if chart:
                body.append(
                    f"<figure>{chart}<figcaption>{escape(METRICS[metric][0])} per group "
                    f"({conf} % interval)</figcaption></figure>"
                )
        body.append(_table(attr))
        body.append(_disparities(attr))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>veilcv fairness report</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


__all__ = ["bar_chart", "render_html", "y_max"]
