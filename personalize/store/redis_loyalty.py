"""The Redis backend's loyalty side: ledgers and orders, segmentation runs, coupons, config documents.

Keys are built in ``personalize.store.redis_keys``; atomicity is described in ``personalize.store.redis``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import WatchError

from loyalty_nudges.coupons import Campaign, Coupon
from loyalty_nudges.experiment_sums import EXACT, Sums, UnitRecord
from loyalty_nudges.ledger import Ledger, StoredOrder
from loyalty_nudges.rewards import Redemption
from personalize.clock import now_ms
from personalize.store import redis_keys as key
from personalize.store.loyalty_protocols import Act, Decide, LedgerChange, Notice, Reads, Wants
from personalize.store.protocols import CouponDecide, SegmentRecord, SegmentRun, TrackingConfig
from personalize.store.redis_calls import ENCODER, chunks, reachable

LEDGER_DECODER = msgspec.msgpack.Decoder(Ledger)
_ORDER = msgspec.msgpack.Decoder(StoredOrder)
_REDEMPTION = msgspec.msgpack.Decoder(Redemption)
_NOTICE = msgspec.msgpack.Decoder(Notice)
UNIT_DECODER = msgspec.msgpack.Decoder(UnitRecord)


class RedisLedger:
    """Ledgers, orders and redemptions as msgpack strings, changed under WATCH/MULTI with the stock counters, the
    coupons they issue and the outbox stream (XADD inside the same MULTI)."""

    def __init__(self, client: aioredis.Redis, config: TrackingConfig) -> None:
        self._r = client
        self._config = config

    async def act(self, customer_id: str, wants: Wants, decide: Act) -> LedgerChange:
        names = [
            key.ledger(customer_id),
            key.order(wants.order_id) if wants.order_id else None,
            key.redemption(wants.redemption_id) if wants.redemption_id else None,
            key.reward_taken(wants.stock_of) if wants.stock_of else None,
            *(key.coupon(code) for code in wants.codes),
            *(key.mark(name) for name in wants.marks),
            *(key.experiment_unit(experiment_id, unit) for experiment_id, unit in wants.units),
        ]
        watched = [name for name in names if name is not None]
        with reachable():
            async with self._r.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(*watched)
                        found = dict(zip(watched, await pipe.mget(watched), strict=True))
                        change = decide(_reads(found, names, wants))
                        pipe.multi()
                        self._queue(pipe, key.ledger(customer_id), change, wants)
                        await pipe.execute()
                        return change
                    except WatchError:
                        continue

    async def transact(self, customer_id: str, order_id: str | None, decide: Decide) -> LedgerChange:
        return await self.act(customer_id, Wants(order_id=order_id), lambda reads: decide(reads.ledger, reads.order))

    def _queue(self, pipe: Any, ledger_key: str, change: LedgerChange, wants: Wants) -> None:
        if change.ledger is not None:
            pipe.set(ledger_key, ENCODER.encode(change.ledger))
            pipe.sadd(key.ledger_ids(), change.ledger.customer_id)
        orders = {key.order(order.order_id): ENCODER.encode(order) for order in (change.order, *change.orders) if order}
        if orders:
            pipe.mset(orders)  # one command for a history's many orders
        for name, delta in change.totals.items():
            pipe.hincrby(key.totals(), name, delta)
        if change.redemption is not None:
            pipe.set(key.redemption(change.redemption.redemption_id), ENCODER.encode(change.redemption))
        if change.stock_delta and wants.stock_of:
            pipe.incrby(key.reward_taken(wants.stock_of), change.stock_delta)
        for coupon in change.coupons:
            pipe.set(key.coupon(coupon.code), ENCODER.encode(coupon))
            if coupon.customer_id:
                pipe.sadd(key.customer_coupons(coupon.customer_id), coupon.code)
        for name, receipt in change.marks.items():
            pipe.set(key.mark(name), receipt)
        for (experiment_id, unit), record in change.units.items():
            pipe.set(key.experiment_unit(experiment_id, unit), ENCODER.encode(record), keepttl=True)
        for (experiment_id, arm), moved in change.arm_sums.items():
            queue_sums(pipe, key.experiment_arm(experiment_id, arm), moved)
        if change.notices:
            # the age bound: entries older than the retention go as the stream grows (MINID, approximate). Entry ids
            # are Redis' clock, so the bound is the wall clock's too, never a notice's own time (a job run as of
            # another day would otherwise trim what was just written)
            oldest = f"{max(0, now_ms() - self._config.outbox_retention_ms)}-0"
            for notice in change.notices:
                pipe.xadd(key.outbox(), {"n": ENCODER.encode(notice)}, minid=oldest, approximate=True)
            pipe.xtrim(key.outbox(), maxlen=self._config.outbox_length, approximate=True)

    async def notices(self, after: str | None, limit: int) -> list[Notice]:
        with reachable():
            entries = await self._r.xrange(key.outbox(), min=f"({after}" if after else "-", max="+", count=limit)
        return [
            msgspec.structs.replace(_NOTICE.decode(fields[b"n"]), id=entry_id.decode()) for entry_id, fields in entries
        ]

    async def redemption(self, redemption_id: str) -> Redemption | None:
        with reachable():
            raw = await self._r.get(key.redemption(redemption_id))
        return _REDEMPTION.decode(raw) if raw else None

    async def stock_taken(self, reward_id: str) -> int:
        with reachable():
            raw = await self._r.get(key.reward_taken(reward_id))
        return int(raw) if raw else 0

    async def ledger(self, customer_id: str) -> Ledger | None:
        with reachable():
            raw = await self._r.get(key.ledger(customer_id))
        return LEDGER_DECODER.decode(raw) if raw else None

    async def order(self, order_id: str) -> StoredOrder | None:
        with reachable():
            raw = await self._r.get(key.order(order_id))
        return _ORDER.decode(raw) if raw else None

    async def totals(self) -> dict[str, int]:
        with reachable():
            raw = await self._r.hgetall(key.totals())
        return {name.decode(): int(value) for name, value in raw.items()}

    async def ledgers(self) -> AsyncIterator[Ledger]:
        with reachable():
            async for batch in chunks(self._r.sscan_iter(key.ledger_ids(), count=1000), 500):
                for raw in await self._r.mget([key.ledger(cid.decode()) for cid in batch]):
                    if raw:
                        yield LEDGER_DECODER.decode(raw)


def _reads(found: dict[str, bytes | None], names: list[str | None], wants: Wants) -> Reads:
    """Decoded what one MGET of a transaction's keys found (``names``: ledger, order, redemption, stock, codes)."""
    ledger_key, order_key, redemption_key, stock_key = names[:4]
    raw_ledger = found[ledger_key] if ledger_key else None
    raw_order = found[order_key] if order_key else None
    raw_redemption = found[redemption_key] if redemption_key else None
    raw_stock = found[stock_key] if stock_key else None
    return Reads(
        ledger=LEDGER_DECODER.decode(raw_ledger) if raw_ledger else None,
        order=_ORDER.decode(raw_order) if raw_order else None,
        redemption=_REDEMPTION.decode(raw_redemption) if raw_redemption else None,
        stock_taken=int(raw_stock) if raw_stock else 0,
        coupons={
            code: COUPON_DECODER.decode(raw) if (raw := found[key.coupon(code)]) else None for code in wants.codes
        },
        marks={name: found[key.mark(name)] for name in wants.marks},
        units={
            (experiment_id, unit): UNIT_DECODER.decode(raw)
            if (raw := found[key.experiment_unit(experiment_id, unit)])
            else None
            for experiment_id, unit in wants.units
        },
    )


