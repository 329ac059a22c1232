"""Rates and their uncertainty: Wilson score intervals, a seeded stratified bootstrap, safe rates.

A rate whose denominator is zero is *undefined*, never 0 and never a division error: every
function here returns ``None`` for it, and callers report "no positives" / "no negatives".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from veilcv.errors import ValidationError

__all__ = [
    "BootstrapResult",
    "Counts",
    "safe_rate",
    "stratified_bootstrap",
    "wilson_interval",
    "z_value",
]


def _check_confidence(confidence: float) -> None:
    if not (isinstance(confidence, float | int) and 0.0 < float(confidence) < 1.0):
        raise ValidationError(f"confidence: expected a number in (0, 1), got {confidence!r}; use e.g. 0.95")


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard normal quantile for ``confidence``.

    Parameters
    ----------
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    float
        ``z`` such that ``P(|Z| <= z) = confidence`` (1.959963... for 0.95).
    """
    _check_confidence(confidence)
    return NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)


def safe_rate(k: int, n: int) -> float | None:
    """``k / n``, or ``None`` when ``n == 0`` (the rate is undefined, not zero).

    Parameters
    ----------
    k, n : int
        Numerator and denominator, ``0 <= k <= n``.

    Returns
    -------
    float or None
    """
    _check_counts(k, n)
    return None if n == 0 else k / n


def _check_counts(k: int, n: int) -> None:
    if (
        isinstance(k, bool)
        or isinstance(n, bool)
        or not (0 <= int(k) <= int(n))
        or k != int(k)
        or n != int(n)
    ):
        raise ValidationError(f"expected integer counts with 0 <= k <= n, got k={k!r}, n={n!r}")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion ``k / n``.

    Parameters
    ----------
    k : int
        Number of successes (e.g. false negatives).
    n : int
        Number of trials (e.g. positives). ``n == 0`` gives ``None``.
    confidence : float, default 0.95
        Two-sided coverage.

    Returns
    -------
    tuple of float or None
        ``(low, high)`` within ``[0, 1]``; ``low`` is exactly 0 when ``k == 0`` and ``high``
        exactly 1 when ``k == n``.

    Notes
    -----
    Unlike the Wald interval it never collapses to a point at ``k = 0`` or ``k = n`` and keeps
    close to nominal coverage for small ``n``, which is where fairness comparisons go wrong.
    The formula is ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``.
    """
    _check_counts(k, n)
    if n == 0:
        return None
    z = z_value(confidence)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return (low, high)


@dataclass(frozen=True)
class Counts:
    """Confusion-matrix cells of one group."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.fp + self.tn

    @property
    def predicted_positives(self) -> int:
        return self.tp + self.fp


# Each metric is (numerator cells, denominator cells) over the (tp, fp, fn, tn) columns.
METRIC_CELLS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "fnr": ((2,), (0, 2)),
    "fpr": ((1,), (1, 3)),
    "recall": ((0,), (0, 2)),
    "precision": ((0,), (0, 1)),
}


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile intervals from a stratified bootstrap.

    ``intervals[group][metric]`` is ``(low, high)`` or ``None`` when the metric was undefined in
    more than half of the replicates; ``differences[group][metric]`` is the interval of
    ``metric(group) - metric(reference[metric])`` from the same replicates.
    """

    replicates: int
    seed: int
    intervals: dict[str, dict[str, tuple[float, float] | None]]
    differences: dict[str, dict[str, tuple[float, float] | None]]


def stratified_bootstrap(
    counts: Mapping[str, Counts],
    *,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    metrics: Sequence[str] = ("fnr", "fpr", "recall", "precision"),
    reference: Mapping[str, str] | None = None,
) -> BootstrapResult:
    """Percentile bootstrap of per-group rates, resampling within each group (the strata).

    Parameters
    ----------
    counts : mapping of str to Counts
        Confusion cells per group.
    replicates : int, default 1000
        Number of bootstrap replicates (>= 1).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same intervals.
    confidence : float, default 0.95
        Two-sided coverage of the percentile intervals.
    metrics : sequence of str
        Any of ``"fnr"``, ``"fpr"``, ``"recall"``, ``"precision"``.
    reference : mapping of str to str, optional
        For each metric, the group that differences are taken against.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Every group keeps its size in each replicate (stratification), so a small group is never
    empty by chance. Because the metrics depend on the rows only through the four confusion
    cells, drawing the cells from a multinomial with the observed proportions is the same
    distribution as resampling the rows, at a cost independent of the number of rows. Groups
    are drawn in sorted order so the result does not depend on mapping order.
    """
    _check_confidence(confidence)
    if isinstance(replicates, bool) or int(replicates) != replicates or replicates < 1:
        raise ValidationError(f"replicates: expected an integer >= 1, got {replicates!r}")
    unknown = [m for m in metrics if m not in METRIC_CELLS]
    if unknown:
        raise ValidationError(f"metrics: expected names from {sorted(METRIC_CELLS)}, got {unknown}")
    rng = np.random.default_rng(seed)
    alpha = (1.0 - float(confidence)) / 2.0
    samples: dict[str, dict[str, np.ndarray]] = {}
    for group in sorted(counts):
        c = counts[group]
        cells = np.array([c.tp, c.fp, c.fn, c.tn], dtype=np.int64)
        if c.n == 0:
            draws = np.zeros((replicates, 4), dtype=np.int64)
        else:
            draws = rng.multinomial(c.n, cells / c.n, size=replicates)
        samples[group] = {m: _rates(draws, m) for m in metrics}

    def interval(values: np.ndarray) -> tuple[float, float] | None:
        finite = values[~np.isnan(values)]
        if finite.size * 2 < values.size or finite.size == 0:
            return None
        low, high = np.quantile(finite, [alpha, 1.0 - alpha])
        return (float(low), float(high))

    intervals = {g: {m: interval(samples[g][m]) for m in metrics} for g in samples}
    differences: dict[str, dict[str, tuple[float, float] | None]] = {g: {} for g in samples}
    for m in metrics:
        ref = (reference or {}).get(m)
        if ref is None or ref not in samples:
            continue
        for g in samples:
            differences[g][m] = interval(samples[g][m] - samples[ref][m])
    return BootstrapResult(int(replicates), int(seed), intervals, differences)


def _rates(draws: np.ndarray, metric: str) -> np.ndarray:
    num_cols, den_cols = METRIC_CELLS[metric]
    num = draws[:, list(num_cols)].sum(axis=1).astype(np.float64)
    den = draws[:, list(den_cols)].sum(axis=1).astype(np.float64)
    out = np.full(draws.shape[0], np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out
