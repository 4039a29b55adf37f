"""The qualifying window: what counts towards a tier on a given day (DOMAIN.md, loyalty).

Days are UTC. ``lifetime`` counts everything, ``rolling_365d`` the 365 days ending today (an order leaves the window
365 days after its day), ``calendar_year`` this year. What counts is the program's tier basis: the qualifying spend of
orders (minor units, net of refunds), or the points earned (each lot as earned, net of refunds; spending points does
not undo a tier).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loyalty_nudges.ledger import Ledger
    from loyalty_nudges.program import LoyaltyProgram

ROLLING_DAYS = 365


def day_of(epoch_ms: int) -> date:
    """The UTC day of a moment: the one conversion the loyalty rules use (schedules, rewards' dates, windows)."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).date()


def start_of(day: date) -> int:
    """Midnight UTC at the start of ``day``, in epoch milliseconds."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def window_start(program: LoyaltyProgram, today: date) -> date | None:
    """The first day of the window that ends ``today`` (``None``: lifetime, no start)."""
    if program.window == "rolling_365d":
        return today - timedelta(days=ROLLING_DAYS - 1)
    if program.window == "calendar_year":
        return date(today.year, 1, 1)
    return None


def contributions(ledger: Ledger, program: LoyaltyProgram) -> list[tuple[int, int]]:
    """(epoch ms, units) of everything that counts towards a tier on the program's basis, in ledger order."""
    if program.tier_basis == "points":
        return [(lot.earned_at_ms or lot.spendable_at_ms, lot.earned) for lot in ledger.lots]
    return [(fact.ts_ms, fact.qualifying_minor) for fact in ledger.history]


def counted_from(items: list[tuple[int, int]], start: date | None) -> int:
    """The units of ``items`` on or after the day ``start`` (all of them without one)."""
    since = start_of(start) if start else None
    return sum(units for at_ms, units in items if since is None or at_ms >= since)


def qualifying(ledger: Ledger, program: LoyaltyProgram, now_ms: int) -> int:
    """What counts towards a tier in the window ending today, in the basis' units."""
    return counted_from(contributions(ledger, program), window_start(program, day_of(now_ms)))


def qualifying_spend(ledger: Ledger, program: LoyaltyProgram, now_ms: int) -> int:
    """Qualifying spend (minor units, net of refunds) in the window ending today, whatever the basis."""
    spend = [(fact.ts_ms, fact.qualifying_minor) for fact in ledger.history]
    return counted_from(spend, window_start(program, day_of(now_ms)))
