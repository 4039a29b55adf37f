"""Points upkeep between orders: lots that expire, the notices before they do, and the birthday coupon's day.

Each function returns a new ledger (never mutating) and what is worth telling the customer, and records in the
ledger what it did — a lot's last notice (``Lot.noticed``), the last birthday code (``birthday_coupon_ms``) — so a
run repeated for the same day changes nothing. A birthday is celebrated on its month and day (UTC), ``02-29`` on 28
February in other years; a run missed on the day still issues the code in the ``BIRTHDAY_CATCH_UP_DAYS`` after.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import msgspec

from loyalty_nudges.ledger import DAY_MS, Ledger, Lot
from loyalty_nudges.program import LoyaltyProgram
from loyalty_nudges.window import day_of

EXPIRED = -1
"""``Lot.noticed`` of a lot whose expiry was accounted for."""
BIRTHDAY_CATCH_UP_DAYS = 7
BIRTHDAY_EVERY_DAYS = 365


class Expiring(msgspec.Struct, frozen=True, kw_only=True):
    """Points that expire ``days`` (or fewer) days from now, the first of them at ``expires_at_ms``."""

    points: int
    expires_at_ms: int
    days: int


def expire_points(ledger: Ledger, now_ms: int) -> tuple[Ledger, int]:
    """The ledger with the lots past their date closed (nothing left in them), and the points that expired."""
    expired, closed, lots = 0, False, []
    for lot in ledger.lots:
        if lot.expires_at_ms <= now_ms and lot.noticed != EXPIRED:
            expired += lot.remaining
            closed = True
            lot = msgspec.structs.replace(lot, remaining=0, noticed=EXPIRED)
        lots.append(lot)
    return (msgspec.structs.replace(ledger, lots=tuple(lots)), expired) if closed else (ledger, 0)


def expiry_notices(ledger: Ledger, program: LoyaltyProgram, now_ms: int) -> tuple[Ledger, list[Expiring]]:
    """The notices due for points about to expire — once per lot and notice day (30 and 3 days before, by default;
    a lot first seen late gets only the latest notice due) — and the ledger recording them."""
    due_by_days: dict[int, list[Lot]] = {}
    lots = []
    for lot in ledger.lots:
        due = _notice_due(lot, program.points.expiry_notice_days, now_ms)
        if due is not None:
            due_by_days.setdefault(due, []).append(lot)
            lot = msgspec.structs.replace(lot, noticed=due)
        lots.append(lot)
    if not due_by_days:
        return ledger, []
    notices = [
        Expiring(points=sum(lot.remaining for lot in due), expires_at_ms=min(lot.expires_at_ms for lot in due), days=d)
        for d, due in sorted(due_by_days.items(), reverse=True)
    ]
    return msgspec.structs.replace(ledger, lots=tuple(lots)), notices


def _notice_due(lot: Lot, notice_days: tuple[int, ...], now_ms: int) -> int | None:
    if lot.remaining <= 0 or lot.expires_at_ms <= now_ms or lot.noticed == EXPIRED:
        return None
    left = math.ceil((lot.expires_at_ms - now_ms) / DAY_MS)
    reached = [days for days in notice_days if left <= days]
    if not reached:
        return None
    due = min(reached)
    return due if lot.noticed == 0 or due < lot.noticed else None


def birthday_in(year: int, birthday: str) -> date:
    """The day a ``MM-DD`` birthday is celebrated in ``year``."""
    month, day = int(birthday[:2]), int(birthday[3:])
    if (month, day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)


def birthday_due(ledger: Ledger, program: LoyaltyProgram, now_ms: int) -> bool:
    """Whether the customer's birthday code is due today: the program gives one, the record has a birthday that is
    today or was at most ``BIRTHDAY_CATCH_UP_DAYS`` ago, and the last code is at least 365 days old."""
    record = ledger.record
    if program.birthday is None or record is None or not record.birthday:
        return False
    today = day_of(now_ms)
    celebrated = birthday_in(today.year, record.birthday)
    if not timedelta(0) <= today - celebrated < timedelta(days=BIRTHDAY_CATCH_UP_DAYS):
        return False
    last = ledger.birthday_coupon_ms
    return not last or (today - day_of(last)).days >= BIRTHDAY_EVERY_DAYS
