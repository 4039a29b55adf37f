"""Money: exact minor units in, numbers out, with the currency's own number of decimals (ISO 4217)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from personalize.money import MoneyError, check_amount, exponent, format_amount, minor_units, to_decimal, to_major


@pytest.mark.parametrize(("text", "minor"), [("0", 0), ("19.99", 1999), ("0.1", 10), ("2500315.63", 250031563)])
def test_exact_conversion(text: str, minor: int) -> None:
    check_amount(Decimal(text), "price")
    assert minor_units(Decimal(text), "USD", "price") == minor
    assert str(to_major(minor, "USD")) == str(float(text))
    assert to_decimal(minor, "USD") == Decimal(text)


@pytest.mark.parametrize(("text", "words"), [("-0.01", "non-negative"), ("NaN", "non-negative"), ("1e12", "largest")])
def test_bad_amounts_are_refused_by_name(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=f"price.*{words}"):
        check_amount(Decimal(text), "price")


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1.005", "USD"),
        ("10.004999999999999999", "USD"),  # exactly as sent: never rounded through a binary float
        ("1e-999999", "USD"),
        ("1000.99", "JPY"),
        ("10.55", "JPY"),
        ("0.5", "JPY"),
        ("1.0001", "BHD"),
    ],
)
def test_more_decimals_than_the_currency_has_is_refused_by_name(text: str, currency: str) -> None:
    check_amount(Decimal(text), "items[2].price")
    with pytest.raises(MoneyError, match=rf"items\[2\]\.price .* decimal places for {currency}") as refused:
        minor_units(Decimal(text), currency, "items[2].price")
    assert refused.value.field == "items[2].price"


def test_currencies_with_zero_two_three_and_four_decimals() -> None:
    assert (exponent("JPY"), exponent("USD"), exponent("BHD"), exponent("CLF")) == (0, 2, 3, 4)
    assert minor_units(Decimal("500"), "JPY", "price") == 500
    assert minor_units(Decimal("1.005"), "BHD", "price") == 1005
    assert minor_units(Decimal("0.0001"), "CLF", "price") == 1
    assert to_major(1005, "BHD") == 1.005
    with pytest.raises(KeyError):
        exponent("XYZ")


def test_display() -> None:
    assert format_amount(50_000, "USD") == "$500.00"
    assert format_amount(123_456_789, "USD") == "$1,234,567.89"
    assert format_amount(1000, "JPY") == "¥1,000"
    assert format_amount(1005, "BHD") == "BHD 1.005"
