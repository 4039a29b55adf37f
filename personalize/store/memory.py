"""The embedded store: everything in this process's memory, nothing durable.

Atomicity: every mutating method runs to completion without an ``await`` in between, so on the one
event loop of the process no other request can observe or interleave with a half-applied write.
Expiry is lazy (checked on read) plus a sweep when a table grows.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from loyalty_nudges.coupons import Campaign, Coupon
from loyalty_nudges.ledger import Ledger, StoredOrder
from personalize.catalog.items import Item, category_levels
from personalize.store.protocols import (
    Applied,
    CouponDecide,
    Decide,
    Interaction,
    LedgerChange,
    PageReads,
    RawProfile,
    RawScores,
    SegmentRecord,
    SegmentRun,
    Sizes,
    TrackingConfig,
)
from personalize.tracking.scoring import ScoredEvent, TrackingWrite
from recommenders import decay

_SWEEP_EVERY = 10_000


class MemoryCatalog:
    """Catalog items in a dict with a sorted id list for cursor paging."""

    def __init__(self) -> None:
        self._items: dict[str, Item] = {}
        self._ids: list[str] = []
        self._version = 0

    async def upsert_items(self, items: Sequence[Item]) -> int:
        for item in items:
            if item.item_id not in self._items:
                bisect.insort(self._ids, item.item_id)
            self._items[item.item_id] = item
        self._version += 1
        return self._version

    async def get_item(self, item_id: str) -> Item | None:
        return self._items.get(item_id)

    async def list_items(
        self, *, brand: str | None, category: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        start = bisect.bisect_right(self._ids, cursor) if cursor else 0
        found: list[Item] = []
        for item_id in self._ids[start:]:
            item = self._items[item_id]
            if matches(item, brand, category):
                if len(found) == limit:
                    return found, found[-1].item_id
                found.append(item)
        return found, None

    async def all_items(self) -> AsyncIterator[Item]:
        for item in list(self._items.values()):
            yield item

    async def version(self) -> int:
        return self._version


def matches(item: Item, brand: str | None, category: str | None) -> bool:
    """The catalog list filters: brand in any case, category as a whole path prefix."""
    if brand and item.brand.lower() != brand.lower():
        return False
    return not category or category in category_levels(item.category)


class DecayedTable:
    """Decayed sums against one epoch (see ``recommenders.decay``), rebased when it ages."""

    __slots__ = ("epoch_ms", "expires_at", "scores")

    def __init__(self, epoch_ms: float) -> None:
        self.epoch_ms = epoch_ms
        self.scores: dict[str, float] = {}
        self.expires_at = float("inf")

    def add(self, fields: Sequence[str], weight: float, ts: float, half_life_ms: float) -> None:
        if decay.needs_rebase(ts, self.epoch_ms, half_life_ms):
            factor = decay.growth(self.epoch_ms, ts, half_life_ms)
            self.scores = {key: value * factor for key, value in self.scores.items()}
            self.epoch_ms = ts
        amount = weight * decay.growth(ts, self.epoch_ms, half_life_ms)
        for name in fields:
            self.scores[name] = self.scores.get(name, 0.0) + amount

    def raw(self) -> RawScores:
        return RawScores(self.epoch_ms, dict(self.scores))


class SessionState:
    """Everything kept for one session: its scores, customer link, recent items, landing source and the event
    ids it has sent (insertion order is age), and when it expires."""

    __slots__ = ("customer_id", "expires_at", "recent", "scores", "seen", "source")

    def __init__(self, recent_items: int) -> None:
        self.scores: DecayedTable | None = None
        self.customer_id: str | None = None
        self.recent: deque[str] = deque(maxlen=recent_items)
        self.source: str | None = None
        self.seen: dict[str, float] = {}
        self.expires_at = float("inf")


class MemoryTracking:
    """Profiles, trending lists and seen event ids in dicts.

    Bounds: at most ``max_sessions`` sessions and ``max_event_ids`` remembered event ids in all, at most
    ``max_event_ids_per_session`` per session; past them the least recently active sessions go first (the dict of
    sessions is kept in order of last activity) and a session's oldest ids before its newer ones."""

    def __init__(self, config: TrackingConfig) -> None:
        self._config = config
        self._sessions: dict[str, SessionState] = {}
        self._customers: dict[str, DecayedTable] = {}
        self._trend_epoch: float | None = None
        self._trends: dict[str, dict[str, float]] = {}
        self._event_ids = 0
        self._sweep_at = _SWEEP_EVERY
        self._log: deque[Interaction] = deque(maxlen=config.log_length)

    async def apply(self, write: TrackingWrite) -> Applied:
        now = time.monotonic()
        self._sweep(now)
        session = self._session(write.session_id, now)
        accepted = duplicates = forgotten = 0
        for event in write.events:
            if event.event_id is not None:
                if session.seen.get(event.event_id, 0.0) > now:
                    duplicates += 1
                    continue
                forgotten += self._remember(session, event.event_id, now)
            accepted += 1
            self._add(write, session, event)
        self._touch(write, session, now)
        dropped, more_forgotten = self._bound(write.session_id)
        return Applied(accepted, duplicates, dropped, forgotten + more_forgotten)

    def _session(self, session_id: str, now: float) -> SessionState:
        """The live session (moved to the most recently active end), or a new one."""
        session = self._sessions.pop(session_id, None)
        if session is None or session.expires_at <= now:
            if session is not None:
                self._event_ids -= len(session.seen)
            session = SessionState(self._config.recent_items)
        self._sessions[session_id] = session
        return session

    def _remember(self, session: SessionState, event_id: str, now: float) -> int:
        """Remember an event id; returns how many of the session's oldest ids its cap made it forget."""
        if event_id not in session.seen:
            self._event_ids += 1
        session.seen[event_id] = now + self._config.dedup_ttl_s
        forgotten = 0
        while len(session.seen) > self._config.max_event_ids_per_session:
            del session.seen[next(iter(session.seen))]
            self._event_ids -= 1
            forgotten += 1
        return forgotten

    def _bound(self, keep: str) -> tuple[int, int]:
        """Drop the least recently active sessions while over a bound; returns (sessions, event ids) dropped."""
        cfg, dropped, forgotten = self._config, 0, 0
        while len(self._sessions) > 1 and (
            len(self._sessions) > cfg.max_sessions or self._event_ids > cfg.max_event_ids
        ):
            oldest = next(iter(self._sessions))
            if oldest == keep:
                break
            gone = self._sessions.pop(oldest)
            self._event_ids -= len(gone.seen)
            dropped, forgotten = dropped + 1, forgotten + len(gone.seen)
        return dropped, forgotten

    def _add(self, write: TrackingWrite, session: SessionState, event: ScoredEvent) -> None:
        cfg = self._config
        if event.item_id:
            user = write.customer_id or f"session:{write.session_id}"
            self._log.append(Interaction(user, write.session_id, event.item_id, event.kind, event.ts))
        if event.recent and event.item_id:
            session.recent.append(event.item_id)
        if event.fields:
            if session.scores is None:
                session.scores = DecayedTable(event.ts)
            session.scores.add(event.fields, event.affinity, event.ts, cfg.session_half_life_ms)
            if write.customer_id:
                self._customer(write.customer_id, event.ts).add(
                    event.fields, event.affinity, event.ts, cfg.customer_half_life_ms
                )
        if event.scopes:
            self._add_trend(event)

    def _add_trend(self, event: ScoredEvent) -> None:
        half_life = self._config.trend_half_life_ms
        if self._trend_epoch is None:
            self._trend_epoch = float(event.ts)
        if decay.needs_rebase(event.ts, self._trend_epoch, half_life):
            factor = decay.growth(self._trend_epoch, event.ts, half_life)
            for counts in self._trends.values():
                for item_id in counts:
                    counts[item_id] *= factor
            self._trend_epoch = float(event.ts)
        amount = event.trend * decay.growth(event.ts, self._trend_epoch, half_life)
        item_id = event.item_id or ""
        for scope in event.scopes:
            counts = self._trends.setdefault(scope, {})
            counts[item_id] = counts.get(item_id, 0.0) + amount

    def _customer(self, customer_id: str, ts: float) -> DecayedTable:
        table = self._customers.get(customer_id)
        if table is None:
            table = self._customers[customer_id] = DecayedTable(ts)
        return table

    def _touch(self, write: TrackingWrite, session: SessionState, now: float) -> None:
        if write.customer_id:
            session.customer_id = write.customer_id
        if write.landing_source and session.source is None:
            session.source = write.landing_source
        if session.scores is None and (write.customer_id or session.recent or write.landing_source):
            session.scores = DecayedTable(float(write.now_ms))
        session.expires_at = now + self._config.session_ttl_s
        customer = self._customers.get(write.customer_id or "")
        if customer is not None:
            customer.expires_at = now + self._config.customer_ttl_s

    async def profile(self, session_id: str) -> RawProfile:
        now = time.monotonic()
        found = self._sessions.get(session_id)
        session = found if found is not None and found.expires_at > now else None
        if session is None or session.scores is None:
            return RawProfile(None, None, None)
        customer_id = session.customer_id
        customer = self._live(self._customers, customer_id, now) if customer_id else None
        return RawProfile(
            session.scores.raw(),
            customer_id,
            customer.raw() if customer else None,
            tuple(session.recent),
            session.source,
        )

    async def interactions(self) -> AsyncIterator[Interaction]:
        for interaction in list(self._log):
            yield interaction

    @staticmethod
    def _live(tables: dict[str, DecayedTable], key: str, now: float) -> DecayedTable | None:
        table = tables.get(key)
        return table if table is not None and table.expires_at > now else None

    async def trending(self, scope: str, limit: int) -> tuple[float, list[tuple[str, float]]]:
        counts = self._trends.get(scope, {})
        top = heapq.nlargest(limit, counts.items(), key=lambda pair: pair[1])
        return (self._trend_epoch or 0.0), top

    def sizes(self) -> Sizes:
        """Sessions and remembered event ids held now."""
        return Sizes(len(self._sessions), self._event_ids)

    def _sweep(self, now: float) -> None:
        """Drop expired entries once the tables have doubled since the last sweep (amortized O(1))."""
        if len(self._sessions) + len(self._customers) < self._sweep_at:
            return
        for session_id in [k for k, session in self._sessions.items() if session.expires_at <= now]:
            self._event_ids -= len(self._sessions.pop(session_id).seen)
        for session in self._sessions.values():
            expired = [event_id for event_id, until in session.seen.items() if until <= now]
            for event_id in expired:
                del session.seen[event_id]
            self._event_ids -= len(expired)
        for customer_id in [k for k, table in self._customers.items() if table.expires_at <= now]:
            del self._customers[customer_id]
        self._sweep_at = max(_SWEEP_EVERY, 2 * (len(self._sessions) + len(self._customers)))


