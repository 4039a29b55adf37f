"""The demo shop as a shop: search, the sign-in list, a code and the member discount at checkout, the order
confirmation, consent that is remembered, product pictures. In process, on the demo store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from tests.api.conftest import AUTH
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def shop(demo_models: Path) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(make_settings(demo="true", models_dir=str(demo_models)))) as client:
        yield client


@pytest.fixture
def demo(shop: TestClient[Any]) -> TestClient[Any]:
    shop.cookies.clear()
    return shop


def config(page: str) -> dict[str, Any]:
    import json

    return dict(json.loads(page.split("window.pzConfig = ")[1].split(";")[0]))


def text_of(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no #{element_id} in the page"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(2)).split())


def item(demo: TestClient[Any], item_id: str) -> dict[str, Any]:
    return dict(demo.get(f"/v1/catalog/items/{item_id}", headers=AUTH).json())


def test_search_finds_every_word_and_the_page_is_a_search_page(demo: TestClient[Any]) -> None:
    page = demo.get("/demo/search", params={"q": "red dress"}).text
    found = re.findall(r'<li class="card" data-item="([^"]+)"', page)
    assert found
    for item_id in found:
        one = item(demo, item_id)
        assert (one["color"], one["category"]) == ("red", "women/dresses")
    assert config(page)["page"] == {"type": "search", "query": "red dress"}
    assert "results for “red dress”" in page
    nothing = demo.get("/demo/search", params={"q": "zzzz"}).text
    assert "Nothing matches" in nothing
    assert 'data-pz-slot="home_trending"' in nothing  # the snippet fills it with what is trending


def test_the_sign_in_lists_named_customers_with_tier_and_segment(demo: TestClient[Any]) -> None:
    page = demo.get("/demo/login").text
    people = re.findall(r'data-customer="(c\d+)"><span class="person-name">([^<]+)</span>(.*?)</button>', page)
    assert len(people) >= 6
    tiers = {re.search(r"tier-(\w+)", facts).group(1) for _, _, facts in people if "tier-" in facts}  # type: ignore[union-attr]
    assert tiers == {"bronze", "silver", "gold"}
    assert all(name.strip() and not name.startswith("Demo customer") for _, name, _ in people)
    customer, name, _ = people[0]
    loyalty = demo.get(f"/v1/customers/{customer}/loyalty", headers=AUTH).json()
    assert loyalty["tier"] == "gold"  # the top tier is listed first
    assert f"tier-{loyalty['tier']}" in people[0][2]
    demo.post("/demo/login", data={"customer_id": customer, "next": "/demo/cart"})
    assert name.strip() in text_of(demo.get("/demo/").text, "who")


def test_a_new_customer_can_sign_back_in_after_signing_out(demo: TestClient[Any]) -> None:
    first = demo.post("/demo/login", data={"customer_id": "new"})
    token = config(first.text)["customerToken"]
    me = demo.post("/v1/page", json={"customer_token": token, "page": {"type": "home"}}).json()["customer"]["id"]
    demo.post("/demo/logout")
    assert "customerToken" not in config(demo.get("/demo/").text)
    listed = demo.get("/demo/login").text
    assert f'value="{me}"' in listed
    again = demo.post("/demo/login", data={"customer_id": me})
    token = config(again.text)["customerToken"]
    assert (
        demo.post("/v1/page", json={"customer_token": token, "page": {"type": "home"}}).json()["customer"]["id"] == me
    )


def test_an_anonymous_cart_offers_sign_in_and_sign_in_returns_to_the_cart(demo: TestClient[Any]) -> None:
    demo.post("/demo/cart/add", data={"item_id": "i00001"})
    cart = demo.get("/demo/cart").text
    assert "Sign in to see how close you are to Bronze." in cart
    assert 'href="/demo/login?next=/demo/cart"' in cart
    assert 'id="checkout"' not in cart
    back = demo.post("/demo/login", data={"customer_id": "new", "next": "/demo/cart"}, follow_redirects=False)
    assert back.headers["location"] == "/demo/cart"
    elsewhere = demo.post(
        "/demo/login", data={"customer_id": "new", "next": "//evil.example/x"}, follow_redirects=False
    )
    assert elsewhere.headers["location"] == "/demo/"


def test_a_shared_code_at_checkout_takes_its_discount_once_per_customer(demo: TestClient[Any]) -> None:
    signed = demo.post("/demo/login", data={"customer_id": "new"})
    token = config(signed.text)["customerToken"]
    me = demo.post("/v1/page", json={"customer_token": token, "page": {"type": "home"}}).json()["customer"]["id"]
    for item_id in ("i00001", "i00009"):  # $1,750 + $790
        demo.post("/demo/cart/add", data={"item_id": item_id})
    cart = demo.post("/demo/cart/code", data={"code": "fbwelcome10"}).text
    assert text_of(cart, "subtotal") == "$2,540.00"
    assert text_of(cart, "code-discount") == "−$254.00"
    assert text_of(cart, "total") == "$2,286.00"
    assert config(cart)["page"]["cart_discount"] == 254.0  # the nudge counts what will be paid
    order = demo.post("/demo/checkout")
    assert text_of(order.text, "paid") == "$2,286.00"
    assert re.findall(r'data-item="(i\d+)"', order.text.split('id="order-lines"')[1])[:2] == ["i00001", "i00009"]
    loyalty = demo.get(f"/v1/customers/{me}/loyalty", headers=AUTH).json()
    assert loyalty["lifetime_spend"] == 2286.0
    earned = loyalty["points"] + loyalty["pending_points"]
    assert earned >= 2286
    assert text_of(order.text, "points") == f"You earned {earned} points with this order."
    demo.post("/demo/cart/add", data={"item_id": "i00009"})
    again = demo.post("/demo/cart/code", data={"code": "FBWELCOME10"}).text
    assert "has already been used" in text_of(again, "code-error")
    assert text_of(again, "total") == "$790.00"
    refused = demo.post("/demo/checkout", follow_redirects=False)
    assert refused.headers["location"] == "/demo/cart"  # the code no longer applies: nothing is ordered


def test_a_member_pays_the_tier_discount_and_an_unknown_code_is_named(demo: TestClient[Any]) -> None:
    page = demo.get("/demo/login").text
    bronze = re.findall(r'data-customer="(c\d+)"><span class="person-name">[^<]+</span>.*?tier-bronze', page)[0]
    demo.post("/demo/login", data={"customer_id": bronze})
    demo.post("/demo/cart/add", data={"item_id": "i00009"})  # $790
    cart = demo.post("/demo/cart/code", data={"code": "NOSUCH123"}).text
    assert text_of(cart, "member-discount") == "−$79.00"
    assert "NOSUCH123: no such coupon code" in text_of(cart, "code-error")
    assert text_of(cart, "total") == "$711.00"
    cart = demo.post("/demo/cart/code", data={"code": ""}).text
    before = demo.get(f"/v1/customers/{bronze}/loyalty", headers=AUTH).json()
    order = demo.post("/demo/checkout").text
    assert text_of(order, "paid") == "$711.00"
    assert text_of(order, "order-discount") == "−$79.00"
    after = demo.get(f"/v1/customers/{bronze}/loyalty", headers=AUTH).json()
    assert round(after["lifetime_spend"] - before["lifetime_spend"], 2) == 711.0


def test_consent_is_remembered_and_shown(demo: TestClient[Any]) -> None:
    first = demo.get("/demo/?utm_source=facebook").text
    assert 'id="consent-bar"' in first
    assert config(first)["consent"] is False
    accepted = demo.post("/demo/consent", data={"choice": "on", "back": "/demo/?utm_source=facebook"})
    assert (accepted.url.path, accepted.url.query) == ("/demo/", b"utm_source=facebook")
    assert config(accepted.text)["consent"] is True
    assert 'id="consent-bar"' not in accepted.text
    assert "Personalization is on." in text_of(accepted.text, "consent-status") + "."
    declined = demo.post("/demo/consent", data={"choice": "off", "back": "https://evil.example/"})
    assert declined.url.path == "/demo/"
    assert config(declined.text)["consent"] is False
    assert '.push(["consent", false])' in declined.text  # the snippet forgets its cookies at once
    assert "Personalization is off" in text_of(declined.text, "consent-status")
    assert 'id="consent-bar"' not in demo.get("/demo/cart").text  # declining is remembered too


def test_pictures_show_the_category_the_colour_and_the_brand(demo: TestClient[Any]) -> None:
    dress = item(demo, "i00001")
    picture = demo.get("/demo/images/i00001.svg")
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert dress["brand"].upper() in picture.text
    assert f"{dress['color']} dresses" in picture.text
    shoes = demo.get("/demo/images/i00009.svg").text
    dress_shape = re.findall(r"<path d=\"([^\"]+)\"", picture.text)
    assert dress_shape != re.findall(r"<path d=\"([^\"]+)\"", shoes)
    assert demo.get("/demo/images/nope.svg").status_code == 404


@pytest.mark.parametrize("code", ["<script>alert(1)</script>", "FBWELCOME10~c00001", "x" * 5000, "ü名\x00", "  "])
def test_a_hostile_code_in_the_cart_is_refused_by_name_and_changes_nothing(demo: TestClient[Any], code: str) -> None:
    customer = re.findall(r'data-customer="(c\d+)"', demo.get("/demo/login").text)[0]
    demo.post("/demo/login", data={"customer_id": customer})
    demo.post("/demo/cart/add", data={"item_id": "i00009"})
    response = demo.post("/demo/cart/code", data={"code": code})
    assert response.status_code == 200, response.text
    assert "<SCRIPT>" not in response.text.upper().replace("<SCRIPT NONCE", "")  # shown escaped, never as markup
    assert "code-discount" not in response.text  # no discount taken
    if code.strip():
        assert "no such coupon code" in text_of(response.text, "code-error")
