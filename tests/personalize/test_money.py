"""Money: exact minor units in, numbers out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from personalize.money import check_amount, format_amount, to_major, to_minor


@pytest.mark.parametrize(("text", "minor"), [("0", 0), ("19.99", 1999), ("0.1", 10), ("2500315.63", 250031563)])
def test_exact_conversion(text: str, minor: int) -> None:
    check_amount(Decimal(text), "price")
    assert to_minor(Decimal(text)) == minor
    assert str(to_major(minor)) == str(float(text))


@pytest.mark.parametrize(
    ("text", "words"),
    [("-0.01", "non-negative"), ("1.005", "decimal places"), ("NaN", "non-negative"), ("1e12", "largest")],
)
def test_bad_amounts_are_refused_by_name(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=f"price.*{words}"):
        check_amount(Decimal(text), "price")


def test_currencies_without_cents() -> None:
    assert to_minor(Decimal("500"), "JPY") == 500
    with pytest.raises(ValueError, match="0 decimal places for JPY"):
        check_amount(Decimal("1.5"), "price", "JPY")


def test_display() -> None:
    assert format_amount(50_000) == "$500.00"
    assert format_amount(123_456_789) == "$1,234,567.89"
