"""The embedded store: everything in this process's memory, nothing durable.

Atomicity: every mutating method runs to completion without an ``await`` in between, so on the one
event loop of the process no other request can observe or interleave with a half-applied write.
Expiry is lazy (checked on read) plus a sweep when a table grows.
"""

from __future__ import annotations

import bisect
import collections
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec

from loyalty_nudges.coupons import Campaign, Coupon
from loyalty_nudges.experiment_sums import Exposure
from loyalty_nudges.ledger import Ledger, StoredOrder
from loyalty_nudges.rewards import Redemption
from personalize.catalog.items import Item, category_levels
from personalize.store.loyalty_protocols import Act, Decide, LedgerChange, Notice, Reads, Wants
from personalize.store.memory_experiments import MemoryExperiments
from personalize.store.memory_tracking import MemoryTracking
from personalize.store.protocols import CouponDecide, PageReads, SegmentRecord, SegmentRun, Sizes, TrackingConfig
from personalize.tracking.scoring import TrackingWrite


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


class MemoryLedger:
    """Ledgers, orders, redemptions, stock, totals and the outbox in dicts; ``decide`` runs between no awaits, so a
    transaction is atomic. Coupons it issues go into the store's :class:`MemoryCoupons`."""

    def __init__(self, coupons: MemoryCoupons, config: TrackingConfig) -> None:
        self._coupons = coupons
        self.experiments = MemoryExperiments(self._lifetime)
        self._config = config
        self._ledgers: dict[str, Ledger] = {}
        self._orders: dict[str, StoredOrder] = {}
        self._redemptions: dict[str, Redemption] = {}
        self._stock: dict[str, int] = {}
        self._totals: dict[str, int] = {}
        self._marks: dict[str, bytes] = {}
        self._outbox: collections.deque[tuple[tuple[int, int], Notice]] = collections.deque()
        self._last_id = (0, 0)

    async def act(self, customer_id: str, wants: Wants, decide: Act) -> LedgerChange:
        reads = Reads(
            ledger=self._ledgers.get(customer_id),
            order=self._orders.get(wants.order_id) if wants.order_id else None,
            redemption=self._redemptions.get(wants.redemption_id) if wants.redemption_id else None,
            stock_taken=self._stock.get(wants.stock_of, 0) if wants.stock_of else 0,
            coupons={code: self._coupons.stored(code) for code in wants.codes},
            marks={name: self._marks.get(name) for name in wants.marks},
            units=self.experiments.read(wants.units),
        )
        change = decide(reads)
        if change.ledger is not None:
            self._ledgers[customer_id] = change.ledger
        for order in (change.order, *change.orders):
            if order is not None:
                self._orders[order.order_id] = order
        if change.redemption is not None:
            self._redemptions[change.redemption.redemption_id] = change.redemption
        if change.stock_delta and wants.stock_of:
            self._stock[wants.stock_of] = self._stock.get(wants.stock_of, 0) + change.stock_delta
        self._coupons.write(change.coupons)
        self._marks.update(change.marks)
        for key, delta in change.totals.items():
            self._totals[key] = self._totals.get(key, 0) + delta
        self._append(change.notices)
        self.experiments.write(change.units)
        for (experiment_id, arm), moved in change.arm_sums.items():
            self.experiments.move(experiment_id, arm, moved)
        return change

    def _lifetime(self, customer_id: str) -> int:
        ledger = self._ledgers.get(customer_id)
        return ledger.lifetime_minor if ledger else 0

    async def transact(self, customer_id: str, order_id: str | None, decide: Decide) -> LedgerChange:
        return await self.act(customer_id, Wants(order_id=order_id), lambda reads: decide(reads.ledger, reads.order))

    def _append(self, notices: Sequence[Notice]) -> None:
        """Ids as Redis gives stream entries: the wall clock's ms and a sequence within it, always increasing."""
        for notice in notices:
            ms = max(int(time.time() * 1000), self._last_id[0])
            self._last_id = (ms, self._last_id[1] + 1 if ms == self._last_id[0] else 0)
            self._outbox.append((self._last_id, msgspec.structs.replace(notice, id=f"{ms}-{self._last_id[1]}")))
        oldest = self._last_id[0] - self._config.outbox_retention_ms
        while self._outbox and (len(self._outbox) > self._config.outbox_length or self._outbox[0][0][0] < oldest):
            self._outbox.popleft()

    async def notices(self, after: str | None, limit: int) -> list[Notice]:
        start = _stream_id(after) if after else (-1, -1)
        first = bisect.bisect_right([entry_id for entry_id, _ in self._outbox], start)
        return [notice for _, notice in list(self._outbox)[first : first + limit]]

    async def ledger(self, customer_id: str) -> Ledger | None:
        return self._ledgers.get(customer_id)

    async def order(self, order_id: str) -> StoredOrder | None:
        return self._orders.get(order_id)

    async def redemption(self, redemption_id: str) -> Redemption | None:
        return self._redemptions.get(redemption_id)

    async def stock_taken(self, reward_id: str) -> int:
        return self._stock.get(reward_id, 0)

    async def totals(self) -> dict[str, int]:
        return dict(self._totals)

    async def ledgers(self) -> AsyncIterator[Ledger]:
        for ledger in list(self._ledgers.values()):
            yield ledger


def _stream_id(text: str) -> tuple[int, int]:
    ms, _, sequence = text.partition("-")
    return int(ms), int(sequence or 0)


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

    def stored(self, code: str) -> Coupon | None:
        """A code, read inside another backend transaction (no await)."""
        return self._coupons.get(code)

    def write(self, coupons: Sequence[Coupon]) -> None:
        """Store codes whole, inside another transaction: new ones are indexed by their customer."""
        for coupon in coupons:
            if coupon.code not in self._coupons and coupon.customer_id:
                self._by_customer.setdefault(coupon.customer_id, []).append(coupon.code)
            self._coupons[coupon.code] = coupon

    async def transact(self, code: str, decide: CouponDecide) -> Any:
        updated, result = decide(self._coupons.get(code))
        if updated is not None:
            self._coupons[code] = updated
        return result

    async def forget_customer(self, customer_id: str) -> list[str]:
        unused = [code for code in self._by_customer.pop(customer_id, []) if self._coupons[code].used_by_order is None]
        for code in unused:
            del self._coupons[code]
        return unused

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

    shared = False
    """State lives in this one process."""

    def __init__(self, config: TrackingConfig) -> None:
        self.catalog = MemoryCatalog()
        self.tracking = MemoryTracking(config)
        self.segments = MemorySegments()
        self.coupons = MemoryCoupons()
        self.ledger = MemoryLedger(self.coupons, config)
        self.config = MemoryConfig()
        self.experiments = self.ledger.experiments
        self._claimed: set[str] = set()
        self._leases: dict[str, float] = {}

    async def page_view(
        self,
        session_id: str,
        write: TrackingWrite | None,
        customer_id: str | None,
        exposures: Sequence[Exposure] = (),
        now_ms: int = 0,
    ) -> PageReads:
        self.experiments.record(exposures, now_ms)
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
