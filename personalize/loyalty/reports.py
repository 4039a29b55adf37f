"""What the loyalty side reports to the shop: totals across customers, and the live segmentation's counts and
members (the server-key routes ``/v1/admin/stats`` and ``/v1/segments``)."""

from __future__ import annotations

from personalize import money
from personalize.clock import utc
from personalize.errors import NotFound
from personalize.loyalty.types import Member, MemberPage, SegmentCounts, Stats
from personalize.runtime import Runtime


async def stats(runtime: Runtime) -> Stats:
    """Customers, orders, lifetime spend net of refunds, customers per tier and per segment of the live run."""
    totals = await runtime.store.ledger.totals()
    run = await runtime.store.segments.current()
    currency = runtime.settings.currency
    return Stats(
        customers=totals.get("customers", 0),
        orders=totals.get("orders", 0),
        lifetime_spend=money.to_major(totals.get("lifetime_minor", 0), currency),
        currency=currency,
        per_tier={tier.name: totals.get(f"tier:{tier.name}", 0) for tier in runtime.settings.loyalty.tiers},
        per_segment=dict(run.counts) if run else {},
        segments_as_of=utc(run.as_of_ms) if run else None,
    )


async def segment_counts(runtime: Runtime) -> SegmentCounts:
    """Customers per named segment, every name of the map (zero included), as of the live run."""
    run = await runtime.store.segments.current()
    found = run.counts if run else {}
    names = dict.fromkeys(rule.name for rule in runtime.settings.segments.rules)
    counts = {name: found.get(name, 0) for name in names}
    counts.update({name: n for name, n in found.items() if name not in counts})
    return SegmentCounts(as_of=utc(run.as_of_ms) if run else None, counts=counts)


async def segment_members(runtime: Runtime, name: str, cursor: str | None, limit: int) -> MemberPage:
    """A segment's customers in id order after ``cursor``; not found for a name the map does not have."""
    known = {rule.name for rule in runtime.settings.segments.rules} | {"other"}
    if name not in known:
        raise NotFound(f"no segment {name!r}; known: {sorted(known)}", "name")
    records, next_cursor = await runtime.store.segments.members(name, cursor, limit)
    customers = [
        Member(
            customer_id=r.customer_id, rfm=r.rfm, winback_stage=r.winback_stage, price_sensitivity=r.price_sensitivity
        )
        for r in records
    ]
    return MemberPage(segment=name, customers=customers, next_cursor=next_cursor)
