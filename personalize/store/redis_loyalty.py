"""The Redis backend's loyalty side: ledgers and orders, segmentation runs, coupons, config documents.

Key layout and atomicity are described in ``personalize.store.redis``, which assembles the backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import WatchError

from loyalty_nudges.coupons import Campaign, Coupon
from loyalty_nudges.ledger import Ledger, StoredOrder
from personalize.store.protocols import CouponDecide, Decide, LedgerChange, SegmentRecord, SegmentRun
from personalize.store.redis_keys import ENCODER, reachable

LEDGER_DECODER = msgspec.msgpack.Decoder(Ledger)
_ORDER = msgspec.msgpack.Decoder(StoredOrder)
TOTALS = "pz:totals"
LEDGER_IDS = "pz:ledger:ids"


class RedisLedger:
    """Ledgers and orders as msgpack strings, changed under WATCH/MULTI."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client

    async def transact(self, customer_id: str, order_id: str | None, decide: Decide) -> LedgerChange:
        ledger_key = f"pz:ledger:{customer_id}"
        order_key = f"pz:order:{order_id}" if order_id else None
        watched = [ledger_key, *([order_key] if order_key else [])]
        with reachable():
            async with self._r.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(*watched)
                        raw = await pipe.mget(watched)
                        ledger = LEDGER_DECODER.decode(raw[0]) if raw[0] else None
                        order = _ORDER.decode(raw[1]) if order_key and raw[1] else None
                        change = decide(ledger, order)
                        pipe.multi()
                        self._queue(pipe, ledger_key, change)
                        await pipe.execute()
                        return change
                    except WatchError:
                        continue

    @staticmethod
    def _queue(pipe: Any, ledger_key: str, change: LedgerChange) -> None:
        if change.ledger is not None:
            pipe.set(ledger_key, ENCODER.encode(change.ledger))
            pipe.sadd(LEDGER_IDS, change.ledger.customer_id)
        if change.order is not None:
            pipe.set(f"pz:order:{change.order.order_id}", ENCODER.encode(change.order))
        for key, delta in change.totals.items():
            pipe.hincrby(TOTALS, key, delta)

    async def ledger(self, customer_id: str) -> Ledger | None:
        with reachable():
            raw = await self._r.get(f"pz:ledger:{customer_id}")
        return LEDGER_DECODER.decode(raw) if raw else None

    async def order(self, order_id: str) -> StoredOrder | None:
        with reachable():
            raw = await self._r.get(f"pz:order:{order_id}")
        return _ORDER.decode(raw) if raw else None

    async def totals(self) -> dict[str, int]:
        with reachable():
            raw = await self._r.hgetall(TOTALS)
        return {key.decode(): int(value) for key, value in raw.items()}

    async def ledgers(self) -> AsyncIterator[Ledger]:
        with reachable():
            async for batch in _chunks(self._r.sscan_iter(LEDGER_IDS, count=1000), 500):
                for raw in await self._r.mget([f"pz:ledger:{cid.decode()}" for cid in batch]):
                    if raw:
                        yield LEDGER_DECODER.decode(raw)


async def _chunks(source: AsyncIterator[bytes], size: int) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for value in source:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


SEGMENT_DECODER = msgspec.msgpack.Decoder(SegmentRecord)
_RUN = msgspec.msgpack.Decoder(SegmentRun)
SEGMENTS_LIVE = "pz:segments:live"


