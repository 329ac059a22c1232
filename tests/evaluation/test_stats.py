from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veilcv.errors import ValidationError
from veilcv.evaluation.stats import Counts, safe_rate, stratified_bootstrap, wilson_interval, z_value


def wilson_by_quadratic(k: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson bounds are the roots in p of (k/n - p)^2 = z^2 p (1 - p) / n."""
    ph = k / n
    a = 1 + z * z / n
    b = -(2 * ph + z * z / n)
    c = ph * ph
    disc = math.sqrt(b * b - 4 * a * c)
    return ((-b - disc) / (2 * a), (-b + disc) / (2 * a))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 100, 1000])
@pytest.mark.parametrize("conf", [0.8, 0.95, 0.99])
def test_wilson_matches_closed_form(n, conf):
    z = z_value(conf)
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        lo, hi = wilson_interval(k, n, conf)
        elo, ehi = wilson_by_quadratic(k, n, z)
        assert lo == pytest.approx(max(0.0, elo), abs=1e-12)
        assert hi == pytest.approx(min(1.0, ehi), abs=1e-12)
        assert lo <= k / n <= hi


# Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson, no correction).
@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_textbook_values(k, n, lo, hi):
    got = wilson_interval(k, n, 0.95)
    assert got[0] == pytest.approx(lo, abs=6e-5)
    assert got[1] == pytest.approx(hi, abs=6e-5)


def test_z_value_and_edges():
    assert z_value(0.95) == pytest.approx(1.959963984540054)
    assert wilson_interval(0, 0) is None
    assert wilson_interval(0, 5)[0] == 0.0
    assert wilson_interval(5, 5)[1] == 1.0
    for bad in [(3, 2), (-1, 2), (1.5, 3)]:
        with pytest.raises(ValidationError, match="expected integer counts"):
            wilson_interval(*bad)
    with pytest.raises(ValidationError, match="confidence"):
        wilson_interval(1, 2, 1.0)


def test_safe_rate_never_divides_by_zero():
    assert safe_rate(0, 0) is None
    assert safe_rate(3, 4) == 0.75
    with pytest.raises(ValidationError):
        safe_rate(5, 4)


def exact_coverage(p: float, n: int, interval) -> float:
    total = 0.0
    for k in range(n + 1):
        lo, hi = interval(k, n)
        if lo <= p <= hi:
            total += math.comb(n, k) * p**k * (1 - p) ** (n - k)
    return total


def test_wilson_coverage_near_nominal_where_wald_fails():
    def wald(k, n):
        ph = k / n
        h = 1.959964 * math.sqrt(ph * (1 - ph) / n)
        return ph - h, ph + h

    for p, n in [(0.05, 20), (0.1, 30), (0.2, 50), (0.5, 15), (0.02, 200)]:
        cov = exact_coverage(p, n, wilson_interval)
        assert 0.88 <= cov <= 0.995, (p, n, cov)
    # The reason Wilson is used: the Wald interval badly under-covers at small n and p.
    assert exact_coverage(0.05, 20, wald) < 0.7 < exact_coverage(0.05, 20, wilson_interval)


def test_bootstrap_is_deterministic_and_order_independent():
    counts = {"a": Counts(tp=40, fp=5, fn=10, tn=45), "b": Counts(tp=20, fp=12, fn=20, tn=48)}
    r1 = stratified_bootstrap(counts, replicates=300, seed=7)
    r2 = stratified_bootstrap(dict(reversed(counts.items())), replicates=300, seed=7)
    r3 = stratified_bootstrap(counts, replicates=300, seed=8)
    assert r1.intervals == r2.intervals
    assert r1.intervals != r3.intervals
    lo, hi = r1.intervals["a"]["fnr"]
    assert lo < 10 / 50 < hi


def test_bootstrap_undefined_metrics_are_none():
    counts = {"pos_only": Counts(tp=5, fn=5), "empty": Counts()}
    res = stratified_bootstrap(counts, replicates=50, seed=0)
    assert res.intervals["pos_only"]["fpr"] is None
    assert res.intervals["pos_only"]["fnr"] is not None
    assert all(v is None for v in res.intervals["empty"].values())


def test_bootstrap_coverage_sanity():
    rng = np.random.default_rng(123)
    p, npos, hits, trials = 0.2, 200, 0, 200
    for t in range(trials):
        fn = int(rng.binomial(npos, p))
        res = stratified_bootstrap(
            {"g": Counts(tp=npos - fn, fn=fn, tn=10)}, replicates=400, seed=t, metrics=["fnr"]
        )
        lo, hi = res.intervals["g"]["fnr"]
        hits += lo <= p <= hi
    assert 0.88 <= hits / trials <= 0.99


def test_bootstrap_matches_row_resampling_spread():
    # Resampling cells from a multinomial is the row bootstrap; its spread must match it.
    rng = np.random.default_rng(0)
    rows = np.array([0] * 30 + [2] * 20)  # 30 TP, 20 FN
    explicit = [(rng.choice(rows, rows.size) == 2).mean() for _ in range(4000)]
    res = stratified_bootstrap({"g": Counts(tp=30, fn=20)}, replicates=4000, seed=1, metrics=["fnr"])
    lo, hi = res.intervals["g"]["fnr"]
    elo, ehi = np.quantile(explicit, [0.025, 0.975])
    assert lo == pytest.approx(elo, abs=0.03) and hi == pytest.approx(ehi, abs=0.03)


def test_bootstrap_difference_against_reference():
    counts = {"a": Counts(tp=95, fn=5, tn=10), "b": Counts(tp=60, fn=40, tn=10)}
    res = stratified_bootstrap(counts, replicates=500, seed=3, metrics=["fnr"], reference={"fnr": "a"})
    lo, hi = res.differences["b"]["fnr"]
    assert 0 < lo < 0.35 < hi
    assert res.differences["a"]["fnr"] == (0.0, 0.0)


def test_bootstrap_validates():
    with pytest.raises(ValidationError, match="replicates"):
        stratified_bootstrap({"a": Counts(tp=1)}, replicates=0)
    with pytest.raises(ValidationError, match="metrics"):
        stratified_bootstrap({"a": Counts(tp=1)}, metrics=["auc"])


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 10_000), frac=st.floats(0, 1), c1=st.floats(0.5, 0.98))
def test_wilson_properties(n, frac, c1):
    k = round(frac * n)
    lo, hi = wilson_interval(k, n, c1)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    wlo, whi = wilson_interval(k, n, c1 + 0.01)  # more confidence, wider interval
    assert wlo <= lo + 1e-12 and whi >= hi - 1e-12
    mlo, mhi = wilson_interval(n - k, n, c1)  # symmetric under relabelling
    assert mlo == pytest.approx(1 - hi, abs=1e-12) and mhi == pytest.approx(1 - lo, abs=1e-12)
