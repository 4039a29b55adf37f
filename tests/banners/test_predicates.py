"""Each condition type, true and false, through a loaded file and a real choice."""

from __future__ import annotations

from typing import Any

import pytest

from banners.predicates import page_types_of
from banners.rules import AllOf, AnyOf, Not, PageTypeIn, VisitorIs
from tests.banners.documents import NOW_MS, banner, load, shown_ids

HOUR_MS = 3_600_000


def matches(condition: dict[str, Any], **fields: Any) -> bool:
    """Whether a banner with this condition shows for a context built from ``fields``."""
    return shown_ids(load({"banners": [banner(when=condition)]}), **fields) == ["b1"]


@pytest.mark.parametrize(
    ("condition", "fields", "expected"),
    [
        ({"type": "page_type", "values": ["home", "cart"]}, {"page_type": "cart"}, True),
        ({"type": "page_type", "values": ["home", "cart"]}, {"page_type": "product"}, False),
        ({"type": "landing_source", "values": ["facebook"]}, {"landing_source": "facebook"}, True),
        ({"type": "landing_source", "values": ["facebook"]}, {"landing_source": "Facebook"}, True),
        ({"type": "landing_source", "values": ["facebook"]}, {"landing_source": "google"}, False),
        ({"type": "landing_source", "values": ["facebook"]}, {"landing_source": None}, False),
        ({"type": "country", "values": ["us"]}, {"country": "US"}, True),
        ({"type": "country", "values": ["US"]}, {"country": "us"}, True),
        ({"type": "country", "values": ["US"]}, {"country": "DE"}, False),
        ({"type": "country", "values": ["US"]}, {"country": None}, False),
        ({"type": "visitor", "value": "new"}, {"returning": False}, True),
        ({"type": "visitor", "value": "new"}, {"returning": True}, False),
        ({"type": "visitor", "value": "returning"}, {"returning": True}, True),
        ({"type": "visitor", "value": "returning"}, {"returning": False}, False),
        ({"type": "has_ordered", "value": True}, {"has_ordered": True}, True),
        ({"type": "has_ordered", "value": True}, {"has_ordered": False}, False),
        ({"type": "has_ordered", "value": False}, {"has_ordered": False}, True),
        ({"type": "tier_in", "values": ["bronze", "gold"]}, {"tier": "gold"}, True),
        ({"type": "tier_in", "values": ["bronze", "gold"]}, {"tier": "silver"}, False),
        ({"type": "tier_in", "values": ["bronze", "gold"]}, {"tier": None}, False),
        ({"type": "segment_in", "values": ["at_risk"]}, {"segment": "at_risk"}, True),
        ({"type": "segment_in", "values": ["at_risk"]}, {"segment": "champions"}, False),
        ({"type": "segment_in", "values": ["at_risk"]}, {"segment": None}, False),
        ({"type": "engagement", "min": 60}, {"engagement": 75.0}, True),
        ({"type": "engagement", "min": 60}, {"engagement": 10.0}, False),
        ({"type": "cart_total", "min": 100}, {"cart_total_minor": 20_000}, True),
        ({"type": "cart_total", "min": 100}, {"cart_total_minor": 5_000}, False),
        ({"type": "locale", "values": ["en"]}, {"locale": "en-US"}, True),
        ({"type": "locale", "values": ["en"]}, {"locale": "de-DE"}, False),
        ({"type": "schedule", "ends_at": "2027-01-01T00:00:00Z"}, {}, True),
        ({"type": "schedule", "ends_at": "2025-01-01T00:00:00Z"}, {}, False),
    ],
)
def test_each_condition_type(condition: dict[str, Any], fields: dict[str, Any], expected: bool) -> None:
    assert matches(condition, **fields) is expected


@pytest.mark.parametrize(
    ("tier", "expected"),
    [(None, True), ("bronze", False), ("gold", True), ("silver", False)],
)
def test_none_tier_matches_a_visitor_without_a_tier(tier: str | None, expected: bool) -> None:
    assert matches({"type": "tier_in", "values": ["none", "gold"]}, tier=tier) is expected


NEW_FROM_FACEBOOK = {
    "type": "all",
    "conditions": [
        {"type": "landing_source", "values": ["facebook"]},
        {"type": "not", "condition": {"type": "visitor", "value": "returning"}},
        {"type": "any", "conditions": [{"type": "country", "values": ["US"]}, {"type": "locale", "values": ["en"]}]},
    ],
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"landing_source": "facebook", "country": "US"}, True),
        ({"landing_source": "facebook", "country": "GB", "locale": "en-GB"}, True),
        ({"landing_source": "facebook", "country": "DE", "locale": "de-DE"}, False),
        ({"landing_source": "facebook", "country": "US", "returning": True}, False),
        ({"landing_source": "google", "country": "US"}, False),
    ],
)
def test_all_any_not_nest(fields: dict[str, Any], expected: bool) -> None:
    assert matches(NEW_FROM_FACEBOOK, **fields) is expected


