"""The ledger and segment stores' contract, on both backends."""

from __future__ import annotations

import anyio
import pytest

from loyalty_nudges.ledger import Ledger, StoredOrder
from personalize.store.protocols import LedgerChange, SegmentRecord, Store

pytestmark = pytest.mark.anyio


def add_order(order_id: str, amount: int):  # type: ignore[no-untyped-def]
    def decide(ledger: Ledger | None, order: StoredOrder | None) -> LedgerChange:
        if order is not None:
            return LedgerChange(result="duplicate")
        current = ledger or Ledger(customer_id="c1")
        grown = Ledger(customer_id="c1", lifetime_minor=current.lifetime_minor + amount)
        stored = StoredOrder(
            order_id=order_id,
            customer_id="c1",
            completed_at_ms=0,
            total_minor=amount,
            qualifying_minor=amount,
            points=0,
            tier_before=None,
            tier_after=None,
        )
        totals = {"orders": 1, "lifetime_minor": amount, **({"customers": 1} if ledger is None else {})}
        return LedgerChange(ledger=grown, order=stored, totals=totals, result="applied")

    return decide


async def test_an_order_delivered_50_times_at_once_counts_once(store: Store) -> None:
    results: list[object] = []

    async def deliver() -> None:
        results.append((await store.ledger.transact("c1", "o1", add_order("o1", 1999))).result)

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(deliver)
    assert sorted(results, key=str) == ["applied"] + ["duplicate"] * 49
    assert (await store.ledger.ledger("c1")).lifetime_minor == 1999  # type: ignore[union-attr]
    assert await store.ledger.totals() == {"orders": 1, "lifetime_minor": 1999, "customers": 1}


async def test_different_orders_of_one_customer_all_count(store: Store) -> None:
    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(store.ledger.transact, "c1", f"o{n}", add_order(f"o{n}", 100))
    assert (await store.ledger.ledger("c1")).lifetime_minor == 2000  # type: ignore[union-attr]
    assert (await store.ledger.order("o7")).total_minor == 100  # type: ignore[union-attr]
    assert [ledger.customer_id async for ledger in store.ledger.ledgers()] == ["c1"]


async def test_a_refusing_decision_writes_nothing(store: Store) -> None:
    def refuse(ledger: Ledger | None, order: StoredOrder | None) -> LedgerChange:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await store.ledger.transact("c1", "o1", refuse)
    assert (await store.ledger.ledger("c1"), await store.ledger.order("o1"), await store.ledger.totals()) == (
        None,
        None,
        {},
    )


async def test_segment_runs_replace_each_other_whole(store: Store) -> None:
    first = [SegmentRecord(f"c{n:03d}", "champions" if n % 3 else "at_risk", "55", 0, 5) for n in range(250)]
    run = await store.segments.replace(1000, first)
    assert (run.version, run.counts) == (1, {"champions": 166, "at_risk": 84})
    assert (await store.segments.of("c001")).segment == "champions"  # type: ignore[union-attr]
    seen, cursor = [], None
    while True:
        page, cursor = await store.segments.members("champions", cursor, 50)
        seen += [r.customer_id for r in page]
        if cursor is None:
            break
    assert seen == sorted(r.customer_id for r in first if r.segment == "champions")
    second = await store.segments.replace(2000, [SegmentRecord("c001", "hibernating", "11", 2, 1)])
    assert (await store.segments.current()) == second
    assert await store.segments.of("c002") is None
    assert (await store.segments.members("champions", None, 10)) == ([], None)


async def test_200_concurrent_redemptions_of_one_code_succeed_once(store: Store) -> None:
    from loyalty_nudges.coupons import Coupon, redeem

    code = Coupon(
        code="TESTCODE22", campaign_id="c", discount_pct=10, discount_minor=0, valid_from_ms=0, expires_at_ms=10**15
    )
    assert await store.coupons.add_codes([code]) == []
    assert await store.coupons.add_codes([code]) == ["TESTCODE22"]
    outcomes: list[str | None] = []

    async def attempt(n: int) -> None:
        def decide(coupon: Coupon | None) -> tuple[Coupon | None, str | None]:
            updated, refusal = redeem(coupon, "c1", f"order-{n}", 1000)
            return (updated if updated != coupon else None), refusal

        outcomes.append(await store.coupons.transact("TESTCODE22", decide))

    async with anyio.create_task_group() as group:
        for n in range(200):
            group.start_soon(attempt, n)
    assert outcomes.count(None) == 1
    assert outcomes.count("used") == 199
    assert (await store.coupons.coupon("TESTCODE22")).used_by_order is not None  # type: ignore[union-attr]
