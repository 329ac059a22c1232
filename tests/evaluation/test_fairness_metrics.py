from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veilcv.errors import ValidationError
from veilcv.evaluation.fairness import Settings, assess, counts_by_group
from veilcv.evaluation.stats import Counts, wilson_interval


def by_group(report, attr="g"):
    a = next(a for a in report["attributes"] if a["name"] == attr)
    return {g["group"]: g for g in a["groups"]}, a["disparities"]


def test_counts_by_group_known_answer():
    y_true = np.array([1, 1, 0, 0, 1, 0, 1, 1])
    y_pred = np.array([1, 0, 0, 1, 1, 0, 0, 0])
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    c = counts_by_group(y_true, y_pred, groups)
    assert c == {"a": Counts(tp=1, fp=1, fn=1, tn=1), "b": Counts(tp=1, fp=0, fn=2, tn=1)}


def test_counts_by_group_validates():
    with pytest.raises(ValidationError, match="only 0 and 1"):
        counts_by_group(np.array([2]), np.array([1]), ["a"])
    with pytest.raises(ValidationError, match="one length"):
        counts_by_group(np.array([1, 0]), np.array([1]), ["a"])


def test_metrics_match_closed_form():
    c = {"a": Counts(tp=70, fp=8, fn=30, tn=92), "b": Counts(tp=45, fp=20, fn=55, tn=80)}
    rep = assess({"g": c}, Settings(min_group_n=10))
    groups, _ = by_group(rep)
    for name, cc in c.items():
        m = groups[name]["metrics"]
        assert groups[name]["n"] == cc.n
        assert m["fnr"]["value"] == cc.fn / (cc.tp + cc.fn)
        assert m["fpr"]["value"] == cc.fp / (cc.fp + cc.tn)
        assert m["recall"]["value"] == cc.tp / (cc.tp + cc.fn)
        assert m["precision"]["value"] == cc.tp / (cc.tp + cc.fp)
        assert m["fnr"]["interval"] == list(wilson_interval(cc.fn, cc.tp + cc.fn))
        assert m["fnr"]["value"] + m["recall"]["value"] == pytest.approx(1.0)


def test_disparity_verdict_difference_and_ratio():
    c = {"good": Counts(tp=190, fn=10, tn=100), "bad": Counts(tp=140, fn=60, tn=100)}
    rep = assess({"g": c}, Settings(min_group_n=30))
    _, disp = by_group(rep)
    rows = {r["group"]: r for r in disp["fnr"]["groups"]}
    assert disp["fnr"]["reference"] == "good"
    assert rows["good"]["verdict"] == "reference"
    assert rows["bad"]["verdict"] == "disparity"
    assert rows["bad"]["difference"] == pytest.approx(0.30 - 0.05)
    assert rows["bad"]["ratio"] == pytest.approx(6.0)
    assert rep["summary"]["disparities"] >= 1
    # Recall is the mirror: the same groups, "higher is better".
    assert disp["recall"]["reference"] == "good"
    assert {r["group"]: r["verdict"] for r in disp["recall"]["groups"]}["bad"] == "disparity"
    # A tolerance larger than the gap suppresses the verdict.
    rep2 = assess({"g": c}, Settings(min_group_n=30, max_difference=0.3))
    assert rep2["summary"]["disparities"] == 0


def test_overlapping_intervals_are_not_a_disparity():
    c = {"a": Counts(tp=45, fn=5, tn=50), "b": Counts(tp=42, fn=8, tn=50)}
    rep = assess({"g": c}, Settings(min_group_n=30))
    assert rep["summary"]["disparities"] == 0
    _, disp = by_group(rep)
    assert {r["group"]: r["verdict"] for r in disp["fnr"]["groups"]}["b"] == "no clear disparity"


def test_small_groups_get_no_verdict_and_cannot_be_reference():
    # "tiny" has the best FNR (0/5) but only 5 positives: it must not become the reference.
    c = {
        "big": Counts(tp=150, fn=50, tn=100),
        "tiny": Counts(tp=5, fn=0, tn=1),
        "worse": Counts(tp=100, fn=100, tn=100),
    }
    rep = assess({"g": c}, Settings(min_group_n=30))
    groups, disp = by_group(rep)
    assert disp["fnr"]["reference"] == "big"
    verdicts = {r["group"]: r["verdict"] for r in disp["fnr"]["groups"]}
    assert verdicts == {"big": "reference", "tiny": "insufficient data", "worse": "disparity"}
    assert groups["tiny"]["small"] is True
    assert groups["tiny"]["metrics"]["fnr"]["status"] == "small"
    assert groups["tiny"]["metrics"]["fnr"]["interval"] is not None  # still shown, with its interval
    assert any("tiny" in w and "min_group_n=30" in w for w in rep["warnings"])


