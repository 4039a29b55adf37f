"""Rate limits of the browser routes: the token bucket, then the routes' 429s."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from personalize.limits import RateLimiter
from tests.conftest import API_KEY, make_settings


def test_a_bucket_grants_its_burst_then_its_rate() -> None:
    limiter = RateLimiter(per_second=2.0, burst=3, max_keys=100)
    assert [limiter.wait("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait("a", 0.0) == pytest.approx(0.5)  # one token comes back after 1 / rate
    assert limiter.wait("a", 0.5) == 0.0
    assert limiter.wait("b", 0.5) == 0.0  # keys have buckets of their own
    assert limiter.wait("a", 10.0) == 0.0  # refilled, but never above the burst:
    assert [limiter.wait("a", 10.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


def test_a_refused_request_takes_no_token() -> None:
    limiter = RateLimiter(per_second=1.0, burst=1, max_keys=100)
    assert limiter.wait("a", 0.0) == 0.0
    assert [limiter.wait("a", 0.0) for _ in range(5)] == [pytest.approx(1.0)] * 5
    assert limiter.wait("a", 1.0) == 0.0


def test_a_rate_of_zero_turns_the_limit_off() -> None:
    limiter = RateLimiter(per_second=0.0, burst=1, max_keys=100)
    assert {limiter.wait("a", 0.0) for _ in range(1000)} == {0.0}
    assert len(limiter) == 0


def test_the_least_recently_used_buckets_go_first() -> None:
    limiter = RateLimiter(per_second=1.0, burst=1, max_keys=100)
    for n in range(150):
        limiter.wait(f"k{n}", 0.0)
    assert len(limiter) == 100
    assert limiter.wait("k149", 0.0) > 0  # kept: still empty
    assert limiter.wait("k0", 0.0) == 0.0  # dropped, so it starts full again


SEARCH = {"session_id": "sess-0001", "events": [{"type": "search", "query": "dress"}]}


def limited_client(**limits: Any) -> TestClient[Any]:
    overrides = {f"limits__{key}": value for key, value in limits.items()}
    return TestClient(create_app(make_settings(**overrides)))


def test_an_address_over_its_rate_gets_429_with_retry_after() -> None:
    with limited_client(ip_per_second=0.5, ip_burst=3, session_per_second=0) as client:
        codes = [client.post("/v1/page", json={"page": {"type": "home"}}).status_code for _ in range(3)]
        refused = client.post("/v1/events", json=SEARCH)
    assert codes == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "client address" in refused.json()["error"]["message"]


def test_the_server_to_server_key_is_not_limited() -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with limited_client(ip_per_second=0.5, ip_burst=1, session_per_second=0.5, session_burst=1) as client:
        body = {"session_id": "sess-0001", "page": {"type": "home"}}
        codes = {client.post("/v1/page", json=body, headers=auth).status_code for _ in range(20)}
        wrong = client.post("/v1/page", json=body, headers={"Authorization": "Bearer nope"})
        refused = client.post("/v1/page", json=body, headers={"Authorization": "Bearer nope"})
    assert codes == {200}
    assert (wrong.status_code, refused.status_code) == (200, 429)


def test_a_session_over_its_rate_gets_429_while_others_go_on() -> None:
    with limited_client(ip_per_second=0, session_per_second=0.5, session_burst=2) as client:

        def view(session: str) -> int:
            return client.post("/v1/page", json={"session_id": session, "page": {"type": "home"}}).status_code

        assert [view("sess-0001") for _ in range(3)] == [200, 200, 429]
        assert view("sess-0002") == 200
        refused = client.post("/v1/events", json=SEARCH)
    assert refused.status_code == 429
    assert "session" in refused.json()["error"]["message"]


def test_the_address_comes_from_the_configured_proxy_header() -> None:
    with limited_client(ip_per_second=0.5, ip_burst=1, session_per_second=0, client_ip_header="X-Forwarded-For") as c:

        def view(forwarded: str) -> int:
            headers = {"X-Forwarded-For": forwarded}
            return c.post("/v1/page", json={"page": {"type": "home"}}, headers=headers).status_code

        # the last hop is the address the proxy saw; what the client wrote before it is not trusted
        assert [view("6.6.6.6, 10.0.0.1"), view("7.7.7.7, 10.0.0.1"), view("10.0.0.2")] == [200, 429, 200]