class MemoryLedger:
    """Ledgers, orders and totals in dicts; ``decide`` runs between no awaits, so a transaction is atomic."""

    def __init__(self) -> None:
        self._ledgers: dict[str, Ledger] = {}
        self._orders: dict[str, StoredOrder] = {}
        self._totals: dict[str, int] = {}

    async def transact(self, customer_id: str, order_id: str | None, decide: Decide) -> LedgerChange:
        change = decide(self._ledgers.get(customer_id), self._orders.get(order_id) if order_id else None)
        if change.ledger is not None:
            self._ledgers[customer_id] = change.ledger
        if change.order is not None:
            self._orders[change.order.order_id] = change.order
        for key, delta in change.totals.items():
            self._totals[key] = self._totals.get(key, 0) + delta
        return change

    async def ledger(self, customer_id: str) -> Ledger | None:
        return self._ledgers.get(customer_id)

    async def order(self, order_id: str) -> StoredOrder | None:
        return self._orders.get(order_id)

    async def totals(self) -> dict[str, int]:
        return dict(self._totals)

    async def ledgers(self) -> AsyncIterator[Ledger]:
        for ledger in list(self._ledgers.values()):
            yield ledger


class MemorySegments:
    """The live run as one immutable tuple of dicts, swapped by one assignment."""

    def __init__(self) -> None:
        self._live: tuple[SegmentRun, dict[str, SegmentRecord], dict[str, list[str]]] | None = None

    async def replace(self, as_of_ms: int, records: Sequence[SegmentRecord]) -> SegmentRun:
        by_id = {record.customer_id: record for record in records}
        members: dict[str, list[str]] = {}
        for customer_id in sorted(by_id):
            members.setdefault(by_id[customer_id].segment, []).append(customer_id)
        version = self._live[0].version + 1 if self._live else 1
        run = SegmentRun(version=version, as_of_ms=as_of_ms, counts={name: len(ids) for name, ids in members.items()})
        self._live = (run, by_id, members)
        return run

    async def current(self) -> SegmentRun | None:
        return self._live[0] if self._live else None

    async def of(self, customer_id: str) -> SegmentRecord | None:
        return self._live[1].get(customer_id) if self._live else None

    async def members(self, segment: str, cursor: str | None, limit: int) -> tuple[list[SegmentRecord], str | None]:
        if not self._live:
            return [], None
        ids = self._live[2].get(segment, [])
        start = bisect.bisect_right(ids, cursor) if cursor else 0
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        return [self._live[1][i] for i in page], (page[-1] if more and page else None)


