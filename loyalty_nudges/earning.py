"""Bonus points of the program's earning rules (DOMAIN.md, rewards and earning): multipliers by item tag or
category, and weekly challenges, both on their schedule at the order's time.

A line earns the highest multiplier that applies to it (the new-collection one included), never their product.
A challenge is met by an order holding at least ``min_items`` matching items; its bonus is given once per customer
per ISO week, which the store records as a once-mark (:func:`challenge_mark`). Bonus points join the order's lot,
so a refund reverses them pro rata with the purchase points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyalty_nudges.program import Challenge, LoyaltyProgram
from loyalty_nudges.window import day_of

if TYPE_CHECKING:
    from loyalty_nudges.ledger import OrderInput, OrderLine


def matches(tags: tuple[str, ...], categories: tuple[str, ...], line: OrderLine) -> bool:
    """Whether a line's item carries one of ``tags`` or sits under one of ``categories`` (a whole path level)."""
    return bool(set(tags) & set(line.tags)) or any(
        line.category == c or line.category.startswith(f"{c}/") for c in categories
    )


def line_factor(line: OrderLine, program: LoyaltyProgram, at_ms: int) -> float:
    """The points multiplier of a line: the highest of the rules on at ``at_ms`` that apply, 1 without any."""
    factors = [program.points.new_collection_multiplier if line.new_collection else 1.0]
    factors += [m.factor for m in program.earning.multipliers if m.on(at_ms) and matches(m.tags, m.categories, line)]
    return max(factors)


def challenges_met(order: OrderInput, program: LoyaltyProgram) -> list[Challenge]:
    """The challenges on at the order's time whose condition the order meets."""
    met = []
    for challenge in program.earning.challenges:
        if not challenge.on(order.completed_at_ms):
            continue
        items = sum(line.quantity for line in order.lines if matches(challenge.tags, challenge.categories, line))
        if items >= challenge.min_items:
            met.append(challenge)
    return met


def challenge_mark(challenge_id: str, customer_id: str, at_ms: int) -> str:
    """The once-mark of a challenge for a customer in the ISO week of ``at_ms``: ``challenge:new-week:ann:2026-W49``."""
    year, week, _ = day_of(at_ms).isocalendar()
    return f"challenge:{challenge_id}:{customer_id}:{year}-W{week:02d}"
