"""Tier rules: which tier a qualifying amount reaches, the tier above, what is missing to reach it, and when a nudge
shows.

Pure functions of the program (DOMAIN.md); the ledger applies them to orders and refunds, the page to the cart.
Amounts are in the tier basis' units (:meth:`LoyaltyProgram.threshold_units`): minor units of spend, or points.
"""

from __future__ import annotations

import math

from loyalty_nudges.program import LoyaltyProgram, Tier


def tier_for(qualifying: int, program: LoyaltyProgram, exponent: int) -> Tier | None:
    """The highest tier whose threshold the qualifying amount reaches."""
    reached = [tier for tier in program.tiers if qualifying >= program.threshold_units(tier, exponent)]
    return reached[-1] if reached else None


def rank(program: LoyaltyProgram, name: str | None) -> int:
    return next((i + 1 for i, tier in enumerate(program.tiers) if tier.name == name), 0)


def higher(program: LoyaltyProgram, a: str | None, b: str | None) -> str | None:
    return a if rank(program, a) >= rank(program, b) else b


def next_tier(program: LoyaltyProgram, tier: str | None) -> Tier | None:
    """The tier just above ``tier`` (the lowest one for no tier), or ``None`` at the top."""
    return next((t for t in program.tiers if rank(program, t.name) > rank(program, tier)), None)


def missing_for(target: Tier, qualifying: int, program: LoyaltyProgram, exponent: int) -> int:
    """What is still missing to reach ``target``; 0 once reached."""
    return max(0, program.threshold_units(target, exponent) - qualifying)


def next_tier_gap(
    qualifying: int, cart: int, ledger_tier: str | None, program: LoyaltyProgram, exponent: int
) -> tuple[Tier, int] | None:
    """The next tier above the customer's and the amount still missing after what the cart adds, when a nudge should
    show: ``0 < remaining ≤ nudge_window_pct`` of its threshold (DOMAIN.md)."""
    target = next_tier(program, ledger_tier)
    if target is None:
        return None
    threshold = program.threshold_units(target, exponent)
    remaining = threshold - qualifying - cart
    window = threshold * program.nudge_window_pct / 100
    return (target, remaining) if 0 < remaining <= window else None


def units_of_spend(spend_minor: int, program: LoyaltyProgram, exponent: int) -> int:
    """What a spend adds on the program's basis: itself, or the points it earns (``per_unit`` per whole unit)."""
    if program.tier_basis == "spend":
        return spend_minor
    return int(spend_minor * program.points.per_unit // 10**exponent)


def spend_for_units(units: int, program: LoyaltyProgram, exponent: int) -> int:
    """The spend (minor units) that adds ``units`` on the program's basis: itself, or what earns that many points
    (a points basis needs purchases to earn points, which the program checks)."""
    if program.tier_basis == "spend":
        return units
    return spend_for_points(units, program, exponent) or 0


def spend_for_points(points: int, program: LoyaltyProgram, exponent: int) -> int | None:
    """The spend (minor units, whole currency units) that earns ``points``; ``None`` when purchases earn none."""
    if program.points.per_unit <= 0:
        return None
    scale: int = 10**exponent
    return math.ceil(points / program.points.per_unit) * scale
