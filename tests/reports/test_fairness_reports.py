from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from veilcv.evaluation.fairness import Settings, assess
from veilcv.evaluation.stats import Counts
from veilcv.reports.fairness_html import PLOT_H, TOP, render_html, y_max
from veilcv.reports.fairness_md import render_markdown

SVG = "{http://www.w3.org/2000/svg}"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _report():
    counts = {
        "light": {
            "day": Counts(tp=180, fp=10, fn=20, tn=190),
            "night": Counts(tp=120, fp=30, fn=80, tn=170),
            "dusk": Counts(tp=8, fp=1, fn=2, tn=5),
            "<script>alert(1)</script>": Counts(fp=2, tn=40),
        }
    }
    return assess(counts, Settings(min_group_n=30))


def _svgs(html: str) -> list[ET.Element]:
    out, pos = [], 0
    while (start := html.find("<svg", pos)) >= 0:
        end = html.index("</svg>", start) + len("</svg>")
        out.append(ET.fromstring(html[start:end]))  # every chart is well-formed XML
        pos = end
    return out


def test_html_has_one_bar_per_defined_group_with_right_heights():
    report = _report()
    html = render_html(report)
    parser = _Collect()
    parser.feed(html)
    assert ("script", {}) not in parser.tags  # the group name is escaped, never markup
    assert "&lt;script&gt;" in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids))  # several charts on one page: no clashing pattern ids
    charts = {svg.get("data-metric"): svg for svg in _svgs(html)}
    assert set(charts) == {"fnr", "fpr"}
    groups = {g["group"]: g for g in report["attributes"][0]["groups"]}
    for metric, svg in charts.items():
        ymax = float(svg.get("data-ymax"))
        assert float(svg.get("data-plot-height")) == PLOT_H
        bars = [r for r in svg.iter(f"{SVG}rect") if "bar" in (r.get("class") or "").split()]
        defined = [g for g in groups.values() if g["metrics"][metric]["value"] is not None]
        assert sorted(b.get("data-group") for b in bars) == sorted(g["group"] for g in defined)
        highs = [g["metrics"][metric]["interval"][1] for g in defined]
        ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
        assert ticks[0] == "0%" and ticks[-1] == f"{100 * ymax:g}%"
        assert all(re.fullmatch(r"\d+(\.\d)?%", t) for t in ticks), ticks
        assert ymax == y_max(highs) and max(highs) <= ymax
        for b in bars:
            e = groups[b.get("data-group")]["metrics"][metric]
            assert float(b.get("height")) == pytest.approx(PLOT_H * e["value"] / ymax, abs=1e-3)
            assert float(b.get("y")) + float(b.get("height")) == pytest.approx(TOP + PLOT_H, abs=1e-3)
        whiskers = {g.get("data-group"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "ci"}
        assert set(whiskers) == {b.get("data-group") for b in bars}
        for name, g in whiskers.items():
            lo, hi = groups[name]["metrics"][metric]["interval"]
            line = next(g.iter(f"{SVG}line"))
            assert float(line.get("y1")) == pytest.approx(TOP + PLOT_H * (1 - lo / ymax), abs=1e-3)
            assert float(line.get("y2")) == pytest.approx(TOP + PLOT_H * (1 - hi / ymax), abs=1e-3)
    # The group without positives has no FNR bar, but says so.
    assert "n/a" in ET.tostring(charts["fnr"], encoding="unicode")
    # Colours follow the verdicts: night is flagged on FNR, dusk is a small group.
    cls = {
        b.get("data-group"): b.get("class") for b in charts["fnr"].iter(f"{SVG}rect") if b.get("data-group")
    }
    assert cls["night"] == "bar disparity" and cls["day"] == "bar reference" and cls["dusk"] == "bar small"


def test_y_max_is_nice():
    assert y_max([0.031]) == 0.05
    assert y_max([0.26]) == 0.5
    assert y_max([]) == 0.01
    assert y_max([1.0]) == 1.0


def test_markdown_carries_the_figures():
    report = _report()
    md = render_markdown(report)
    assert "| night | 400 | 200 | 200 | 40.0 % [33.5, 46.9] % (80/200) |" in md
    assert "light = night" in md and "Findings" in md
    assert "undefined (no positives)" in md
    assert "dusk=" not in md and "light=dusk: n=16 is below min_group_n=30" in md
    assert "\\<script>" not in md and "&lt;script>" in md
    assert render_markdown(report) == md  # deterministic


def _chromium() -> str | None:
    return next(
        (p for p in map(shutil.which, ("chromium-headless-shell", "chromium", "chromium-browser")) if p), None
    )


@pytest.mark.skipif(_chromium() is None, reason="no headless Chromium (.ci/run installs it)")
def test_html_renders_in_headless_chromium(tmp_path):
    exe = _chromium()
    page = tmp_path / "r.html"
    page.write_text(render_html(_report()), encoding="utf-8")
    out = tmp_path / "shot.png"
    subprocess.run(
        [exe, "--headless", "--disable-gpu", "--no-sandbox", f"--screenshot={out}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert out.is_file() and out.stat().st_size > 1000
