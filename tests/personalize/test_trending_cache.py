"""The in-process trending cache: one fetch per window per scope, then fresh data."""

from __future__ import annotations

import anyio
import pytest

from personalize.settings import TrendingSettings
from personalize.store.memory import MemoryTracking
from personalize.store.protocols import TrackingConfig
from personalize.tracking.scoring import ScoredEvent, TrackingWrite
from personalize.tracking.trending_cache import TrendingCache

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000_000
CONFIG = TrackingConfig(
    session_half_life_ms=1,
    customer_half_life_ms=1,
    trend_half_life_ms=86_400_000,
    session_ttl_s=60,
    customer_ttl_s=60,
    dedup_ttl_s=60,
)


class CountingTracking(MemoryTracking):
    """The real memory store, counting how often trending lists are read."""

    reads = 0

    async def trending(self, scope: str, limit: int) -> tuple[float, list[tuple[str, float]]]:
        self.reads += 1
        await anyio.sleep(0.01)  # let concurrent callers pile up behind the first fetch
        return await super().trending(scope, limit)


async def view(store: MemoryTracking, item: str, weight: float) -> None:
    event = ScoredEvent(None, "product_view", NOW, 0.0, (), weight, item, ("",), False)
    await store.apply(TrackingWrite("s1", None, NOW, (event,)))


async def test_concurrent_callers_share_one_fetch_and_the_floor_applies() -> None:
    store = CountingTracking(CONFIG)
    await view(store, "a", 5.0)
    await view(store, "b", 1.0)
    cache = TrendingCache(store, TrendingSettings(cache_seconds=60), CONFIG.trend_half_life_ms)
    results: list[list[tuple[str, float]]] = []

    async def read() -> None:
        results.append(await cache.top("", NOW))

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(read)
    assert store.reads == 1
    assert results == [[("a", pytest.approx(5.0))]] * 10


async def test_a_list_is_reused_within_the_window_and_refreshed_after() -> None:
    store = CountingTracking(CONFIG)
    await view(store, "a", 5.0)
    cached = TrendingCache(store, TrendingSettings(cache_seconds=60), CONFIG.trend_half_life_ms)
    fresh = TrendingCache(store, TrendingSettings(cache_seconds=0), CONFIG.trend_half_life_ms)
    assert [i for i, _ in await cached.top("", NOW)] == ["a"]
    assert [i for i, _ in await fresh.top("", NOW)] == ["a"]
    await view(store, "b", 9.0)
    assert [i for i, _ in await cached.top("", NOW)] == ["a"]
    assert [i for i, _ in await fresh.top("", NOW)] == ["b", "a"]


async def test_while_the_store_is_down_the_held_list_serves_without_asking_it() -> None:
    store = CountingTracking(CONFIG)
    await view(store, "a", 5.0)
    down = False
    cache = TrendingCache(store, TrendingSettings(cache_seconds=0), CONFIG.trend_half_life_ms, store_down=lambda: down)
    assert [i for i, _ in await cache.top("", NOW)] == ["a"]
    down = True
    await view(store, "b", 9.0)
    assert [i for i, _ in await cache.top("", NOW)] == ["a"]
    assert await cache.top("women", NOW) == []  # a scope never fetched has nothing to serve
    assert store.reads == 1
    down = False
    assert [i for i, _ in await cache.top("", NOW)] == ["b", "a"]
