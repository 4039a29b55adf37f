"""The Redis backend's tracking: profiles, trending zsets and seen event ids, written by one script per batch, and
a page view's write and reads in one script call (``personalize.store.redis_scripts``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis

from loyalty_nudges.experiment_sums import Exposure
from personalize.store import redis_keys as key
from personalize.store import redis_scripts as scripts
from personalize.store.protocols import Applied, Interaction, PageReads, RawProfile, RawScores, TrackingConfig
from personalize.store.redis_calls import answered_within, chunks, reachable
from personalize.store.redis_loyalty import COUPON_DECODER, LEDGER_DECODER, SEGMENT_DECODER
from personalize.tracking.scoring import TrackingWrite

_JSON = msgspec.json.Encoder()
TRACKING_DEADLINE_S = 0.3
"""How long a tracking call (a page view's write and read, an event batch, a trending list) waits for Redis before
the store counts as unavailable, so a page goes on without it instead of waiting out the socket timeout (5 s) when
Redis hangs. A batch cut short may still be applied: event ids de-duplicate a resend, and a page view counted
without its answer is harmless. An order's purchases keep the socket timeout: its ledger change is already
committed, and a slow Redis should not keep refusing the order's acknowledgement."""
BATCH_CHUNK = 50
"""Events per script call. A large batch runs as several short scripts, each under the tracking deadline, so the
page views of other visitors interleave with it instead of waiting behind one long script (Redis runs one script
at a time). Event ids make a resent batch count once even if it was cut short between chunks."""
BATCHES_IN_FLIGHT = 2
"""Large batches one process sends at once; more wait in the process, while page views never wait for them."""
_PIPELINED = 200
"""Script calls one pipeline of :meth:`RedisTracking.apply_many` carries."""
_READ_PREFIXES = (
    key.CUSTOMER_PREFIX,
    key.PROFILE_SUFFIX,
    key.SEGMENTS_PREFIX,
    key.SEGMENT_RECORDS_SUFFIX,
    key.COUPON_PREFIX,
)
"""The prefixes of the keys a page's reads find from what they read (see ``redis_keys``)."""


def _read_keys(customer_id: str | None) -> list[str]:
    """The page reads' keys of a signed customer (placeholders for none): ledger, live run, coupon set."""
    cid = customer_id or "-"
    return [key.ledger(cid), key.segments_live(), key.customer_coupons(cid)]


class RedisTracking:
    """Profiles, trending zsets and seen-markers, written by one Lua script per batch."""

    def __init__(self, client: aioredis.Redis, config: TrackingConfig) -> None:
        self._r = client
        self._config = config
        self._apply = client.register_script(scripts.APPLY)
        self._reads = client.register_script(scripts.PAGE_READS)
        self._view_and_read = client.register_script(scripts.VIEW_AND_READ)
        self._read_and_expose = client.register_script(scripts.READ_AND_EXPOSE)
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

    async def apply_many(self, writes: Sequence[TrackingWrite]) -> list[Applied]:
        """Many small writes in pipelines of script calls (one round trip per pipeline, not per write)."""
        applied: list[Applied] = []
        with reachable():
            for start in range(0, len(writes), _PIPELINED):
                async with self._r.pipeline(transaction=False) as pipe:
                    for write in writes[start : start + _PIPELINED]:
                        keys, payload = self._apply_call(write, None)
                        await self._apply(keys=keys, args=[payload], client=pipe)
                    replies = await pipe.execute()
                applied += [Applied(*(int(value) for value in reply)) for reply in replies]
        return applied

    async def _apply_chunk(self, write: TrackingWrite) -> Applied:
        keys, payload = self._apply_call(write, None)
        purchase = any(event.kind == "purchase" for event in write.events)
        async with answered_within(None if purchase else TRACKING_DEADLINE_S):
            accepted, duplicates, dropped, forgotten = await self._apply(keys=keys, args=[payload])
        return Applied(int(accepted), int(duplicates), int(dropped), int(forgotten))

    def _apply_call(self, write: TrackingWrite, reader: str | None) -> tuple[list[str], bytes]:
        """The keys (:data:`~personalize.store.redis_scripts.WRITE_KEYS`, then the trending zsets) and the JSON
        argument of a tracking script for ``write``; ``reader`` is the signed customer whose state a page reads."""
        cfg = self._config
        keys = [
            key.session(write.session_id),
            key.customer_profile(write.customer_id or "-"),
            key.trend_meta(),
            key.trend_keys(),
            key.session_recent(write.session_id),
            key.interactions_log(),
            key.session_seen(write.session_id),
            key.sessions_index(),
            *_read_keys(reader),
        ]
        events = []
        for event in write.events:
            scopes = []
            for scope in event.scopes:
                keys.append(key.trend(scope))
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
            "session_prefix": key.SESSION_PREFIX,
            "seen_prefix": key.SEEN_PREFIX,
            "recent_suffix": key.RECENT_SUFFIX,
        }
        return keys, _JSON.encode(payload)

    async def profile(self, session_id: str) -> RawProfile:
        return (await self.page_reads(session_id, None)).profile

    async def page_reads(self, session_id: str, customer_id: str | None) -> PageReads:
        """The session's profile and the signed customer's ledger, segment and coupons in one script call."""
        keys = [key.session(session_id), key.session_recent(session_id), *_read_keys(customer_id)]
        async with answered_within(TRACKING_DEADLINE_S):
            reply = await self._reads(keys=keys, args=[customer_id or "", *_READ_PREFIXES])
        return _page_reads(reply, customer_id)

    async def page_view(
        self,
        session_id: str,
        write: TrackingWrite | None,
        customer_id: str | None,
        exposures: Sequence[Exposure] = (),
        now_ms: int = 0,
    ) -> PageReads:
        """The page's tracking write (when there is one), its exposures and its reads in one script call."""
        if write is None and not exposures:
            return await self.page_reads(session_id, customer_id)
        if write is None:
            keys = [key.session(session_id), key.session_recent(session_id), *_read_keys(customer_id)]
            exposed = exposure_args(keys, exposures, {customer_id: 3} if customer_id else None)
            async with answered_within(TRACKING_DEADLINE_S):
                reply = await self._read_and_expose(
                    keys=keys, args=[customer_id or "", *_READ_PREFIXES, exposed, now_ms]
                )
            return _page_reads(reply, customer_id)
        keys, payload = self._apply_call(write, customer_id)
        args: list[Any] = [payload, customer_id or "", *_READ_PREFIXES]
        if exposures:
            ledgers = {customer_id: scripts.READ_KEYS_AT} if customer_id else None
            args += [exposure_args(keys, exposures, ledgers), now_ms]
        async with answered_within(TRACKING_DEADLINE_S):
            reply = await self._view_and_read(keys=keys, args=args)
        return _page_reads(reply, customer_id)

    async def interactions(self) -> AsyncIterator[Interaction]:
        start = "-"
        while True:
            with reachable():
                entries = await self._r.xrange(key.interactions_log(), min=start, max="+", count=5000)
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

    async def customer_scores(self, customer_id: str) -> RawScores | None:
        with reachable():
            flat = await self._r.execute_command("HGETALL", key.customer_profile(customer_id))
        return _parse_hash(_flat(flat))[0]

    async def forget_customer(self, customer_id: str) -> int:
        """The sessions are found by reading each kept session's link (an erasure is rare; the sessions kept are
        bounded by ``max_sessions``)."""
        unlinked = 0
        with reachable():
            await self._r.delete(key.customer_profile(customer_id))
            async for batch in chunks(self._r.zscan_iter(key.sessions_index(), count=1000), 1000):
                names = [member.decode() for member, _ in batch]
                async with self._r.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.hget(key.session(name), "_c")
                    links = await pipe.execute()
                    for name, link in zip(names, links, strict=True):
                        if link is not None and link.decode() == customer_id:
                            pipe.hdel(key.session(name), "_c")
                            unlinked += 1
                    await pipe.execute()
        return unlinked

    async def trending(self, scope: str, limit: int) -> tuple[float, list[tuple[str, float]]]:
        async with answered_within(TRACKING_DEADLINE_S), self._r.pipeline(transaction=False) as pipe:
            pipe.hget(key.trend_meta(), "e")
            pipe.zrevrange(key.trend(scope), 0, limit - 1, withscores=True)
            epoch, top = await pipe.execute()
        return float(epoch or 0.0), [(member.decode(), float(score)) for member, score in top]


def exposure_args(keys: list[str], exposures: Sequence[Exposure], ledgers: dict[str, int] | None = None) -> bytes:
    """The exposures as the ``expose`` script function reads them, their keys appended to ``keys``. ``ledgers``
    gives where a customer's ledger already is among ``keys`` (1-based: a page view's signed customer); any other
    customer unit's ledger is appended once."""
    at = dict(ledgers or {})
    entries = []
    for exposure in exposures:
        customer = exposure.customer_id
        if customer is not None and customer not in at:
            keys.append(key.ledger(customer))
            at[customer] = len(keys)
        keys += [key.experiment_unit(exposure.experiment_id, exposure.unit),
                 key.experiment_arm(exposure.experiment_id, exposure.arm)]  # fmt: skip
        entries.append({"u": len(keys) - 1, "a": len(keys), "v": exposure.arm, "t": max(1, exposure.ttl_s),
                        "l": at[customer] if customer is not None else 0})  # fmt: skip
    return _JSON.encode(entries)


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


def _flat(reply: Any) -> list[bytes]:
    """An HGETALL reply as the flat list the scripts return (redis-py may give a dict)."""
    if isinstance(reply, dict):
        return [part for pair in reply.items() for part in pair]
    return list(reply)
