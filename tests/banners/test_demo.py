"""The packaged demo file and the seed story's banners."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import pytest

from banners import BannerSet, Choice, TemplateValues, load_banners
from tests.banners.documents import SEGMENTS, TIERS, context

BRONZE = TemplateValues(first_name="Ada", tier="Bronze", discount_pct="10")


@pytest.fixture(scope="module")
def demo() -> BannerSet:
    data = (files("banners") / "demo_banners.toml").read_bytes()
    return load_banners(data, source="demo_banners.toml", fmt="toml", known_tiers=TIERS, known_segments=SEGMENTS)


def choose(demo: BannerSet, values: TemplateValues | None = None, **fields: Any) -> Choice:
    return demo.choose(context(**fields), values or TemplateValues())


def test_the_demo_file_loads(demo: BannerSet) -> None:
    assert demo.version == "demo-1"
    assert set(demo.ids) == {
        "fb-welcome",
        "us-free-shipping",
        "tier-welcome-back",
        "winback-we-miss-you",
        "champions-early-access",
        "engaged-20",
        "engaged-15",
    }


def test_new_facebook_visitor_from_the_us_gets_welcome_and_free_shipping(demo: BannerSet) -> None:
    choice = choose(demo, landing_source="facebook", country="US")
    by_id = {chosen.id: chosen for chosen in choice.shown}
    assert set(by_id) == {"fb-welcome", "us-free-shipping"}
    assert by_id["fb-welcome"].coupon_code == "FBWELCOME10"
    assert "10% off your first order" in by_id["fb-welcome"].text
    assert by_id["us-free-shipping"].title == "Free shipping to the US"
    assert by_id["fb-welcome"].slot != by_id["us-free-shipping"].slot


@pytest.mark.parametrize("page_type", ["category", "product", "cart"])
def test_facebook_welcome_and_shipping_follow_her_through_the_shop(demo: BannerSet, page_type: str) -> None:
    shown = {c.id for c in choose(demo, page_type=page_type, landing_source="facebook", country="US").shown}
    assert shown == {"fb-welcome", "us-free-shipping"}


def test_a_german_visitor_not_from_facebook_gets_neither(demo: BannerSet) -> None:
    shown = {c.id for c in choose(demo, landing_source="google", country="DE").shown}
    assert shown.isdisjoint({"fb-welcome", "us-free-shipping"})
    assert choose(demo, landing_source=None, country="DE").shown == []


def test_facebook_welcome_is_for_first_orders_only(demo: BannerSet) -> None:
    shown = {c.id for c in choose(demo, landing_source="facebook", has_ordered=True).shown}
    assert "fb-welcome" not in shown


def test_a_bronze_customer_is_greeted_on_the_home_page(demo: BannerSet) -> None:
    choice = choose(demo, BRONZE, tier="bronze", has_ordered=True, country="US")
    hero = [chosen for chosen in choice.shown if chosen.slot == "hero"]
    assert [chosen.title for chosen in hero] == ["Welcome back, Bronze member: 10% off"]
    assert "10% loyalty discount" in hero[0].text


def test_the_greeting_shows_for_a_returning_bronze_visitor_too(demo: BannerSet) -> None:
    shown = {c.id for c in choose(demo, BRONZE, tier="bronze", returning=True).shown}
    assert "tier-welcome-back" in shown
    assert "tier-welcome-back" not in {c.id for c in choose(demo, BRONZE, tier="bronze", page_type="cart").shown}


def test_an_anonymous_visitor_is_not_greeted_as_a_member(demo: BannerSet) -> None:
    for returning in (False, True):
        titles = [c.title for c in choose(demo, returning=returning, country="US").shown]
        assert not any("member" in title for title in titles)
    # Even with display values lying around, no tier means no greeting.
    assert "tier-welcome-back" not in {c.id for c in choose(demo, BRONZE, returning=True).shown}


def test_win_back_holds_out_half(demo: BannerSet) -> None:
    arms = [choose(demo, segment="at_risk", returning=True, subject=f"cust-{n}").exposures() for n in range(2000)]
    held = sum(("winback-we-miss-you", "holdout") in exposures for exposures in arms)
    shown = sum(("winback-we-miss-you", "control") in exposures for exposures in arms)
    assert held + shown == 2000
    assert 900 <= held <= 1100


def test_champions_early_access_has_two_variants(demo: BannerSet) -> None:
    arms = {choose(demo, segment="champions", subject=f"cust-{n}").shown[0].arm for n in range(100)}
    assert arms == {"collection", "insider"}


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (None, None),
        (30.0, None),
        (60.0, "VIPX2345678: 15% off"),
        (89.5, "VIPX2345678: 15% off"),
        (90.0, "VIPX2345678: 20% off"),
    ],
)
def test_engagement_bands_offer_personal_codes(demo: BannerSet, score: float | None, expected: str | None) -> None:
    values = TemplateValues(coupon_code="VIPX2345678")
    promo = [c for c in choose(demo, values, engagement=score).shown if c.slot == "promo"]
    assert [c.title for c in promo] == ([] if expected is None else [expected])


def test_engagement_banners_are_skipped_without_a_personal_code(demo: BannerSet) -> None:
    assert [c for c in choose(demo, engagement=95.0).shown if c.slot == "promo"] == []
