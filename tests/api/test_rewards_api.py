"""Rewards bought with points over HTTP, on both backends: the example program's rewards, redemption and its
code at checkout, cancellation, concurrency, the outbox and refusals that change nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient, TestClient

from personalize import identity
from personalize.app import create_app
from personalize.settings import Settings
from tests.api.conftest import AUTH, catalog_item
from tests.conftest import IDENTITY_SECRET, make_settings
from tests.state import state_digest

EXAMPLE = str(Path(__file__).resolve().parents[2] / "personalize" / "demo" / "loyalty.toml")
SHOP = [catalog_item(n, price=100 * n) for n in range(1, 6)] + [catalog_item(6, price=200, tags=["new"])]


@pytest.fixture
def program_settings(settings: Settings) -> Settings:
    return make_settings(config=EXAMPLE, store_url=settings.store_url)


@pytest.fixture
def shop(program_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(program_settings)) as client:
        assert client.put("/v1/catalog/items", json={"items": SHOP}, headers=AUTH).status_code == 200
        yield client


def order(client: Any, order_id: str, customer: str, total: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": customer,
        "items": [{"item_id": "i0001", "quantity": 1, "price": total}],
        "total": total,
        "currency": "USD",
        "completed_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
    }


def place(client: TestClient[Any], order_id: str, customer: str, total: int) -> dict[str, Any]:
    response = client.post("/v1/orders", json=order(client, order_id, customer, total), headers=AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def redeem(client: TestClient[Any], customer: str, redemption_id: str, reward_id: str = "pct20") -> Any:
    body = {"redemption_id": redemption_id, "reward_id": reward_id}
    return client.post(f"/v1/customers/{customer}/redemptions", json=body, headers=AUTH)


def loyalty(client: TestClient[Any], customer: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/customers/{customer}/loyalty", headers=AUTH).json())


def token(customer: str) -> str:
    return identity.sign_customer(customer, IDENTITY_SECRET, int(time.time()) + 600)


def test_a_reward_bought_with_points_gives_a_code_that_works_once_at_checkout(shop: TestClient[Any]) -> None:
    place(shop, "o1", "c1", 800)
    first = redeem(shop, "c1", "rd1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["points_spent"], body["points"], body["duplicate"]) == (500, 300, False)
    coupon = body["coupon"]
    assert (coupon["discount_pct"], coupon["customer_id"], coupon["benefit"]) == (20, "c1", "discount")
    assert coupon["code"].startswith("RW")
    assert len(coupon["code"]) == 14
    use = {"order_id": "o2", "customer_id": "c1"}
    assert shop.post(f"/v1/coupons/{coupon['code']}/redeem", json=use, headers=AUTH).status_code == 200
    again = shop.post(f"/v1/coupons/{coupon['code']}/redeem", json={**use, "order_id": "o3"}, headers=AUTH)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "coupon_used")
    second = redeem(shop, "c1", "rd2")
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["field"]) == ("not_enough_points", "points")
    assert "costs 500 points and the spendable balance is 300" in error["message"]
    assert loyalty(shop, "c1")["points"] == 300


def test_cancelling_returns_the_points_with_their_original_expiry_and_voids_the_code(shop: TestClient[Any]) -> None:
    place(shop, "o1", "c1", 800)
    before = loyalty(shop, "c1")
    code = redeem(shop, "c1", "rd1").json()["coupon"]["code"]
    assert loyalty(shop, "c1")["points"] == 300
    cancelled = shop.post("/v1/redemptions/rd1/cancel", headers=AUTH)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["points"], cancelled.json()["cancelled_at"] is not None) == (800, True)
    after = loyalty(shop, "c1")
    assert (after["points"], after["next_expiry"]) == (800, before["next_expiry"])
    use = {"order_id": "o2", "customer_id": "c1"}
    voided = shop.post(f"/v1/coupons/{code}/redeem", json=use, headers=AUTH)
    assert (voided.status_code, voided.json()["error"]["code"]) == (409, "coupon_used")
    again = shop.post("/v1/redemptions/rd1/cancel", headers=AUTH)
    assert (again.status_code, again.json()["duplicate"], again.json()["points"]) == (200, True, 800)


def test_a_redemption_whose_code_paid_for_an_order_cannot_be_cancelled(shop: TestClient[Any]) -> None:
    place(shop, "o1", "c1", 800)
    code = redeem(shop, "c1", "rd1").json()["coupon"]["code"]
    shop.post(f"/v1/coupons/{code}/redeem", json={"order_id": "o2", "customer_id": "c1"}, headers=AUTH)
    refused = shop.post("/v1/redemptions/rd1/cancel", headers=AUTH)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "used")
    assert loyalty(shop, "c1")["points"] == 300


def test_a_replayed_redemption_answers_the_first_one(shop: TestClient[Any]) -> None:
    place(shop, "o1", "c1", 1200)
    first, replay = redeem(shop, "c1", "rd1").json(), redeem(shop, "c1", "rd1")
    assert replay.status_code == 201
    assert (replay.json()["coupon"]["code"], replay.json()["duplicate"]) == (first["coupon"]["code"], True)
    assert loyalty(shop, "c1")["points"] == 700
    other = redeem(shop, "c1", "rd1", "ten-off")
    assert (other.status_code, other.json()["error"]["field"]) == (409, "redemption_id")


def digest(client: TestClient[Any]) -> str:
    runtime = client.app.state.runtime
    return state_digest(runtime.store, runtime.settings.store_url)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"redemption_id": "rd9", "reward_id": "no-such"}, 422, "reward_id"),
        ({"redemption_id": "rd9", "reward_id": "makeup-course"}, 409, "reward_id"),  # bronze: silver and gold only
        ({"redemption_id": "rd9", "reward_id": "pct20", "points": 5}, 400, "points"),
        ({"redemption_id": "", "reward_id": "pct20"}, 400, "redemption_id"),
        ({"redemption_id": "rd9"}, 400, "reward_id"),
    ],
)
def test_a_refused_redemption_changes_nothing(
    shop: TestClient[Any], body: dict[str, Any], status: int, field: str
) -> None:
    place(shop, "o1", "c1", 4100)
    before = digest(shop)
    response = shop.post("/v1/customers/c1/redemptions", json=body, headers=AUTH)
    assert (response.status_code, response.json()["error"]["field"]) == (status, field), response.text
    assert digest(shop) == before


def test_the_outbox_holds_each_change_once_in_order_and_nothing_of_a_refusal(shop: TestClient[Any]) -> None:
    place(shop, "o1", "c1", 800)
    redeem(shop, "c1", "rd1")
    assert redeem(shop, "c1", "rd2").status_code == 409
    shop.post("/v1/redemptions/rd1/cancel", headers=AUTH)
    shop.post("/v1/redemptions/rd1/cancel", headers=AUTH)
    place(shop, "o2", "c1", 3300)
    page = shop.get("/v1/admin/events", headers=AUTH).json()
    kinds = [(e["kind"], e["data"].get("redemption_id") or e["data"].get("order_id")) for e in page["events"]]
    assert kinds == [
        ("points_earned", "o1"),
        ("reward_redeemed", "rd1"),
        ("coupon_issued", None),
        ("redemption_cancelled", "rd1"),
        ("points_earned", "o2"),
        ("tier_changed", "o2"),
    ]
    assert page["events"][-1]["data"] == {"tier_before": None, "tier": "bronze", "order_id": "o2"}
    assert page["events"][4]["data"] == {"order_id": "o2", "points": 3300, "balance": 4100}
    ids = [e["id"] for e in page["events"]]
    assert shop.get("/v1/admin/events", params={"after": ids[0]}, headers=AUTH).json()["events"][0]["id"] == ids[1]
    bad = shop.get("/v1/admin/events", params={"after": "yesterday"}, headers=AUTH)
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "after")


def test_the_reward_list_shows_a_signed_customer_what_they_can_afford(shop: TestClient[Any]) -> None:
    place(shop, "o1", "c1", 300)
    anonymous = shop.get("/v1/rewards").json()
    assert [r["id"] for r in anonymous["rewards"]] == ["pct20", "ten-off", "free-shipping", "makeup-course"]
    assert anonymous["points"] is None
    assert anonymous["rewards"][3]["left"] == 12
    mine = shop.get("/v1/rewards", params={"customer_token": token("c1")}).json()
    assert mine["points"] == 300
    assert [(r["id"], r["affordable"], r["points_missing"]) for r in mine["rewards"]] == [
        ("pct20", False, 200),
        ("ten-off", True, 0),
        ("free-shipping", True, 0),
    ]
    forged = shop.get("/v1/rewards", params={"customer_token": token("c1")[:-2] + "xx"})
    assert (forged.status_code, forged.json()["error"]["field"]) == (401, "customer_token")


@pytest.fixture
async def async_shop(program_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(program_settings)) as client:
        assert (await client.put("/v1/catalog/items", json={"items": SHOP}, headers=AUTH)).status_code == 200
        response = await client.post("/v1/orders", json=order(client, "o1", "c1", 1500), headers=AUTH)
        assert response.status_code == 200
        yield client


@pytest.mark.anyio
async def test_100_concurrent_redemptions_covering_3_leave_an_exact_balance(async_shop: AsyncTestClient[Any]) -> None:
    statuses: list[int] = []

    async def one(n: int) -> None:
        body = {"redemption_id": f"rd{n}", "reward_id": "pct20"}
        statuses.append((await async_shop.post("/v1/customers/c1/redemptions", json=body, headers=AUTH)).status_code)

    async with anyio.create_task_group() as group:
        for n in range(100):
            group.start_soon(one, n)
    assert (statuses.count(201), statuses.count(409)) == (3, 97)
    state = (await async_shop.get("/v1/customers/c1/loyalty", headers=AUTH)).json()
    assert state["points"] == 0
    coupons = (await async_shop.get("/v1/admin/events", headers=AUTH)).json()["events"]
    assert sum(e["kind"] == "coupon_issued" for e in coupons) == 3


@pytest.mark.anyio
async def test_one_redemption_id_posted_20_times_at_once_spends_once(async_shop: AsyncTestClient[Any]) -> None:
    answers: list[dict[str, Any]] = []

    async def one() -> None:
        body = {"redemption_id": "rd-same", "reward_id": "pct20"}
        response = await async_shop.post("/v1/customers/c1/redemptions", json=body, headers=AUTH)
        assert response.status_code == 201, response.text
        answers.append(response.json())

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(one)
    assert len({a["coupon"]["code"] for a in answers}) == 1
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 19
    assert (await async_shop.get("/v1/customers/c1/loyalty", headers=AUTH)).json()["points"] == 1000


def test_a_new_item_earns_double_and_completes_the_weekly_challenge_once(shop: TestClient[Any]) -> None:
    when = datetime.now(UTC) - timedelta(days=1)

    def buy(order_id: str, at: datetime, lines: list[tuple[str, int]]) -> dict[str, Any]:
        items = [{"item_id": item, "quantity": 1, "price": price} for item, price in lines]
        body = {"order_id": order_id, "customer_id": "c1", "items": items, "total": sum(p for _, p in lines),
                "currency": "USD", "completed_at": at.isoformat()}  # fmt: skip
        response = shop.post("/v1/orders", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        return dict(response.json())

    first = buy("o1", when, [("i0006", 200), ("i0001", 100)])
    assert (first["points_earned"], first["challenges_completed"]) == (200 * 2 + 100 + 100, ["new-this-week"])
    again = buy("o2", when, [("i0006", 200)])
    assert (again["points_earned"], again["challenges_completed"]) == (400, [])
    week_before = buy("o3", when - timedelta(days=7), [("i0006", 200)])
    assert (week_before["points_earned"], week_before["challenges_completed"]) == (500, ["new-this-week"])
    replay = buy("o1", when, [("i0006", 200), ("i0001", 100)])
    assert (replay["duplicate"], replay["points_earned"]) == (True, 600)
    assert loyalty(shop, "c1")["points"] == 600 + 400 + 500
    refund = shop.post("/v1/orders/o1/refunds", json={"refund_id": "r1"}, headers=AUTH).json()
    assert refund["points_reversed"] == 600  # the bonus goes back with the purchase points
    earned = [e["data"] for e in shop.get("/v1/admin/events", headers=AUTH).json()["events"]]
    assert earned[0] == {"order_id": "o1", "points": 600, "balance": 600, "challenges": ["new-this-week"]}


POINTS_BANNERS = """
[[banners]]
id = "almost"
slot = "hero"
title = "{points_missing} more points for {reward}"
when = { type = "reward_within_reach" }

