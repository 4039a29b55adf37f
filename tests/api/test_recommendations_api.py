"""Placements on the demo store with trained models: fallback chains, reasons, filters, the seed story."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize import identity
from personalize.app import create_app
from tests.api.conftest import AUTH
from tests.conftest import IDENTITY_SECRET, make_settings, wait_until

RED_MCQUEEN_DRESSES = ["i00001", "i00002", "i00003"]
COMPLEMENTS = {"women/shoes", "women/bags", "women/jewellery", "women/accessories"}


@pytest.fixture(scope="module")
def demo(demo_dir: Path, demo_models: Path) -> Iterator[TestClient[Any]]:
    settings = make_settings(demo="true", fixtures_dir=str(demo_dir), models_dir=str(demo_models))
    with TestClient(create_app(settings)) as client:
        yield client


def page(client: TestClient[Any], session: str, **page_fields: Any) -> dict[str, Any]:
    response = client.post("/v1/page", json={"session_id": session, "page": page_fields, "limit": 10})
    assert response.status_code == 200, response.text
    return dict(response.json()["recommendations"])


def item(client: TestClient[Any], item_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/catalog/items/{item_id}", headers=AUTH).json())


def test_red_mcqueen_views_shift_the_dress_ranking_towards_the_brand(demo: TestClient[Any]) -> None:
    cold = page(demo, "cold-visitor", type="category", category="women/dresses")["category_ranking"]
    for item_id in RED_MCQUEEN_DRESSES:
        page(demo, "mcqueen-fan", type="product", item_id=item_id)
    warm = page(demo, "mcqueen-fan", type="category", category="women/dresses")["category_ranking"]

    def mcqueen(ranking: list[dict[str, Any]]) -> int:
        return sum(item(demo, i["item_id"])["brand"] == "Alexander McQueen" for i in ranking[:10])

    assert [i["item_id"] for i in warm] != [i["item_id"] for i in cold]
    assert mcqueen(warm) > mcqueen(cold)
    assert {i["reason"] for i in cold} == {"trending"}
    assert {i["reason"] for i in warm} == {"personalized"}
    assert all(item(demo, i["item_id"])["category"] == "women/dresses" for i in warm)
    brands = [item(demo, i["item_id"])["brand"] for i in warm]
    assert not any(brands[n] == brands[n + 1] == brands[n + 2] for n in range(len(brands) - 2))


def test_a_dress_is_completed_by_shoes_bags_jewellery_and_accessories(demo: TestClient[Any]) -> None:
    dresses = demo.get("/v1/catalog/items", params={"category": "women/dresses", "limit": 300}, headers=AUTH).json()
    for dress in ["i00001", "i00004"] + [d["item_id"] for d in dresses["items"][200:203]]:
        look = page(demo, f"look-{dress}", type="product", item_id=dress)["product_complete_the_look"]
        assert len(look) == 10
        assert {item(demo, i["item_id"])["category"] for i in look} <= COMPLEMENTS


def test_similar_items_stay_in_the_anchors_category(demo: TestClient[Any]) -> None:
    recs = page(demo, "similar-1", type="product", item_id="i00001")
    similar = recs["product_similar"]
    assert len(similar) == 10
    assert {item(demo, i["item_id"])["category"] for i in similar} == {"women/dresses"}
    assert similar[0]["reason"] == "similar"
    ids = [i["item_id"] for i in similar + recs["product_complete_the_look"]]
    assert len(ids) == len(set(ids))
    assert "i00001" not in ids


def test_home_for_you_turns_personal_from_the_second_product_view(demo: TestClient[Any]) -> None:
    assert {i["reason"] for i in page(demo, "anon-1", type="home")["home_for_you"]} == {"trending"}
    page(demo, "anon-1", type="product", item_id="i00010")
    assert {i["reason"] for i in page(demo, "anon-1", type="home")["home_for_you"]} == {"trending"}
    page(demo, "anon-1", type="product", item_id="i00011")
    assert page(demo, "anon-1", type="home")["home_for_you"][0]["reason"] == "session"


def test_a_known_customer_gets_collaborative_picks(demo: TestClient[Any]) -> None:
    token = identity.sign_customer("c00001", IDENTITY_SECRET, int(time.time()) + 60)
    body = demo.post("/v1/page", json={"session_id": "known-1", "customer_token": token, "page": {"type": "home"}})
    for_you = body.json()["recommendations"]["home_for_you"]
    assert for_you[0]["reason"] == "collaborative"
    trending = body.json()["recommendations"]["home_trending"]
    assert not {i["item_id"] for i in for_you} & {i["item_id"] for i in trending}


def test_cart_cross_sell_leaves_out_the_cart(demo: TestClient[Any]) -> None:
    cart = [{"item_id": "i00001", "quantity": 1, "price": 1750}, {"item_id": "i00009", "quantity": 1, "price": 790}]
    body = demo.post("/v1/page", json={"session_id": "cart-1", "page": {"type": "cart", "cart": cart}, "limit": 8})
    recs = body.json()["recommendations"]["cart_cross_sell"]
    assert len(recs) == 8
    assert not {i["item_id"] for i in recs} & {"i00001", "i00009"}


def test_models_reload_swaps_in_the_newest_artifact(demo: TestClient[Any]) -> None:
    response = demo.post("/v1/admin/models/reload", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["collaborative"] in {"als", "ease"}
    assert response.json()["counts"]["items"] > 2000
    assert demo.post("/v1/admin/models/reload").status_code == 401


def test_reload_without_models_is_404_and_pages_still_fill(client: TestClient[Any]) -> None:
    response = client.post("/v1/admin/models/reload", headers=AUTH)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "no_models")
    recs = page(client, "plain-1", type="product", item_id="i0001")
    assert len(recs["product_similar"]) == 10
    assert {i["reason"] for i in recs["product_similar"]} <= {"same_brand", "same_color", "trending", "catalog"}


def test_visitor_free_pages_are_composed_once_and_a_catalog_change_is_seen_at_once(demo: TestClient[Any]) -> None:
    runtime = demo.app.state.runtime
    before = len(runtime.placements)
    first = page(demo, "cache-visitor-1", type="product", item_id="i00777")
    again = page(demo, "cache-visitor-2", type="product", item_id="i00777")
    assert again == first
    assert len(runtime.placements) == before + 1  # one product page composed, reused for the second visitor
    page(demo, "cache-visitor-1", type="category", category="women/dresses")
    assert len(runtime.placements) == before + 1  # a ranking follows the visitor: never shared

    top = first["product_similar"][0]["item_id"]
    changed = {**item(demo, top), "in_stock": False}
    assert demo.put("/v1/catalog/items", json={"items": [changed]}, headers=AUTH).status_code == 200
    wait_until(lambda: not runtime.catalog.get(top).in_stock, 5, "the catalog index rebuilt")
    after = page(demo, "cache-visitor-3", type="product", item_id="i00777")
    assert top not in [i["item_id"] for i in after["product_similar"]]
