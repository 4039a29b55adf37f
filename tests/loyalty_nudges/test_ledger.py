"""The ledger rules: exact money, tiers, pro-rata refunds, points lots, engagement, nudges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loyalty_nudges import ledger as rules
from loyalty_nudges import tiers, window
from loyalty_nudges.ledger import Ledger, OrderInput, OrderLine
from loyalty_nudges.program import LoyaltyProgram, ProgramError, Tier

PROGRAM = LoyaltyProgram()
T0 = int(datetime(2026, 3, 31, 12, tzinfo=UTC).timestamp() * 1000)


def order(order_id: str, cents: int, ts: int = T0, **line: object) -> OrderInput:
    lines = (OrderLine(item_id="x", quantity=1, unit_minor=cents, **line),)  # type: ignore[arg-type]
    return OrderInput(order_id=order_id, customer_id="c", completed_at_ms=ts, lines=lines, total_minor=cents)


def test_an_order_crossing_a_threshold_upgrades_at_once() -> None:
    ledger, stored = rules.apply_order(None, order("o1", 399_999), PROGRAM, 2, T0)
    assert (ledger.tier, stored.tier_after, stored.points) == (None, None, 3999)
    ledger, stored = rules.apply_order(ledger, order("o2", 1), PROGRAM, 2, T0)
    assert (ledger.tier, stored.tier_before, stored.tier_after) == ("bronze", None, "bronze")
    ledger, _ = rules.apply_order(ledger, order("o3", 2_100_000), PROGRAM, 2, T0)
    assert ledger.tier == "gold"


def test_partial_refunds_add_up_exactly_to_a_full_one() -> None:
    ledger, stored = rules.apply_order(None, order("o1", 1_001), PROGRAM, 2, T0)
    for n, amount in enumerate((333, 333, 335)):
        ledger, stored, _ = rules.apply_refund(ledger, stored, f"r{n}", amount, PROGRAM, 2, T0)
    assert (ledger.lifetime_minor, window.qualifying_spend(ledger, PROGRAM, T0), stored.remaining_minor) == (0, 0, 0)
    assert rules.points_balance(ledger, T0) == (0, 0)
    with pytest.raises(rules.RefundError) as refused:
        rules.apply_refund(ledger, stored, "r9", 1, PROGRAM, 2, T0)
    assert refused.value.remaining_minor == 0


def test_a_full_refund_reverts_only_the_upgrade_it_caused() -> None:
    ledger, first = rules.apply_order(None, order("o1", 300_000), PROGRAM, 2, T0)
    ledger, upgrade = rules.apply_order(ledger, order("o2", 150_000), PROGRAM, 2, T0)
    ledger, _, outcome = rules.apply_refund(ledger, first, "r1", None, PROGRAM, 2, T0)
    assert (outcome.tier_reverted, ledger.tier) == (False, "bronze")
    ledger, _, outcome = rules.apply_refund(ledger, upgrade, "r2", None, PROGRAM, 2, T0)
    assert (outcome.tier_reverted, ledger.tier) == (True, None)


def test_points_multipliers_promotions_and_lots() -> None:
    new = OrderLine(item_id="n", quantity=2, unit_minor=1_000, new_collection=True)
    promo = OrderLine(item_id="p", quantity=1, unit_minor=5_000, on_promotion=True)
    entry = OrderInput(order_id="o", customer_id="c", completed_at_ms=T0, lines=(new, promo), total_minor=7_000)
    assert rules.order_amounts(entry, PROGRAM, 2) == (7_000, 90, 0)
    strict = LoyaltyProgram(promotions_qualify=False)
    assert rules.order_amounts(entry, strict, 2) == (2_000, 40, 0)
    discounted = OrderInput(order_id="o", customer_id="c", completed_at_ms=T0, lines=(promo,), total_minor=4_000)
    assert rules.order_amounts(discounted, PROGRAM, 2) == (4_000, 40, 1_000)


def test_points_expire_by_lot_and_pend_through_the_return_window() -> None:
    program = LoyaltyProgram(points=PROGRAM.points.__class__(return_window_days=14))
    ledger, _ = rules.apply_order(None, order("o1", 10_000), program, 2, T0)
    ledger, _ = rules.apply_order(ledger, order("o2", 5_000, ts=T0 + 40 * rules.DAY_MS), program, 2, T0)
    assert rules.points_balance(ledger, T0 + rules.DAY_MS) == (0, 150)
    assert rules.points_balance(ledger, T0 + 41 * rules.DAY_MS) == (100, 50)
    assert rules.points_balance(ledger, T0 + 60 * rules.DAY_MS) == (150, 0)
    expires = int(datetime(2027, 3, 31, 12, tzinfo=UTC).timestamp() * 1000)
    assert rules.next_expiry(ledger, T0) == (100, expires)
    assert rules.points_balance(ledger, expires) == (50, 0)


def test_windows_count_recent_spend_only() -> None:
    old = order("old", 500_000, ts=T0 - 400 * rules.DAY_MS)
    ledger, _ = rules.apply_order(None, old, PROGRAM, 2, T0)
    ledger, _ = rules.apply_order(ledger, order("new", 100_000), PROGRAM, 2, T0)
    assert window.qualifying_spend(ledger, PROGRAM, T0) == 600_000
    assert window.qualifying_spend(ledger, LoyaltyProgram(window="rolling_365d"), T0) == 100_000
    assert window.qualifying_spend(ledger, LoyaltyProgram(window="calendar_year"), T0) == 100_000


def test_browser_engagement_is_capped_per_day() -> None:
    ledger = Ledger(customer_id="c")
    for _ in range(15):
        ledger, _ = rules.add_engagement(ledger, "add_to_cart", PROGRAM, True, T0)
    assert ledger.engagement == 100
    ledger, applied = rules.add_engagement(ledger, "add_to_cart", PROGRAM, False, T0)
    assert (applied, ledger.engagement) == (10, 110)
    ledger, applied = rules.add_engagement(ledger, "click", PROGRAM, True, T0 + rules.DAY_MS)
    assert (applied, ledger.engagement) == (5, 115)


@pytest.mark.parametrize(
    ("spend", "cart", "shown"),
    [(0, 350_000, ("bronze", 50_000)), (0, 299_999, None), (0, 300_000, ("bronze", 100_000)), (0, 400_000, None)],
)
def test_the_nudge_shows_within_a_quarter_of_the_threshold(spend: int, cart: int, shown: object) -> None:
    gap = tiers.next_tier_gap(spend, cart, None, PROGRAM, 2)
    assert (None if gap is None else (gap[0].name, gap[1])) == shown
    assert tiers.next_tier_gap(0, 2_400_000, "gold", PROGRAM, 2) is None


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert datetime.fromtimestamp(rules.add_months(T0, 11) / 1000, tz=UTC).date().isoformat() == "2027-02-28"


def test_the_program_names_what_is_inconsistent() -> None:
    with pytest.raises(ProgramError, match="'silver' threshold 3000 must exceed 'bronze' threshold 4000"):
        LoyaltyProgram(tiers=(Tier(name="bronze", threshold=4000), Tier(name="silver", threshold=3000)))
    with pytest.raises(ProgramError, match="'gold' is used more than once"):
        LoyaltyProgram(tiers=(Tier(name="gold", threshold=1), Tier(name="gold", threshold=2)))


def test_an_abandoned_cart_counts_once_and_an_order_clears_it() -> None:
    day = 24 * 3_600_000
    touched = Ledger(customer_id="c", engagement=30, cart_touched_ms=T0)
    assert rules.abandon_cart(touched, PROGRAM, T0 + day - 1) is None
    abandoned = rules.abandon_cart(touched, PROGRAM, T0 + day)
    assert abandoned is not None
    assert (abandoned.engagement, abandoned.cart_touched_ms) == (20, 0)
    assert rules.abandon_cart(abandoned, PROGRAM, T0 + 2 * day) is None
    ordered, _ = rules.apply_order(touched, order("o", 100), PROGRAM, 2, T0 + 1)
    assert rules.abandon_cart(ordered, PROGRAM, T0 + 2 * day) is None
