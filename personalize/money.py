"""Money on the wire is a JSON number in the shop currency; inside it is an integer of minor units."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from personalize.openapi import schema

_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
MAX_AMOUNT = Decimal("1000000000")
Amount = Annotated[Decimal, schema(type="number", minimum=0, maximum=int(MAX_AMOUNT))]
"""A wire amount: a JSON number in the shop currency, decoded exactly; :func:`check_amount` judges it."""
OptionalAmount = Annotated[
    Decimal | None, schema(type=["number", "null"], one_of=None, minimum=0, maximum=int(MAX_AMOUNT))
]
"""An :data:`Amount` or null (``one_of=None`` drops litestar's string-or-null alternatives)."""


def exponent(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (2 unless listed)."""
    return _EXPONENTS.get(currency, 2)


def check_amount(value: Decimal, name: str, currency: str = "USD") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite, non-negative amount of ``currency``."""
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a non-negative amount, got {value}")
    if value > MAX_AMOUNT:
        raise ValueError(f"{name} {value} exceeds the largest accepted amount {MAX_AMOUNT}")
    digits = exponent(currency)
    if value != value.quantize(Decimal(1).scaleb(-digits)):
        raise ValueError(f"{name} {value} has more than {digits} decimal places for {currency}")


def to_minor(value: Decimal, currency: str = "USD") -> int:
    """Exact conversion of a checked amount to minor units."""
    return int(value.scaleb(exponent(currency)))


def to_major(minor: int, currency: str = "USD") -> float:
    """A float for JSON output; its shortest repr is the exact decimal amount."""
    return float(minor) / float(10 ** exponent(currency))


def format_amount(minor: int, currency: str = "USD") -> str:
    """``50000`` → ``$500.00`` for display text."""
    digits = exponent(currency)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}.get(currency, currency + " ")
    return f"{symbol}{minor / 10**digits:,.{digits}f}"
