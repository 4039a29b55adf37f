"""The experiments contract on both backends: a unit's first exposure is recorded with its time and arm (a later
one writes nothing), a customer unit's covariate is its lifetime spend read in the same step, a page view records
its exposures in its own call, and clicks count only for exposed units."""

from __future__ import annotations

import pytest

from loyalty_nudges.experiment_sums import Exposure, UnitRecord
from personalize.store.protocols import Store
from tests.contract.test_page_reads import give_ledger
from tests.contract.test_tracking_store import T0

pytestmark = pytest.mark.anyio


def exposure(unit: str, arm: str = "treat", experiment: str = "exp") -> Exposure:
    return Exposure(experiment, unit, arm, 3600)


async def test_only_a_units_first_exposure_is_recorded(store: Store) -> None:
    assert await store.experiments.expose([exposure("s:one")], T0) == 1
    assert await store.experiments.expose([exposure("s:one", arm="control")], T0 + 500) == 0
    assert await store.experiments.unit("exp", "s:one") == UnitRecord("treat", T0, 0)
    sums = await store.experiments.arm_sums("exp", ["treat", "control"])
    assert sums == {"treat": {"n": 1}, "control": {}}


async def test_a_customer_units_covariate_is_its_lifetime_spend_at_exposure(store: Store) -> None:
    await give_ledger(store, "ann", 12_345)
    assert await store.experiments.expose([exposure("c:ann"), exposure("c:newcomer")], T0) == 2
    assert await store.experiments.unit("exp", "c:ann") == UnitRecord("treat", T0, 12_345)
    assert await store.experiments.unit("exp", "c:newcomer") == UnitRecord("treat", T0, 0)
    sums = (await store.experiments.arm_sums("exp", ["treat"]))["treat"]
    assert (sums["n"], sums["customers"], sums["x"], sums["xx"]) == (2, 2, 12_345, 12_345.0**2)


async def test_a_page_view_records_its_exposures_in_its_own_call(store: Store) -> None:
    await give_ledger(store, "ann", 500)
    exposures = [exposure("c:ann", experiment="a"), exposure("s:sess-0001", arm="control", experiment="b")]
    reads = await store.page_view("sess-0001", None, "ann", exposures, T0)
    assert reads.ledger is not None
    assert reads.ledger.lifetime_minor == 500
    assert await store.experiments.unit("a", "c:ann") == UnitRecord("treat", T0, 500)
    assert await store.experiments.unit("b", "s:sess-0001") == UnitRecord("control", T0, 0)
    await store.page_view("sess-0001", None, "ann", exposures, T0 + 1000)
    assert (await store.experiments.unit("a", "c:ann")) == UnitRecord("treat", T0, 500)
    assert (await store.experiments.arm_sums("a", ["treat"]))["treat"]["n"] == 1


async def test_clicks_count_for_exposed_units_only(store: Store) -> None:
    await store.experiments.expose([exposure("s:seen")], T0)
    clicks = [("exp", "s:seen", "home_for_you"), ("exp", "s:seen", "home_for_you"), ("exp", "s:unseen", "cart")]
    assert await store.experiments.count_clicks(clicks) == 2
    assert await store.experiments.count_clicks([]) == 0
    sums = (await store.experiments.arm_sums("exp", ["treat"]))["treat"]
    assert sums["k:home_for_you"] == 2
    assert "k:cart" not in sums
