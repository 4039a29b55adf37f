"""Segmentation runs: every ledger's order history → RFM segments, win-back stage, price sensitivity,
stored whole as the live run. Used by ``personalize segments`` and the server's periodic job."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from loyalty_nudges.ledger import Ledger
from loyalty_nudges.segments import CustomerFacts, OrderFact, segment_customers
from personalize.clock import now_ms
from personalize.loyalty.engagement import count_abandoned_carts
from personalize.runtime import Runtime
from personalize.store.protocols import SegmentRecord, SegmentRun, StoreError

log = logging.getLogger("personalize.segments")


def facts(ledger: Ledger) -> CustomerFacts:
    """The segment model's view of a ledger (order times, net amounts, promotions, discounts)."""
    orders = tuple(
        OrderFact(
            ts_ms=f.ts_ms, net_minor=max(0, f.net_minor), on_promotion=f.on_promotion, discount_minor=f.discount_minor
        )
        for f in ledger.history
    )
    return CustomerFacts(customer_id=ledger.customer_id, orders=orders)


async def run_segmentation(runtime: Runtime, as_of_ms: int) -> SegmentRun:
    """Segment every customer with an order as of ``as_of_ms`` and make that the live run."""
    customers = [facts(ledger) async for ledger in runtime.store.ledger.ledgers() if ledger.history]
    settings = runtime.settings.segments
    scored = await asyncio.to_thread(segment_customers, customers, as_of_ms, settings.rules, policy=settings.policy)
    records = [
        SegmentRecord(s.customer_id, s.segment, f"{s.r}{s.f}{s.m}", s.winback_stage, s.price_sensitivity)
        for s in scored
    ]
    run = await runtime.store.segments.replace(as_of_ms, records)
    log.info("segments as of %d: %d customers, %s", as_of_ms, len(records), run.counts)
    return run


async def segment_periodically(runtime: Runtime) -> None:
    """The server's job: every ``segments.every_hours``, one process (a store lease) recomputes segments and
    counts abandoned carts against the engagement score."""
    period = runtime.settings.segments.every_hours * 3600
    while True:
        with contextlib.suppress(StoreError):
            if await runtime.store.lease("segments", period * 0.9):
                await count_abandoned_carts(runtime, now_ms())
                await run_segmentation(runtime, now_ms())
        await asyncio.sleep(period)
