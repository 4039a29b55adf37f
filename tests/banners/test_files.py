"""Loading: every kind of file error names the source, the banner and the field, in TOML and in JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest

from banners import BannerError, BannerFileError, load_banners
from banners.files import Format
from tests.banners.documents import SEGMENTS, TIERS, banner, encode, load

FORMATS: list[Format] = ["toml", "json"]
FB = "fb-welcome"


def when(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "all", "conditions": list(conditions)}


# (case, banners, expected banner label, expected field, expected detail fragment)
CASES: list[tuple[str, list[dict[str, Any]], str, str, str]] = [
    ("unknown field", [banner(FB, colour="red")], f"'{FB}'", "colour", "unknown field 'colour'"),
    (
        "unknown field in a condition",
        [banner(FB, when=when({"type": "country", "values": ["US"], "region": "x"}))],
        f"'{FB}'",
        "when.conditions[0].region",
        "unknown field 'region'",
    ),
    (
        "unknown condition type",
        [banner(FB, when={"type": "weather", "values": ["sunny"]})],
        f"'{FB}'",
        "when.type",
        "Invalid value 'weather'",
    ),
    ("bad type", [banner(FB, priority="high")], f"'{FB}'", "priority", "Expected 'int', got 'str'"),
    ("bad date", [banner(FB, starts_at="2026-13-01T00:00:00Z")], f"'{FB}'", "starts_at", "Invalid RFC3339"),
    ("date without zone", [banner(FB, ends_at="2026-01-01T00:00:00")], f"'{FB}'", "ends_at", "timezone"),
    (
        "impossible banner window",
        [banner(FB, starts_at="2026-02-01T00:00:00Z", ends_at="2026-01-01T00:00:00Z")],
        f"'{FB}'",
        "ends_at",
        "impossible date window",
    ),
    (
        "empty banner window",
        [banner(FB, starts_at="2026-01-01T00:00:00Z", ends_at="2026-01-01T00:00:00Z")],
        f"'{FB}'",
        "ends_at",
        "impossible date window",
    ),
    (
        "impossible schedule",
        [
            banner(
                FB,
                when={
                    "type": "not",
                    "condition": {
                        "type": "schedule",
                        "starts_at": "2026-02-01T00:00:00Z",
                        "ends_at": "2026-01-31T23:59:59Z",
                    },
                },
            )
        ],
        f"'{FB}'",
        "when.condition.ends_at",
        "impossible date window",
    ),
    (
        "unknown tier",
        [banner(FB, when=when({"type": "visitor", "value": "new"}, {"type": "tier_in", "values": ["platinum"]}))],
        f"'{FB}'",
        "when.conditions[1].values",
        "unknown tier 'platinum' (known: bronze, silver, gold)",
    ),
    (
        "unknown segment",
        [banner(FB, when={"type": "any", "conditions": [{"type": "segment_in", "values": ["whales"]}]})],
        f"'{FB}'",
        "when.conditions[0].values",
        "unknown segment 'whales' (known: hibernating, at_risk",
    ),
    ("unknown token", [banner(FB, text="Hi {name}")], f"'{FB}'", "text", "unknown token '{name}'"),
    (
        "unknown token in a variant",
        [banner(FB, variants=[{"name": "a"}, {"name": "b", "title": "{stars} stars"}])],
        f"'{FB}'",
        "variants[1].title",
        "unknown token '{stars}'",
    ),
    ("unbalanced brace", [banner(FB, title="50% off {")], f"'{FB}'", "title", "unbalanced '{'"),
    ("duplicate id", [banner(FB), banner("other"), banner(FB)], f"'{FB}'", "id", "duplicate id (banner #1 has it too)"),
    (
        "duplicate variant name",
        [banner(FB, variants=[{"name": "a"}, {"name": "a", "title": "x"}])],
        f"'{FB}'",
        "variants[1].name",
        "duplicate variant name 'a'",
    ),
    ("reserved variant name", [banner(FB, variants=[{"name": "holdout"}])], f"'{FB}'", "variants[0].name", "reserved"),
    ("zero weight", [banner(FB, variants=[{"name": "a", "weight": 0}])], f"'{FB}'", "variants[0].weight", "> 0"),
    ("bad URL", [banner(FB, link="javascript:alert(1)")], f"'{FB}'", "link", "bad URL 'javascript:alert(1)'"),
    ("protocol-relative URL", [banner(FB, image="//evil.example/x.png")], f"'{FB}'", "image", "bad URL"),
    ("URL with a space", [banner(FB, link="https://shop.example/a b")], f"'{FB}'", "link", "bad URL"),
    (
        "bad URL in a variant",
        [banner(FB, variants=[{"name": "a", "image": "data:image/png;base64,xx"}])],
        f"'{FB}'",
        "variants[0].image",
        "bad URL",
    ),
    ("empty all", [banner(FB, when={"type": "all", "conditions": []})], f"'{FB}'", "when.conditions", "length >= 1"),
    (
        "empty any",
        [banner(FB, when=when({"type": "any", "conditions": []}))],
        f"'{FB}'",
        "when.conditions[0].conditions",
        "length >= 1",
    ),
    ("empty values", [banner(FB, when={"type": "country", "values": []})], f"'{FB}'", "when.values", "length >= 1"),
    ("bad country", [banner(FB, when={"type": "country", "values": ["USA"]})], f"'{FB}'", "when.values[0]", "regex"),
    (
        "bad page type",
        [banner(FB, when={"type": "page_type", "values": ["blog"]})],
        f"'{FB}'",
        "when.values[0]",
        "Invalid enum value 'blog'",
    ),
    ("bounds missing", [banner(FB, when={"type": "engagement"})], f"'{FB}'", "when", "give min, max or both"),
    ("points bounds missing", [banner(FB, when={"type": "points"})], f"'{FB}'", "when", "give min, max or both"),
    (
        "empty points range",
        [banner(FB, when={"type": "points", "min": 500, "max": 500})],
        f"'{FB}'",
        "when.max",
        "empty range",
    ),
    ("negative points", [banner(FB, when={"type": "points", "min": -1})], f"'{FB}'", "when.min", ">= 0"),
    (
        "reward within reach not a bool",
        [banner(FB, when={"type": "reward_within_reach", "value": "yes"})],
        f"'{FB}'",
        "when.value",
        "Expected 'bool', got 'str'",
    ),
    (
        "empty range",
        [banner(FB, when={"type": "cart_total", "min": 100, "max": 50})],
        f"'{FB}'",
        "when.max",
        "empty range",
    ),
    (
        "sub-cent amount",
        [banner(FB, when={"type": "cart_total", "min": 10.005})],
        f"'{FB}'",
        "when.min",
        "more decimal places than the currency's 2",
    ),
    ("holdout over 100", [banner(FB, holdout_pct=150)], f"'{FB}'", "holdout_pct", "<= 100"),
    ("long title", [banner(FB, title="x" * 301)], f"'{FB}'", "title", "length <= 300"),
    ("long text", [banner(FB, text="x" * 1001)], f"'{FB}'", "text", "length <= 1000"),
    ("missing title", [{"id": FB, "slot": "hero"}], f"'{FB}'", "title", "missing required field 'title'"),
    ("missing id", [banner(), {"slot": "hero", "title": "x"}], "#2", "id", "missing required field 'id'"),
    ("bad id", [banner("Bad Id!")], "#1", "id", "regex"),
    ("bad slot", [banner(FB, slot="Hero Area")], f"'{FB}'", "slot", "regex"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("case", "banners", "label", "field", "detail"), CASES, ids=[case[0] for case in CASES])
def test_file_errors_name_source_banner_and_field(
    fmt: Format, case: str, banners: list[dict[str, Any]], label: str, field: str, detail: str
) -> None:
    with pytest.raises(BannerFileError) as raised:
        load({"banners": banners}, fmt)
    message = str(raised.value)
    assert message.startswith(f"banners.{fmt}: banner {label}: field '{field}': "), message
    assert detail in message
    assert raised.value.source == f"banners.{fmt}"
    assert raised.value.field == field


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_documented_message_exactly(fmt: Format) -> None:
    doc = {
        "banners": [
            banner(FB, when=when({"type": "visitor", "value": "new"}, {"type": "tier_in", "values": ["platinum"]}))
        ]
    }
    with pytest.raises(BannerFileError) as raised:
        load_banners(encode(doc, fmt), source="banners.toml", fmt=fmt, known_tiers=TIERS, known_segments=SEGMENTS)
    assert str(raised.value) == (
        "banners.toml: banner 'fb-welcome': field 'when.conditions[1].values': "
        "unknown tier 'platinum' (known: bronze, silver, gold)"
    )
    assert (raised.value.banner, raised.value.index) == ("fb-welcome", 0)
    assert isinstance(raised.value, BannerError)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_level_errors_name_the_field(fmt: Format) -> None:
    with pytest.raises(BannerFileError, match=re.escape(f"banners.{fmt}: field 'slots.promo.max': Expected 'int'")):
        load({"slots": {"hero": {"max": 2}, "promo": {"max": "two"}}, "banners": [banner()]}, fmt)
    with pytest.raises(BannerFileError, match=re.escape(f"banners.{fmt}: field 'slots.hero.size': ")):
        load({"slots": {"hero": {"size": 2}}}, fmt)
    with pytest.raises(BannerFileError, match=re.escape(f"banners.{fmt}: field 'slots.Hero Area': bad slot name")):
        load({"slots": {"Hero Area": {"max": 2}}}, fmt)
    with pytest.raises(BannerFileError, match=re.escape(f"banners.{fmt}: field 'banner': unknown field 'banner'")):
        load({"banner": []}, fmt)


@pytest.mark.parametrize(
    ("fmt", "data", "fragment"),
    [
        ("toml", b"[[banners]\nid = 1", "invalid TOML"),
        ("toml", b"\xff\xfe", "not UTF-8"),
        ("json", b'{"banners": [', "invalid JSON"),
        ("json", b"[]", "Expected 'object', got 'array'"),
    ],
)
def test_syntax_errors_name_the_source(fmt: Format, data: bytes, fragment: str) -> None:
    with pytest.raises(BannerFileError, match=re.escape("banners.x: ")) as raised:
        load_banners(data, source="banners.x", fmt=fmt, known_tiers=TIERS, known_segments=SEGMENTS)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_good_files_load_in_both_formats(fmt: Format) -> None:
    doc = {
        "version": "7",
        "slots": {"hero": {"max": 2}},
        "banners": [
            banner(
                "full",
                priority=3,
                link="https://shop.example/sale?x=1",
                image="/img/sale.png",
                coupon_code="SALE10",
                starts_at="2025-06-01T00:00:00+02:00",
                ends_at="2027-01-01T00:00:00Z",
                holdout_pct=12.5,
                variants=[{"name": "a", "weight": 2.5}, {"name": "b", "text": "{remaining} left"}],
                when=when(
                    {"type": "tier_in", "values": ["none", "gold"]},
                    {"type": "segment_in", "values": ["champions"]},
                    {"type": "cart_total", "min": 0.01, "max": 99.99},
                    {"type": "schedule", "starts_at": "2025-01-01T00:00:00Z"},
                ),
            )
        ],
    }
    banners = load(doc, fmt)
    assert (banners.version, banners.ids) == ("7", ("full",))


def test_toml_native_datetimes_work_too() -> None:
    data = b'[[banners]]\nid = "a"\nslot = "hero"\ntitle = "x"\nstarts_at = 2026-01-01T00:00:00Z\n'
    banners = load_banners(data, source="b.toml", fmt="toml", known_tiers=TIERS, known_segments=SEGMENTS)
    assert banners.banners[0].starts_ms == 1_767_225_600_000
    local = data.replace(b"00:00Z", b"00:00")
    with pytest.raises(BannerFileError, match=r"banner 'a': field 'starts_at': .*timezone"):
        load_banners(local, source="b.toml", fmt="toml", known_tiers=TIERS, known_segments=SEGMENTS)


def test_known_names_from_a_set_are_listed_sorted() -> None:
    doc = {"banners": [banner(FB, when={"type": "segment_in", "values": ["whales"]})]}
    with pytest.raises(BannerFileError, match=re.escape("(known: a, b)")):
        load(doc, known_segments={"b", "a"})


def test_none_is_always_a_known_tier() -> None:
    doc = {"banners": [banner(when={"type": "tier_in", "values": ["none"]})]}
    assert load(doc, known_tiers=()).ids == ("b1",)


def test_bad_currency_exponent() -> None:
    with pytest.raises(BannerFileError, match="currency exponent -1"):
        load({}, currency_exponent=-1)
