"""The defects an outside security probe found (issue #12), each as the request that showed it, on both stores.

Each test names its defect's number. The Redis out-of-memory case and the flood of event batches need real
processes and are in ``tests/faults``; the demo's in ``tests/api/test_demo_api.py``; the token's in
``tests/personalize/test_identity.py``; the bounds' in ``tests/contract/test_bounds.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from tests.api.conftest import AUTH, CATALOG
from tests.api.test_loyalty_api import order, token
from tests.conftest import make_settings
from tests.state import state_digest

JSON = {"content-type": "application/json"}


def digest(client: TestClient[Any]) -> str:
    runtime = client.app.state.runtime
    return state_digest(runtime.store, runtime.settings.store_url)


def refused(client: TestClient[Any], response: Any, before: str, status: int = 400) -> dict[str, Any]:
    """The response is a 4xx of the error shape and the store is exactly as before."""
    assert response.status_code == status, response.text
    assert digest(client) == before
    return dict(response.json()["error"])


def json_routes(client: TestClient[Any]) -> list[tuple[str, str, dict[str, str]]]:
    """Every route that reads a JSON body: (method, path, headers)."""
    schema = client.get("/schema/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                keyed = {**AUTH} if operation.get("security") else {}
                concrete = path.replace("{order_id}", "o-1").replace("{code}", "CODE").replace("{item_id}", "i0001")
                found.append((method.upper(), concrete, keyed))
    return found


def test_2_deep_nesting_is_a_400_on_every_json_route(client: TestClient[Any]) -> None:
    routes = json_routes(client)
    assert ("POST", "/v1/page", {}) in routes
    assert ("POST", "/v1/orders", AUTH) in routes
    before = digest(client)
    for method, path, headers in routes:
        for body in (b"[" * 100_000, b'{"a":' * 50_000, b"[" * 2000 + b"]" * 2000):
            answer = client.request(method, path, content=body, headers={**JSON, **headers})
            assert answer.status_code in (400, 422), (method, path, answer.text)
            assert "nested too deeply" in answer.json()["error"]["message"], (method, path, answer.text)
            assert digest(client) == before


@pytest.mark.parametrize("field", ["landing_url", "referrer"])
def test_3_an_unparseable_page_url_is_a_400_naming_it(client: TestClient[Any], field: str) -> None:
    before = digest(client)
    body = {"session_id": "s-url", "page": {"type": "home"}, "context": {field: "http://[zz/?fbclid=1"}}
    error = refused(client, client.post("/v1/page", json=body), before)
    assert error["field"] == f"context.{field}"


@pytest.mark.parametrize(
    ("completed_at", "field"),
    [("9999-12-15T00:00:00Z", "completed_at"), ("0001-01-01T00:00:00+14:00", "completed_at")],
)
def test_5_an_order_at_an_extreme_date_is_a_400(client: TestClient[Any], completed_at: str, field: str) -> None:
    before = digest(client)
    body = {**order("o-date", "ann", [("i0001", 1, "101")]), "completed_at": completed_at}
    assert refused(client, client.post("/v1/orders", json=body, headers=AUTH), before)["field"] == field


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/events", {"session_id": "s-d", "events": [{"type": "click", "item_id": "i0001", "ts": "9999-12-31T00:00:00Z"}]}, "events[0].ts"),  # noqa: E501
        ("/v1/events", {"session_id": "s-d", "events": [{"type": "search", "query": "x", "ts": "0001-01-01T00:00:00+14:00"}]}, "events[0].ts"),  # noqa: E501
        ("/v1/catalog/items", {"items": [{**CATALOG[0], "created_at": "9999-12-31T23:59:59Z"}]}, "items[0].created_at"),
    ],
)  # fmt: skip
def test_5_extreme_dates_elsewhere_are_400s(
    client: TestClient[Any], path: str, body: dict[str, Any], field: str
) -> None:
    before = digest(client)
    method = "PUT" if path.startswith("/v1/catalog") else "POST"
    assert refused(client, client.request(method, path, json=body, headers=AUTH), before)["field"] == field


def test_5_a_campaign_that_would_expire_after_the_calendar_is_refused_and_not_stored(client: TestClient[Any]) -> None:
    before = digest(client)
    body = {"campaign_id": "far", "name": "Far", "discount_pct": 10, "valid_hours": 8000,
            "valid_from": "9999-12-31T00:00:00Z", "audience": {"customer_ids": ["ann"]}}  # fmt: skip
    assert refused(client, client.post("/v1/coupons/campaigns", json=body, headers=AUTH), before)["field"]
    body["valid_from"] = "2026-12-01T00:00:00Z"  # the retry with a sane date is a new campaign, not a 409
    assert client.post("/v1/coupons/campaigns", json=body, headers=AUTH).status_code == 201


def test_6_a_client_over_its_rate_gets_429_before_its_body_is_read(backend_url: str) -> None:
    settings = make_settings(store_url=backend_url, limits__ip_per_second="0.001", limits__ip_burst="2")
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert client.post("/v1/page", json={"page": {"type": "home"}}).status_code == 200
        before = digest(client)
        for body in (b"{not json", b"[" * 100_000, b'{"page": {"type": "home"}, "x": "' + b"a" * 900_000 + b'"}'):
            for path in ("/v1/page", "/v1/events"):
                response = client.post(path, content=body, headers=JSON)
                assert refused(client, response, before, 429)["code"] == "rate_limited"
                assert int(response.headers["retry-after"]) >= 1


def test_9_one_call_of_500_unsubscribes_moves_the_score_by_the_daily_cap_at_most(client: TestClient[Any]) -> None:
    seed = order("o-eng", "ivy", [("i0001", 1, "101")])
    assert client.post("/v1/orders", json=seed, headers=AUTH).status_code == 200
    start = client.get("/v1/customers/ivy/loyalty", headers=AUTH).json()["engagement_score"]
    events = [{"type": "unsubscribe", "event_id": f"u{n}"} for n in range(500)]
    body = {"session_id": "s-ivy", "customer_token": token("ivy"), "events": events}
    assert client.post("/v1/events", json=body).status_code == 202
    again = {**body, "events": [{"type": "unsubscribe", "event_id": f"v{n}"} for n in range(500)]}
    assert client.post("/v1/events", json=again).status_code == 202
    end = client.get("/v1/customers/ivy/loyalty", headers=AUTH).json()["engagement_score"]
    assert end == start - 100


@pytest.fixture
def yen_shop(backend_url: str) -> Iterator[TestClient[Any]]:
    settings = make_settings(store_url=backend_url, currency="JPY", loyalty__currency="JPY")
    with TestClient(create_app(settings)) as client:
        items = [{**CATALOG[0], "price": 5000}, {**CATALOG[1], "price": 3000}]
        assert client.put("/v1/catalog/items", json={"items": items}, headers=AUTH).status_code == 200
        yield client


def yen_order(order_id: str, total: float | str, price: float | str = 5000) -> dict[str, Any]:
    body = order(order_id, "kei", [("i0000", 1, "5000")])
    return {**body, "currency": "JPY", "total": total, "items": [{**body["items"][0], "price": price}]}


def test_10_a_yen_shop_refuses_fractions_of_a_yen_by_field(yen_shop: TestClient[Any]) -> None:
    before = digest(yen_shop)
    error = refused(yen_shop, yen_shop.post("/v1/orders", json=yen_order("o-y1", 1000.99), headers=AUTH), before)
    assert (error["field"], "0 decimal places for JPY" in error["message"]) == ("total", True)
    error = refused(yen_shop, yen_shop.post("/v1/orders", json=yen_order("o-y1", 5000, 4999.5), headers=AUTH), before)
    assert error["field"] == "items[0].price"
    items = {"items": [{**CATALOG[2], "price": 10.55}]}
    assert refused(yen_shop, yen_shop.put("/v1/catalog/items", json=items, headers=AUTH), before)["field"] == (
        "items[0].price"
    )
    assert yen_shop.post("/v1/orders", json=yen_order("o-y2", 5000), headers=AUTH).status_code == 200
    before = digest(yen_shop)
    half = yen_shop.post("/v1/orders/o-y2/refunds", json={"refund_id": "r-1", "amount": 0.5}, headers=AUTH)
    error = refused(yen_shop, half, before)
    assert (error["field"], "decimal places for JPY" in error["message"]) == ("amount", True)
    whole = yen_shop.post("/v1/orders/o-y2/refunds", json={"refund_id": "r-1", "amount": 1}, headers=AUTH)
    assert whole.json()["amount"] == 1


def test_10_a_three_decimal_currency_takes_its_thousandths(backend_url: str) -> None:
    with TestClient(create_app(make_settings(store_url=backend_url, currency="BHD", loyalty__currency="BHD"))) as shop:
        items = {"items": [{**CATALOG[0], "price": "12.345"}]}
        assert shop.put("/v1/catalog/items", json=items, headers=AUTH).status_code == 200
        assert shop.get("/v1/catalog/items/i0000", headers=AUTH).json()["price"] == 12.345
        body = {**order("o-b", "bo", [("i0000", 1, "12.345")]), "currency": "BHD", "total": 12.345}
        assert shop.post("/v1/orders", json=body, headers=AUTH).json()["qualifying_amount"] == 12.345


@pytest.mark.parametrize("total", [b"1e-999999", b"10.004999999999999999", b"10.0000000000000000001"])
def test_11_money_is_read_from_the_json_text_exactly(client: TestClient[Any], total: bytes) -> None:
    before = digest(client)
    body = (
        b'{"order_id": "o-x", "customer_id": "ann", "currency": "USD", "completed_at": 1790000000000, '
        b'"items": [{"item_id": "i0001", "price": 10}], "total": ' + total + b"}"
    )
    error = refused(client, client.post("/v1/orders", content=body, headers={**JSON, **AUTH}), before)
    assert (error["field"], total.decode().upper() in error["message"].upper()) == ("total", True)


@pytest.mark.parametrize("url", ["//evil.example/phish", "/\\evil.example", "javascript:alert(1)", "/ok\n/x"])
@pytest.mark.parametrize("field", ["url", "image"])
def test_12_a_catalog_link_to_another_host_in_disguise_is_refused(
    client: TestClient[Any], url: str, field: str
) -> None:
    before = digest(client)
    items = {"items": [{**CATALOG[0], field: url}]}
    assert refused(client, client.put("/v1/catalog/items", json=items, headers=AUTH), before)["field"] == (
        f"items[0].{field}"
    )


def test_14_text_types_say_their_charset_once(client: TestClient[Any]) -> None:
    for path in ("/snippet.js", "/snippet-stub.js", "/metrics"):
        assert client.get(path).headers["content-type"].count("charset") == 1, path


def test_14_a_replay_that_differs_is_a_409_naming_the_difference(client: TestClient[Any]) -> None:
    first = order("o-r", "ann", [("i0001", 2, "101")])
    assert client.post("/v1/orders", json=first, headers=AUTH).status_code == 200
    assert client.post("/v1/orders", json=first, headers=AUTH).json()["duplicate"] is True
    before = digest(client)
    for changed, field in (({"total": 201}, "total"), ({"customer_id": "bea"}, "customer_id"),
                           ({"items": [{"item_id": "i0002", "quantity": 2, "price": 101}]}, "items")):  # fmt: skip
        error = refused(client, client.post("/v1/orders", json={**first, **changed}, headers=AUTH), before, 409)
        assert (error["code"], error["field"]) == ("order_conflict", field)
    refund = {"refund_id": "r-1", "amount": 50}
    assert client.post("/v1/orders/o-r/refunds", json=refund, headers=AUTH).status_code == 200
    assert client.post("/v1/orders/o-r/refunds", json=refund, headers=AUTH).json()["duplicate"] is True
    before = digest(client)
    other = client.post("/v1/orders/o-r/refunds", json={**refund, "amount": 60}, headers=AUTH)
    error = refused(client, other, before, 409)
    assert (error["code"], error["field"], "$50.00" in error["message"]) == ("refund_conflict", "amount", True)


def test_settings_refuse_a_currency_that_is_not_iso_4217() -> None:
    with pytest.raises(ValueError, match="'XYZ' is not an ISO 4217 currency code"):
        make_settings(currency="XYZ")
