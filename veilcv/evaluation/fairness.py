"""Per-group error rates with intervals, and disparities against the best group.

One :func:`assess` call computes the whole report as plain JSON-ready data; the Markdown and
HTML reporters and ``veil report`` only format it. Groups come only from the input: nothing
here infers an attribute.

Verdict rule (documented in the reports): a group shows a *disparity* on a metric when its
Wilson interval lies entirely on the worse side of the reference (best) group's interval and
the difference exceeds ``max_difference``. Groups whose denominator for that metric is below
``min_group_n`` get no verdict ("insufficient data") and cannot be the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from veilcv import __version__
from veilcv.errors import ValidationError
from veilcv.evaluation.stats import Counts, stratified_bootstrap, wilson_interval

__all__ = ["COUNTED", "METRICS", "Settings", "assess", "counts_by_group"]

REPORT_SCHEMA = "veilcv.fairness/1"
MISSING_GROUP = "(missing)"

# name -> (label, numerator description, denominator attribute of Counts, lower is better)
METRICS: dict[str, tuple[str, str, str, bool]] = {
    "fnr": ("False negative rate (miss rate)", "fn", "positives", True),
    "fpr": ("False positive rate", "fp", "negatives", True),
    "recall": ("Recall", "tp", "positives", False),
    "precision": ("Precision", "tp", "predicted_positives", False),
}
# Recall is 1 - FNR: its verdict mirrors FNR's, so it is shown but not counted a second time.
COUNTED = ("fnr", "fpr", "precision")
_UNDEFINED = {
    "positives": "no positives in this group: undefined",
    "negatives": "no negatives in this group: undefined",
    "predicted_positives": "no positive predictions in this group: undefined",
}


@dataclass(frozen=True)
class Settings:
    """How rates are estimated and judged."""

    confidence: float = 0.95
    min_group_n: int = 30
    max_difference: float = 0.0
    bootstrap: int = 0
    seed: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise ValidationError(f"confidence: expected a number in (0, 1), got {self.confidence!r}")
        if isinstance(self.min_group_n, bool) or self.min_group_n < 1:
            raise ValidationError(f"min_group_n: expected an integer >= 1, got {self.min_group_n!r}")
        if not 0.0 <= self.max_difference < 1.0:
            raise ValidationError(f"max_difference: expected a number in [0, 1), got {self.max_difference!r}")
        if self.bootstrap < 0:
            raise ValidationError(
                f"bootstrap: expected 0 (off) or a number of replicates, got {self.bootstrap}"
            )


def counts_by_group(y_true: np.ndarray, y_pred: np.ndarray, groups: Sequence[str]) -> dict[str, Counts]:
    """Confusion cells per group value.

    Parameters
    ----------
    y_true, y_pred : numpy.ndarray
        1-D arrays of 0/1 labels of equal length.
    groups : sequence of str
        The group value of each row (same length).

    Returns
    -------
    dict of str to Counts
        Sorted by group value.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(groups) != y_true.shape[0]:
        raise ValidationError(
            f"expected 1-D y_true, y_pred and groups of one length, got shapes {y_true.shape}, "
            f"{y_pred.shape} and {len(groups)}"
        )
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise ValidationError(
                f"{name}: expected only 0 and 1, got {sorted(set(np.unique(arr).tolist()))}"
            )
    names = sorted({str(g) for g in groups})
    index = {g: i for i, g in enumerate(names)}
    gid = np.fromiter((index[str(g)] for g in groups), dtype=np.int64, count=len(groups))
    # Cell code per row: 0 TP, 1 FP, 2 FN, 3 TN (the Counts field order); one bincount does all groups.
    cell = np.where(
        y_true.astype(bool), np.where(y_pred.astype(bool), 0, 2), np.where(y_pred.astype(bool), 1, 3)
    )
    table = np.bincount(gid * 4 + cell, minlength=4 * len(names)).reshape(-1, 4)
    return {g: Counts(*(int(v) for v in table[i])) for i, g in enumerate(names)}


def _metric(c: Counts, name: str, settings: Settings, unavailable: str | None) -> dict[str, Any]:
    _, num_attr, den_attr, _ = METRICS[name]
    k, n = getattr(c, num_attr), getattr(c, den_attr)
    entry: dict[str, Any] = {"value": None, "k": k, "n": n, "interval": None, "bootstrap": None}
    if unavailable:
        entry.update(status="unavailable", reason=unavailable, k=None, n=None)
        return entry
    if n == 0:
        entry.update(status="undefined", reason=_UNDEFINED[den_attr])
        return entry
    entry["value"] = k / n
    entry["interval"] = list(wilson_interval(k, n, settings.confidence) or ())
    if n < settings.min_group_n:
        entry.update(status="small", reason=f"n={n} < min_group_n={settings.min_group_n}: no verdict")
    else:
        entry.update(status="ok", reason=None)
    return entry


