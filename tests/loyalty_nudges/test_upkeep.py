"""Points upkeep: expiry closes lots once, expiry notices go out once per lot and notice day, birthday codes once a
year on the day (28 February for 29 February in other years)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
import pytest

from loyalty_nudges.customers import CustomerRecord
from loyalty_nudges.ledger import DAY_MS, Ledger, Lot, points_balance
from loyalty_nudges.program import Birthday, LoyaltyProgram
from loyalty_nudges.upkeep import EXPIRED, birthday_due, expire_points, expiry_notices

NOW = int(datetime(2026, 12, 2, 6, tzinfo=UTC).timestamp() * 1000)
PROGRAM = LoyaltyProgram(birthday=Birthday(percent_off=15))


def lot(lot_id: str, points: int, expires_in_days: float) -> Lot:
    return Lot(lot_id, points, points, NOW - 300 * DAY_MS, NOW + int(expires_in_days * DAY_MS), NOW - 300 * DAY_MS)


def test_expiry_closes_the_lots_past_their_date_once() -> None:
    ledger = Ledger(customer_id="c", lots=(lot("a", 100, -1), lot("b", 40, 10), lot("c", 0, -2)))
    closed, expired = expire_points(ledger, NOW)
    assert expired == 100
    assert [(x.remaining, x.noticed) for x in closed.lots] == [(0, EXPIRED), (40, 0), (0, EXPIRED)]
    assert points_balance(closed, NOW) == (40, 0)
    assert expire_points(closed, NOW) == (closed, 0)


def test_expiry_notices_go_out_at_30_and_3_days_once_each() -> None:
    ledger = Ledger(customer_id="c", lots=(lot("a", 100, 29.5), lot("b", 40, 31), lot("c", 10, 2.5)))
    noticed, notices = expiry_notices(ledger, PROGRAM, NOW)
    # a lot first seen within 3 days gets only the 3-day notice
    assert [(n.days, n.points) for n in notices] == [(30, 100), (3, 10)]
    assert expiry_notices(noticed, PROGRAM, NOW) == (noticed, [])
    later, notices = expiry_notices(noticed, PROGRAM, NOW + 27 * DAY_MS)
    assert [(n.days, n.points) for n in notices] == [(30, 40), (3, 100)]
    assert expiry_notices(later, PROGRAM, NOW + 27 * DAY_MS + 3_600_000) == (later, [])


def test_spent_or_expired_lots_get_no_notice() -> None:
    spent = msgspec.structs.replace(lot("a", 100, 10), remaining=0)
    assert expiry_notices(Ledger(customer_id="c", lots=(spent, lot("b", 5, -1))), PROGRAM, NOW)[1] == []


def record(birthday: str | None) -> CustomerRecord:
    return CustomerRecord(first_name="Ann", birthday=birthday, joined_at_ms=0, updated_at_ms=0)


def day(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, 9, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("birthday", "today", "due"),
    [
        ("12-02", date(2026, 12, 2), True),
        ("12-02", date(2026, 12, 1), False),
        ("12-02", date(2026, 12, 8), True),  # a missed run catches up within the week
        ("12-02", date(2026, 12, 9), False),
        ("02-29", date(2027, 2, 28), True),
        ("02-29", date(2028, 2, 28), False),  # a leap year has the day itself
        ("02-29", date(2028, 2, 29), True),
        (None, date(2026, 12, 2), False),
    ],
)
def test_a_birthday_is_due_on_its_day(birthday: str | None, today: date, due: bool) -> None:
    assert birthday_due(Ledger(customer_id="c", record=record(birthday)), PROGRAM, day(today)) is due


def test_a_birthday_code_comes_once_per_365_days_and_only_when_the_program_gives_one() -> None:
    ledger = Ledger(customer_id="c", record=record("12-02"), birthday_coupon_ms=day(date(2026, 12, 2)))
    assert not birthday_due(ledger, PROGRAM, day(date(2026, 12, 3)))
    assert birthday_due(ledger, PROGRAM, day(date(2027, 12, 2)))
    assert not birthday_due(Ledger(customer_id="c", record=record("12-02")), LoyaltyProgram(), day(date(2026, 12, 2)))
    assert not birthday_due(Ledger(customer_id="c"), PROGRAM, day(date(2026, 12, 2)))  # erased: no record
