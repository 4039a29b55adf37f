"""The experiment simulation of ``python -m loadtests.experiment_sim``, on both stores: 40,000 visitors through the
real page and order routes; the report's intervals hold the true lifts and exclude 0."""

from __future__ import annotations

import pytest

from loadtests.experiment_sim import simulate


@pytest.mark.parametrize("backend_url", ["memory", "redis"], indirect=True)
def test_the_report_finds_the_true_lifts(backend_url: str) -> None:
    outcome = simulate(backend_url, "redis" if backend_url.startswith("redis") else "memory", 40_000, 16)
    report = outcome.report
    assert sum(arm.units for arm in report.arms) == 40_000
    assert {arm.name: arm.orders for arm in report.arms} == outcome.orders
    assert report.trustworthy
    assert not report.too_young
    for lift in outcome.lifts:
        assert lift.contains_true, lift
        assert lift.excludes_zero, lift