def queue_sums(pipe: Any, arm_key: str, delta: Sums) -> None:
    """An arm's sums moved by ``delta``: integers exactly (HINCRBY), the others as floats."""
    for name, value in delta.items():
        if name in EXACT or name.startswith("k:"):
            pipe.hincrby(arm_key, name, int(value))
        else:
            pipe.hincrbyfloat(arm_key, name, float(value))


SEGMENT_DECODER = msgspec.msgpack.Decoder(SegmentRecord)
_RUN = msgspec.msgpack.Decoder(SegmentRun)


class RedisSegments:
    """Each run under its own version's keys; the live pointer moves in one SET, then the old run goes."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client

    async def replace(self, as_of_ms: int, records: Sequence[SegmentRecord]) -> SegmentRun:
        with reachable():
            version = int(await self._r.incr(key.segments_version()))
            previous = await self.current()
            counts: dict[str, int] = {}
            async with self._r.pipeline(transaction=False) as pipe:
                for start in range(0, len(records), 5000):
                    chunk = records[start : start + 5000]
                    pipe.hset(key.segment_records(version), mapping={r.customer_id: ENCODER.encode(r) for r in chunk})
                    for record in chunk:
                        pipe.zadd(key.segment_members(version, record.segment), {record.customer_id: 0})
                        counts[record.segment] = counts.get(record.segment, 0) + 1
                    await pipe.execute()
            run = SegmentRun(version=version, as_of_ms=as_of_ms, counts=counts)
            await self._r.set(key.segments_live(), ENCODER.encode(run))
            if previous is not None:
                await self._drop(previous)
        return run

    async def _drop(self, run: SegmentRun) -> None:
        keys = [key.segment_records(run.version), *(key.segment_members(run.version, n) for n in run.counts)]
        await self._r.unlink(*keys)

    async def current(self) -> SegmentRun | None:
        with reachable():
            raw = await self._r.get(key.segments_live())
        return _RUN.decode(raw) if raw else None

    async def of(self, customer_id: str) -> SegmentRecord | None:
        run = await self.current()
        if run is None:
            return None
        with reachable():
            raw = await self._r.hget(key.segment_records(run.version), customer_id)
        return SEGMENT_DECODER.decode(raw) if raw else None

    async def members(self, segment: str, cursor: str | None, limit: int) -> tuple[list[SegmentRecord], str | None]:
        run = await self.current()
        if run is None:
            return [], None
        with reachable():
            ids = await self._r.zrangebylex(
                key.segment_members(run.version, segment), f"({cursor}" if cursor else "-", "+", 0, limit + 1
            )
            page = [i.decode() for i in ids[:limit]]
            raws = await self._r.hmget(key.segment_records(run.version), page) if page else []
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
            return bool(await self._r.set(key.campaign(campaign.campaign_id), ENCODER.encode(campaign), nx=True))

    async def campaign(self, campaign_id: str) -> Campaign | None:
        with reachable():
            raw = await self._r.get(key.campaign(campaign_id))
        return _CAMPAIGN.decode(raw) if raw else None

    async def add_codes(self, coupons: Sequence[Coupon]) -> list[str]:
        with reachable():
            async with self._r.pipeline(transaction=False) as pipe:
                for coupon in coupons:
                    pipe.set(key.coupon(coupon.code), ENCODER.encode(coupon), nx=True)
                stored = await pipe.execute()
                for coupon, ok in zip(coupons, stored, strict=True):
                    if ok and coupon.customer_id:
                        pipe.sadd(key.customer_coupons(coupon.customer_id), coupon.code)
                await pipe.execute()
        return [coupon.code for coupon, ok in zip(coupons, stored, strict=True) if not ok]

    async def coupon(self, code: str) -> Coupon | None:
        with reachable():
            raw = await self._r.get(key.coupon(code))
        return COUPON_DECODER.decode(raw) if raw else None

    async def transact(self, code: str, decide: CouponDecide) -> Any:
        coupon_key = key.coupon(code)
        with reachable():
            async with self._r.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(coupon_key)
                        raw = await pipe.get(coupon_key)
                        updated, result = decide(COUPON_DECODER.decode(raw) if raw else None)
                        pipe.multi()
                        if updated is not None:
                            pipe.set(coupon_key, ENCODER.encode(updated))
                        await pipe.execute()
                        return result
                    except WatchError:
                        continue

    async def forget_customer(self, customer_id: str) -> list[str]:
        found = await self.for_customer(customer_id)
        unused = [coupon.code for coupon in found if coupon.used_by_order is None]
        with reachable():
            await self._r.delete(key.customer_coupons(customer_id), *(key.coupon(code) for code in unused))
        return unused

    async def for_customer(self, customer_id: str) -> list[Coupon]:
        with reachable():
            codes = await self._r.smembers(key.customer_coupons(customer_id))
            raws = await self._r.mget([key.coupon(c.decode()) for c in codes]) if codes else []
        return [COUPON_DECODER.decode(raw) for raw in raws if raw]


_PUT_CONFIG_LUA = """#!lua
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'content', ARGV[1])
return version
"""


class RedisConfig:
    """Each document in one hash (``version``, ``content``), put by one script."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client
        self._put = client.register_script(_PUT_CONFIG_LUA)

    async def get(self, name: str) -> tuple[int, bytes] | None:
        with reachable():
            version, content = await self._r.hmget(key.config(name), ["version", "content"])
        return (int(version), bytes(content)) if version is not None and content is not None else None

    async def put(self, name: str, content: bytes) -> int:
        with reachable():
            return int(await self._put(keys=[key.config(name)], args=[content]))
