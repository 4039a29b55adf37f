"""Experiment statistics checked like money: against scipy on the same data, simulations with a known answer, and the
coverage of the intervals over many seeds (the #16 parameters: 5 % conversion, lognormal order values with mean $120
and σ = 0.6 of the log)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from loyalty_nudges.experiment_stats import (
    Moments,
    Paired,
    StatsError,
    compare,
    cuped_means,
    mean_of,
    ratio_of,
    sample_ratio,
    welch,
)

SIGMA = 0.6


def moments(values: np.ndarray) -> Moments:
    return Moments(n=len(values), total=float(values.sum()), squares=float((values**2).sum()))


def paired(x: np.ndarray, y: np.ndarray) -> Paired:
    return Paired(x=moments(x), y=moments(y), products=float((x * y).sum()))


def visitors(rng: np.random.Generator, n: int, conversion: float, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """(orders, revenue) per visitor: one order at ``conversion``, its value lognormal with ``mean`` and σ."""
    orders = (rng.random(n) < conversion).astype(float)
    values = rng.lognormal(math.log(mean) - SIGMA**2 / 2, SIGMA, n)
    return orders, orders * values


def test_welch_from_sums_is_scipys_welch_on_the_units() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 3, 400), rng.normal(10.6, 5, 250)
    ours = welch(moments(b), moments(a))
    theirs = stats.ttest_ind(b, a, equal_var=False)
    interval = theirs.confidence_interval(0.95)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert (ours.absolute_low, ours.absolute_high) == (pytest.approx(interval.low), pytest.approx(interval.high))


def test_sums_moved_unit_by_unit_equal_the_sums_of_the_final_values() -> None:
    rng = np.random.default_rng(2)
    final = np.zeros(50)
    sums = Moments()
    for _ in range(400):
        unit = int(rng.integers(50))
        step = float(rng.normal(20, 10))
        sums = sums.moved(final[unit], final[unit] + step, new_unit=bool(final[unit] == 0))
        final[unit] += step
    assert sums.n == int((final != 0).sum())
    assert sums.total == pytest.approx(final.sum())
    assert sums.squares == pytest.approx((final**2).sum())


def test_the_delta_method_variance_of_a_ratio_matches_its_spread_over_many_samples() -> None:
    rng = np.random.default_rng(3)
    ratios, variances = [], []
    for _ in range(400):
        orders, revenue = visitors(rng, 5000, 0.05, 120)
        estimate = ratio_of(paired(orders, revenue))
        ratios.append(estimate.value)
        variances.append(estimate.variance)
    assert float(np.mean(variances)) == pytest.approx(float(np.var(ratios, ddof=1)), rel=0.15)
    assert float(np.mean(ratios)) == pytest.approx(120, rel=0.01)


def aa_contains_zero(seed: int) -> tuple[bool, bool]:
    rng = np.random.default_rng(seed)
    (o1, r1), (o2, r2) = visitors(rng, 10_000, 0.05, 120), visitors(rng, 10_000, 0.05, 120)
    rpv = welch(moments(r2), moments(r1))
    aov = compare(ratio_of(paired(o2, r2)), ratio_of(paired(o1, r1)))
    return rpv.absolute_low <= 0 <= rpv.absolute_high, aov.absolute_low <= 0 <= aov.absolute_high


def test_over_200_aa_experiments_the_95_intervals_contain_zero_181_to_199_times() -> None:
    found = [aa_contains_zero(seed) for seed in range(200)]
    rpv, aov = sum(r for r, _ in found), sum(a for _, a in found)
    assert 181 <= rpv <= 199, rpv
    assert 181 <= aov <= 199, aov


def test_a_known_lift_is_inside_its_intervals_and_zero_is_not() -> None:
    rng = np.random.default_rng(16)
    (oc, rc), (ot, rt) = visitors(rng, 20_000, 0.05, 120), visitors(rng, 20_000, 0.059, 139.2)
    conversion = welch(moments(ot), moments(oc))
    aov = compare(ratio_of(paired(ot, rt)), ratio_of(paired(oc, rc)))
    rpv = welch(moments(rt), moments(rc))
    for found, truth in ((conversion, 0.18), (aov, 0.16), (rpv, 1.18 * 1.16 - 1)):
        assert found.relative_low <= truth <= found.relative_high, (found, truth)
        assert found.relative_low > 0, found
        assert found.p_value < 0.05


def test_relative_lift_intervals_cover_the_true_lift_about_95_times_in_100() -> None:
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        (_, rc), (_, rt) = visitors(rng, 10_000, 0.05, 120), visitors(rng, 10_000, 0.059, 139.2)
        lift = welch(moments(rt), moments(rc))
        covered += lift.relative_low <= 1.18 * 1.16 - 1 <= lift.relative_high
    assert 181 <= covered <= 199, covered


def test_cuped_keeps_the_difference_and_narrows_its_interval() -> None:
    rng = np.random.default_rng(5)
    arms = []
    for lift in (0.0, 5.0):
        before = rng.gamma(2.0, 30.0, 8000)  # each unit's revenue before exposure
        after = 0.8 * before + rng.normal(40 + lift, 20, 8000)
        arms.append(paired(before, after))
    plain = welch(arms[1].y, arms[0].y)
    control, treatment = cuped_means(arms)
    adjusted = compare(treatment, control)
    assert adjusted.absolute_low <= 5.0 <= adjusted.absolute_high
    # the interval shrinks by √(1 − ρ²): ρ² = 0.8² · var(before) / var(after) = 1,152 / 1,552
    narrower = (adjusted.absolute_high - adjusted.absolute_low) / (plain.absolute_high - plain.absolute_low)
    assert narrower == pytest.approx(math.sqrt(1 - 1152 / 1552), abs=0.03)


@pytest.mark.parametrize(("exposed", "flagged"), [((5200, 4800), True), ((5000, 5000), False), ((5060, 4940), False)])
def test_a_52_48_split_of_a_50_50_experiment_is_a_sample_ratio_mismatch(
    exposed: tuple[int, int], flagged: bool
) -> None:
    p_value, mismatch = sample_ratio(exposed, (50, 50))
    assert mismatch is flagged, p_value


def test_an_arm_needs_two_units_and_a_ratio_a_denominator() -> None:
    with pytest.raises(StatsError, match="at least 2 units"):
        mean_of(Moments(n=1, total=3.0, squares=9.0))
    with pytest.raises(StatsError, match="non-zero denominator"):
        ratio_of(paired(np.zeros(10), np.zeros(10)))
