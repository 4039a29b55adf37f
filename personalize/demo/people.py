"""Who the demo's sign-in offers: a few named demo customers of every tier, with their segment, orders and
points, read from the store (so what the list says is what the pages will show), kept for a minute."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import msgspec

from loyalty_nudges.ledger import Ledger, points_balance
from personalize.demo.loader import DemoCustomer, demo_dir, fixture_lines
from personalize.demo.storefront import titled
from personalize.runtime import Runtime
from personalize.settings import Settings

PER_TIER = 3
SECONDS = 60.0
NEW_CUSTOMER = "New customer"


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """A demo customer as the sign-in list and the header show them."""

    customer_id: str
    name: str
    tier: str | None = None
    tier_title: str = ""
    segment_title: str = ""
    orders: int = 0
    points: int = 0


_shown: dict[int, tuple[float, list[Person]]] = {}


def names(settings: Settings) -> dict[str, str]:
    """Demo customer id → first name (the demo store's customers file, read once per process)."""
    return _names_in(demo_dir(settings))


@functools.cache
def _names_in(directory: Path) -> dict[str, str]:
    lines = fixture_lines(directory, "customers")
    return {c.customer_id: c.first_name for c in (msgspec.json.decode(line, type=DemoCustomer) for line in lines)}


def person(runtime: Runtime, customer_id: str, ledger: Ledger | None, segment: str | None, now_ms: int) -> Person:
    """One customer as the demo shows them."""
    tier = runtime.settings.loyalty.tier_named(ledger.tier if ledger else None)
    spendable, pending = points_balance(ledger, now_ms) if ledger else (0, 0)
    return Person(
        customer_id=customer_id,
        name=names(runtime.settings).get(customer_id, NEW_CUSTOMER),
        tier=tier.name if tier else None,
        tier_title=tier.title if tier else "",
        segment_title=titled(segment) if segment else "No segment yet",
        orders=len(ledger.history) if ledger else 0,
        points=spendable + pending,
    )


async def showcase(runtime: Runtime, now_ms: int) -> list[Person]:
    """Up to :data:`PER_TIER` customers of each tier, the top tier first, then as many without a tier who have
    ordered; by customer id within a tier (a stable list)."""
    key = id(runtime.store)
    cached = _shown.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    known = names(runtime.settings)
    ranks = {tier.name: rank for rank, tier in enumerate(reversed(runtime.settings.loyalty.tiers))}
    buckets: dict[int, list[Ledger]] = {}
    async for ledger in runtime.store.ledger.ledgers():
        if ledger.customer_id in known and ledger.history:
            buckets.setdefault(ranks.get(ledger.tier or "", len(ranks)), []).append(ledger)
    chosen = [
        ledger
        for rank in sorted(buckets)
        for ledger in sorted(buckets[rank], key=lambda ledger: ledger.customer_id)[:PER_TIER]
    ]
    people = [
        person(runtime, ledger.customer_id, ledger, await runtime.segment_of(ledger.customer_id), now_ms)
        for ledger in chosen
    ]
    _shown[key] = (time.monotonic() + SECONDS, people)
    return people