class MemoryCoupons:
    """Campaigns and codes in dicts; each method runs without awaiting, so each is atomic."""

    def __init__(self) -> None:
        self._campaigns: dict[str, Campaign] = {}
        self._coupons: dict[str, Coupon] = {}
        self._by_customer: dict[str, list[str]] = {}

    async def add_campaign(self, campaign: Campaign) -> bool:
        if campaign.campaign_id in self._campaigns:
            return False
        self._campaigns[campaign.campaign_id] = campaign
        return True

    async def campaign(self, campaign_id: str) -> Campaign | None:
        return self._campaigns.get(campaign_id)

    async def add_codes(self, coupons: Sequence[Coupon]) -> list[str]:
        taken = [c.code for c in coupons if c.code in self._coupons]
        for coupon in coupons:
            if coupon.code not in self._coupons:
                self._coupons[coupon.code] = coupon
                if coupon.customer_id:
                    self._by_customer.setdefault(coupon.customer_id, []).append(coupon.code)
        return taken

    async def coupon(self, code: str) -> Coupon | None:
        return self._coupons.get(code)

    async def transact(self, code: str, decide: CouponDecide) -> Any:
        updated, result = decide(self._coupons.get(code))
        if updated is not None:
            self._coupons[code] = updated
        return result

    async def for_customer(self, customer_id: str) -> list[Coupon]:
        return [self._coupons[code] for code in self._by_customer.get(customer_id, [])]