def test_not_of_not_is_the_condition() -> None:
    condition = {"type": "not", "condition": {"type": "not", "condition": {"type": "country", "values": ["US"]}}}
    assert matches(condition, country="US")
    assert not matches(condition, country="FR")


@pytest.mark.parametrize(
    ("score", "expected"),
    [(None, False), (59.999, False), (60.0, True), (89.999, True), (90.0, False), (-5.0, False)],
)
def test_engagement_min_inclusive_max_exclusive_and_anonymous_fails(score: float | None, expected: bool) -> None:
    assert matches({"type": "engagement", "min": 60, "max": 90}, engagement=score) is expected


def test_engagement_without_min_still_needs_a_score() -> None:
    assert matches({"type": "engagement", "max": 10}, engagement=-100.0)
    assert not matches({"type": "engagement", "max": 10}, engagement=None)


@pytest.mark.parametrize(
    ("minor", "expected"),
    [(4998, False), (4999, True), (10_000, True), (10_000_00, True), (100_000_00, False), (100_000_01, False)],
)
def test_cart_total_compares_exactly_in_minor_units(minor: int, expected: bool) -> None:
    assert matches({"type": "cart_total", "min": 49.99, "max": 100000}, cart_total_minor=minor) is expected


def test_cart_total_uses_the_currency_exponent() -> None:
    doc = {"banners": [banner(when={"type": "cart_total", "min": 5000})]}
    yen = load(doc, currency_exponent=0)
    assert shown_ids(yen, cart_total_minor=5000) == ["b1"]
    assert shown_ids(yen, cart_total_minor=4999) == []
    three = load({"banners": [banner(when={"type": "cart_total", "min": 1.234})]}, currency_exponent=3)
    assert shown_ids(three, cart_total_minor=1234) == ["b1"]
    assert shown_ids(three, cart_total_minor=1233) == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", True), ("en-US", True), ("EN_gb", True), ("eng", False), ("de-DE", False), (None, False)],
)
def test_locale_is_a_case_insensitive_subtag_prefix(locale: str | None, expected: bool) -> None:
    assert matches({"type": "locale", "values": ["en", "pt-BR"]}, locale=locale) is expected


def test_locale_with_region_does_not_match_other_regions() -> None:
    condition = {"type": "locale", "values": ["pt-BR"]}
    assert matches(condition, locale="pt-br")
    assert not matches(condition, locale="pt-PT")
    assert not matches(condition, locale="pt")


@pytest.mark.parametrize(
    ("offset_ms", "expected"),
    [(-1, False), (0, True), (HOUR_MS - 1, True), (HOUR_MS, False)],
)
def test_schedule_window_start_inclusive_end_exclusive(offset_ms: int, expected: bool) -> None:
    condition = {"type": "schedule", "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-01T01:00:00Z"}
    assert matches(condition, now_ms=NOW_MS + offset_ms) is expected


@pytest.mark.parametrize(
    ("offset_ms", "expected"),
    [(-1, False), (0, True), (HOUR_MS - 1, True), (HOUR_MS, False)],
)
def test_banner_window_start_inclusive_end_exclusive(offset_ms: int, expected: bool) -> None:
    # The same instants written with an offset: 02:00+02:00 is midnight UTC.
    doc = {"banners": [banner(starts_at="2026-01-01T02:00:00+02:00", ends_at="2026-01-01T01:00:00Z")]}
    assert (shown_ids(load(doc), now_ms=NOW_MS + offset_ms) == ["b1"]) is expected


def test_open_ended_windows() -> None:
    starts = load({"banners": [banner(starts_at="2026-01-01T00:00:00Z")]})
    assert shown_ids(starts, now_ms=NOW_MS + 10**12) == ["b1"]
    assert shown_ids(starts, now_ms=NOW_MS - 1) == []


def test_page_types_of() -> None:
    home, cart = PageTypeIn(values=("home", "cart")), PageTypeIn(values=("cart", "product"))
    visitor = VisitorIs(value="new")
    assert page_types_of(None) is None
    assert page_types_of(home) == frozenset({"home", "cart"})
    assert page_types_of(AllOf(conditions=(visitor, home, cart))) == frozenset({"cart"})
    assert page_types_of(AllOf(conditions=(visitor, AllOf(conditions=(home,))))) == frozenset({"home", "cart"})
    assert page_types_of(AllOf(conditions=(visitor,))) is None
    assert page_types_of(AnyOf(conditions=(home, cart))) == frozenset({"home", "cart", "product"})
    assert page_types_of(AnyOf(conditions=(home, visitor))) is None
    assert page_types_of(Not(condition=home)) is None
