"""Orders, refunds, tiers, points and the cart nudge over HTTP, on both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize import identity
from personalize.app import create_app
from personalize.settings import Settings
from tests.api.conftest import AUTH, catalog_item
from tests.conftest import IDENTITY_SECRET

SHOP = [
    catalog_item(1, title="Red Silk Midi Dress", brand="Alexander McQueen", price=1750, color="red"),
    catalog_item(2, title="Black Midi Dress", brand="Alexander McQueen", price=1750),
    catalog_item(3, title="Leather Pumps", brand="Alexander McQueen", category="women/shoes", price=600),
    catalog_item(4, title="Gold Hoops", brand="Gucci", category="women/jewellery", price=500),
    catalog_item(5, title="Clutch", brand="Prada", category="women/bags", price=640),
    catalog_item(6, title="Silk Scarf", brand="Gucci", category="women/accessories", price=120),
    catalog_item(7, title="Tote", brand="Prada", category="women/bags", price=2000),
]


@pytest.fixture
def shop(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings)) as client:
        assert client.put("/v1/catalog/items", json={"items": SHOP}, headers=AUTH).status_code == 200
        yield client


def token(customer: str) -> str:
    return identity.sign_customer(customer, IDENTITY_SECRET, int(time.time()) + 600)


def cart_page(client: TestClient[Any], customer: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    cart = [{"item_id": item, "quantity": quantity} for item, quantity in lines]
    body = {"session_id": f"s-{customer}", "customer_token": token(customer), "page": {"type": "cart", "cart": cart}}
    response = client.post("/v1/page", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def order(order_id: str, customer: str, lines: list[tuple[str, int, str]], total: str | None = None) -> dict[str, Any]:
    items = [{"item_id": i, "quantity": q, "price": float(p)} for i, q, p in lines]
    amount = total or str(sum(q * float(p) for _, q, p in lines))
    return {
        "order_id": order_id,
        "customer_id": customer,
        "items": items,
        "total": float(amount),
        "currency": "USD",
        "completed_at": "2026-11-20T10:00:00Z",
    }


def post_order(client: TestClient[Any], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/orders", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_seed_cart_nudges_then_the_order_makes_her_bronze(shop: TestClient[Any]) -> None:
    at_3500 = cart_page(shop, "ann", [("i0001", 1), ("i0002", 1)])
    (nudge,) = at_3500["nudges"]
    assert (nudge["kind"], nudge["tier"], nudge["remaining"]) == ("next_tier", "bronze", 500.0)
    assert nudge["text"] == "Spend $500.00 more to reach Bronze"
    fillers = nudge["items"]
    assert [i["item_id"] for i in fillers] == ["i0004", "i0003", "i0005"]  # no affinity yet: closest price first
    assert all(500 <= i["price"] <= 750 for i in fillers)
    assert at_3500["customer"] == {
        "id": "ann",
        "tier": None,
        "discount_pct": 0,
        "points": 0,
        "qualifying_spend": 0,
        "segment": None,
        "next_expiry": None,
    }
    assert cart_page(shop, "ann", [("i0001", 1), ("i0002", 1), ("i0003", 1)])["nudges"] == []

    result = post_order(shop, order("o-1", "ann", [("i0001", 1, "1750"), ("i0002", 1, "1750"), ("i0003", 1, "600")]))
    assert (result["tier_changed"], result["tier_before"], result["loyalty"]["tier"]) == (True, None, "bronze")
    assert result["points_earned"] == 4100
    nxt = shop.post(
        "/v1/page", json={"session_id": "s-ann-2", "customer_token": token("ann"), "page": {"type": "home"}}
    )
    assert nxt.json()["customer"] == {
        "id": "ann",
        "tier": "bronze",
        "discount_pct": 10,
        "points": 4100,
        "qualifying_spend": 4100.0,
        "segment": None,
        "next_expiry": {"points": 4100, "expires_at": result["loyalty"]["next_expiry"]["expires_at"]},
    }


def test_no_nudge_for_anonymous_visitors_or_far_from_a_tier(shop: TestClient[Any]) -> None:
    anonymous = shop.post("/v1/page", json={"page": {"type": "cart", "cart": [{"item_id": "i0001", "quantity": 2}]}})
    assert anonymous.json()["nudges"] == []
    assert cart_page(shop, "bob", [("i0006", 1)])["nudges"] == []


def test_a_replayed_order_counts_once_and_returns_the_first_result(shop: TestClient[Any]) -> None:
    body = order("o-2", "cid", [("i0006", 2, "120.50")])
    first = post_order(shop, body)
    again = post_order(shop, body)
    assert again["duplicate"] is True
    assert {**again, "duplicate": False} == first
    stats = shop.get("/v1/admin/stats", headers=AUTH).json()
    assert (stats["customers"], stats["orders"], stats["lifetime_spend"]) == (1, 1, 241.0)


def test_a_full_refund_reverts_the_upgrade_and_a_partial_one_is_pro_rata(shop: TestClient[Any]) -> None:
    post_order(shop, order("o-3", "dee", [("i0007", 1, "2000")]))
    post_order(shop, order("o-4", "dee", [("i0007", 1, "2000")]))
    assert shop.get("/v1/customers/dee/loyalty", headers=AUTH).json()["tier"] == "bronze"
    partial = shop.post("/v1/orders/o-3/refunds", json={"refund_id": "r-1", "amount": 500}, headers=AUTH).json()
    assert (partial["amount"], partial["remaining"], partial["qualifying_reversed"], partial["points_reversed"]) == (
        500.0,
        1500.0,
        500.0,
        500,
    )
    assert partial["loyalty"]["tier"] == "bronze"  # a partial refund does not downgrade
    full = shop.post("/v1/orders/o-4/refunds", json={"refund_id": "r-2"}, headers=AUTH).json()
    assert (full["tier_reverted"], full["loyalty"]["tier"], full["loyalty"]["qualifying_spend"]) == (True, None, 1500.0)
    assert full["loyalty"]["points"] == 1500
    assert shop.get("/v1/admin/stats", headers=AUTH).json()["per_tier"] == {"bronze": 0, "silver": 0, "gold": 0}


def test_refunds_are_idempotent_and_bounded(shop: TestClient[Any]) -> None:
    post_order(shop, order("o-5", "eve", [("i0006", 1, "120")]))
    first = shop.post("/v1/orders/o-5/refunds", json={"refund_id": "r-1", "amount": 20}, headers=AUTH).json()
    again = shop.post("/v1/orders/o-5/refunds", json={"refund_id": "r-1", "amount": 20}, headers=AUTH).json()
    assert (again["duplicate"], again["remaining"]) == (True, first["remaining"])
    too_much = shop.post("/v1/orders/o-5/refunds", json={"refund_id": "r-2", "amount": 100.01}, headers=AUTH)
    assert too_much.status_code == 422
    assert too_much.json()["error"]["field"] == "amount"
    assert "$100.00 remains" in too_much.json()["error"]["message"]
    unknown = shop.post("/v1/orders/nope/refunds", json={"refund_id": "r-3"}, headers=AUTH)
    assert unknown.status_code == 404
    assert shop.get("/v1/customers/eve/loyalty", headers=AUTH).json()["lifetime_spend"] == 100.0


def test_loyalty_state_names_the_next_tier_and_expiry(shop: TestClient[Any]) -> None:
    post_order(shop, order("o-6", "fay", [("i0007", 1, "2000")]))
    state = shop.get("/v1/customers/fay/loyalty", headers=AUTH).json()
    assert (state["next_tier"], state["remaining"], state["points"], state["orders"]) == ("bronze", 2000.0, 2000, 1)
    assert state["next_expiry"] == {"points": 2000, "expires_at": "2027-11-20T10:00:00Z"}
    assert state["engagement_score"] == 50
    assert shop.get("/v1/customers/nobody/loyalty", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"currency": "EUR"}, 400, "currency"),
        ({"total": -1}, 400, "total"),
        ({"total": 10.001}, 400, "total"),
        ({"items": []}, 400, "items"),
        ({"order_id": "has space"}, 400, "order_id"),
    ],
)
def test_bad_orders_are_refused_by_field_and_write_nothing(
    shop: TestClient[Any], change: dict[str, Any], status: int, field: str
) -> None:
    response = shop.post("/v1/orders", json={**order("o-7", "gus", [("i0006", 1, "120")]), **change}, headers=AUTH)
    assert (response.status_code, response.json()["error"]["field"]) == (status, field)
    assert shop.get("/v1/admin/stats", headers=AUTH).json()["orders"] == 0


def test_orders_need_the_key(shop: TestClient[Any]) -> None:
    assert shop.post("/v1/orders", json=order("o-8", "hal", [("i0006", 1, "120")])).status_code == 401
    assert shop.get("/v1/admin/stats", headers=AUTH).json()["orders"] == 0


def test_browser_events_move_engagement_up_to_the_daily_cap_but_never_points(shop: TestClient[Any]) -> None:
    events = [{"type": "add_to_cart", "item_id": "i0001", "event_id": f"e{n}"} for n in range(15)]
    body = {"session_id": "s-ivy", "customer_token": token("ivy"), "events": events}
    assert shop.post("/v1/events", json=body).status_code == 202
    assert shop.post("/v1/events", json=body).json()["duplicates"] == 15
    state = shop.get("/v1/customers/ivy/loyalty", headers=AUTH).json()
    assert (state["engagement_score"], state["points"], state["tier"], state["lifetime_spend"]) == (100, 0, None, 0)
    unsubscribe = {"session_id": "s-ivy", "customer_token": token("ivy"), "events": [{"type": "unsubscribe"}]}
    shop.post("/v1/events", json=unsubscribe)
    assert shop.get("/v1/customers/ivy/loyalty", headers=AUTH).json()["engagement_score"] == 50
    assert shop.get("/v1/admin/stats", headers=AUTH).json()["customers"] == 0


def test_a_signed_cart_left_alone_lowers_engagement_once(shop: TestClient[Any]) -> None:
    from personalize.loyalty.engagement import count_abandoned_carts

    body = {
        "session_id": "s-jo",
        "customer_token": token("jo"),
        "events": [{"type": "add_to_cart", "item_id": "i0001"}],
    }
    shop.post("/v1/events", json=body)
    runtime = shop.app.state.runtime
    later = int(time.time() * 1000) + 25 * 3_600_000
    assert shop.blocking_portal.call(count_abandoned_carts, runtime, later) == 1
    assert shop.blocking_portal.call(count_abandoned_carts, runtime, later) == 0
    assert shop.get("/v1/customers/jo/loyalty", headers=AUTH).json()["engagement_score"] == 0


def test_a_completed_order_feeds_trending_and_the_buyers_profile_once(shop: TestClient[Any]) -> None:
    body = {**order("o-trend", "kim", [("i0005", 1, "640")]), "completed_at": int(time.time() * 1000)}
    post_order(shop, body)
    post_order(shop, body)
    trending = shop.post("/v1/page", json={"page": {"type": "home"}, "placements": ["home_trending"], "limit": 1})
    first = trending.json()["recommendations"]["home_trending"][0]
    assert (first["item_id"], first["reason"], first["score"]) == ("i0005", "trending", pytest.approx(10.0, rel=1e-3))


def test_a_replay_encodes_money_and_discounts_as_the_first_answer_did(shop: TestClient[Any]) -> None:
    body = order("o-enc", "enc", [("i0001", 3, "1750")])
    first = shop.post("/v1/orders", json=body, headers=AUTH)
    again = shop.post("/v1/orders", json=body, headers=AUTH)
    assert first.json()["loyalty"]["discount_pct"] == 10
    assert first.text.replace('"duplicate":false', '"duplicate":true') == again.text
