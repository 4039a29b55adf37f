"""The Redis backend: state shared by every server process and host.

Keys (all under ``pz:``)::

    pz:catalog:items              hash   item id → msgpack Item
    pz:catalog:ids                zset   every item id (lexicographic paging)
    pz:catalog:brand:{brand}      zset   ids of a brand (lower case)
    pz:catalog:cat:{path}         zset   ids under a category level
    pz:catalog:version            int    bumped by every upsert
    pz:session:{sid}              hash   decayed scores, ``_e`` epoch, ``_c`` linked customer, ``_s`` landing source
    pz:session:{sid}:recent       list   the session's latest viewed, clicked or carted items (newest first)
    pz:customer:{cid}:profile     hash   long-term decayed scores, ``_e`` epoch
    pz:seen:{sid}                 zset   the session's event ids → arrival ms (de-duplication), capped, with a TTL
    pz:sessions                   zset   session id → last activity ms: the bound on sessions kept
    pz:trend:meta                 hash   ``e``: the epoch shared by all trending lists
    pz:trend:keys                 set    every trending zset (for rebasing)
    pz:trend:all, pz:trend:cat:{path}    zset item id → scaled score
    pz:log:interactions           stream user, item, kind, ts of every counted event (capped)
    pz:ledger:{customer id}       string msgpack Ledger
    pz:ledger:ids                 set    every customer with a ledger
    pz:order:{order id}           string msgpack StoredOrder (the idempotency record of an order)
    pz:totals                     hash   running totals (customers, orders, lifetime_minor, tier:<name>)
    pz:segments:live, pz:segments:{version}:of, pz:segments:{version}:members:{name}   segmentation runs
    pz:campaign:{id}              string msgpack Campaign
    pz:coupon:{code}              string msgpack Coupon (never deleted: codes are unique forever)
    pz:coupons:of:{customer id}   set    codes assigned to a customer
    pz:config:{name}              hash   a versioned document (``version``, ``content``), e.g. the banners

Bounds: a session keeps at most ``max_event_ids_per_session`` ids (the oldest go first), and at most
``max_sessions`` sessions are kept: past that the script deletes the least recently active ones' keys. So the keys
of visitors number at most three per session kept.

Atomicity: a tracking batch is one Lua script (seen-checks, profile and trend increments, TTLs), so
two workers delivering the same events count them once and no reader sees half a batch. A catalog
upsert is one MULTI transaction under WATCH (retried when another writer got there first), and so is
every ledger change: WATCH the customer's ledger and the order, decide in Python (pure ledger rules),
MULTI/EXEC the writes and the totals; a concurrent writer makes EXEC fail and the decision is re-run on
what it wrote, so an order posted twice at once counts once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from personalize.catalog.items import Item, category_levels
from personalize.store.memory import matches
from personalize.store.protocols import (
    Applied,
    Interaction,
    PageReads,
    RawProfile,
    RawScores,
    Sizes,
    TrackingConfig,
)
from personalize.store.redis_keys import ENCODER, answered_within, reachable
from personalize.store.redis_loyalty import (
    COUPON_DECODER,
    LEDGER_DECODER,
    SEGMENT_DECODER,
    RedisConfig,
    RedisCoupons,
    RedisLedger,
    RedisSegments,
)
from personalize.tracking.scoring import TrackingWrite
from recommenders import decay

ITEMS = "pz:catalog:items"
IDS = "pz:catalog:ids"
VERSION = "pz:catalog:version"
TREND_META = "pz:trend:meta"
TREND_KEYS = "pz:trend:keys"
LOG = "pz:log:interactions"
SESSIONS = "pz:sessions"
SESSION_PREFIX = "pz:session:"
SEEN_PREFIX = "pz:seen:"
_ITEM_DECODER = msgspec.msgpack.Decoder(Item)
_JSON = msgspec.json.Encoder()
_PAGE = 500
TRACKING_DEADLINE_S = 0.3
"""How long a tracking call (a page view's write and read, an event batch, a trending list) waits for Redis before
the store counts as unavailable, so a page goes on without it instead of waiting out the socket timeout (5 s) when
Redis hangs. A batch cut short may still be applied: event ids de-duplicate a resend, and a page view counted
without its answer is harmless. An order's purchases keep the socket timeout: its ledger change is already
committed, and a slow Redis should not keep refusing the order's acknowledgement."""
PING_DEADLINE_S = 1.0
BATCH_CHUNK = 50
"""Events per script call. A large batch runs as several short scripts, each under the tracking deadline, so the
page views of other visitors interleave with it instead of waiting behind one long script (Redis runs one script
at a time). Event ids make a resent batch count once even if it was cut short between chunks."""
BATCHES_IN_FLIGHT = 2
"""Large batches one process sends at once; more wait in the process, while page views never wait for them."""
"""Readiness and the start's reachability check: a Redis that does not answer a PING within this is not ready."""

_APPLY_BODY = f"""
-- KEYS: 1 session hash, 2 customer profile, 3 trend meta, 4 trend key set, 5 recent list, 6 interaction log,
-- 7 the session's seen event ids (zset: id -> arrival ms), 8 the sessions index (zset: id -> last activity ms),
-- then the trending zsets the events name
local p = cjson.decode(ARGV[1])
local REBASE = {decay.REBASE_AFTER}
local epochs = {{}}
local function fmt(x) return string.format('%.17g', x) end
local function rebase_hash(key, factor)
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 1) ~= '_' then redis.call('HSET', key, all[i], fmt(tonumber(all[i + 1]) * factor)) end
  end
end
local function hash_growth(key, ts, half)
  local e = epochs[key] or tonumber(redis.call('HGET', key, '_e'))
  if not e then e = ts; redis.call('HSET', key, '_e', fmt(e)) end
  if (ts - e) / half > REBASE then
    rebase_hash(key, 2 ^ ((e - ts) / half)); e = ts; redis.call('HSET', key, '_e', fmt(e))
  end
  epochs[key] = e
  return 2 ^ ((ts - e) / half)
end
local function trend_growth(ts, half)
  local e = epochs['~trend'] or tonumber(redis.call('HGET', KEYS[3], 'e'))
  if not e then e = ts; redis.call('HSET', KEYS[3], 'e', fmt(e)) end
  if (ts - e) / half > REBASE then
    local factor = 2 ^ ((e - ts) / half)
    for _, key in ipairs(redis.call('SMEMBERS', KEYS[4])) do
      redis.call('ZUNIONSTORE', key, 1, key, 'WEIGHTS', fmt(factor))
    end
    e = ts; redis.call('HSET', KEYS[3], 'e', fmt(e))
  end
  epochs['~trend'] = e
  return 2 ^ ((ts - e) / half)
end
local accepted, duplicates, recent, dropped, forgotten = 0, 0, false, 0, 0
if p.ids == 1 then redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', p.now - p.dedup_ttl * 1000) end
for _, ev in ipairs(p.events) do
  local fresh = true
  if ev.d ~= '' then fresh = redis.call('ZADD', KEYS[7], 'NX', p.now, ev.d) == 1 end
  if not fresh then
    duplicates = duplicates + 1
  else
    accepted = accepted + 1
    if ev.i ~= '' then
      if p.log_max > 0 then
        redis.call('XADD', KEYS[6], 'MAXLEN', '~', p.log_max, '*', 'u', p.user, 's', p.sid, 'i', ev.i, 'k', ev.k,
          't', fmt(ev.ts))
      end
      if ev.r == 1 then redis.call('LPUSH', KEYS[5], ev.i); recent = true end
    end
    if #ev.f > 0 then
      local amount = ev.a * hash_growth(KEYS[1], ev.ts, p.hs)
      for _, f in ipairs(ev.f) do redis.call('HINCRBYFLOAT', KEYS[1], f, fmt(amount)) end
      if p.customer == 1 then
        amount = ev.a * hash_growth(KEYS[2], ev.ts, p.hc)
        for _, f in ipairs(ev.f) do redis.call('HINCRBYFLOAT', KEYS[2], f, fmt(amount)) end
      end
    end
    if #ev.z > 0 then
      local amount = ev.t * trend_growth(ev.ts, p.ht)
      for _, z in ipairs(ev.z) do
        redis.call('ZINCRBY', KEYS[z], fmt(amount), ev.i)
        redis.call('SADD', KEYS[4], KEYS[z])
      end
    end
  end
end
if p.src ~= '' then redis.call('HSETNX', KEYS[1], '_s', p.src) end
if p.customer == 1 then
  redis.call('HSET', KEYS[1], '_c', p.cid)
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], p.ttl_c) end
end
if recent then
  redis.call('LTRIM', KEYS[5], 0, p.recent_max - 1)
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], '_e', fmt(p.now)) end
end
if p.ids == 1 then
  local over = redis.call('ZCARD', KEYS[7]) - p.max_ids
  if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[7], 0, over - 1); forgotten = over end
  redis.call('EXPIRE', KEYS[7], p.dedup_ttl)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], p.ttl_s)
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('EXPIRE', KEYS[5], p.ttl_s) end
end
if p.ids == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
  -- the sessions index bounds how many sessions are kept: the least recently active go first, with their keys
  redis.call('ZADD', KEYS[8], p.now, p.sid)
  redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', p.now - p.ttl_s * 1000)
  local over = redis.call('ZCARD', KEYS[8]) - p.max_sessions
  if over > 0 then
    local gone = redis.call('ZPOPMIN', KEYS[8], over)
    for i = 1, #gone, 2 do
      local sid = gone[i]
      forgotten = forgotten + redis.call('ZCARD', p.seen_prefix .. sid)
      redis.call('DEL', p.session_prefix .. sid, p.session_prefix .. sid .. ':recent', p.seen_prefix .. sid)
      dropped = dropped + 1
    end
  end
end
"""
_APPLY_LUA = "#!lua\n" + _APPLY_BODY + "return {accepted, duplicates, dropped, forgotten}\n"
"""Scripts that write declare it (``#!lua``): Redis then refuses them whole under ``maxmemory`` before they run,
where a script without the line could be stopped after its first writes (a partial write)."""

_READS_FUNCTION = """
-- a page's state: the session hash and recent list, the linked customer's profile and, for a signed customer
-- (cid ~= ''), their ledger, live segment record and coupons; other keys are derived (see the key layout above)
local function page_reads(session, recent, cid)
  local reply = {redis.call('HGETALL', session), {}, redis.call('LRANGE', recent, 0, -1), false, false, {}}
  local linked = redis.call('HGET', session, '_c')
  if linked then reply[2] = redis.call('HGETALL', 'pz:customer:' .. linked .. ':profile') end
  if cid ~= '' then
    reply[4] = redis.call('GET', 'pz:ledger:' .. cid)
    local live = redis.call('GET', 'pz:segments:live')
    if live then reply[5] = redis.call('HGET', 'pz:segments:' .. cmsgpack.unpack(live)['version'] .. ':of', cid) end
    for i, code in ipairs(redis.call('SMEMBERS', 'pz:coupons:of:' .. cid)) do
      reply[6][i] = redis.call('GET', 'pz:coupon:' .. code)
    end
  end
  return reply
end
"""
# KEYS: the session hash, its recent list; ARGV[1]: the signed customer id or ''
_PAGE_READS_LUA = "#!lua flags=no-writes\n" + _READS_FUNCTION + "return page_reads(KEYS[1], KEYS[2], ARGV[1])\n"
# a page view: the tracking write (KEYS and ARGV[1] as in _APPLY_LUA), then the reads, in one call
_VIEW_AND_READ_LUA = "#!lua\n" + _APPLY_BODY + _READS_FUNCTION + "return page_reads(KEYS[1], KEYS[5], ARGV[2])\n"


def session_key(session_id: str) -> str:
    return f"{SESSION_PREFIX}{session_id}"


def customer_profile_key(customer_id: str) -> str:
    return f"pz:customer:{customer_id}:profile"


def recent_key(session_id: str) -> str:
    return f"pz:session:{session_id}:recent"


def seen_key(session_id: str) -> str:
    return f"{SEEN_PREFIX}{session_id}"


def trend_key(scope: str) -> str:
    return f"pz:trend:cat:{scope}" if scope else "pz:trend:all"


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
                        await pipe.watch(ITEMS)
                        old = await pipe.hmget(ITEMS, list(latest))
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
                for key in _index_keys(was):
                    pipe.zrem(key, was.item_id)
            for key in (IDS, *_index_keys(item)):
                pipe.zadd(key, {item.item_id: 0})
        pipe.hset(ITEMS, mapping={item_id: ENCODER.encode(item) for item_id, item in latest.items()})
        pipe.incr(VERSION)

    async def get_item(self, item_id: str) -> Item | None:
        with reachable():
            raw = await self._r.hget(ITEMS, item_id)
        return _ITEM_DECODER.decode(raw) if raw is not None else None

    async def list_items(
        self, *, brand: str | None, category: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        index = f"pz:catalog:cat:{category}" if category else f"pz:catalog:brand:{brand.lower()}" if brand else IDS
        found: list[Item] = []
        start = f"({cursor}" if cursor else "-"
        with reachable():
            while True:
                ids = [i.decode() for i in await self._r.zrangebylex(index, start, "+", 0, _PAGE)]
                raws = await self._r.hmget(ITEMS, ids) if ids else []
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
            async for _key, raw in self._r.hscan_iter(ITEMS, count=1000):
                yield _ITEM_DECODER.decode(raw)

    async def version(self) -> int:
        with reachable():
            raw = await self._r.get(VERSION)
        return int(raw or 0)


def _index_keys(item: Item) -> list[str]:
    keys = [f"pz:catalog:brand:{item.brand.lower()}"]
    keys += [f"pz:catalog:cat:{level}" for level in category_levels(item.category)]
    return keys


class RedisTracking:
    """Profiles, trending zsets and seen-markers, written by one Lua script per batch."""

    def __init__(self, client: aioredis.Redis, config: TrackingConfig) -> None:
        self._r = client
        self._config = config
        self._apply = client.register_script(_APPLY_LUA)
        self._reads = client.register_script(_PAGE_READS_LUA)
        self._view_and_read = client.register_script(_VIEW_AND_READ_LUA)
        self._batches = asyncio.Semaphore(BATCHES_IN_FLIGHT)

    async def apply(self, write: TrackingWrite) -> Applied:
        if len(write.events) <= BATCH_CHUNK:
            return await self._apply_chunk(write)
        applied = Applied(0, 0)
        async with self._batches:
            for start in range(0, len(write.events), BATCH_CHUNK):
                chunk = msgspec.structs.replace(write, events=write.events[start : start + BATCH_CHUNK])
                part = await self._apply_chunk(chunk)
                applied = applied.plus(part)
        return applied

    async def _apply_chunk(self, write: TrackingWrite) -> Applied:
        keys, payload = self._apply_call(write)
        purchase = any(event.kind == "purchase" for event in write.events)
        async with answered_within(None if purchase else TRACKING_DEADLINE_S):
            accepted, duplicates, dropped, forgotten = await self._apply(keys=keys, args=[payload])
        return Applied(int(accepted), int(duplicates), int(dropped), int(forgotten))

    def _apply_call(self, write: TrackingWrite) -> tuple[list[str], bytes]:
        """The keys and the JSON argument of the tracking script for ``write``."""
        cfg = self._config
        keys = [
            session_key(write.session_id),
            customer_profile_key(write.customer_id or "-"),
            TREND_META,
            TREND_KEYS,
            recent_key(write.session_id),
            LOG,
            seen_key(write.session_id),
            SESSIONS,
        ]
        events = []
        for event in write.events:
            scopes = []
            for scope in event.scopes:
                keys.append(trend_key(scope))
                scopes.append(len(keys))
            fields = list(event.fields)
            events.append(
                {
                    "d": event.event_id or "",
                    "ts": event.ts,
                    "a": event.affinity,
                    "f": fields,
                    "t": event.trend,
                    "i": event.item_id or "",
                    "z": scopes,
                    "k": event.kind,
                    "r": 1 if event.recent else 0,
                }
            )
        payload = {
            "events": events,
            "customer": 1 if write.customer_id else 0,
            "cid": write.customer_id or "",
            "hs": cfg.session_half_life_ms,
            "hc": cfg.customer_half_life_ms,
            "ht": cfg.trend_half_life_ms,
            "ttl_s": cfg.session_ttl_s,
            "ttl_c": cfg.customer_ttl_s,
            "dedup_ttl": cfg.dedup_ttl_s,
            "recent_max": cfg.recent_items,
            "log_max": cfg.log_length,
            "now": write.now_ms,
            "user": write.customer_id or f"session:{write.session_id}",
            "sid": write.session_id,
            "src": write.landing_source or "",
            "ids": 1 if any(event.event_id is not None for event in write.events) else 0,
            "max_ids": cfg.max_event_ids_per_session,
            "max_sessions": cfg.max_sessions,
            "session_prefix": SESSION_PREFIX,
            "seen_prefix": SEEN_PREFIX,
        }
        return keys, _JSON.encode(payload)

    async def profile(self, session_id: str) -> RawProfile:
        return (await self.page_reads(session_id, None)).profile

    async def page_reads(self, session_id: str, customer_id: str | None) -> PageReads:
        """The session's profile and the signed customer's ledger, segment and coupons in one script call."""
        async with answered_within(TRACKING_DEADLINE_S):
            reply = await self._reads(keys=[session_key(session_id), recent_key(session_id)], args=[customer_id or ""])
        return _page_reads(reply, customer_id)

    async def page_view(self, session_id: str, write: TrackingWrite | None, customer_id: str | None) -> PageReads:
        """The page's tracking write (when there is one) and its reads in one script call."""
        if write is None:
            return await self.page_reads(session_id, customer_id)
        keys, payload = self._apply_call(write)
        async with answered_within(TRACKING_DEADLINE_S):
            reply = await self._view_and_read(keys=keys, args=[payload, customer_id or ""])
        return _page_reads(reply, customer_id)

    async def interactions(self) -> AsyncIterator[Interaction]:
        start = "-"
        while True:
            with reachable():
                entries = await self._r.xrange(LOG, min=start, max="+", count=5000)
            for _entry_id, fields in entries:
                yield Interaction(
                    fields[b"u"].decode(),
                    fields[b"s"].decode(),
                    fields[b"i"].decode(),
                    fields[b"k"].decode(),
                    int(fields[b"t"]),
                )
            if len(entries) < 5000:
                return
            start = "(" + entries[-1][0].decode()

    async def trending(self, scope: str, limit: int) -> tuple[float, list[tuple[str, float]]]:
        async with answered_within(TRACKING_DEADLINE_S), self._r.pipeline(transaction=False) as pipe:
            pipe.hget(TREND_META, "e")
            pipe.zrevrange(trend_key(scope), 0, limit - 1, withscores=True)
            epoch, top = await pipe.execute()
        return float(epoch or 0.0), [(member.decode(), float(score)) for member, score in top]


def _page_reads(reply: list[Any], customer_id: str | None) -> PageReads:
    """The reply of the page-reads function (see ``_READS_FUNCTION``) as :class:`PageReads`."""
    session, customer, recent, ledger, segment, coupons = reply
    session_scores, meta = _parse_hash(session)
    customer_scores, _ = _parse_hash(customer)
    recent_items = tuple(i.decode() for i in reversed(recent))
    profile = RawProfile(session_scores, meta.get("_c"), customer_scores, recent_items, meta.get("_s"))
    if not customer_id:
        return PageReads(profile)
    return PageReads(
        profile,
        LEDGER_DECODER.decode(ledger) if ledger else None,
        SEGMENT_DECODER.decode(segment) if segment else None,
        tuple(COUPON_DECODER.decode(raw) for raw in coupons if raw),
    )


def _parse_hash(flat: list[bytes]) -> tuple[RawScores | None, dict[str, str]]:
    """A flat HGETALL reply → the scores against their epoch, and the ``_`` fields (``_c`` link, ``_s`` source)."""
    if not flat:
        return None, {}
    pairs = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
    epoch = float(pairs.pop("_e", "0"))
    meta = {key: pairs.pop(key) for key in [k for k in pairs if k.startswith("_")]}
    return RawScores(epoch, {key: float(value) for key, value in pairs.items()}), meta


class RedisStore:
    """The ``redis://`` backend; one connection pool per process."""

    def __init__(self, url: str, config: TrackingConfig) -> None:
        self._client = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.catalog = RedisCatalog(self._client)
        self.tracking = RedisTracking(self._client, config)
        self.ledger = RedisLedger(self._client)
        self.segments = RedisSegments(self._client)
        self.coupons = RedisCoupons(self._client)
        self.config = RedisConfig(self._client)

    async def page_view(self, session_id: str, write: TrackingWrite | None, customer_id: str | None) -> PageReads:
        return await self.tracking.page_view(session_id, write, customer_id)

    async def sizes(self) -> Sizes:
        with reachable():
            sessions = await self._client.zcard(SESSIONS)
        return Sizes(int(sessions), None)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PING_DEADLINE_S):
                return bool(await self._client.ping())
        except (RedisConnectionError, RedisTimeoutError, OSError):  # OSError: TimeoutError of the deadline too
            return False

    async def claim_once(self, name: str) -> bool:
        with reachable():
            return bool(await self._client.set(f"pz:claim:{name}", "1", nx=True))

    async def lease(self, name: str, seconds: float) -> bool:
        with reachable():
            return bool(await self._client.set(f"pz:lease:{name}", "1", nx=True, px=max(1, int(seconds * 1000))))

    async def close(self) -> None:
        await self._client.aclose()
