"""Coupon rules: the alphabet, normal form, redemption outcomes, birthdays."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from loyalty_nudges.coupons import (
    ALPHABET,
    Audience,
    Coupon,
    CouponError,
    birthday_due,
    entropy_bits,
    generate_code,
    normalize,
    redeem,
)


def test_codes_use_the_unambiguous_alphabet_and_normal_form() -> None:
    assert not set("01ILOU") & set(ALPHABET)
    codes = {generate_code(12, "vip20-") for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(f"VIP20[{ALPHABET}]{{12}}", code) for code in codes)
    assert normalize(" vip20-ab cd ") == "VIP20ABCD"
    assert round(entropy_bits(10), 1) == 49.1
    with pytest.raises(CouponError, match="below the minimum of 10"):
        generate_code(9)


def test_redemption_outcomes() -> None:
    coupon = Coupon(
        code="X",
        campaign_id="c",
        discount_pct=10,
        discount_minor=0,
        valid_from_ms=100,
        expires_at_ms=200,
        customer_id="ann",
    )
    used, refusal = redeem(coupon, "ann", "o1", 150)
    assert (refusal, used.used_by_order if used else None) == (None, "o1")
    assert redeem(used, "ann", "o1", 150) == (used, None)
    assert redeem(used, "ann", "o2", 150) == (None, "used")
    assert redeem(coupon, "bob", "o1", 150) == (None, "not_yours")
    assert redeem(coupon, "ann", "o1", 50) == (None, "not_yet_valid")
    assert redeem(coupon, "ann", "o1", 200) == (None, "expired")
    assert redeem(None, "ann", "o1", 150) == (None, "unknown")


def test_audiences_combine_conditions() -> None:
    band = Audience(min_score=60, max_score=90, tiers=("gold",))
    assert band.matches("a", "gold", 60, None)
    assert not band.matches("a", "gold", 90, None)
    assert not band.matches("a", "silver", 70, None)
    assert Audience(customer_ids=("z",)).matches("z", None, 0, None)
    assert not Audience().matches("z", None, 0, None)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_birthday_coupons_once_a_year_on_the_day() -> None:
    assert birthday_due("05-08", None, ms("2026-05-08T09:00"))
    assert not birthday_due("05-08", None, ms("2026-05-09T09:00"))
    assert not birthday_due("05-08", ms("2025-05-20T00:00"), ms("2026-05-08T09:00"))
    assert birthday_due("05-08", ms("2025-05-08T00:00"), ms("2026-05-08T09:00"))
    assert birthday_due("02-29", None, ms("2027-02-28T09:00"))
