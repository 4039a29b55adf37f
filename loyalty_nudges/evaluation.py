"""Tier evaluation when qualifying spend leaves the window, the preview of what keeps a tier, and reactivation.

Upgrades happen when an order completes (``ledger.apply_order``); this module lowers tiers, at evaluation only
(DOMAIN.md): ``rolling_365d`` programs are evaluated every day on the 365 days ending that day, ``calendar_year``
programs on the first day of a year (or the first run after it) on the year that ended; ``lifetime`` never. An
evaluation lowers a tier the window no longer reaches by at most ``evaluation.max_downgrade`` tiers. A tier reached by
an upgrade is held for a whole window first: 365 days from the upgrade, or through the year after the one it was
reached in. A tier an evaluation set is not held (``tier_since_ms == lapsed_at_ms``), so the next evaluation may lower
it again. Each evaluation is recorded in the ledger (``evaluated``), so running it twice for the same day or year
changes nothing the second time.

A customer who lost a tier regains it when, within ``reactivation_days`` of losing it, what they spent (or earned)
since reaches ``reactivation_pct`` of its threshold.
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta

import msgspec

from loyalty_nudges import tiers
from loyalty_nudges.ledger import DAY_MS, Ledger
from loyalty_nudges.program import LoyaltyProgram
from loyalty_nudges.window import ROLLING_DAYS, contributions, counted_from, day_of, start_of


class TierChange(msgspec.Struct, frozen=True, kw_only=True):
    """A tier an evaluation or a reactivation changed."""

    tier_before: str | None
    tier_after: str | None
    reason: str
    """``evaluation`` or ``reactivated``."""
    period: str = ""
    """The evaluation's day or year."""


class KeepTier(msgspec.Struct, frozen=True, kw_only=True):
    """What keeps the tier: ``missing`` more (in the basis' units) by the end of the day ``by``."""

    tier: str
    missing: int
    by: date


def period_of(program: LoyaltyProgram, today: date) -> str | None:
    """The evaluation due on ``today``: the day itself (rolling), the year that ended (calendar), none (lifetime)."""
    if program.window == "rolling_365d":
        return today.isoformat()
    if program.window == "calendar_year":
        return str(today.year - 1)
    return None


def _held(ledger: Ledger) -> bool:
    """Whether the tier came from an upgrade (held for a window), not from an evaluation that lowered it."""
    return ledger.tier_since_ms != ledger.lapsed_at_ms


def evaluate(ledger: Ledger, program: LoyaltyProgram, exponent: int, now_ms: int) -> tuple[Ledger, TierChange | None]:
    """The ledger after the evaluation due at ``now_ms``, and the change it made (none: the ledger is returned as it
    was, unwritten)."""
    today = day_of(now_ms)
    period = period_of(program, today)
    current = program.tier_named(ledger.tier)
    if period is None or current is None or _done(ledger.evaluated, period):
        return ledger, None
    items = contributions(ledger, program)
    if program.window == "rolling_365d":
        first = today - timedelta(days=ROLLING_DAYS - 1)
        measured = counted_from(items, first)
    else:
        first = date(today.year - 1, 1, 1)
        measured = counted_from(items, first) - counted_from(items, date(today.year, 1, 1))
    if _held(ledger) and ledger.tier_since_ms >= start_of(first):
        return ledger, None
    reached = tiers.tier_for(measured, program, exponent)
    now_rank, reached_rank = tiers.rank(program, current.name), tiers.rank(program, reached.name if reached else None)
    if reached_rank >= now_rank:
        return ledger, None
    after_rank = max(reached_rank, now_rank - program.evaluation.max_downgrade)
    after = program.tiers[after_rank - 1].name if after_rank else None
    earlier = ledger.lapsed_from if _regainable(ledger, program, now_ms) else None
    lost = tiers.higher(program, earlier, current.name)
    lowered = msgspec.structs.replace(
        ledger, tier=after, tier_since_ms=now_ms, evaluated=period, lapsed_from=lost, lapsed_at_ms=now_ms
    )
    return lowered, TierChange(tier_before=current.name, tier_after=after, reason="evaluation", period=period)


def _done(evaluated: str, period: str) -> bool:
    return len(evaluated) == len(period) and evaluated >= period


def _regainable(ledger: Ledger, program: LoyaltyProgram, now_ms: int) -> bool:
    days = program.evaluation.reactivation_days
    return bool(ledger.lapsed_from) and days > 0 and now_ms - ledger.lapsed_at_ms <= days * DAY_MS


def reactivate(ledger: Ledger, program: LoyaltyProgram, exponent: int, now_ms: int) -> tuple[Ledger, TierChange | None]:
    """The ledger with its lost tier back when what came since it was lost reaches ``reactivation_pct`` of the tier's
    threshold within ``reactivation_days``; as it was otherwise."""
    lost = program.tier_named(ledger.lapsed_from)
    if lost is None or not _regainable(ledger, program, now_ms):
        return ledger, None
    if tiers.rank(program, ledger.tier) >= tiers.rank(program, lost.name):
        return msgspec.structs.replace(ledger, lapsed_from=None), None
    since = sum(units for at_ms, units in contributions(ledger, program) if at_ms >= ledger.lapsed_at_ms)
    needed = program.threshold_units(lost, exponent) * program.evaluation.reactivation_pct / 100
    if since < needed:
        return ledger, None
    back = msgspec.structs.replace(ledger, tier=lost.name, tier_since_ms=now_ms, lapsed_from=None)
    return back, TierChange(tier_before=ledger.tier, tier_after=lost.name, reason="reactivated")


def keep_tier(ledger: Ledger, program: LoyaltyProgram, exponent: int, now_ms: int) -> KeepTier | None:
    """What the customer must still spend (or earn), and by which day, to keep their tier at the next evaluation
    that would lower it; ``None`` when nothing would (a lifetime window, no tier, enough in the window)."""
    tier = program.tier_named(ledger.tier)
    if tier is None or program.window == "lifetime":
        return None
    threshold = program.threshold_units(tier, exponent)
    items = sorted(contributions(ledger, program))
    today = day_of(now_ms)
    if program.window == "calendar_year":
        year_start = date(today.year, 1, 1)
        if _held(ledger) and ledger.tier_since_ms >= start_of(year_start):
            return None  # reached this year: held through next year
        missing = threshold - counted_from(items, year_start)
        return KeepTier(tier=tier.name, missing=missing, by=date(today.year, 12, 31)) if missing > 0 else None
    days = [day_of(at_ms) for at_ms, _ in items]
    suffix = [0] * (len(items) + 1)
    for index in range(len(items) - 1, -1, -1):
        suffix[index] = suffix[index + 1] + items[index][1]
    first = max(today, day_of(ledger.tier_since_ms) + timedelta(days=ROLLING_DAYS)) if _held(ledger) else today
    leaving = sorted({d + timedelta(days=ROLLING_DAYS) for d in days} | {first})
    for day in (d for d in leaving if d >= first):
        have = suffix[bisect.bisect_left(days, day - timedelta(days=ROLLING_DAYS - 1))]
        if have < threshold:
            return KeepTier(tier=tier.name, missing=threshold - have, by=max(today, day - timedelta(days=1)))
    return None
