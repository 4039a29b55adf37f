"""Health, readiness, metrics, request ids, the access log and the OpenAPI schema."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from tests.conftest import RedisServer, make_settings, require_or_skip


def test_health_and_readiness(client: TestClient[Any]) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "store": None, "catalog_items": 30, "models": None}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()["status"], ready.json()["catalog_items"]) == (200, "ready", 30)


def test_readyz_is_503_when_the_store_is_gone(client: TestClient[Any]) -> None:
    runtime = client.app.state.runtime

    async def unreachable() -> bool:
        return False

    runtime.store.ping = unreachable
    response = client.get("/readyz")
    assert (response.status_code, response.json()["status"]) == (503, "not_ready")


def test_metrics_count_requests_per_route_and_status(client: TestClient[Any]) -> None:
    client.post("/v1/page", json={"page": {"type": "home"}})
    client.post("/v1/page", json={"page": {"type": "nope"}})
    text = client.get("/metrics").text
    assert 'pz_http_requests_total{method="POST",route="/v1/page",status="200"} 1.0' in text
    assert 'pz_http_requests_total{method="POST",route="/v1/page",status="400"} 1.0' in text
    assert 'pz_http_request_duration_seconds_bucket{le="0.0005",method="POST",route="/v1/page"}' in text


def test_request_id_is_kept_or_assigned(client: TestClient[Any]) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 16


def test_one_structured_access_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(create_app(make_settings(access_log="true"))) as client, caplog.at_level(logging.INFO):
        client.get("/healthz", headers={"X-Request-ID": "r-1"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "personalize.access"]
    assert len(lines) == 1
    assert lines[0]["request_id"] == "r-1"
    assert (lines[0]["method"], lines[0]["route"], lines[0]["status"]) == ("GET", "/healthz", 200)
    assert lines[0]["duration_ms"] >= 0


def test_openapi_describes_the_v1_routes(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert {
        "/v1/page",
        "/v1/events",
        "/v1/catalog/items",
        "/v1/catalog/items/{item_id}",
        "/v1/sessions/{session_id}/profile",
    } <= set(paths)


def test_cors_allows_only_listed_origins() -> None:
    settings = make_settings(cors_origins="https://shop.example")
    with TestClient(create_app(settings)) as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = client.options("/v1/page", headers={"Origin": "https://shop.example", **preflight})
        denied = client.options("/v1/page", headers={"Origin": "https://evil.example", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "https://shop.example"
    assert "access-control-allow-origin" not in denied.headers


def test_a_lost_redis_answers_503_with_retry_after_and_counts_it(tmp_path: Path) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        require_or_skip("PZ_REQUIRE_REDIS", "redis-server is not installed")
    server = RedisServer(str(binary), tmp_path)
    try:
        with TestClient(create_app(make_settings(store_url=server.url))) as client:
            server.stop()
            response = client.post(
                "/v1/events", json={"session_id": "s1", "events": [{"type": "search", "query": "x"}]}
            )
            assert response.status_code == 503
            assert response.headers["retry-after"] == "2"
            assert response.json()["error"]["code"] == "store_unavailable"
            assert client.get("/readyz").status_code == 503
            assert 'pz_store_errors_total{route="/v1/events"} 1.0' in client.get("/metrics").text
    finally:
        if server.process.poll() is None:
            server.stop()


def test_openapi_says_which_routes_need_the_key_and_that_requests_are_closed(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"] == {"apiKey": {"type": "http", "scheme": "bearer"}}
    paths = schema["paths"]
    assert paths["/v1/orders"]["post"]["security"] == [{"apiKey": []}]
    assert paths["/v1/sessions/{session_id}/profile"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in paths["/v1/page"]["post"]
    assert schema["components"]["schemas"]["PageRequest"]["additionalProperties"] is False
    assert set(paths["/v1/page"]["post"]["responses"]) == {"200", "400", "413", "429"}