class MemoryConfig:
    """Versioned documents in a dict."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[int, bytes]] = {}

    async def get(self, name: str) -> tuple[int, bytes] | None:
        return self._docs.get(name)

    async def put(self, name: str, content: bytes) -> int:
        version = self._docs.get(name, (0, b""))[0] + 1
        self._docs[name] = (version, content)
        return version


class MemoryStore:
    """The ``memory://`` backend."""

    def __init__(self, config: TrackingConfig) -> None:
        self.catalog = MemoryCatalog()
        self.tracking = MemoryTracking(config)
        self.ledger = MemoryLedger()
        self.segments = MemorySegments()
        self.coupons = MemoryCoupons()
        self.config = MemoryConfig()
        self._claimed: set[str] = set()
        self._leases: dict[str, float] = {}

    async def page_view(self, session_id: str, write: TrackingWrite | None, customer_id: str | None) -> PageReads:
        if write is not None:
            await self.tracking.apply(write)
        profile = await self.tracking.profile(session_id)
        if customer_id is None:
            return PageReads(profile)
        coupons = tuple(await self.coupons.for_customer(customer_id))
        return PageReads(profile, await self.ledger.ledger(customer_id), await self.segments.of(customer_id), coupons)

    async def ping(self) -> bool:
        return True

    async def sizes(self) -> Sizes:
        return self.tracking.sizes()

    async def claim_once(self, name: str) -> bool:
        if name in self._claimed:
            return False
        self._claimed.add(name)
        return True

    async def lease(self, name: str, seconds: float) -> bool:
        now = time.monotonic()
        if self._leases.get(name, 0.0) > now:
            return False
        self._leases[name] = now + seconds
        return True

    async def close(self) -> None:
        return None
