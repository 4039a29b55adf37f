"""The Redis backend: state shared by every server process and host.

The keys are laid out in ``personalize.store.redis_keys``. Atomicity: a tracking batch is one Lua script
(``redis_scripts``); a catalog upsert is one MULTI transaction under WATCH, and so is every loyalty change: WATCH the
customer's ledger and what else the change reads (the order, the redemption, a reward's stock counter, the codes it
issues, its once-marks), decide in Python (pure ledger rules), MULTI/EXEC the writes, the totals and the outbox
entries (XADD); a concurrent writer makes EXEC fail and the decision is re-run on what it wrote, so an order posted
twice at once counts once and a balance is never spent twice.

Bounds: a session keeps at most ``max_event_ids_per_session`` ids (the oldest go first), and at most
``max_sessions`` sessions are kept (the tracking script deletes the least recently active ones' keys), so the keys
of visitors number at most three per session kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from loyalty_nudges.experiment_sums import Exposure
from personalize.store import redis_keys as key
from personalize.store.protocols import PageReads, Sizes, TrackingConfig
from personalize.store.redis_calls import answered_within, reachable
from personalize.store.redis_catalog import RedisCatalog
from personalize.store.redis_experiments import RedisExperiments
from personalize.store.redis_loyalty import RedisConfig, RedisCoupons, RedisLedger, RedisSegments
from personalize.store.redis_tracking import RedisTracking
from personalize.tracking.scoring import TrackingWrite

PING_DEADLINE_S = 1.0
"""Readiness and the start's reachability check: a Redis that does not answer a PING within this is not ready."""


def redis_client(url: str) -> aioredis.Redis:
    """The connection pool of one process for ``redis://`` or ``rediss://`` (TLS) URLs."""
    client: aioredis.Redis = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return client


class RedisStore:
    """The ``redis://`` backend over a client the caller opened (one connection pool per process)."""

    shared = True
    """Every process and host with the same URL sees the same state."""

    def __init__(self, client: aioredis.Redis, config: TrackingConfig) -> None:
        self._client = client
        self.catalog = RedisCatalog(self._client)
        self.tracking = RedisTracking(self._client, config)
        self.ledger = RedisLedger(self._client, config)
        self.segments = RedisSegments(self._client)
        self.coupons = RedisCoupons(self._client)
        self.config = RedisConfig(self._client)
        self.experiments = RedisExperiments(self._client)

    async def page_view(
        self,
        session_id: str,
        write: TrackingWrite | None,
        customer_id: str | None,
        exposures: Sequence[Exposure] = (),
        now_ms: int = 0,
    ) -> PageReads:
        return await self.tracking.page_view(session_id, write, customer_id, exposures, now_ms)

    async def sizes(self) -> Sizes:
        async with answered_within(PING_DEADLINE_S):
            sessions = await self._client.zcard(key.sessions_index())
        return Sizes(int(sessions), None)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PING_DEADLINE_S):
                return bool(await self._client.ping())
        except (RedisConnectionError, RedisTimeoutError, OSError):  # OSError: TimeoutError of the deadline too
            return False

    async def claim_once(self, name: str) -> bool:
        with reachable():
            return bool(await self._client.set(key.claim(name), "1", nx=True))

    async def lease(self, name: str, seconds: float) -> bool:
        with reachable():
            return bool(await self._client.set(key.lease(name), "1", nx=True, px=max(1, int(seconds * 1000))))

    async def close(self) -> None:
        await self._client.aclose()
