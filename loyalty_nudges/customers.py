"""A customer's record — the personal data a shop sends so messages can greet and reach them — and its rules.

The record rides in the customer's ledger (one read on a page view serves both the standing and ``{first_name}``).
Erasing a customer drops the record and keeps only what accounting needs of the ledger (orders, points, tier).
A birthday is a month and a day only (``MM-DD``; ``02-29`` is celebrated on 28 February in other years).

Exceptions::

    LoyaltyError (program.py)
    └── RecordError        a field a record cannot have (names it)
"""

from __future__ import annotations

from datetime import date
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr

import msgspec

from loyalty_nudges.program import LoyaltyError


class RecordError(LoyaltyError):
    """A value a customer record cannot hold; ``field`` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class CustomerRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a shop told us about a customer; times are epoch milliseconds."""

    first_name: str | None = None
    email: str | None = None
    birthday: str | None = None
    """``MM-DD``."""
    country: str | None = None
    locale: str | None = None
    email_consent: bool = False
    consent_at_ms: int | None = None
    """When the consent now on record was given (or withdrawn)."""
    joined_at_ms: int
    updated_at_ms: int


def check_email(address: str, field: str = "email") -> str:
    """The address as given when the standard library's parser reads one whole ``local@domain`` out of it."""
    name, parsed = parseaddr(address)
    try:
        Address(addr_spec=parsed)
    except (ValueError, IndexError, HeaderParseError):
        parsed = ""
    if name or parsed != address or "@" not in parsed or "." not in parsed.rpartition("@")[2]:
        raise RecordError(f"{field} {address!r} is not an e-mail address (local@domain.tld)", field)
    return address


def check_birthday(value: str, field: str = "birthday") -> str:
    """``MM-DD`` of a day that exists in a leap year (``02-29`` is one)."""
    month, sep, day = value.partition("-")
    try:
        if not (sep and len(month) == 2 and len(day) == 2):
            raise ValueError
        date(2024, int(month), int(day))
    except ValueError:
        raise RecordError(f"{field} {value!r} must be a real month and day written MM-DD (e.g. 07-14)", field) from None
    return value
