"""The demo shop's prices: the member discount, then a code on what is left, rounded half up once each."""

from __future__ import annotations

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.program import Tier
from personalize.demo.checkout import percent_of, price_cart

BRONZE = Tier(name="bronze", threshold=4000, discount_pct=10)


def code(pct: float = 0, minor: int = 0) -> Coupon:
    return Coupon(
        code="FB10", campaign_id="c", discount_pct=pct, discount_minor=minor, valid_from_ms=0, expires_at_ms=1
    )


def fmt(minor: int) -> str:
    return f"${minor / 100:.2f}"


def test_percentages_round_half_up_to_the_minor_unit() -> None:
    assert percent_of(79_000, 10) == 7_900
    assert percent_of(105, 10) == 11  # 10.5 → 11
    assert percent_of(104, 10) == 10
    assert percent_of(1_999, 12.5) == 250  # 249.875
    assert percent_of(0, 20) == 0


def test_the_member_discount_comes_first_and_the_code_applies_to_what_is_left() -> None:
    price = price_cart(79_000, BRONZE, code(pct=10), fmt)
    assert price.member is not None
    assert price.member.amount_minor == 7_900
    assert price.code is not None
    assert price.code.amount_minor == 7_110
    assert (price.discount_minor, price.total_minor) == (15_010, 63_990)
    assert price.member.label == "Bronze member 10%"
    assert price.code.description == "10% off"


def test_an_amount_code_never_takes_the_total_below_zero() -> None:
    price = price_cart(1_500, None, code(minor=2_000), fmt)
    assert price.member is None
    assert price.code is not None
    assert price.code.amount_minor == 1_500
    assert price.total_minor == 0
    assert price.code.description == "$20.00 off"


def test_nothing_off_without_a_tier_discount_or_a_code() -> None:
    price = price_cart(12_345, Tier(name="basic", threshold=0, discount_pct=0), None, fmt)
    assert (price.member, price.code, price.total_minor) == (None, None, 12_345)
