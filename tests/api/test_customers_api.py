"""Customer records and server-reported actions over HTTP, on both backends, with the demo's program."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import AUTH
from tests.api.test_rewards_api import digest, loyalty, place, program_settings, shop, token

__all__ = ["program_settings", "shop"]  # the fixtures, shared with the rewards tests

ANN = {
    "first_name": "Ann",
    "email": "ann@example.com",
    "birthday": "07-14",
    "country": "US",
    "locale": "en-US",
    "email_consent": True,
    "email_consent_at": "2026-11-01T09:00:00Z",
}


def put(client: TestClient[Any], customer: str, body: dict[str, Any]) -> Any:
    return client.put(f"/v1/customers/{customer}", json=body, headers=AUTH)


def events(client: TestClient[Any]) -> list[dict[str, Any]]:
    return list(client.get("/v1/admin/events", headers=AUTH).json()["events"])


def test_a_new_customer_gets_the_welcome_bonus_once(shop: TestClient[Any]) -> None:
    first = put(shop, "ann", ANN)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["welcome_points"], body["points"]) == (True, 100, 100)
    assert (body["first_name"], body["birthday"], body["email_consent_at"]) == ("Ann", "07-14", "2026-11-01T09:00:00Z")
    again = put(shop, "ann", ANN).json()
    assert (again["created"], again["welcome_points"], again["points"]) == (False, 0, 100)
    assert again["updated_at"] == body["updated_at"]
    renamed = put(shop, "ann", {**ANN, "first_name": "Anna"}).json()
    assert (renamed["first_name"], renamed["points"]) == ("Anna", 100)
    welcome = [e for e in events(shop) if e["kind"] == "points_earned"]
    assert [(e["customer_id"], e["data"]) for e in welcome] == [
        ("ann", {"reason": "welcome", "points": 100, "balance": 100})
    ]
    assert loyalty(shop, "ann")["points"] == 100


def test_a_customer_who_ordered_first_is_welcomed_when_the_record_arrives(shop: TestClient[Any]) -> None:
    place(shop, "o1", "bob", 300)
    assert put(shop, "bob", {"first_name": "Bob"}).json()["points"] == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "ann@"}, "email"),
        ({"email": "Ann <ann@example.com>"}, "email"),
        ({"birthday": "02-30"}, "birthday"),
        ({"birthday": "1990-07-14"}, "birthday"),
        ({"country": "usa"}, "country"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"nickname": "A"}, "nickname"),
        ({"joined_at": "9999-99-99"}, "joined_at"),
    ],
)
def test_a_bad_record_is_refused_naming_the_field_and_changes_nothing(
    shop: TestClient[Any], change: dict[str, Any], field: str
) -> None:
    put(shop, "ann", ANN)
    before = digest(shop)
    response = put(shop, "ann", {**ANN, **change})
    assert (response.status_code, response.json()["error"]["field"]) == (400, field), response.text
    assert digest(shop) == before


def test_first_name_fills_banners(shop: TestClient[Any]) -> None:
    rules = {"banners": [{"id": "hi", "slot": "hero", "title": "Hello {first_name}"}]}
    uploaded = shop.put(
        "/v1/admin/banners", content=json.dumps(rules), headers={**AUTH, "content-type": "application/json"}
    )
    assert uploaded.status_code == 200, uploaded.text
    put(shop, "ann", ANN)
    page = shop.post("/v1/page", json={"page": {"type": "home"}, "customer_token": token("ann")}).json()
    assert [b["title"] for b in page["banners"]] == ["Hello Ann"]


def test_an_action_gives_its_points_and_code_once(shop: TestClient[Any]) -> None:
    body = {"action_id": "drop-1", "action": "recycling_dropoff"}
    first = shop.post("/v1/customers/ann/actions", json=body, headers=AUTH)
    assert first.status_code == 200, first.text
    done = first.json()
    assert (done["points_earned"], done["points"], done["coupon"]["discount_pct"]) == (50, 50, 10)
    replay = shop.post("/v1/customers/ann/actions", json=body, headers=AUTH).json()
    assert (replay["duplicate"], replay["coupon"]["code"], replay["points"]) == (True, done["coupon"]["code"], 50)
    assert loyalty(shop, "ann")["points"] == 50
    told = [(e["kind"], e["data"].get("action_id") or e["data"].get("action")) for e in events(shop)]
    assert told == [("points_earned", "drop-1"), ("coupon_issued", "recycling_dropoff")]
    use = {"order_id": "o9", "customer_id": "ann"}
    assert shop.post(f"/v1/coupons/{done['coupon']['code']}/redeem", json=use, headers=AUTH).status_code == 200


def test_an_unknown_action_or_a_reused_action_id_is_refused_and_changes_nothing(shop: TestClient[Any]) -> None:
    shop.post("/v1/customers/ann/actions", json={"action_id": "a1", "action": "recycling_dropoff"}, headers=AUTH)
    before = digest(shop)
    unknown = shop.post("/v1/customers/ann/actions", json={"action_id": "a2", "action": "dance"}, headers=AUTH)
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "action")
    assert "recycling_dropoff" in unknown.json()["error"]["message"]
    other = shop.post(
        "/v1/customers/bob/actions", json={"action_id": "a1", "action": "recycling_dropoff"}, headers=AUTH
    )
    assert (other.status_code, other.json()["error"]["field"]) == (409, "action_id")
    assert digest(shop) == before


PERSONAL = {"first_name", "email", "birthday", "country", "locale", "email_consent", "email_consent_at"}


def test_export_holds_everything_and_after_delete_no_personal_field(shop: TestClient[Any]) -> None:
    put(shop, "ann", ANN)
    place(shop, "o1", "ann", 800)
    code = shop.post(
        "/v1/customers/ann/redemptions", json={"redemption_id": "rd1", "reward_id": "pct20"}, headers=AUTH
    ).json()["coupon"]["code"]
    views = [{"type": "product_view", "item_id": "i0002"}]
    linked = {"session_id": "s-ann", "customer_token": token("ann"), "events": views}
    assert shop.post("/v1/events", json=linked).status_code == 202
    exported = shop.get("/v1/customers/ann/export", headers=AUTH).json()
    assert {k: exported["record"][k] for k in ("first_name", "email", "birthday")} == {
        "first_name": "Ann",
        "email": "ann@example.com",
        "birthday": "07-14",
    }
    assert [o["order_id"] for o in exported["orders"]] == ["o1"]
    assert exported["orders"][0]["items"] == [
        {"item_id": "i0001", "quantity": 1, "price": 800.0, "on_promotion": False}
    ]
    assert [c["code"] for c in exported["coupons"]] == [code]
    assert exported["loyalty"]["points"] == 400
    assert exported["profile"]
    erased = shop.delete("/v1/customers/ann", headers=AUTH)
    assert erased.status_code == 200, erased.text
    # the browsing session and the order's own (its purchases fed the profile)
    assert erased.json() == {"customer_id": "ann", "record_removed": True, "sessions_unlinked": 2, "coupons_removed": 1}
    after = shop.get("/v1/customers/ann/export", headers=AUTH).json()
    assert (after["record"], after["coupons"], after["profile"]) == (None, [], {})
    assert not PERSONAL & _keys(after)
    assert (after["loyalty"]["points"], [o["order_id"] for o in after["orders"]]) == (400, ["o1"])  # accounts
    profile = shop.get("/v1/sessions/s-ann/profile", headers=AUTH).json()
    assert profile["customer_id"] is None
    cancelled = shop.post("/v1/redemptions/rd1/cancel", headers=AUTH)  # its code went with the erasure
    assert (cancelled.status_code, cancelled.json()["coupon"], cancelled.json()["points"]) == (200, None, 900)
    again = shop.delete("/v1/customers/ann", headers=AUTH).json()
    assert (again["record_removed"], again["coupons_removed"]) == (False, 0)
    assert put(shop, "ann", {"first_name": "Ann"}).json()["welcome_points"] == 0  # welcomed once, ever


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()
