"""The example program end to end over HTTP, on both backends (Redis among them), told by the outbox.

A new customer's welcome bonus; an order with a ``new``-tagged item earning double on it and completing the weekly
challenge, a second qualifying order that week earning no second bonus; 500 points for −20 % giving a code that works
once at checkout; a second redemption with 300 points left refused naming the balance, appending nothing; a
cancellation giving the points back with their original expiry; every change in the outbox once, in order; then the
customer erased, and the export holding no personal field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import AUTH
from tests.api.test_rewards_api import loyalty, program_settings, redeem, shop

__all__ = ["program_settings", "shop"]  # the fixtures, shared with the rewards tests

WHEN = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()  # both orders in one ISO week
PERSONAL = ("first_name", "email", "birthday", "country", "locale", "email_consent", "email_consent_at")


def order(order_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    items = [{"item_id": item_id, "quantity": 1, "price": price} for item_id, price in lines]
    total = sum(price for _, price in lines)
    return {"order_id": order_id, "customer_id": "eve", "items": items, "total": total, "currency": "USD",
            "completed_at": WHEN}  # fmt: skip


def notices(client: TestClient[Any]) -> list[tuple[str, dict[str, Any]]]:
    found = client.get("/v1/admin/events", params={"limit": 1000}, headers=AUTH).json()["events"]
    return [(e["kind"], e["data"]) for e in found if e["customer_id"] == "eve"]


def test_the_example_program_end_to_end(shop: TestClient[Any]) -> None:
    record = {"first_name": "Eve", "email": "eve@example.com", "birthday": "03-08", "country": "FR",
              "locale": "fr-FR", "email_consent": True}  # fmt: skip
    welcomed = shop.put("/v1/customers/eve", json=record, headers=AUTH).json()
    assert (welcomed["created"], welcomed["welcome_points"]) == (True, 100)

    # i0006 is tagged new: $200 earns 400 points at × 2, and the weekly challenge adds 100
    first = shop.post("/v1/orders", json=order("o1", [("i0006", 200)]), headers=AUTH).json()
    assert (first["points_earned"], first["challenges_completed"]) == (500, ["new-this-week"])
    second = shop.post("/v1/orders", json=order("o2", [("i0006", 100)]), headers=AUTH).json()
    assert (second["points_earned"], second["challenges_completed"]) == (200, [])  # once per customer per week
    before = loyalty(shop, "eve")
    assert before["points"] == 800

    bought = redeem(shop, "eve", "rd1")
    assert bought.status_code == 201, bought.text
    assert (bought.json()["points_spent"], bought.json()["points"]) == (500, 300)
    code = bought.json()["coupon"]["code"]
    assert bought.json()["coupon"]["discount_pct"] == 20
    checkout = {"order_id": "o3", "customer_id": "eve"}
    assert shop.post(f"/v1/coupons/{code}/redeem", json=checkout, headers=AUTH).status_code == 200
    reused = shop.post(f"/v1/coupons/{code}/redeem", json={**checkout, "order_id": "o4"}, headers=AUTH)
    assert reused.json()["error"]["code"] == "coupon_used"  # it works once

    told_before = notices(shop)
    refused = redeem(shop, "eve", "rd2")
    assert refused.status_code == 409
    assert "costs 500 points and the spendable balance is 300" in refused.json()["error"]["message"]
    assert notices(shop) == told_before  # a refused change appends nothing

    again = redeem(shop, "eve", "rd3", "ten-off")  # 250 of the 300, its code unused, then cancelled
    assert again.status_code == 201
    cancelled = shop.post("/v1/redemptions/rd3/cancel", headers=AUTH)
    assert cancelled.json()["points"] == 300
    after = loyalty(shop, "eve")
    assert after["points"] == 300
    assert after["next_expiry"]["expires_at"] == before["next_expiry"]["expires_at"]  # back in their own lots

    assert [kind for kind, _ in notices(shop)] == [
        "points_earned",  # welcome
        "points_earned",  # o1, with the challenge
        "points_earned",  # o2
        "reward_redeemed", "coupon_issued",  # rd1
        "reward_redeemed", "coupon_issued", "redemption_cancelled",  # rd3
    ]  # fmt: skip
    earned = [data for kind, data in notices(shop) if kind == "points_earned"]
    assert [(d.get("reason"), d.get("order_id"), d["points"]) for d in earned] == [
        ("welcome", None, 100), (None, "o1", 500), (None, "o2", 200)
    ]  # fmt: skip
    assert earned[1]["challenges"] == ["new-this-week"]

    assert shop.delete("/v1/customers/eve", headers=AUTH).status_code == 200
    exported = shop.get("/v1/customers/eve/export", headers=AUTH).json()
    assert exported["record"] is None
    text = str(exported)
    assert all(value not in text for value in ("Eve", "eve@example.com", "03-08", "fr-FR"))
    assert exported["loyalty"]["points"] == 300  # what accounting needs stays under the id
