"""Coupon campaigns and redemption over HTTP, on both backends."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from loyalty_nudges.coupons import ALPHABET
from tests.api.conftest import AUTH


def campaign(client: TestClient[Any], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/coupons/campaigns", json={"name": "test", **body}, headers=AUTH)
    assert response.status_code == 201, response.text
    return dict(response.json())


def redeem(client: TestClient[Any], code: str, order: str, customer: str) -> Any:
    return client.post(f"/v1/coupons/{code}/redeem", json={"order_id": order, "customer_id": customer}, headers=AUTH)


def engaged(client: TestClient[Any], customer: str, clicks: int) -> None:
    from tests.api.test_loyalty_api import token

    events = [{"type": "click", "item_id": "i0001", "event_id": f"{customer}-{n}"} for n in range(clicks)]
    client.post("/v1/events", json={"session_id": f"s-{customer}", "customer_token": token(customer), "events": events})


def test_engagement_bands_get_their_own_codes(client: TestClient[Any]) -> None:
    engaged(client, "keen", 20)  # score 100
    engaged(client, "mild", 14)  # score 70
    engaged(client, "cold", 2)  # score 10
    high = campaign(client, campaign_id="vip20", discount_pct=20, prefix="VIP20-", audience={"min_score": 90})
    mid = campaign(client, campaign_id="vip15", discount_pct=15, audience={"min_score": 60, "max_score": 90})
    assert (high["assigned"], mid["assigned"]) == (1, 1)
    assert high["entropy_bits"] == 58.9
    (code,) = high["sample"]
    assert re.fullmatch(f"VIP20[{ALPHABET}]{{12}}", code)
    coupon = client.get(f"/v1/coupons/{code.lower()[:4]}-{code[4:]}", headers=AUTH).json()
    assert (coupon["customer_id"], coupon["discount_pct"], coupon["used_by_order"]) == ("keen", 20, None)
    hours = (
        time.mktime(time.strptime(coupon["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        - time.mktime(time.strptime(coupon["valid_from"][:19], "%Y-%m-%dT%H:%M:%S"))
    ) / 3600
    assert hours == pytest.approx(48)


def test_a_code_redeems_once_idempotently_and_refuses_with_reasons(client: TestClient[Any]) -> None:
    issued = campaign(client, campaign_id="c1", discount_amount=15, audience={"customer_ids": ["ann"]}, unassigned=1)
    assert (issued["codes_issued"], issued["assigned"]) == (2, 1)
    code = issued["sample"][0]
    assert redeem(client, code, "o1", "bob").json()["error"]["code"] == "coupon_not_yours"
    ok = redeem(client, code, "o1", "ann")
    assert (ok.status_code, ok.json()["used_by_order"], ok.json()["discount_amount"]) == (200, "o1", 15.0)
    assert redeem(client, code, "o1", "ann").status_code == 200
    used = redeem(client, code, "o2", "ann")
    assert (used.status_code, used.json()["error"]["code"]) == (409, "coupon_used")
    assert redeem(client, "NOPE234567", "o3", "ann").status_code == 404


def test_expired_and_future_codes_are_refused(client: TestClient[Any]) -> None:
    old = campaign(
        client, campaign_id="old", discount_pct=10, valid_from="2020-01-01T00:00:00Z", valid_hours=1, unassigned=1
    )["sample"][0]
    future = campaign(client, campaign_id="future", discount_pct=10, valid_from="2999-01-01T00:00:00Z", unassigned=1)[
        "sample"
    ][0]
    assert redeem(client, old, "o1", "x").json()["error"]["code"] == "coupon_expired"
    assert redeem(client, future, "o1", "x").json()["error"]["code"] == "coupon_not_yet_valid"


def test_codes_are_unique_and_campaign_ids_too(client: TestClient[Any]) -> None:
    first = campaign(client, campaign_id="bulk", discount_pct=5, length=10, unassigned=2000)
    assert first["codes_issued"] == 2000
    again = client.post(
        "/v1/coupons/campaigns", json={"name": "x", "campaign_id": "bulk", "discount_pct": 5}, headers=AUTH
    )
    assert (again.status_code, again.json()["error"]["field"]) == (409, "campaign_id")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"discount_pct": 10, "discount_amount": 5}, "discount_pct"),
        ({"discount_pct": 10, "length": 8}, "length"),
        ({"discount_pct": 10, "audience": {"tier": ["gold"]}}, "audience.tier"),
    ],
)
def test_bad_campaigns_are_refused_by_field(client: TestClient[Any], body: dict[str, Any], field: str) -> None:
    response = client.post("/v1/coupons/campaigns", json={"name": "x", "campaign_id": "bad", **body}, headers=AUTH)
    assert (response.status_code, response.json()["error"]["field"]) == (400, field)


def test_valid_from_is_epoch_milliseconds_or_iso(client: TestClient[Any]) -> None:
    by_ms = campaign(client, campaign_id="ms", discount_pct=5, valid_from=4_102_444_800_000, unassigned=1)
    by_iso = campaign(client, campaign_id="iso", discount_pct=5, valid_from="2100-01-01T00:00:00Z", unassigned=1)
    starts = [client.get(f"/v1/coupons/{c['sample'][0]}", headers=AUTH).json()["valid_from"] for c in (by_ms, by_iso)]
    assert starts == ["2100-01-01T00:00:00Z", "2100-01-01T00:00:00Z"]
    assert by_ms["expires_at"] == "2100-01-03T00:00:00Z"


def test_a_shared_code_works_once_for_each_customer(client: TestClient[Any]) -> None:
    issued = campaign(client, campaign_id="welcome", discount_pct=10, code="fb-welcome-10")
    assert (issued["codes_issued"], issued["assigned"], issued["sample"]) == (1, 0, ["FBWELCOME10"])
    shared = client.get("/v1/coupons/FBWELCOME10", headers=AUTH).json()
    assert (shared["shared"], shared["customer_id"], shared["used_by_order"]) == (True, None, None)
    ann = redeem(client, "fbwelcome10", "o1", "ann")
    assert (ann.status_code, ann.json()["customer_id"], ann.json()["used_by_order"]) == (200, "ann", "o1")
    assert redeem(client, "FBWELCOME10", "o1", "ann").status_code == 200  # the same order again: the same success
    again = redeem(client, "FBWELCOME10", "o2", "ann")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "coupon_used")
    assert redeem(client, "FBWELCOME10", "o3", "bob").status_code == 200
    assert client.get("/v1/coupons/FBWELCOME10", headers=AUTH).json()["used_by_order"] is None
    # a customer's use of it is not a code anyone can type
    assert client.get("/v1/coupons/FBWELCOME10~ann", headers=AUTH).status_code == 404
    assert redeem(client, "FBWELCOME10~ann", "o4", "ann").status_code == 404


def test_a_shared_code_that_exists_is_refused_and_nothing_is_written(client: TestClient[Any]) -> None:
    campaign(client, campaign_id="first", discount_pct=10, code="SPRING24")
    taken = client.post(
        "/v1/coupons/campaigns",
        json={"name": "x", "campaign_id": "second", "discount_pct": 5, "code": "spring-24"},
        headers=AUTH,
    )
    assert (taken.status_code, taken.json()["error"]["field"]) == (409, "code")
    retry = campaign(client, campaign_id="second", discount_pct=5, code="SUMMER24")  # the id was not used up
    assert retry["sample"] == ["SUMMER24"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"code": "AB"}, "code must be 4 to 32 letters and digits"),
        ({"code": "WELCOME!"}, "letters and digits"),
        ({"code": "WELCOME10", "unassigned": 5}, "no audience and no unassigned"),
        ({"code": "WELCOME10", "audience": {"tiers": ["gold"]}}, "no audience and no unassigned"),
    ],
)
def test_bad_shared_codes_are_refused_by_their_words(client: TestClient[Any], body: dict[str, Any], words: str) -> None:
    response = client.post(
        "/v1/coupons/campaigns", json={"name": "x", "campaign_id": "bad", "discount_pct": 5, **body}, headers=AUTH
    )
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
    assert client.get("/v1/coupons/WELCOME10", headers=AUTH).status_code == 404