[[banners]]
id = "rich"
slot = "top_bar"
title = "You have {points} points"
when = { type = "points", min = 1000 }
"""


def test_a_cart_a_few_points_from_a_reward_nudges_towards_it_and_banners_can_target_points(
    shop: TestClient[Any],
) -> None:
    headers = {**AUTH, "content-type": "application/toml"}
    assert shop.put("/v1/admin/banners", content=POINTS_BANNERS.encode(), headers=headers).status_code == 200
    place(shop, "o1", "c1", 450)
    page = {"page": {"type": "cart", "cart": [{"item_id": "i0001", "quantity": 1}]}, "customer_token": token("c1"),
            "consent": True}  # fmt: skip
    answer = shop.post("/v1/page", json=page).json()
    reach = [n for n in answer["nudges"] if n["kind"] == "reward_within_reach"]
    assert [(n["reward_id"], n["points"], n["remaining"], n["text"]) for n in reach] == [
        ("pct20", 50, 50.0, "50 more points for −20 % on everything")
    ]
    assert all(item["price"] >= 50 for item in reach[0]["items"])
    assert answer["customer"]["points"] == 450
    assert answer["customer"]["next_expiry"]["points"] == 450
    assert [b["title"] for b in answer["banners"]] == ["50 more points for −20 % on everything"]
    place(shop, "o2", "c1", 600)  # 1,050 points: the reward is affordable, the balance banner shows
    shown = shop.post("/v1/page", json=page).json()
    assert [b["title"] for b in shown["banners"]] == ["You have 1050 points"]
    assert [n["kind"] for n in shown["nudges"] if n["kind"] == "reward_within_reach"] == []
