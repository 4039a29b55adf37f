"""Tier rules: which tier a spend reaches, the tier above, what is missing to reach it, and when a nudge shows.

Pure functions of the program (DOMAIN.md); the ledger applies them to orders and refunds, the page to the
cart.
"""

from __future__ import annotations

from loyalty_nudges.program import LoyaltyProgram, Tier


def tier_for(spend_minor: int, program: LoyaltyProgram, exponent: int) -> Tier | None:
    """The highest tier whose threshold the spend reaches."""
    reached = [tier for tier in program.tiers if spend_minor >= program.threshold_minor(tier, exponent)]
    return reached[-1] if reached else None


def rank(program: LoyaltyProgram, name: str | None) -> int:
    return next((i + 1 for i, tier in enumerate(program.tiers) if tier.name == name), 0)


def higher(program: LoyaltyProgram, a: str | None, b: str | None) -> str | None:
    return a if rank(program, a) >= rank(program, b) else b


def next_tier(program: LoyaltyProgram, tier: str | None) -> Tier | None:
    """The tier just above ``tier`` (the lowest one for no tier), or ``None`` at the top."""
    return next((t for t in program.tiers if rank(program, t.name) > rank(program, tier)), None)


def missing_for(target: Tier, qualifying_minor: int, program: LoyaltyProgram, exponent: int) -> int:
    """Qualifying spend (minor units) still missing to reach ``target``; 0 once reached."""
    return max(0, program.threshold_minor(target, exponent) - qualifying_minor)


def next_tier_gap(
    qualifying_minor: int, cart_minor: int, ledger_tier: str | None, program: LoyaltyProgram, exponent: int
) -> tuple[Tier, int] | None:
    """The next tier above the customer's and the amount still missing, when a nudge should show:
    ``0 < remaining ≤ nudge_window_pct`` of its threshold (DOMAIN.md)."""
    target = next_tier(program, ledger_tier)
    if target is None:
        return None
    threshold = program.threshold_minor(target, exponent)
    remaining = threshold - qualifying_minor - cart_minor
    window = threshold * program.nudge_window_pct / 100
    return (target, remaining) if 0 < remaining <= window else None