class RedisSegments:
    """Each run under its own version's keys; the live pointer moves in one SET, then the old run goes."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client

    async def replace(self, as_of_ms: int, records: Sequence[SegmentRecord]) -> SegmentRun:
        with reachable():
            version = int(await self._r.incr("pz:segments:version"))
            previous = await self.current()
            counts: dict[str, int] = {}
            async with self._r.pipeline(transaction=False) as pipe:
                for start in range(0, len(records), 5000):
                    chunk = records[start : start + 5000]
                    pipe.hset(f"pz:segments:{version}:of", mapping={r.customer_id: ENCODER.encode(r) for r in chunk})
                    for record in chunk:
                        pipe.zadd(f"pz:segments:{version}:members:{record.segment}", {record.customer_id: 0})
                        counts[record.segment] = counts.get(record.segment, 0) + 1
                    await pipe.execute()
            run = SegmentRun(version=version, as_of_ms=as_of_ms, counts=counts)
            await self._r.set(SEGMENTS_LIVE, ENCODER.encode(run))
            if previous is not None:
                await self._drop(previous)
        return run

    async def _drop(self, run: SegmentRun) -> None:
        keys = [f"pz:segments:{run.version}:of", *(f"pz:segments:{run.version}:members:{n}" for n in run.counts)]
        await self._r.unlink(*keys)

    async def current(self) -> SegmentRun | None:
        with reachable():
            raw = await self._r.get(SEGMENTS_LIVE)
        return _RUN.decode(raw) if raw else None

    async def of(self, customer_id: str) -> SegmentRecord | None:
        run = await self.current()
        if run is None:
            return None
        with reachable():
            raw = await self._r.hget(f"pz:segments:{run.version}:of", customer_id)
        return SEGMENT_DECODER.decode(raw) if raw else None

    async def members(self, segment: str, cursor: str | None, limit: int) -> tuple[list[SegmentRecord], str | None]:
        run = await self.current()
        if run is None:
            return [], None
        with reachable():
            ids = await self._r.zrangebylex(
                f"pz:segments:{run.version}:members:{segment}", f"({cursor}" if cursor else "-", "+", 0, limit + 1
            )
            page = [i.decode() for i in ids[:limit]]
            raws = await self._r.hmget(f"pz:segments:{run.version}:of", page) if page else []
        records = [SEGMENT_DECODER.decode(raw) for raw in raws if raw]
        return records, (page[-1] if len(ids) > limit else None)


_CAMPAIGN = msgspec.msgpack.Decoder(Campaign)
COUPON_DECODER = msgspec.msgpack.Decoder(Coupon)


class RedisCoupons:
    """Codes stored with SET NX (a collision is reported, never overwritten); redemption under WATCH."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client

    async def add_campaign(self, campaign: Campaign) -> bool:
        with reachable():
            return bool(await self._r.set(f"pz:campaign:{campaign.campaign_id}", ENCODER.encode(campaign), nx=True))

    async def campaign(self, campaign_id: str) -> Campaign | None:
        with reachable():
            raw = await self._r.get(f"pz:campaign:{campaign_id}")
        return _CAMPAIGN.decode(raw) if raw else None

    async def add_codes(self, coupons: Sequence[Coupon]) -> list[str]:
        with reachable():
            async with self._r.pipeline(transaction=False) as pipe:
                for coupon in coupons:
                    pipe.set(f"pz:coupon:{coupon.code}", ENCODER.encode(coupon), nx=True)
                stored = await pipe.execute()
                for coupon, ok in zip(coupons, stored, strict=True):
                    if ok and coupon.customer_id:
                        pipe.sadd(f"pz:coupons:of:{coupon.customer_id}", coupon.code)
                await pipe.execute()
        return [coupon.code for coupon, ok in zip(coupons, stored, strict=True) if not ok]

    async def coupon(self, code: str) -> Coupon | None:
        with reachable():
            raw = await self._r.get(f"pz:coupon:{code}")
        return COUPON_DECODER.decode(raw) if raw else None

    async def transact(self, code: str, decide: CouponDecide) -> Any:
        key = f"pz:coupon:{code}"
        with reachable():
            async with self._r.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(key)
                        raw = await pipe.get(key)
                        updated, result = decide(COUPON_DECODER.decode(raw) if raw else None)
                        pipe.multi()
                        if updated is not None:
                            pipe.set(key, ENCODER.encode(updated))
                        await pipe.execute()
                        return result
                    except WatchError:
                        continue

    async def for_customer(self, customer_id: str) -> list[Coupon]:
        with reachable():
            codes = await self._r.smembers(f"pz:coupons:of:{customer_id}")
            raws = await self._r.mget([f"pz:coupon:{c.decode()}" for c in codes]) if codes else []
        return [COUPON_DECODER.decode(raw) for raw in raws if raw]


_PUT_CONFIG_LUA = """
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'content', ARGV[1])
return version
"""


class RedisConfig:
    """Each document in one hash (``version``, ``content``) under ``pz:config:{name}``, put by one script."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client
        self._put = client.register_script(_PUT_CONFIG_LUA)

    async def get(self, name: str) -> tuple[int, bytes] | None:
        with reachable():
            version, content = await self._r.hmget(f"pz:config:{name}", ["version", "content"])
        return (int(version), bytes(content)) if version is not None and content is not None else None

    async def put(self, name: str, content: bytes) -> int:
        with reachable():
            return int(await self._put(keys=[f"pz:config:{name}"], args=[content]))
