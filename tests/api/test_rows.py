"""Rows a merchandiser would accept, on both backends: similar items near the anchor's price and of mixed brands
(unless the visitor is loyal to one), no near-duplicate titles in a row, cross-sell from what the cart lacks."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from personalize.settings import Settings
from tests.api.conftest import AUTH


def dress(item_id: str, brand: str, price: float, colour: str = "red", noun: str = "Midi Dress") -> dict[str, Any]:
    return {
        "item_id": item_id,
        "title": f"{brand} {colour.title()} {noun}",
        "brand": brand,
        "category": "women/dresses",
        "color": colour,
        "price": price,
    }


CATALOG = [
    dress("anchor", "Uniqlo", 40),
    *(dress(f"uniqlo-{n}", "Uniqlo", 30 + n, noun=f"Dress No. {n}") for n in range(10)),
    *(dress(f"other-{n}", ("Zara", "Mango", "H&M")[n % 3], 35 + 3 * n, noun=f"Shift Dress {n}") for n in range(6)),
    *(dress(f"gucci-{n}", "Gucci", 1500 + 100 * n, noun=f"Silk Gown {n}") for n in range(8)),
    dress("twin-red", "Zara", 44, "red", "Linen Wrap Dress"),
    dress("twin-black", "Zara", 45, "black", "Linen Wrap Dress"),
    *(
        {"item_id": f"shoe-{n}", "title": f"Mango Sandals {n}", "brand": "Mango", "category": "women/shoes",
         "color": "black", "price": 50 + n}
        for n in range(6)
    ),
    *(
        {"item_id": f"bag-{n}", "title": f"Zara Tote {n}", "brand": "Zara", "category": "women/bags",
         "color": "beige", "price": 40 + n}
        for n in range(6)
    ),
]  # fmt: skip
PRICES = {item["item_id"]: float(item["price"]) for item in CATALOG}
BRANDS = {item["item_id"]: item["brand"] for item in CATALOG}


@pytest.fixture
def shop(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings)) as client:
        assert client.put("/v1/catalog/items", json={"items": CATALOG}, headers=AUTH).status_code == 200
        yield client


def row(client: TestClient[Any], placement: str, session: str = "s-rows", **page: Any) -> list[str]:
    body = {"session_id": session, "page": page, "placements": [placement], "limit": 8}
    response = client.post("/v1/page", json=body)
    assert response.status_code == 200, response.text
    return [item["item_id"] for item in response.json()["recommendations"][placement]]


def test_similar_items_stay_near_the_anchors_price_and_mix_brands(shop: TestClient[Any]) -> None:
    similar = row(shop, "product_similar", type="product", item_id="anchor")
    assert len(similar) == 8
    assert not [i for i in similar if i.startswith("gucci")]  # $1,500+ is not similar to a $40 dress
    assert max(abs(math.log(PRICES[i] / 40)) for i in similar) < math.log(2)
    brands = Counter(BRANDS[i] for i in similar)
    assert brands["Uniqlo"] == 3  # 3 of 8 at most, though ten Uniqlo dresses match brand and colour
    assert len(brands) >= 3


def test_a_visitor_loyal_to_the_brand_gets_more_of_it(shop: TestClient[Any]) -> None:
    for n in range(4):
        row(shop, "product_similar", "s-uniqlo-fan", type="product", item_id=f"uniqlo-{n}")
    similar = row(shop, "product_similar", "s-uniqlo-fan", type="product", item_id="anchor")
    assert Counter(BRANDS[i] for i in similar)["Uniqlo"] > 3


def test_a_row_of_a_luxury_anchor_is_filled_with_the_nearest_prices(shop: TestClient[Any]) -> None:
    similar = row(shop, "product_similar", type="product", item_id="gucci-7")
    assert len(similar) == 8
    # every other Gucci gown is within half to double its price: the cap gives way when nothing else is near
    assert {i for i in similar if i.startswith("gucci")} == {f"gucci-{n}" for n in range(7)}
    (cheap,) = [i for i in similar if not i.startswith("gucci")]
    assert PRICES[cheap] == max(p for i, p in PRICES.items() if i.startswith(("uniqlo", "other", "twin", "anchor")))


def test_near_duplicate_titles_never_share_a_row(shop: TestClient[Any]) -> None:
    for placement, page in (
        ("product_similar", {"type": "product", "item_id": "other-0"}),
        ("home_trending", {"type": "home"}),
        ("cart_cross_sell", {"type": "cart", "cart": [{"item_id": "shoe-0"}]}),
    ):
        found = row(shop, placement, **page)
        assert not {"twin-red", "twin-black"} <= set(found), (placement, found)


def test_cross_sell_offers_what_the_cart_lacks_first(shop: TestClient[Any]) -> None:
    cart = [{"item_id": "other-0"}, {"item_id": "other-1"}]
    found = row(shop, "cart_cross_sell", type="cart", cart=cart)
    assert len(found) == 8
    assert all(i.startswith(("shoe-", "bag-")) for i in found), found


def test_a_free_anchor_or_a_free_neighbour_has_similar_items_too(shop: TestClient[Any]) -> None:
    free = [dress("free-gift", "Zara", 0, noun="Gift Dress"), dress("free-sample", "Mango", 0, noun="Sample Dress")]
    assert shop.put("/v1/catalog/items", json={"items": free}, headers=AUTH).status_code == 200
    assert "free-sample" in row(shop, "product_similar", type="product", item_id="free-gift")
    assert row(shop, "product_similar", type="product", item_id="anchor")
