"""The Redis backend's catalog: items in one hash, with lexicographic zsets as the id, brand and category indexes;
an upsert is one MULTI under WATCH (retried when another writer got there first)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import WatchError

from personalize.catalog.items import Item, category_levels
from personalize.store import redis_keys as key
from personalize.store.memory import matches
from personalize.store.redis_calls import ENCODER, reachable

_ITEM_DECODER = msgspec.msgpack.Decoder(Item)
_PAGE = 500


class RedisCatalog:
    """Catalog items in one hash, with lexicographic zsets as the id, brand and category indexes."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client

    async def upsert_items(self, items: Sequence[Item]) -> int:
        latest = {item.item_id: item for item in items}
        with reachable():
            async with self._r.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(key.catalog_items())
                        old = await pipe.hmget(key.catalog_items(), list(latest))
                        pipe.multi()
                        self._queue_upsert(pipe, latest, old)
                        return int((await pipe.execute())[-1])
                    except WatchError:
                        continue

    @staticmethod
    def _queue_upsert(pipe: Any, latest: dict[str, Item], old: list[bytes | None]) -> None:
        for item, previous in zip(latest.values(), old, strict=True):
            if previous is not None:
                was = _ITEM_DECODER.decode(previous)
                for index in _index_keys(was):
                    pipe.zrem(index, was.item_id)
            for index in (key.catalog_ids(), *_index_keys(item)):
                pipe.zadd(index, {item.item_id: 0})
        pipe.hset(key.catalog_items(), mapping={item_id: ENCODER.encode(item) for item_id, item in latest.items()})
        pipe.incr(key.catalog_version())

    async def get_item(self, item_id: str) -> Item | None:
        with reachable():
            raw = await self._r.hget(key.catalog_items(), item_id)
        return _ITEM_DECODER.decode(raw) if raw is not None else None

    async def list_items(
        self, *, brand: str | None, category: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        index = key.category_index(category) if category else key.brand_index(brand) if brand else key.catalog_ids()
        found: list[Item] = []
        start = f"({cursor}" if cursor else "-"
        with reachable():
            while True:
                ids = [i.decode() for i in await self._r.zrangebylex(index, start, "+", 0, _PAGE)]
                raws = await self._r.hmget(key.catalog_items(), ids) if ids else []
                for raw in raws:
                    item = _ITEM_DECODER.decode(raw) if raw is not None else None
                    if item is not None and matches(item, brand, category):
                        if len(found) == limit:
                            return found, found[-1].item_id
                        found.append(item)
                if len(ids) < _PAGE:
                    return found, None
                start = f"({ids[-1]}"

    async def all_items(self) -> AsyncIterator[Item]:
        with reachable():
            async for _field, raw in self._r.hscan_iter(key.catalog_items(), count=1000):
                yield _ITEM_DECODER.decode(raw)

    async def version(self) -> int:
        with reachable():
            raw = await self._r.get(key.catalog_version())
        return int(raw or 0)


def _index_keys(item: Item) -> list[str]:
    return [key.brand_index(item.brand), *(key.category_index(level) for level in category_levels(item.category))]
