"""Money on the wire is a JSON number in the shop currency; inside it is an integer of minor units.

The number of minor-unit digits is the currency's own (ISO 4217: 0 for JPY, 2 for USD, 3 for BHD, 4 for CLF). A
wire amount is decoded exactly (``personalize.api.bodies``) and converted by :func:`minor_units`, which refuses
an amount with more decimals than the currency has, naming the field: nothing is rounded, ever.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from personalize.openapi import schema

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE "
    "CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD "
    "HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU "
    "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG "
    "SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES "
    "WST XCD XCG YER ZAR ZMW ZWG ZWL"
)
EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}
"""Minor-unit digits of every active ISO 4217 currency (funds codes included; metals and testing codes, which have
no minor unit, are not currencies a shop sells in)."""
MAX_AMOUNT = Decimal("1000000000")
Amount = Annotated[Decimal, schema(type="number", minimum=0, maximum=int(MAX_AMOUNT))]
"""A wire amount: a JSON number in the shop currency, decoded exactly; :func:`check_amount` judges it."""
OptionalAmount = Annotated[
    Decimal | None, schema(type=["number", "null"], one_of=None, minimum=0, maximum=int(MAX_AMOUNT))
]
"""An :data:`Amount` or null (``one_of=None`` drops litestar's string-or-null alternatives)."""


class MoneyError(ValueError):
    """An amount the shop currency cannot hold exactly; ``field`` names where it was given."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def exponent(currency: str) -> int:
    """Minor-unit digits of ``currency``; raises ``KeyError`` for a code that is not ISO 4217."""
    return EXPONENTS[currency]


def check_currency(currency: str, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``currency`` is an ISO 4217 code."""
    if currency not in EXPONENTS:
        raise ValueError(f"{name} {currency!r} is not an ISO 4217 currency code")


def check_amount(value: Decimal, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite, non-negative amount (its decimal places
    are judged against the shop currency by :func:`minor_units`)."""
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a non-negative amount, got {value}")
    if value > MAX_AMOUNT:
        raise ValueError(f"{name} {value} exceeds the largest accepted amount {MAX_AMOUNT}")


def minor_units(value: Decimal, currency: str, name: str) -> int:
    """The exact minor units of a checked amount; :class:`MoneyError` naming ``name`` when it has more decimal places
    than ``currency`` (``1000.99`` JPY, ``10.005`` USD, ``1e-999999`` anywhere)."""
    digits = exponent(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{name} {value} has more than {digits} decimal places for {currency}", name)
    return int(scaled)


def to_major(minor: int, currency: str) -> float:
    """A float for JSON output; its shortest repr is the exact decimal amount."""
    return float(minor) / float(10 ** exponent(currency))


def to_decimal(minor: int, currency: str) -> Decimal:
    """The exact wire amount of ``minor`` units."""
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor: int, currency: str) -> str:
    """``50000`` → ``$500.00`` for display text."""
    digits = exponent(currency)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}.get(currency, currency + " ")
    return f"{symbol}{to_decimal(minor, currency):,.{digits}f}"
