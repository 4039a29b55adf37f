"""Hostile input over every operation of the OpenAPI schema, in process, on the memory store and on Redis (issue #12):
no answer is a 5xx, and no 4xx changes anything the store holds.

The cases are :mod:`tests.properties.hostile`'s; the count per store is printed in the terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from tests.api.conftest import AUTH, CATALOG
from tests.conftest import RedisServer, make_settings
from tests.properties.hostile import EXAMPLES, operations, run_cases, summary
from tests.state import state_digest

EXAMPLES_PER_STORE = 1500
COUNTS: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module", params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def hostile_client(request: pytest.FixtureRequest) -> Iterator[tuple[str, TestClient[Any]]]:
    url = "memory://"
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        url = server.url
    with TestClient(create_app(make_settings(store_url=url))) as client:
        assert client.put("/v1/catalog/items", json={"items": CATALOG}, headers=AUTH).status_code == 200
        order = {**EXAMPLES["POST /v1/orders"]["body"], "order_id": "o-1", "customer_id": "c-1"}
        assert client.post("/v1/orders", json=order, headers=AUTH).status_code == 200
        yield request.param, client


def test_every_operation_of_the_schema_has_a_hostile_example(hostile_client: tuple[str, TestClient[Any]]) -> None:
    _, client = hostile_client
    schema = client.get("/schema/openapi.json").json()
    assert {operation for operation, _ in operations(schema)} == set(EXAMPLES)


def test_hostile_input_never_answers_5xx_and_a_refusal_changes_nothing(
    hostile_client: tuple[str, TestClient[Any]],
) -> None:
    store_name, client = hostile_client
    runtime = client.app.state.runtime
    schema = client.get("/schema/openapi.json").json()

    def digest() -> str:
        return state_digest(runtime.store, runtime.settings.store_url)

    COUNTS[store_name] = run_cases(client, schema, EXAMPLES_PER_STORE, digest)
    assert sum(COUNTS[store_name].values()) >= EXAMPLES_PER_STORE


def pytest_terminal_summary_line() -> str | None:
    """The line the suite's terminal summary prints (see ``tests/properties/conftest.py``)."""
    if not COUNTS:
        return None
    parts = [f"{store}: {summary(counts)}" for store, counts in COUNTS.items()]
    return (
        "hostile input (hypothesis, every operation, in process): "
        + "; ".join(parts)
        + "; no 5xx, no 4xx changed the store"
    )
