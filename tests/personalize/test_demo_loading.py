"""The demo store's history loaded in parts by several processes ends as the history loaded by one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from personalize.demo.loader import load_demo
from personalize.loyalty.reports import stats
from personalize.runtime import Runtime
from tests.conftest import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.redis]

SAMPLE = [f"c{n:05d}" for n in range(1, 6001, 37)]
"""Customers compared ledger by ledger (every 37th of the demo's 6,000)."""


async def _loaded(store_url: str, demo_dir: Path, shards: int) -> tuple[dict[str, int], Any, list[Any]]:
    settings = make_settings(store_url=store_url, fixtures_dir=str(demo_dir))
    runtime = Runtime.open(settings)
    try:
        counts = await load_demo(runtime, shards=shards)
        ledgers = [await runtime.store.ledger.ledger(customer) for customer in SAMPLE]
        kept = [
            None
            if ledger is None
            else (
                ledger.lifetime_minor,
                ledger.tier,
                round(ledger.engagement, 6),
                [fact.order_id for fact in ledger.history],
                [(lot.order_id, lot.earned, lot.remaining) for lot in ledger.lots],
            )
            for ledger in ledgers
        ]
        report = await stats(runtime)
        return counts, (report.customers, report.orders, report.lifetime_spend, report.per_tier), kept
    finally:
        await runtime.close()


def test_the_history_loaded_by_three_processes_is_the_history_loaded_by_one(redis_url: str, demo_dir: Path) -> None:
    one = asyncio.run(_loaded("memory://", demo_dir, 1))
    three = asyncio.run(_loaded(redis_url, demo_dir, 3))
    assert one[0] == three[0]  # items, events and orders taken, codes issued
    assert one[0]["orders"] > 20_000
    assert one[1] == three[1]  # customers, orders, spend and customers per tier
    assert sum(ledger is not None for ledger in one[2]) > 100
    assert one[2] == three[2]  # each sampled customer's spend, tier, engagement, orders and points
