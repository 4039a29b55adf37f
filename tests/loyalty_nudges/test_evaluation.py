"""Tier evaluation: downgrades on the right day and not before, at most ``max_downgrade`` tiers, once per period; the
preview of what keeps a tier; reactivation; a points tier basis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from loyalty_nudges import ledger as rules
from loyalty_nudges import window
from loyalty_nudges.evaluation import evaluate, keep_tier, reactivate
from loyalty_nudges.ledger import Ledger, OrderInput, OrderLine
from loyalty_nudges.program import Evaluation, LoyaltyProgram, PointsRules, ProgramError, Tier

ROLLING = LoyaltyProgram(window="rolling_365d")
CALENDAR = LoyaltyProgram(window="calendar_year")
DAY = 86_400_000


def at(day: date, hour: int = 12) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp() * 1000)


def buy(ledger: Ledger | None, order_id: str, dollars: int, day: date, program: LoyaltyProgram) -> Ledger:
    lines = (OrderLine(item_id="x", quantity=1, unit_minor=dollars * 100),)
    order = OrderInput(
        order_id=order_id, customer_id="c", completed_at_ms=at(day), lines=lines, total_minor=dollars * 100
    )
    return rules.apply_order(ledger, order, program, 2, at(day))[0]


def test_a_rolling_silver_customer_is_downgraded_the_day_the_spend_leaves_the_window_and_not_before() -> None:
    bought = date(2025, 12, 10)
    ledger = buy(None, "o1", 10_000, bought, ROLLING)
    ledger = buy(ledger, "o2", 500, bought + timedelta(days=200), ROLLING)
    assert ledger.tier == "silver"
    last_day = bought + timedelta(days=364)
    for day in (bought + timedelta(days=1), last_day - timedelta(days=1), last_day):
        assert evaluate(ledger, ROLLING, 2, at(day, 23)) == (ledger, None), day
    lowered, change = evaluate(ledger, ROLLING, 2, at(last_day + timedelta(days=1), 0))
    assert change is not None
    assert (change.tier_before, change.tier_after, change.period) == (
        "silver",
        "bronze",
        "2026-12-10",
    )
    assert (lowered.tier, lowered.lapsed_from, lowered.evaluated) == ("bronze", "silver", "2026-12-10")
    assert evaluate(lowered, ROLLING, 2, at(last_day + timedelta(days=1), 18)) == (lowered, None)  # once per day


def test_the_preview_names_the_amount_and_the_last_day_that_keep_the_tier() -> None:
    bought = date(2025, 12, 10)
    ledger = buy(None, "o1", 10_000, bought, ROLLING)
    ledger = buy(ledger, "o2", 500, bought + timedelta(days=200), ROLLING)
    keep = keep_tier(ledger, ROLLING, 2, at(date(2026, 11, 1)))
    assert keep is not None
    assert (keep.tier, keep.missing, keep.by) == ("silver", 950_000, date(2026, 12, 9))
    # spending what it names, by that day, keeps the tier at the evaluation that would have lowered it
    kept = buy(ledger, "o3", 9_500, date(2026, 12, 9), ROLLING)
    assert evaluate(kept, ROLLING, 2, at(date(2026, 12, 10), 0)) == (kept, None)
    assert keep_tier(kept, ROLLING, 2, at(date(2026, 12, 10))) is not None  # o2 leaves later: the next deadline
    assert keep_tier(kept, ROLLING, 2, at(date(2026, 12, 10))).by == date(2027, 6, 27)  # type: ignore[union-attr]


def test_a_lifetime_program_is_never_evaluated_and_never_previews() -> None:
    ledger = buy(None, "o1", 10_000, date(2020, 1, 1), LoyaltyProgram())
    assert evaluate(ledger, LoyaltyProgram(), 2, at(date(2026, 1, 1))) == (ledger, None)
    assert keep_tier(ledger, LoyaltyProgram(), 2, at(date(2026, 1, 1))) is None


def test_a_calendar_year_tier_is_held_through_the_next_year_then_evaluated_on_the_year_that_ended() -> None:
    ledger = buy(None, "o1", 25_000, date(2025, 6, 1), CALENDAR)
    assert ledger.tier == "gold"
    assert evaluate(ledger, CALENDAR, 2, at(date(2026, 1, 1), 1)) == (ledger, None)  # reached in 2025: held
    assert keep_tier(ledger, CALENDAR, 2, at(date(2025, 12, 1))) is None
    ledger = buy(ledger, "o2", 12_000, date(2026, 3, 1), CALENDAR)
    keep = keep_tier(ledger, CALENDAR, 2, at(date(2026, 12, 1)))
    assert keep is not None
    assert (keep.tier, keep.missing, keep.by) == ("gold", 1_300_000, date(2026, 12, 31))
    assert evaluate(ledger, CALENDAR, 2, at(date(2026, 12, 31), 23)) == (ledger, None)
    lowered, change = evaluate(ledger, CALENDAR, 2, at(date(2027, 1, 1), 0))
    assert change is not None
    assert (lowered.tier, change.period) == ("silver", "2026")
    assert evaluate(lowered, CALENDAR, 2, at(date(2027, 5, 1))) == (lowered, None)  # 2026 is done
    # a tier an evaluation set is not held: with nothing bought in 2027 it drops again at the next year's end
    again, change = evaluate(lowered, CALENDAR, 2, at(date(2028, 1, 1)))
    assert change is not None
    assert again.tier == "bronze"


@pytest.mark.parametrize(("max_downgrade", "after"), [(1, "silver"), (2, "bronze"), (3, None)])
def test_an_evaluation_lowers_by_at_most_the_tiers_the_program_names(max_downgrade: int, after: str | None) -> None:
    program = LoyaltyProgram(window="rolling_365d", evaluation=Evaluation(max_downgrade=max_downgrade))
    ledger = buy(None, "o1", 30_000, date(2025, 1, 1), program)
    lowered, change = evaluate(ledger, program, 2, at(date(2026, 1, 1)))
    assert change is not None
    assert (lowered.tier, lowered.lapsed_from) == (after, "gold")


def test_a_customer_who_lost_a_tier_regains_it_by_spending_the_share_within_the_days() -> None:
    program = LoyaltyProgram(window="rolling_365d", evaluation=Evaluation(reactivation_days=90, reactivation_pct=50))
    ledger = buy(None, "o1", 10_000, date(2025, 1, 1), program)
    lowered, _ = evaluate(ledger, program, 2, at(date(2026, 1, 1)))
    assert (lowered.tier, lowered.lapsed_from) == ("bronze", "silver")
    some = buy(lowered, "o2", 4_999, date(2026, 2, 1), program)
    assert reactivate(some, program, 2, at(date(2026, 2, 2))) == (some, None)  # 49.99 % of the threshold
    enough = buy(some, "o3", 1, date(2026, 2, 3), program)
    back, change = reactivate(enough, program, 2, at(date(2026, 2, 4)))
    assert change is not None
    assert (change.tier_before, change.tier_after, change.reason) == (
        "bronze",
        "silver",
        "reactivated",
    )
    assert (back.tier, back.lapsed_from) == ("silver", None)
    assert evaluate(back, program, 2, at(date(2026, 2, 5))) == (back, None)  # regained: held for a window
    late = buy(lowered, "o4", 6_000, date(2026, 4, 2), program)  # 91 days after losing it
    assert reactivate(late, program, 2, at(date(2026, 4, 2))) == (late, None)
    assert (
        reactivate(enough, LoyaltyProgram(window="rolling_365d"), 2, at(date(2026, 2, 4)))[1] is None
    )  # off by default


POINTS = LoyaltyProgram(
    window="rolling_365d",
    tier_basis="points",
    tiers=(Tier(name="silver", threshold=500, discount_pct=5), Tier(name="gold", threshold=2000, discount_pct=10)),
)


def test_a_points_basis_counts_points_earned_in_the_window_not_money() -> None:
    ledger = buy(None, "o1", 499, date(2026, 1, 10), POINTS)
    assert (ledger.tier, window.qualifying(ledger, POINTS, at(date(2026, 1, 10)))) == (None, 499)
    ledger = buy(ledger, "o2", 1, date(2026, 1, 11), POINTS)
    assert ledger.tier == "silver"
    keep = keep_tier(ledger, POINTS, 2, at(date(2026, 12, 1)))
    # silver is held for a window from the upgrade (11 Jan): both orders have left by the first evaluation that can
    # lower it, so the preview asks for the whole threshold by the day before
    assert keep is not None
    assert (keep.missing, keep.by) == (500, date(2027, 1, 10))
    assert evaluate(ledger, POINTS, 2, at(date(2027, 1, 10))) == (ledger, None)
    lowered, change = evaluate(ledger, POINTS, 2, at(date(2027, 1, 11)))
    assert change is not None
    assert lowered.tier is None


def test_a_points_basis_needs_whole_points_thresholds_and_points_per_purchase() -> None:
    with pytest.raises(ProgramError, match=r"tiers\[0\]\.threshold"):
        LoyaltyProgram(tier_basis="points", tiers=(Tier(name="silver", threshold=10.5),))
    with pytest.raises(ProgramError, match=r"points\.per_unit"):
        LoyaltyProgram(tier_basis="points", points=PointsRules(per_unit=0))