def _disparities(groups: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (_, _, _, lower_better) in METRICS.items():
        rows = [g for g in groups if g["metrics"][name]["status"] != "unavailable"]
        if not rows:
            continue
        eligible = [g for g in rows if g["metrics"][name]["status"] == "ok"]
        entry: dict[str, Any] = {"reference": None, "lower_is_better": lower_better, "groups": []}
        out[name] = entry
        if not eligible:
            entry["note"] = f"no group has n >= min_group_n={settings.min_group_n} for this metric"
            for g in rows:
                entry["groups"].append({"group": g["group"], "verdict": "insufficient data"})
            continue
        # Best value wins; ties go to the larger sample (narrower interval), then the name.
        sign = 1.0 if lower_better else -1.0
        ref = min(
            eligible, key=lambda g: (sign * g["metrics"][name]["value"], -g["metrics"][name]["n"], g["group"])
        )
        entry["reference"] = ref["group"]
        rm = ref["metrics"][name]
        for g in rows:
            m = g["metrics"][name]
            row: dict[str, Any] = {"group": g["group"]}
            if m["status"] != "ok":
                row["verdict"] = "insufficient data" if m["status"] == "small" else "undefined"
                row["reason"] = m["reason"]
                entry["groups"].append(row)
                continue
            diff = m["value"] - rm["value"]
            row["difference"] = diff
            row["ratio"] = None if rm["value"] == 0 else m["value"] / rm["value"]
            if rm["value"] == 0 and m["value"] != 0:
                row["ratio_note"] = "reference rate is 0: ratio undefined"
            worse = (
                (m["interval"][0] > rm["interval"][1])
                if lower_better
                else (m["interval"][1] < rm["interval"][0])
            )
            if g is ref:
                row["verdict"] = "reference"
            elif worse and abs(diff) > settings.max_difference:
                row["verdict"] = "disparity"
            else:
                row["verdict"] = "no clear disparity"
            entry["groups"].append(row)
    return out


def assess(
    counts: Mapping[str, Mapping[str, Counts]],
    settings: Settings | None = None,
    *,
    mode: str = "classification",
    unavailable: Mapping[str, Mapping[str, str]] | None = None,
    inputs: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """Build the fairness report from confusion cells per attribute and group.

    Parameters
    ----------
    counts : mapping
        ``counts[attribute][group]`` is a :class:`~veilcv.evaluation.stats.Counts`.
    settings : Settings, optional
        Confidence, minimum group size, tolerance and bootstrap options.
    mode : {"classification", "detection"}
        Recorded in the report; detection reports explain why FPR is unavailable.
    unavailable : mapping, optional
        ``unavailable[attribute][metric]`` is the reason a metric cannot be computed at all for
        that attribute (e.g. false positives that belong to no ground-truth box).
    inputs : mapping, optional
        Provenance of the inputs (file names, sha256), copied into the report.
    warnings : sequence of str
        Warnings from reading the input, copied into the report.

    Returns
    -------
    dict
        JSON-ready report (schema ``veilcv.fairness/1``); the keys are those written here.
    """
    settings = settings or Settings()
    unavailable = unavailable or {}
    out_warnings = list(warnings)
    attributes = []
    disparity_count = 0
    for attr in counts:
        groups = []
        for gname, c in counts[attr].items():
            ua = unavailable.get(attr, {})
            metrics = {m: _metric(c, m, settings, ua.get(m)) for m in METRICS}
            notes = [
                f"{METRICS[m][0]}: {v['reason']}" for m, v in metrics.items() if v["status"] == "undefined"
            ]
            small = c.n < settings.min_group_n
            if small:
                out_warnings.append(
                    f"{attr}={gname}: n={c.n} is below min_group_n={settings.min_group_n}; "
                    "rates are shown with intervals but no disparity verdict is drawn from this group"
                )
            groups.append(
                {
                    "group": gname,
                    "n": c.n,
                    "tp": c.tp,
                    "fp": c.fp,
                    "fn": c.fn,
                    "tn": c.tn,
                    "positives": c.positives,
                    "negatives": c.negatives,
                    "small": small,
                    "notes": notes,
                    "metrics": metrics,
                }
            )
        if settings.bootstrap:
            _add_bootstrap(groups, counts[attr], settings)
        disp = _disparities(groups, settings)
        if settings.bootstrap:
            _add_bootstrap_differences(disp, counts[attr], settings)
        disparity_count += sum(
            1 for m, d in disp.items() if m in COUNTED for r in d["groups"] if r["verdict"] == "disparity"
        )
        attributes.append(
            {
                "name": attr,
                "unavailable": dict(unavailable.get(attr, {})),
                "groups": groups,
                "disparities": disp,
            }
        )
    return {
        "schema": REPORT_SCHEMA,
        "tool": {"name": "veilcv", "version": __version__},
        "mode": mode,
        "inputs": dict(inputs or {}),
        "settings": {
            "confidence": settings.confidence,
            "interval": "wilson",
            "min_group_n": settings.min_group_n,
            "max_difference": settings.max_difference,
            "bootstrap": {"replicates": settings.bootstrap, "seed": settings.seed}
            if settings.bootstrap
            else None,
            **dict(settings.extra),
        },
        "attributes": attributes,
        "warnings": out_warnings,
        "summary": {"attributes": len(attributes), "disparities": disparity_count},
    }


def _add_bootstrap(groups: list[dict[str, Any]], counts: Mapping[str, Counts], settings: Settings) -> None:
    res = stratified_bootstrap(
        counts, replicates=settings.bootstrap, seed=settings.seed, confidence=settings.confidence
    )
    for g in groups:
        for m, entry in g["metrics"].items():
            if entry["status"] in ("ok", "small"):
                iv = res.intervals[g["group"]].get(m)
                entry["bootstrap"] = list(iv) if iv else None


def _add_bootstrap_differences(
    disp: dict[str, Any], counts: Mapping[str, Counts], settings: Settings
) -> None:
    refs = {m: d["reference"] for m, d in disp.items() if d["reference"] is not None}
    if not refs:
        return
    # Same seed as the per-group intervals, so one replicate set underlies both.
    res = stratified_bootstrap(
        counts,
        replicates=settings.bootstrap,
        seed=settings.seed,
        confidence=settings.confidence,
        reference=refs,
    )
    for m, d in disp.items():
        for row in d["groups"]:
            if "difference" in row:
                iv = res.differences[row["group"]].get(m)
                row["difference_bootstrap"] = list(iv) if iv else None