def test_degenerate_groups_report_undefined_never_divide():
    c = {
        "no_pos": Counts(fp=3, tn=40),
        "no_neg": Counts(tp=30, fn=5),
        "empty": Counts(),
        "one": Counts(tp=1),
        "no_pred_pos": Counts(fn=4, tn=40),
    }
    rep = assess({"g": c}, Settings(min_group_n=1))
    groups, disp = by_group(rep)
    assert groups["no_pos"]["metrics"]["fnr"]["status"] == "undefined"
    assert "no positives" in groups["no_pos"]["metrics"]["fnr"]["reason"]
    assert groups["no_pos"]["metrics"]["fnr"]["value"] is None
    assert groups["no_neg"]["metrics"]["fpr"]["status"] == "undefined"
    assert "no negatives" in groups["no_neg"]["metrics"]["fpr"]["reason"]
    assert all(m["status"] == "undefined" for m in groups["empty"]["metrics"].values())
    assert groups["empty"]["n"] == 0
    assert groups["one"]["metrics"]["recall"]["value"] == 1.0
    assert groups["one"]["metrics"]["recall"]["interval"][1] == 1.0
    assert "no positive predictions" in groups["no_pred_pos"]["metrics"]["precision"]["reason"]
    assert any("undefined" in n for n in groups["no_pos"]["notes"])
    # The JSON is strict JSON: no NaN or Infinity anywhere.
    json.dumps(rep, allow_nan=False)
    fnr_rows = {r["group"]: r for r in disp["fnr"]["groups"]}
    assert fnr_rows["no_pos"]["verdict"] == "undefined"
    # A reference rate of 0 makes ratios undefined, not infinite.
    assert disp["fnr"]["reference"] == "one"
    assert fnr_rows["no_neg"]["ratio"] is None and "ratio undefined" in fnr_rows["no_neg"]["ratio_note"]


def test_no_eligible_group_means_no_reference():
    rep = assess({"g": {"a": Counts(tp=3, fn=1), "b": Counts(tp=1, fn=3)}}, Settings(min_group_n=30))
    _, disp = by_group(rep)
    assert disp["fnr"]["reference"] is None
    assert {r["verdict"] for r in disp["fnr"]["groups"]} == {"insufficient data"}
    assert rep["summary"]["disparities"] == 0


def test_bootstrap_option_adds_seeded_intervals():
    c = {"a": Counts(tp=80, fp=10, fn=20, tn=90), "b": Counts(tp=50, fp=30, fn=50, tn=70)}
    r1 = assess({"g": c}, Settings(bootstrap=200, seed=5))
    r2 = assess({"g": c}, Settings(bootstrap=200, seed=5))
    assert r1 == r2
    groups, disp = by_group(r1)
    lo, hi = groups["b"]["metrics"]["fnr"]["bootstrap"]
    assert lo < 0.5 < hi
    row = {r["group"]: r for r in disp["fnr"]["groups"]}["b"]
    assert row["difference_bootstrap"][0] > 0
    assert r1["settings"]["bootstrap"] == {"replicates": 200, "seed": 5}
    from veilcv.reports.fairness_md import render_markdown

    lo_s, hi_s = (f"{100 * v:.1f}" for v in groups["b"]["metrics"]["fnr"]["bootstrap"])
    assert f"(50/100), bootstrap [{lo_s}, {hi_s}] %" in render_markdown(r1)


def test_settings_validate():
    for kw in ({"confidence": 1.5}, {"min_group_n": 0}, {"max_difference": -0.1}, {"bootstrap": -1}):
        with pytest.raises(ValidationError):
            Settings(**kw)


def test_against_fairlearn_metricframe():
    fairlearn = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(11)
    n = 600
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    groups = rng.choice(["x", "y", "z"], n).tolist()
    rep = assess({"g": counts_by_group(y_true, y_pred, groups)}, Settings())
    mine, _ = by_group(rep)
    mf = fairlearn.MetricFrame(
        metrics={"fnr": fairlearn.false_negative_rate, "fpr": fairlearn.false_positive_rate},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
    )
    for g, row in mf.by_group.iterrows():
        assert mine[g]["metrics"]["fnr"]["value"] == pytest.approx(row["fnr"])
        assert mine[g]["metrics"]["fpr"]["value"] == pytest.approx(row["fpr"])


def test_counts_by_group_matches_naive_loop():
    rng = np.random.default_rng(5)
    n = 5000
    y_true, y_pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    groups = rng.choice(["a", "b", "c", "d", "é"], n).tolist()
    got = counts_by_group(y_true, y_pred, groups)
    for g in set(groups):
        rows = [(t, p) for t, p, gg in zip(y_true, y_pred, groups, strict=True) if gg == g]
        assert got[g] == Counts(
            tp=sum(1 for t, p in rows if t and p),
            fp=sum(1 for t, p in rows if not t and p),
            fn=sum(1 for t, p in rows if t and not p),
            tn=sum(1 for t, p in rows if not t and not p),
        )
    assert list(got) == sorted(set(groups))
    assert counts_by_group(np.zeros(0, int), np.zeros(0, int), []) == {}


_cells = st.builds(Counts, *(st.integers(0, 60) for _ in range(4)))


@settings(max_examples=150, deadline=None)
@given(
    groups=st.dictionaries(st.text(min_size=1, max_size=5), _cells, min_size=1, max_size=5),
    min_n=st.integers(1, 50),
)
def test_assess_is_total_and_strict_json(groups, min_n):
    rep = assess({"g": groups}, Settings(min_group_n=min_n))
    json.dumps(rep, allow_nan=False)  # never NaN or infinity, whatever the counts
    out, disp = by_group(rep)
    assert set(out) == set(groups)
    for name, c in groups.items():
        m = out[name]["metrics"]
        assert (m["fnr"]["value"] is None) == (c.positives == 0)
        assert (m["fpr"]["value"] is None) == (c.negatives == 0)
    for d in disp.values():
        ref = d["reference"]
        if ref is not None:
            assert d["groups"] and {r["group"]: r["verdict"] for r in d["groups"]}[ref] == "reference"
        flagged = [r for r in d["groups"] if r["verdict"] == "disparity"]
        assert all(out[r["group"]]["metrics"] and r["difference"] != 0 for r in flagged)
