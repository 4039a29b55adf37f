"""What the demo shop charges for a cart: the lines at catalog prices, the member discount of the customer's
tier, then a discount code on what is left. All amounts are integer minor units; a percentage is rounded half
up to the minor unit once, on the amount it applies to.

The shop's own rule, not the server's: a shop tells the server what was paid (the order's ``total``) and the
ledger counts qualifying spend up to that.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.program import Tier


class Discount(msgspec.Struct, frozen=True, kw_only=True):
    """One discount line: what it is called, what it takes off, and how it was worked out."""

    label: str
    amount_minor: int
    description: str


class CartPrice(msgspec.Struct, frozen=True, kw_only=True):
    """A cart's subtotal, its discounts and the total to pay."""

    subtotal_minor: int
    member: Discount | None
    code: Discount | None

    @property
    def discount_minor(self) -> int:
        return sum(d.amount_minor for d in (self.member, self.code) if d is not None)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor


def percent_of(amount_minor: int, pct: float) -> int:
    """``pct`` % of an amount, rounded half up to the minor unit (the percentage read as written: 12.5 is 12.5)."""
    share = Decimal(amount_minor) * Decimal(str(pct)) / 100
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_cart(
    subtotal_minor: int, tier: Tier | None, coupon: Coupon | None, format_amount: Callable[[int], str]
) -> CartPrice:
    """The member discount on the subtotal, then the code on what is left (never below zero)."""
    member = None
    if tier is not None and tier.discount_pct > 0:
        off = percent_of(subtotal_minor, tier.discount_pct)
        member = Discount(label=f"{tier.title} member {tier.discount_pct:g}%", amount_minor=off, description="")
    left = subtotal_minor - (member.amount_minor if member else 0)
    code = None
    if coupon is not None:
        if coupon.discount_pct > 0:
            off, words = percent_of(left, coupon.discount_pct), f"{coupon.discount_pct:g}% off"
        else:
            off, words = min(coupon.discount_minor, left), f"{format_amount(coupon.discount_minor)} off"
        code = Discount(label=coupon.code, amount_minor=off, description=words)
    return CartPrice(subtotal_minor=subtotal_minor, member=member, code=code)
