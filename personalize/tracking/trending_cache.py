"""Trending lists held in the process for a moment, so a page call rarely waits on the store for them.

Each scope's top list is fetched at most once per ``trending.cache_seconds`` (one fetch in flight per scope),
decayed to the moment of the fetch and floored. Within that window the order cannot change by decay alone
(every score decays by the same factor), so the only staleness is events of the last moment. When the store
cannot be reached, the last list fetched keeps serving (the store is tried again after the same age).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from personalize.settings import TrendingSettings
from personalize.store.protocols import StoreUnavailable, TrackingStore
from recommenders.trending import decayed_top


class TrendingCache:
    """Per-scope top lists of one store, refreshed when older than the configured age."""

    def __init__(
        self,
        store: TrackingStore,
        settings: TrendingSettings,
        half_life_ms: float,
        store_down: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store, self._settings, self._half_life_ms = store, settings, half_life_ms
        self._store_down = store_down
        self._lists: dict[str, tuple[float, list[tuple[str, float]]]] = {}
        self._inflight: dict[str, asyncio.Future[list[tuple[str, float]]]] = {}

    async def top(self, scope: str, now_ms: int) -> list[tuple[str, float]]:
        """``(item_id, decayed score)`` of the scope, highest first, at most ``cache_size`` long."""
        cached = self._lists.get(scope)
        if cached is not None and time.monotonic() - cached[0] < self._settings.cache_seconds:
            return cached[1]
        if self._store_down():  # a page that just found the store unreachable does not wait on it again
            return cached[1] if cached is not None else []
        pending = self._inflight.get(scope)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[list[tuple[str, float]]] = asyncio.get_running_loop().create_future()
        self._inflight[scope] = future
        try:
            ranked = await self._fetch(scope, now_ms)
            future.set_result(ranked)
            return ranked
        except StoreUnavailable:
            # keep serving what this process holds (or nothing) and try the store again after the same age
            ranked = cached[1] if cached is not None else []
            self._lists[scope] = (time.monotonic(), ranked)
            future.set_result(ranked)
            return ranked
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here so a fetch nobody else awaited does not warn
            raise
        finally:
            del self._inflight[scope]

    async def _fetch(self, scope: str, now_ms: int) -> list[tuple[str, float]]:
        epoch, stored = await self._store.trending(scope, self._settings.cache_size)
        ranked = decayed_top(stored, epoch, now_ms, self._half_life_ms, self._settings.min_score)
        self._lists[scope] = (time.monotonic(), ranked)
        return ranked
