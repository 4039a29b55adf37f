"""Redis out of memory (``maxmemory`` reached under ``noeviction``) and a flood of maximal event batches (issue #12,
defects 4 and 8), against a real server on this test's own redis-server.

Out of memory: pages still answer 200 with the signed customer's standing (read, not recorded); every write route
answers 503 with ``Retry-After``; nothing is written (Redis' whole keyspace is the same before and after); the log
quotes no stored bytes. Once memory is freed, writes work again without a restart.

Flood: eight clients post 500-event batches back to back while other visitors load signed pages; at most 5 % of
those pages lose the customer's standing and at most 5 % of the batches are refused.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from personalize import identity
from tests.api.conftest import AUTH, CATALOG
from tests.conftest import IDENTITY_SECRET
from tests.faults.conftest import SUMMARY, OwnRedis, Server, order

pytestmark = [pytest.mark.slow, pytest.mark.redis]

TOKEN = identity.sign_customer("ann", IDENTITY_SECRET, int(time.time()) + 86400)


def keyspace(client: redis.Redis) -> str:
    digest = hashlib.sha256()
    for key in sorted(client.scan_iter(count=1000)):
        digest.update(key + b"\0" + (client.dump(key) or b"") + b"\0")
    return digest.hexdigest()


def fill_until_full(client: redis.Redis) -> int:
    """Cap Redis' memory a little above what it uses, then write filler until it refuses; returns the fillers."""
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", str(used + 2_000_000))
    n = 0
    while True:
        try:
            client.set(f"filler:{n}", b"x" * 20_000)
        except redis.exceptions.OutOfMemoryError:
            return n
        n += 1


def seeded(own_redis: Callable[..., OwnRedis], serve: Callable[..., Server]) -> tuple[OwnRedis, Server]:
    store = own_redis()
    server = serve("--store", store.url, "--no-demo")
    assert httpx.put(f"{server.base}/v1/catalog/items", json={"items": CATALOG}, headers=AUTH).status_code == 200
    assert httpx.post(f"{server.base}/v1/orders", json=order("o-seed", "ann", 4100), headers=AUTH).status_code == 200
    return store, server


def test_out_of_memory_pages_still_read_writes_are_503_and_nothing_is_half_written(
    own_redis: Callable[..., OwnRedis], serve: Callable[..., Server]
) -> None:
    store, server = seeded(own_redis, serve)
    fill_until_full(store.client)
    before = keyspace(store.client)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        page = {"session_id": "s-full", "customer_token": TOKEN, "page": {"type": "product", "item_id": "i0001"}}
        for _ in range(5):
            shown = client.post("/v1/page", json=page)
            assert shown.status_code == 200, shown.text
            assert shown.json()["customer"]["tier"] == "bronze"  # read from the full store
            assert shown.json()["recommendations"]["product_similar"]
        writes: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
            ("POST", "/v1/events", {"session_id": "s-e", "events": [{"type": "click", "item_id": "i0002"}]}, {}),
            ("POST", "/v1/orders", order("o-full", "bea", 120), AUTH),
            ("PUT", "/v1/catalog/items", {"items": [{**CATALOG[0], "title": "Changed"}]}, AUTH),
            ("POST", "/v1/coupons/campaigns", {"campaign_id": "full", "name": "F", "discount_pct": 10,
                                               "audience": {"customer_ids": ["ann"]}}, AUTH),
            ("POST", "/v1/orders/o-seed/refunds", {"refund_id": "r-full", "amount": 10}, AUTH),
        ]  # fmt: skip
        for method, path, body, headers in writes:
            answer = client.request(method, path, json=body, headers=headers)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["retry-after"] == "2"
            assert answer.json()["error"]["code"] == "store_full"
        assert keyspace(store.client) == before
        metrics = client.get("/metrics").text
        assert re.search(r"^pz_unrecorded_pages_total 5\.0$", metrics, re.M), metrics
        log = server.output()
        assert "store unavailable on POST /v1/orders: redis: out of memory" in log
        for quoted in ("caused error", "Command #", "\\x", "b'", "bea"):
            assert quoted not in log, quoted
        store.client.config_set("maxmemory", "0")
        assert client.post("/v1/orders", json=order("o-full", "bea", 120), headers=AUTH).status_code == 200
        assert client.post("/v1/page", json=page).json()["customer"]["tier"] == "bronze"


def test_a_flood_of_maximal_batches_leaves_other_visitors_their_standing(
    own_redis: Callable[..., OwnRedis], serve: Callable[..., Server]
) -> None:
    _, server = seeded(own_redis, serve)
    stop = threading.Event()
    batches: list[int] = []
    pages: list[bool] = []

    def flood(n: int) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            k = 0
            while not stop.is_set():
                k += 1
                events = [{"type": "product_view", "item_id": f"i{m % 30:04d}", "event_id": f"f{n}-{k}-{m}"}
                          for m in range(500)]  # fmt: skip
                batches.append(client.post("/v1/events", json={"session_id": f"flood-{n}-{k}", "events": events})
                               .status_code)  # fmt: skip

    def visit() -> None:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                body = {"session_id": f"visitor-{n}", "customer_token": TOKEN, "page": {"type": "home"}}
                answer = client.post("/v1/page", json=body)
                pages.append(answer.status_code == 200 and answer.json()["customer"] is not None)
                time.sleep(0.02)  # a visitor's pace, not a load generator's

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(8)] + [threading.Thread(target=visit)]
    for thread in threads:
        thread.start()
    time.sleep(15)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    refused = sum(status != 202 for status in batches)
    degraded = pages.count(False)
    SUMMARY.append(
        f"flood of event batches: {len(batches)} batches of 500 events, {refused} refused; "
        f"{len(pages)} signed pages, {degraded} without the customer's standing"
    )
    assert len(batches) >= 50
    assert len(pages) >= 50
    assert degraded <= 0.05 * len(pages)
    assert refused <= 0.05 * len(batches)
