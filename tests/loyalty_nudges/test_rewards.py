"""Rewards in the program file and the pure rules of spending points and giving them back."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from loyalty_nudges.ledger import DAY_MS, Ledger, Lot
from loyalty_nudges.program import LoyaltyProgram, Reward
from loyalty_nudges.rewards import NotEnoughPoints, Redemption, give_back, spend, within_reach

NOW = 1_790_000_000_000
PCT20 = Reward(id="pct20", title="−20 %", cost=500, kind="percent_off", percent=20)


def lot(lot_id: str, points: int, expires_in_days: int, spendable_in_days: int = -1) -> Lot:
    return Lot(lot_id, points, points, NOW + spendable_in_days * DAY_MS, NOW + expires_in_days * DAY_MS)


def ledger(*lots: Lot) -> Ledger:
    return Ledger(customer_id="c1", lots=lots)


def test_points_are_spent_from_the_lots_that_expire_first() -> None:
    before = ledger(lot("late", 400, 300), lot("soon", 300, 10), lot("middle", 200, 100))
    after, taken = spend(before, PCT20, NOW)
    assert taken == (("soon", 300), ("middle", 200))
    assert [(x.order_id, x.remaining) for x in after.lots] == [("late", 400), ("soon", 0), ("middle", 0)]


def test_pending_and_expired_points_are_never_spent() -> None:
    before = ledger(lot("pending", 1000, 300, spendable_in_days=5), lot("expired", 1000, -1), lot("ok", 499, 50))
    with pytest.raises(NotEnoughPoints) as refused:
        spend(before, PCT20, NOW)
    assert (refused.value.balance, refused.value.cost, refused.value.reason) == (499, 500, "not_enough_points")
    assert "costs 500 points and the spendable balance is 499" in str(refused.value)


def test_a_cancelled_redemption_returns_each_point_to_its_own_lot_with_its_expiry() -> None:
    before = ledger(lot("a", 300, 10), lot("b", 300, 200))
    spent, taken = spend(before, PCT20, NOW)
    redemption = Redemption(
        redemption_id="r1", customer_id="c1", reward_id="pct20", points=500, taken=taken, code="X", at_ms=NOW
    )
    assert give_back(spent, redemption) == before


def test_points_given_back_to_a_lot_a_refund_reduced_stop_at_what_it_earned() -> None:
    spent, taken = spend(ledger(lot("a", 600, 10)), PCT20, NOW)
    refunded = msgspec.structs.replace(spent, lots=(msgspec.structs.replace(spent.lots[0], earned=300),))
    redemption = Redemption(
        redemption_id="r1", customer_id="c1", reward_id="pct20", points=500, taken=taken, code="X", at_ms=NOW
    )
    assert give_back(refunded, redemption).lots[0].remaining == 300


def program(**reward: Any) -> LoyaltyProgram:
    fields = {"id": "r", "title": "R", "cost": 100, "kind": "free_shipping", **reward}
    return msgspec.convert({"rewards": [fields]}, LoyaltyProgram)


@pytest.mark.parametrize(
    ("reward", "words"),
    [
        ({"cost": -5}, r"Expected `int` >= 1 - at `\$.rewards\[0\].cost`"),
        ({"kind": "percent_off"}, "a percent_off reward needs percent"),
        ({"kind": "amount_off"}, "an amount_off reward needs amount"),
        ({"percent": 10}, "percent belongs to percent_off rewards only"),
        ({"kind": "voucher"}, r"Invalid enum value 'voucher' - at `\$.rewards\[0\].kind`"),
        ({"tiers": ["platinum"]}, r"rewards\[0\].tiers: 'platinum' is not a tier of the program"),
        ({"available_from": "2026-12-10", "available_until": "2026-12-01"}, "available_until 2026-12-01 is before"),
        ({"colour": "red"}, r"Object contains unknown field `colour` - at `\$.rewards\[0\]`"),
    ],
)
def test_a_reward_that_cannot_be_offered_is_refused_naming_the_field(reward: dict[str, Any], words: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=words):
        program(**reward)


def test_reward_ids_are_unique() -> None:
    twice = [{"id": "r", "title": "R", "cost": 1, "kind": "item"}] * 2
    with pytest.raises(msgspec.ValidationError, match=r"rewards\[1\].id: the id 'r' is used more than once"):
        msgspec.convert({"rewards": twice}, LoyaltyProgram)


def test_a_reward_is_open_to_its_tiers_on_its_days() -> None:
    course = program(tiers=["silver"], available_from="2026-12-01", available_until="2026-12-24").rewards[0]
    december = 1_796_169_600_000  # 2026-12-02
    assert (course.open_to("silver"), course.open_to("bronze"), course.open_to(None)) == (True, False, False)
    assert course.available(december)
    assert not course.available(december + 30 * DAY_MS)


def test_the_reward_within_reach_is_the_closest_one_open_and_unlimited() -> None:
    rewards = (
        Reward(id="pct20", title="−20 %", cost=500, kind="percent_off", percent=20),
        Reward(id="ten", title="$10 off", cost=250, kind="amount_off", amount=10),
        Reward(id="course", title="Course", cost=460, kind="item", stock=3),
        Reward(id="vip", title="VIP", cost=470, kind="item", tiers=("gold",)),
    )
    program = LoyaltyProgram(rewards=rewards)
    assert within_reach(program, None, 450, NOW) == (rewards[0], 50)  # the course has a stock, VIP is for gold
    assert within_reach(program, "gold", 450, NOW) == (rewards[3], 20)
    assert within_reach(program, None, 374, NOW) is None  # 126 short of 500: more than 25 % of its cost
    assert within_reach(program, None, 200, NOW) == (rewards[1], 50)
    assert within_reach(program, None, 500, NOW) is None  # affordable already: nothing to reach
