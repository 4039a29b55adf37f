"""``POST /v1/events`` and the session profile over HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize import identity
from tests.api.conftest import AUTH
from tests.conftest import IDENTITY_SECRET


def views(*items: str, prefix: str = "e") -> list[dict[str, Any]]:
    return [{"type": "product_view", "item_id": item, "event_id": f"{prefix}{n}"} for n, item in enumerate(items)]


def profile(client: TestClient[Any], session: str) -> dict[str, Any]:
    response = client.get(f"/v1/sessions/{session}/profile", headers=AUTH)
    assert response.status_code == 200
    return dict(response.json())


def test_three_views_of_one_brand_put_it_first(client: TestClient[Any]) -> None:
    client.post("/v1/events", json={"session_id": "sess-0001", "events": views("i0010", "i0011")})
    response = client.post(
        "/v1/events", json={"session_id": "sess-0001", "events": views("i0001", "i0002", "i0003", prefix="m")}
    )
    assert response.status_code == 202
    assert response.json() == {"accepted": 3, "duplicates": 0, "unknown_items": 0}
    body = profile(client, "sess-0001")
    assert body["affinities"]["brand"][0]["value"] == "Alexander McQueen"
    assert [a["value"] for a in body["affinities"]["category"]] == ["women", "women/dresses"]
    assert body["affinities"]["color"][0]["value"] == "red"
    assert {a["value"] for a in body["affinities"]["price_band"]} <= {"1", "2", "3", "4", "5"}
    assert body["evidence"] == pytest.approx(5.0, rel=1e-3)


def test_redelivered_events_count_once(client: TestClient[Any]) -> None:
    batch = {"session_id": "sess-0001", "events": views("i0001", "i0002")}
    client.post("/v1/events", json=batch)
    again = client.post("/v1/events", json=batch).json()
    assert again == {"accepted": 0, "duplicates": 2, "unknown_items": 0}
    assert profile(client, "sess-0001")["evidence"] == pytest.approx(2.0, rel=1e-3)


def test_unknown_items_are_accepted_but_learn_nothing(client: TestClient[Any]) -> None:
    body = client.post("/v1/events", json={"session_id": "sess-0001", "events": views("ghost")}).json()
    assert body["unknown_items"] == 1
    assert profile(client, "sess-0001")["affinities"]["brand"] == []


@pytest.mark.parametrize(
    ("events", "field", "words"),
    [
        ([{"type": "teleport", "item_id": "i0001"}], "events[1].type", "events[1].type 'teleport' is not one of"),
        ([{"type": "product_view"}], "events[1].item_id", "events[1].item_id is required"),
        ([{"type": "add_to_cart", "item_id": "i0001", "quantity": 0}], "events[1].quantity", "must be at least 1"),
    ],
)
def test_a_bad_event_rejects_the_whole_batch(
    client: TestClient[Any], events: list[Any], field: str, words: str
) -> None:
    body = {"session_id": "sess-0001", "events": [*views("i0001"), *events]}
    response = client.post("/v1/events", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["field"], words in error["message"]) == (field, True)
    assert profile(client, "sess-0001")["affinities"]["brand"] == []


def test_too_many_events_is_400(client: TestClient[Any]) -> None:
    body = {"session_id": "sess-0001", "events": views(*["i0001"] * 501)}
    response = client.post("/v1/events", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "events"
    assert profile(client, "sess-0001")["affinities"]["brand"] == []


def test_a_10_mb_body_is_413_and_changes_nothing(client: TestClient[Any]) -> None:
    padding = " " * 10_000_000
    content = '{"session_id": "sess-0001", "events": [{"type": "product_view", "item_id": "i0001"}]' + padding + "}"
    response = client.post("/v1/events", content=content.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]
    assert profile(client, "sess-0001")["affinities"]["brand"] == []


def test_a_signed_customer_carries_affinity_into_a_later_session(client: TestClient[Any]) -> None:
    token = identity.sign_customer("c42", IDENTITY_SECRET, int(time.time()) + 60)
    client.post(
        "/v1/events", json={"session_id": "sess-0001", "customer_token": token, "events": views("i0001", "i0002")}
    )
    client.post("/v1/events", json={"session_id": "sess-0002", "customer_token": token, "events": views("i0020")})
    later = profile(client, "sess-0002")
    assert later["customer_id"] == "c42"
    brands = {a["value"]: a["score"] for a in later["affinities"]["brand"]}
    assert set(brands) == {"Alexander McQueen", "Gucci"}
    assert brands["Alexander McQueen"] == pytest.approx(0.5 * 2, rel=1e-3)


@pytest.mark.parametrize("secret_or_expiry", ["forged", "expired"])
def test_a_forged_or_expired_token_is_anonymous(client: TestClient[Any], secret_or_expiry: str) -> None:
    secret = "not-the-secret" if secret_or_expiry == "forged" else IDENTITY_SECRET
    expires = int(time.time()) + (60 if secret_or_expiry == "forged" else -60)
    token = identity.sign_customer("c42", secret, expires)
    response = client.post(
        "/v1/events", json={"session_id": "sess-0001", "customer_token": token, "events": views("i0001")}
    )
    assert response.status_code == 202
    assert profile(client, "sess-0001")["customer_id"] is None
