"""``POST /v1/page``, first form: the session, the recorded view, trending on the home page."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize import identity
from personalize.app import create_app
from tests.api.conftest import AUTH, CATALOG
from tests.conftest import IDENTITY_SECRET, RedisServer, make_settings


def page(client: TestClient[Any], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/page", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_new_visitor_gets_a_session_and_every_field(client: TestClient[Any]) -> None:
    body = page(client, page={"type": "home"})
    assert body["session_id"].startswith("s-")
    assert (body["customer"], body["banners"], body["nudges"]) == (None, [], [])
    assert set(body["recommendations"]) == {"home_for_you", "home_trending"}
    assert len(body["recommendations"]["home_trending"]) == 8
    assert page(client, page={"type": "home"})["session_id"] != body["session_id"]


def test_home_trending_follows_decayed_counts(client: TestClient[Any]) -> None:
    events = [{"type": "add_to_cart", "item_id": "i0021"}] * 2 + [{"type": "product_view", "item_id": "i0003"}] * 4
    client.post("/v1/events", json={"session_id": "sess-0009", "events": events})
    trending = page(client, page={"type": "home"}, limit=3)["recommendations"]["home_trending"]
    assert [(i["item_id"], i["reason"]) for i in trending[:2]] == [("i0021", "trending"), ("i0003", "trending")]
    assert trending[0]["score"] == pytest.approx(6.0, rel=1e-3)
    assert trending[2]["reason"] == "catalog"


def test_one_view_does_not_reach_the_trending_floor(client: TestClient[Any]) -> None:
    client.post(
        "/v1/events", json={"session_id": "sess-0009", "events": [{"type": "product_view", "item_id": "i0007"}]}
    )
    trending = page(client, page={"type": "home"})["recommendations"]["home_trending"]
    assert {i["reason"] for i in trending} == {"catalog"}


def test_cart_items_and_exclusions_are_never_recommended(client: TestClient[Any]) -> None:
    cart = [{"item_id": f"i{n:04d}", "quantity": 1, "price": 100} for n in range(10)]
    body = page(client, page={"type": "home", "cart": cart}, exclude=["i0010"], placements=["home_trending"], limit=25)
    ids = [i["item_id"] for i in body["recommendations"]["home_trending"]]
    assert len(ids) == 19
    assert not set(ids) & {f"i{n:04d}" for n in range(11)}


def test_a_product_page_records_a_product_view(client: TestClient[Any]) -> None:
    body = page(client, session_id="sess-0005", page={"type": "product", "item_id": "i0001"})
    assert set(body["recommendations"]) == {"product_similar", "product_complete_the_look"}
    profile = client.get("/v1/sessions/sess-0005/profile", headers=AUTH).json()
    assert profile["affinities"]["brand"][0]["value"] == "Alexander McQueen"


def test_a_signed_customer_is_named(client: TestClient[Any]) -> None:
    token = identity.sign_customer("c7", IDENTITY_SECRET, int(time.time()) + 60)
    body = page(client, page={"type": "home"}, customer_token=token)
    assert body["customer"]["id"] == "c7"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"page": {"type": "product"}}, "page.item_id"),
        ({"page": {"type": "category"}}, "page.category"),
        ({"page": {"type": "lobby"}}, "page.type"),
        ({"page": {"type": "home"}, "placements": ["nowhere"]}, "placements"),
        ({"page": {"type": "home"}, "limit": 0}, "limit"),
        ({"page": {"type": "home"}, "session_id": "no spaces!"}, "session_id"),
        ({"page": {"type": "cart", "cart": [{"item_id": "i0001", "price": -1}]}}, "page.cart[0].price"),
    ],
)
def test_bad_pages_are_400_naming_the_field(client: TestClient[Any], body: dict[str, Any], field: str) -> None:
    response = client.post("/v1/page", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


@pytest.mark.redis
def test_a_page_view_costs_one_store_round_trip(redis_server: RedisServer, redis_url: str) -> None:
    """A signed customer's product page (the most a page reads and writes): on Redis, one script call records
    the view and reads profile, ledger, segment and coupons. Trending comes from the process."""
    settings = make_settings(store_url=redis_url, catalog_refresh_seconds=3600, trending__cache_seconds=60)
    token = identity.sign_customer("c7", IDENTITY_SECRET, int(time.time()) + 600)
    with TestClient(create_app(settings)) as client:
        assert client.put("/v1/catalog/items", json={"items": CATALOG}, headers=AUTH).status_code == 200
        body = {"session_id": "sess-0042", "customer_token": token, "page": {"type": "product", "item_id": "i0001"}}
        page(client, **body)  # the first call fills the process's trending cache
        with redis_server.client.monitor() as monitor:
            page(client, **body)
            redis_server.client.echo("end of page view")
            sent = []
            for command in monitor.listen():
                if command["command"] == "ECHO end of page view":
                    break
                if command["client_type"] != "lua":  # commands a script runs are not round trips
                    sent.append(command["command"].split()[0])
    assert sent == ["EVALSHA"]


def test_an_unknown_item_or_category_is_answered_from_the_fallbacks_with_a_warning(client: TestClient[Any]) -> None:
    product = client.post("/v1/page", json={"page": {"type": "product", "item_id": "nope"}}).json()
    assert product["recommendations"]["product_similar"]  # the shop's trending and newest, as the warning says
    assert [(w["code"], w["field"]) for w in product["warnings"]] == [("unknown_item", "page.item_id")]
    category = client.post("/v1/page", json={"page": {"type": "category", "category": "no/such"}}).json()
    assert category["recommendations"]["category_ranking"]
    assert [(w["code"], w["field"]) for w in category["warnings"]] == [("unknown_category", "page.category")]
    known = client.post("/v1/page", json={"page": {"type": "category", "category": "women/dresses"}}).json()
    assert known["warnings"] == []
    counted = client.get("/metrics").text
    assert 'pz_page_warnings_total{code="unknown_item"} 1.0' in counted
    assert 'pz_page_warnings_total{code="unknown_category"} 1.0' in counted


def test_head_of_metrics_and_the_favicon_answer(client: TestClient[Any]) -> None:
    head = client.head("/metrics")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"].startswith("text/plain; version=")
    icon = client.get("/favicon.ico")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
