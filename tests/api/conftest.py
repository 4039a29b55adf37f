"""An app per test on each backend, driven through litestar's test client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from personalize.settings import Settings
from tests.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def catalog_item(n: int, **fields: Any) -> dict[str, Any]:
    item = {
        "item_id": f"i{n:04d}",
        "title": f"Item {n}",
        "brand": "Gucci",
        "category": "women/dresses",
        "color": "black",
        "price": 100 + n,
        "url": f"/p/{n}",
        "image": f"https://img.example/{n}.jpg",
    }
    return {**item, **fields}


CATALOG = [
    catalog_item(
        n,
        brand="Alexander McQueen" if n < 5 else "Gucci",
        color="red" if n % 2 else "black",
        category="women/dresses" if n < 20 else "women/shoes",
    )
    for n in range(30)
]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings)) as test_client:
        response = test_client.put("/v1/catalog/items", json={"items": CATALOG}, headers=AUTH)
        assert response.status_code == 200
        yield test_client
