"""``/v1/catalog/items`` over HTTP: the key, validation, paging, and no partial writes."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import AUTH, CATALOG, catalog_item


def version(client: TestClient[Any]) -> int:
    return int(client.app.state.runtime.catalog.version)


def test_get_returns_money_as_a_number_and_the_fields_as_sent(client: TestClient[Any]) -> None:
    client.put("/v1/catalog/items", json={"items": [catalog_item(7, price=19.99, tags=["silk"])]}, headers=AUTH)
    body = client.get("/v1/catalog/items/i0007", headers=AUTH).json()
    assert body["price"] == 19.99
    assert (body["brand"], body["category"], body["tags"]) == ("Gucci", "women/dresses", ["silk"])


def test_created_at_is_epoch_milliseconds_or_iso_like_every_wire_time(client: TestClient[Any]) -> None:
    items = [catalog_item(7, created_at=1_795_000_000_000), catalog_item(8, created_at="2026-11-18T11:06:40Z")]
    assert client.put("/v1/catalog/items", json={"items": items}, headers=AUTH).status_code == 200
    for item_id in ("i0007", "i0008"):
        assert client.get(f"/v1/catalog/items/{item_id}", headers=AUTH).json()["created_at"] == "2026-11-18T11:06:40Z"


def test_unknown_item_is_404_naming_it(client: TestClient[Any]) -> None:
    response = client.get("/v1/catalog/items/nope", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "no catalog item 'nope'", "field": "item_id"}


def test_list_filters_and_pages(client: TestClient[Any]) -> None:
    first = client.get("/v1/catalog/items", params={"brand": "alexander mcqueen", "limit": 3}, headers=AUTH).json()
    rest = client.get(
        "/v1/catalog/items", params={"brand": "alexander mcqueen", "cursor": first["next_cursor"]}, headers=AUTH
    ).json()
    ids = [i["item_id"] for i in first["items"] + rest["items"]]
    assert ids == ["i0000", "i0001", "i0002", "i0003", "i0004"]
    assert rest["next_cursor"] is None
    shoes = client.get("/v1/catalog/items", params={"category": "women/shoes"}, headers=AUTH).json()
    assert len(shoes["items"]) == 10


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_without_the_key_it_is_401_and_nothing_changes(client: TestClient[Any], headers: dict[str, str]) -> None:
    before = version(client)
    response = client.put("/v1/catalog/items", json={"items": [catalog_item(99)]}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert client.get("/v1/catalog/items/i0099", headers=AUTH).status_code == 404
    assert version(client) == before
    assert client.get("/v1/catalog/items/i0001").status_code == 401


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        ({"price": -5}, "items[1].price", "non-negative"),
        ({"price": 1.005}, "items[1].price", "decimal places"),
        ({"category": "Women/Dresses"}, "items[1].category", "lowercase segments"),
        ({"title": "x" * 301}, "items[1].title", "items[1].title must be at most 300 characters long"),
        ({"url": "javascript:alert(1)"}, "items[1].url", "http(s)"),
        ({"colour": "red"}, "items[1].colour", "items[1].colour is not a field this request takes"),
    ],
)
def test_a_bad_item_is_400_naming_the_field_and_nothing_is_written(
    client: TestClient[Any], item: dict[str, Any], field: str, words: str
) -> None:
    before = version(client)
    body = {"items": [catalog_item(98), catalog_item(99, **item)]}
    response = client.put("/v1/catalog/items", json=body, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field
    assert words in error["message"]
    assert client.get("/v1/catalog/items/i0098", headers=AUTH).status_code == 404
    assert version(client) == before


def test_malformed_json_is_400(client: TestClient[Any]) -> None:
    response = client.put(
        "/v1/catalog/items", content=b'{"items": [', headers={**AUTH, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert "malformed" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_413(client: TestClient[Any]) -> None:
    before = version(client)
    big = b'{"items": [' + b" " * 10_000_000 + b"]}"
    response = client.put("/v1/catalog/items", content=big, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert version(client) == before


def test_the_seeded_catalog_is_all_there(client: TestClient[Any]) -> None:
    page = client.get("/v1/catalog/items", params={"limit": 1000}, headers=AUTH).json()
    assert len(page["items"]) == len(CATALOG)
