"""The experiment report from arms' sums, in process: A/A coverage of the intervals over 200 seeds, the sample-ratio
check, CUPED's narrower interval, and "too young" below 100 orders per arm."""

from __future__ import annotations

import math

import numpy as np

from loyalty_nudges.experiment_sums import ArmFigures, Sums, UnitRecord, added, after_order, exposure_sums, figures
from personalize.experiments.definitions import parse_experiments
from personalize.experiments.report import Report, build_report

DEFINITION = """
[[experiments]]
id = "aa"
changes = "personalization"
start = 2020-01-01T00:00:00Z
[[experiments.arms]]
name = "control"
weight = 50
enabled = false
[[experiments.arms]]
name = "treatment"
weight = 50
"""
EXPERIMENT = parse_experiments("toml", DEFINITION).experiments[0]


def arm_sums(rng: np.random.Generator, units: int, conversion: float, mean: float, sigma: float) -> Sums:
    """An arm's sums as the store would hold them after each unit's exposure (no covariate) and order, an order
    moving them as the store's own step does."""
    sums: Sums = exposure_sums(0, customer=True)
    sums = {name: value * units for name, value in sums.items()}
    converted = int((rng.random(units) < conversion).sum())
    for cents in np.round(rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size=converted) * 100):
        _, delta = after_order(UnitRecord("arm", 0), int(cents), 1, 1, 30, customer=True)
        sums = added(sums, delta)
    return sums


def report_of(control: Sums, treatment: Sums, cuped: bool = False) -> Report:
    arms: dict[str, ArmFigures] = {"control": figures(control), "treatment": figures(treatment)}
    return build_report(EXPERIMENT, arms, cuped=cuped, now_ms=0, currency="USD", exponent=2)


def test_aa_intervals_of_revenue_per_visitor_and_aov_contain_zero_in_181_to_199_of_200() -> None:
    held = {"revenue_per_unit": 0, "average_order_value": 0}
    for seed in range(200):
        rng = np.random.default_rng(seed)
        report = report_of(arm_sums(rng, 10_000, 0.05, 120, 0.6), arm_sums(rng, 10_000, 0.05, 120, 0.6))
        for metric in held:
            difference = report.arms[1].differences[metric]
            assert difference is not None
            held[metric] += difference.absolute_low <= 0 <= difference.absolute_high
    assert all(181 <= count <= 199 for count in held.values()), held


def test_a_52_48_split_of_a_50_50_experiment_is_a_sample_ratio_mismatch() -> None:
    def exposed(units: int) -> Sums:
        return {"n": units, "customers": units}

    skewed = report_of(exposed(5_200), exposed(4_800))
    assert skewed.sample_ratio.mismatch
    assert not skewed.trustworthy
    assert any("sample ratio mismatch" in note for note in skewed.notes)
    even = report_of(exposed(5_000), exposed(5_000))
    assert not even.sample_ratio.mismatch
    assert even.trustworthy


def test_too_young_below_100_orders_an_arm() -> None:
    rng = np.random.default_rng(1)
    young = report_of(arm_sums(rng, 1_000, 0.05, 120, 0.6), arm_sums(rng, 1_000, 0.05, 120, 0.6))
    assert young.too_young
    old = report_of(arm_sums(rng, 3_000, 0.05, 120, 0.6), arm_sums(rng, 3_000, 0.05, 120, 0.6))
    assert not old.too_young


def test_cuped_narrows_the_revenue_interval_when_past_spend_predicts_it() -> None:
    rng = np.random.default_rng(7)
    past = rng.lognormal(5, 0.5, size=4_000) * 100

    def spenders(covariates: np.ndarray) -> Sums:
        sums: Sums = {}
        for covariate in covariates:
            sums = added(sums, exposure_sums(int(covariate), customer=True))
            record = UnitRecord("arm", 0, int(covariate))
            _, delta = after_order(record, int(covariate * rng.uniform(0.8, 1.2)), 1, 1, 30, customer=True)
            sums = added(sums, delta)
        return sums

    control, treatment = spenders(past[:2_000]), spenders(past[2_000:])
    plain = report_of(control, treatment).arms[1].differences["revenue_per_unit"]
    adjusted = report_of(control, treatment, cuped=True)
    assert adjusted.cuped
    cuped = adjusted.arms[1].differences["revenue_per_unit"]
    assert plain is not None
    assert cuped is not None
    assert cuped.absolute_high - cuped.absolute_low < 0.5 * (plain.absolute_high - plain.absolute_low)


def retained_sums(units: int, returning: int, late: int, days: int = 30) -> Sums:
    """An arm of customer units: ``returning`` order twice within ``days``, ``late`` twice but after it, the rest
    once; each order moving the sums as the store's own step does."""
    sums: Sums = {name: value * units for name, value in exposure_sums(0, customer=True).items()}
    day = 86_400_000
    for unit in range(units):
        record, delta = after_order(UnitRecord("arm", 0), 5_000, 1, day, days, customer=True)
        sums = added(sums, delta)
        gap = days - 1 if unit < returning else days + 5 if unit < returning + late else None
        if gap is not None:
            _, delta = after_order(record, 5_000, 1, day + gap * day, days, customer=True)
            sums = added(sums, delta)
    return sums


def test_retention_is_the_share_of_customers_with_a_second_order_within_the_days() -> None:
    report = report_of(retained_sums(1_000, 200, 100), retained_sums(1_000, 300, 0))
    control, treatment = report.arms
    assert control.retention == 0.2  # the 100 late second orders do not count
    assert treatment.retention == 0.3
    difference = treatment.differences["retention"]
    assert difference is not None
    assert math.isclose(difference.absolute, 0.1)
    se = math.sqrt(0.2 * 0.8 / 999 + 0.3 * 0.7 / 999)  # Welch on 0/1 outcomes, sample variances
    assert math.isclose(difference.absolute_low, 0.1 - 1.96 * se, abs_tol=2e-4)
    assert difference.p_value < 1e-6
