"""Earning rules: tag and category multipliers on their schedule, weekly challenges, their validation."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from loyalty_nudges.earning import challenge_mark, challenges_met, line_factor
from loyalty_nudges.ledger import OrderInput, OrderLine, apply_order, apply_refund
from loyalty_nudges.program import LoyaltyProgram

MONDAY = 1_796_601_600_000  # 2026-12-07T00:00Z, ISO week 50
DAY = 86_400_000


def program(**earning: Any) -> LoyaltyProgram:
    return msgspec.convert({"earning": earning}, LoyaltyProgram)


DOUBLE_NEW = program(
    multipliers=[{"tags": ["new"], "factor": 2}, {"categories": ["women/bags"], "factor": 3, "starts": "2026-12-08"}],
    challenges=[{"id": "new-week", "title": "T", "tags": ["new"], "min_items": 2, "bonus": 100}],
)


def line(item: str, minor: int, tags: tuple[str, ...] = (), category: str = "women/dresses", qty: int = 1) -> OrderLine:
    return OrderLine(item_id=item, quantity=qty, unit_minor=minor, tags=tags, category=category)


def order(*lines: OrderLine, at: int = MONDAY, order_id: str = "o1") -> OrderInput:
    total = sum(x.amount_minor for x in lines)
    return OrderInput(order_id=order_id, customer_id="ann", completed_at_ms=at, lines=lines, total_minor=total)


def test_a_line_earns_the_highest_multiplier_that_is_on() -> None:
    bag = line("b", 10_000, ("new",), "women/bags/totes")
    assert line_factor(line("d", 1, ("new",)), DOUBLE_NEW, MONDAY) == 2
    assert line_factor(line("d", 1), DOUBLE_NEW, MONDAY) == 1
    assert line_factor(bag, DOUBLE_NEW, MONDAY) == 2  # the bags' × 3 starts on Tuesday
    assert line_factor(bag, DOUBLE_NEW, MONDAY + DAY) == 3
    assert line_factor(line("x", 1, category="women/bagsx"), DOUBLE_NEW, MONDAY + DAY) == 1  # a whole level only


def test_an_order_earns_double_on_the_new_item_only() -> None:
    _, stored = apply_order(None, order(line("n", 10_000, ("new",)), line("o", 5_000)), DOUBLE_NEW, 2, MONDAY)
    assert stored.points == 200 + 50


def test_a_challenge_needs_its_items_and_is_marked_per_iso_week() -> None:
    one = order(line("n", 10_000, ("new",)))
    two = order(line("n", 10_000, ("new",), qty=2))
    assert challenges_met(one, DOUBLE_NEW) == []
    assert [c.id for c in challenges_met(two, DOUBLE_NEW)] == ["new-week"]
    sunday = MONDAY + 6 * DAY + DAY - 1
    assert challenge_mark("new-week", "ann", MONDAY) == challenge_mark("new-week", "ann", sunday)
    assert challenge_mark("new-week", "ann", MONDAY) == "challenge:new-week:ann:2026-W50"
    assert challenge_mark("new-week", "ann", sunday + 1).endswith("2026-W51")


def test_a_refund_reverses_the_bonus_pro_rata_with_the_purchase_points() -> None:
    ledger, stored = apply_order(None, order(line("n", 10_000, ("new",))), DOUBLE_NEW, 2, MONDAY, bonus=100)
    assert stored.points == 300
    _, _, refund = apply_refund(ledger, stored, "r1", 5_000, DOUBLE_NEW, 2, MONDAY)
    assert refund.points == 150


@pytest.mark.parametrize(
    ("earning", "words"),
    [
        ({"challenges": [{"id": "c", "title": "T", "tags": ["new"], "bonus": 5, "starts": "2026-12-10",
                          "ends": "2026-12-01"}]}, "ends 2026-12-01 is before starts 2026-12-10, so it is never on"),
        ({"challenges": [{"id": "c", "title": "T", "bonus": 5}]}, "challenge 'c' needs tags or categories"),
        ({"challenges": [{"id": "c", "title": "T", "tags": ["a"], "bonus": 0}]}, r"Expected `int` >= 1"),
        ({"multipliers": [{"tags": ["a"], "factor": 1}]}, r"Expected `float` > 1.0 - at `\$.earning.multipliers\[0\]"),
        ({"multipliers": [{"tags": ["a"], "factor": 2, "colour": "red"}]}, "unknown field `colour`"),
        ({"actions": [{"name": "drop", "points": 1}, {"name": "drop", "points": 2}]}, "named more than once"),
    ],
)  # fmt: skip
def test_a_rule_that_cannot_work_is_refused_naming_it(earning: dict[str, Any], words: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=words):
        program(**earning)
