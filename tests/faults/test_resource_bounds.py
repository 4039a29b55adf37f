"""One client at the rate limit for a minute against each browser route, on both stores (issue #12, defect 7).

Each call names a new session; each event batch carries 500 new event ids — the most one client can make the
server remember within the limits. With the bounds set small, the sessions and event ids held stay under them
(``/metrics``), Redis' key count stays under three keys per session kept, and the server's resident memory grows
by no more than the bounds allow, where without them it would have grown by the whole minute's intake.

The two routes and the two stores run at once (four clients, two servers), each client from its own address
(``X-Forwarded-For``, which the servers are told to trust), so the whole test takes about a minute.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from tests.api.conftest import AUTH, CATALOG
from tests.faults.conftest import SUMMARY, OwnRedis, Server

pytestmark = [pytest.mark.slow, pytest.mark.redis]

SECONDS = 60.0
PER_SECOND, BURST = 50, 200
"""The limit per address: a bucket of ``BURST`` calls refilled at ``PER_SECOND``, so a minute lets 3,200 through."""
RATE = 55.0
"""A little over the limit, so the client empties the bucket and some calls get 429 — unless the server answers more
slowly than the bucket lets calls through (eight calls in flight at most), as it does for 500-event batches on a small
machine, or for pages while four clients share its two cores."""
MAX_SESSIONS = 2000
MAX_IDS = 100_000
PER_SESSION = 500
LOG = 50_000
RSS_ALLOWANCE = MAX_SESSIONS * 4096 + MAX_IDS * 256 + LOG * 512 + 64 * 2**20
"""What the bounds let the server's memory grow by: generous per-entry costs, plus room for the allocator."""


@dataclass
class Drive:
    route: str
    store: str
    statuses: dict[int, int] = field(default_factory=dict)

    def line(self) -> str:
        calls = sum(self.statuses.values())
        return f"{self.store} {self.route}: {calls} calls, " + ", ".join(
            f"{n} × {status}" for status, n in sorted(self.statuses.items())
        )


def body(route: str, n: int, address: str) -> dict[str, object]:
    session = f"r-{address.replace('.', '-')}-{n}"
    if route == "/v1/page":
        return {"session_id": session, "page": {"type": "product", "item_id": CATALOG[n % 30]["item_id"]}}
    events = [
        {"type": "product_view", "item_id": CATALOG[m % 30]["item_id"], "event_id": f"{n}-{m}"} for m in range(500)
    ]
    return {"session_id": session, "events": events}


async def drive(base: str, route: str, address: str, drive: Drive) -> None:
    """Calls paced at ``RATE`` per second for ``SECONDS``, a few in flight, from one address."""
    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"X-Forwarded-For": address}) as client:
        started, n, pending = time.monotonic(), 0, set[asyncio.Task[None]]()

        async def call(k: int) -> None:
            status = (await client.post(route, json=body(route, k, address))).status_code
            drive.statuses[status] = drive.statuses.get(status, 0) + 1

        while (elapsed := time.monotonic() - started) < SECONDS:
            due = started + n / RATE
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            if len(pending) < 8:
                task = asyncio.create_task(call(n))
                pending.add(task)
                task.add_done_callback(pending.discard)
                n += 1
            else:
                await asyncio.sleep(0.005)
            del elapsed
        await asyncio.gather(*pending)


def rss_bytes(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match is not None
    return int(match.group(1)) * 1024


def gauge(base: str, name: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_one_client_at_the_limit_for_a_minute_stays_within_the_bounds(
    own_redis: Callable[..., OwnRedis], serve: Callable[..., Server]
) -> None:
    limits = {
        "PZ_LIMITS__IP_PER_SECOND": str(PER_SECOND),
        "PZ_LIMITS__IP_BURST": str(BURST),
        "PZ_LIMITS__SESSION_PER_SECOND": "10",
        "PZ_LIMITS__CLIENT_IP_HEADER": "X-Forwarded-For",
        "PZ_TRACKING__MAX_SESSIONS": str(MAX_SESSIONS),
        "PZ_TRACKING__MAX_EVENT_IDS_PER_SESSION": str(PER_SESSION),
        "PZ_TRACKING__MAX_EVENT_IDS": str(MAX_IDS),
        "PZ_TRACKING__LOG_LENGTH": str(LOG),  # the interaction log is bounded too (a million events by default)
    }
    store = own_redis()
    servers = {"memory": serve("--no-demo", env=limits), "redis": serve("--store", store.url, "--no-demo", env=limits)}
    for server in servers.values():
        assert httpx.put(f"{server.base}/v1/catalog/items", json={"items": CATALOG}, headers=AUTH).status_code == 200
    before = {name: rss_bytes(server) for name, server in servers.items()}
    drives = [Drive(route, name) for name in servers for route in ("/v1/page", "/v1/events")]

    async def everything() -> None:
        await asyncio.gather(*(drive(servers[d.store].base, d.route, f"10.0.{k}.1", d) for k, d in enumerate(drives)))

    asyncio.run(everything())
    for d in drives:
        SUMMARY.append(f"resource test: {d.line()}")
    for d in drives:
        # at the limit, or as fast as the server answers when that is slower than the bucket lets calls through
        assert d.statuses.get(429, 0) > 0 or sum(d.statuses.values()) <= PER_SECOND * SECONDS + BURST, d.line()
        assert sum(n for status, n in d.statuses.items() if status >= 500) == 0, d.line()
        # every call answered or refused for its rate, none lost; how many a 2-core machine serves is not the point
        ok = 200 if d.route == "/v1/page" else 202
        assert set(d.statuses) <= {ok, 429}, d.line()
        assert d.statuses.get(ok, 0) > 0, d.line()
    for name, server in servers.items():
        sessions = gauge(server.base, "pz_store_sessions")
        grown = rss_bytes(server) - before[name]
        SUMMARY.append(f"resource test: {name} store holds {sessions:.0f} sessions (bound {MAX_SESSIONS}); "
              f"resident memory grew {grown / 2**20:.1f} MB (allowed {RSS_ALLOWANCE / 2**20:.0f} MB)")  # fmt: skip
        assert 0 < sessions <= MAX_SESSIONS
        assert grown <= RSS_ALLOWANCE
    assert 0 < gauge(servers["memory"].base, "pz_store_event_ids") <= MAX_IDS
    keys = int(redis.Redis(port=store.port).dbsize())
    SUMMARY.append(f"resource test: redis holds {keys} keys (bound {3 * MAX_SESSIONS} + a few global ones)")
    assert keys <= 3 * MAX_SESSIONS + 20
