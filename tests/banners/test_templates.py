"""Templates: every token, literal braces, skipping on a missing value, plain text only."""

from __future__ import annotations

import pytest

from banners import BannerSet, TemplateError, TemplateValues
from banners.templates import TOKENS, compile_template
from tests.banners.documents import banner, context, load

EVERYONE = TemplateValues(
    first_name="Ada", tier="Bronze", discount_pct="10", remaining="$500.00", coupon_code="VIP20", points="450",
    reward="−20 % on everything", points_missing="50",
)  # fmt: skip


def render(banners: BannerSet, values: TemplateValues) -> list[tuple[str, str, str | None]]:
    """``(title, text, coupon_code)`` of every banner shown."""
    choice = banners.choose(context(), values)
    return [(chosen.title, chosen.text, chosen.coupon_code) for chosen in choice.shown]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("first_name", "Ada"),
        ("tier", "Bronze"),
        ("discount_pct", "10"),
        ("remaining", "$500.00"),
        ("coupon_code", "VIP20"),
        ("points", "450"),
        ("reward", "−20 % on everything"),
        ("points_missing", "50"),
    ],
)
def test_every_token_renders(token: str, expected: str) -> None:
    banners = load({"banners": [banner(title=f"[{{{token}}}]", text=f"x {{{token}}} y")]})
    assert render(banners, EVERYONE)[0][:2] == (f"[{expected}]", f"x {expected} y")


def test_all_tokens_together() -> None:
    text = "Hi {first_name}, {tier}: {discount_pct}% off, {remaining} to go, code {coupon_code}"
    banners = load({"banners": [banner(text=text)]})
    assert render(banners, EVERYONE)[0][1] == "Hi Ada, Bronze: 10% off, $500.00 to go, code VIP20"
    assert set(TOKENS) == {
        "first_name", "tier", "discount_pct", "remaining", "coupon_code", "points", "reward", "points_missing",
    }  # fmt: skip


def test_literal_braces() -> None:
    banners = load({"banners": [banner(title="{{first_name}} is {first_name}", text="}} {{ {{}}")]})
    assert render(banners, EVERYONE)[0][:2] == ("{first_name} is Ada", "} { {}")


def test_braces_are_not_evaluated_inside_values() -> None:
    banners = load({"banners": [banner(title="Hi {first_name}")]})
    values = TemplateValues(first_name="{tier} {{x}}", tier="Gold")
    assert render(banners, values)[0][0] == "Hi {tier} {{x}}"


def test_a_missing_value_skips_the_banner_and_the_slot_falls_through() -> None:
    personal = banner("personal", priority=10, title="Hi {first_name}")
    generic = banner("generic", priority=0, title="Hi there")
    banners = load({"banners": [personal, generic]})
    assert render(banners, TemplateValues())[0][0] == "Hi there"
    assert render(banners, TemplateValues(first_name="Ada"))[0][0] == "Hi Ada"


def test_a_missing_value_in_the_text_skips_too() -> None:
    banners = load({"banners": [banner(text="Only {remaining} to go")]})
    assert render(banners, TemplateValues(first_name="Ada")) == []


def test_html_comes_back_verbatim_as_text() -> None:
    markup = "<img src=x onerror=alert(1)>"
    banners = load({"banners": [banner(title=markup, text="<b>{first_name}</b> &amp; <script>x()</script>")]})
    values = TemplateValues(first_name="<i>Ada</i>")
    assert render(banners, values)[0][:2] == (markup, "<b><i>Ada</i></b> &amp; <script>x()</script>")


def test_static_coupon_code_fills_the_token_when_the_visitor_has_none() -> None:
    banners = load({"banners": [banner(title="Use {coupon_code}", coupon_code="FBWELCOME10")]})
    assert render(banners, TemplateValues()) == [("Use FBWELCOME10", "World", "FBWELCOME10")]
    assert render(banners, TemplateValues(coupon_code="VIP20")) == [("Use VIP20", "World", "VIP20")]


def test_static_coupon_code_is_shown_even_when_the_text_does_not_use_it() -> None:
    banners = load({"banners": [banner(coupon_code="FBWELCOME10")]})
    assert render(banners, TemplateValues(coupon_code="VIP20")) == [("Hello", "World", "FBWELCOME10")]


def test_personal_code_banner_without_a_static_code() -> None:
    banners = load({"banners": [banner(title="{coupon_code}: 20% off")]})
    assert render(banners, TemplateValues()) == []
    assert render(banners, TemplateValues(coupon_code="ABCDEFGHJK")) == [("ABCDEFGHJK: 20% off", "World", "ABCDEFGHJK")]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hi {name}", "unknown token '{name}'"),
        ("Hi { first_name }", "unknown token '{ first_name }'"),
        ("Hi {first_name", "unbalanced '{' at position 3"),
        ("50% off}", "unbalanced '}' at position 7"),
        ("{{first_name}", "unbalanced '}' at position 12"),
    ],
)
def test_compile_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}")):
        compile_template(source)


def test_compiled_pieces() -> None:
    template = compile_template("a{tier}b{{c}}{coupon_code}")
    assert template.tokens == ("tier", "coupon_code")
    assert template.pieces == ("a", "b{c}", "")
    assert template.render({"tier": "T", "coupon_code": "C"}) == "aTb{c}C"
    assert compile_template("").render({}) == ""
