"""The ledger and segment stores' contract, on both backends."""

from __future__ import annotations

import time

import anyio
import pytest

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.ledger import Ledger, StoredOrder
from loyalty_nudges.rewards import Redemption
from personalize.store.loyalty_protocols import LedgerChange, Notice, Reads, Wants
from personalize.store.protocols import SegmentRecord, Store

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


def _redeem(redemption_id: str, cost: int, stock: int | None):  # type: ignore[no-untyped-def]
    """A redemption written with a unit of stock, a coupon and two notices; refused when the balance is short."""

    def decide(reads: Reads) -> LedgerChange:
        if reads.redemption is not None:
            return LedgerChange(result="duplicate")
        balance = reads.ledger.lifetime_minor if reads.ledger else 0
        if balance < cost or (stock is not None and reads.stock_taken >= stock):
            raise ValueError("refused")
        code = f"CODE{redemption_id}".upper()
        assert reads.coupons == {code: None}
        coupon = Coupon(
            code=code, campaign_id="reward:r", discount_pct=20, discount_minor=0, valid_from_ms=0,
            expires_at_ms=10**13, customer_id="c1",
        )  # fmt: skip
        redemption = Redemption(
            redemption_id=redemption_id, customer_id="c1", reward_id="r", points=cost, taken=(), code=code, at_ms=1
        )
        notices = tuple(Notice(kind=kind, customer_id="c1", at_ms=1, data={"r": redemption_id}) for kind in "ab")
        return LedgerChange(
            ledger=Ledger(customer_id="c1", lifetime_minor=balance - cost),
            redemption=redemption,
            stock_delta=1,
            coupons=(coupon,),
            notices=notices,
            result="redeemed",
        )

    return decide


async def _act(store: Store, redemption_id: str, cost: int, stock: int | None = None) -> object:
    wants = Wants(redemption_id=redemption_id, stock_of="r", codes=(f"CODE{redemption_id}".upper(),))
    try:
        return (await store.ledger.act("c1", wants, _redeem(redemption_id, cost, stock))).result
    except ValueError:
        return "refused"


async def test_concurrent_redemptions_spend_a_balance_exactly_and_one_id_once(store: Store) -> None:
    await store.ledger.transact("c1", "o1", add_order("o1", 300))
    results: list[object] = []

    async def redeem(redemption_id: str) -> None:
        results.append(await _act(store, redemption_id, 100))

    async with anyio.create_task_group() as group:
        for n in range(40):
            group.start_soon(redeem, f"r{n}")
        for _ in range(20):
            group.start_soon(redeem, "r-same")
    assert results.count("redeemed") == 3
    assert (await store.ledger.ledger("c1")).lifetime_minor == 0  # type: ignore[union-attr]
    assert await store.ledger.stock_taken("r") == 3
    redeemed = [r async for r in _redemptions(store, [f"r{n}" for n in range(40)] + ["r-same"])]
    assert len(redeemed) == 3
    assert {(await store.coupons.coupon(r.code)).customer_id for r in redeemed} == {"c1"}  # type: ignore[union-attr]
    assert {c.code for c in await store.coupons.for_customer("c1")} == {r.code for r in redeemed}
    notices = await store.ledger.notices(None, 100)
    assert [n.kind for n in notices] == ["a", "b"] * 3
    assert [n.data["r"] for n in notices[::2]] == [n.data["r"] for n in notices[1::2]]  # each pair in one step


async def _redemptions(store: Store, ids: list[str]):  # type: ignore[no-untyped-def]
    for redemption_id in ids:
        found = await store.ledger.redemption(redemption_id)
        if found is not None:
            yield found


async def test_a_limited_stock_is_never_oversold(store: Store) -> None:
    await store.ledger.transact("c1", "o1", add_order("o1", 10_000))
    async with anyio.create_task_group() as group:
        for n in range(30):
            group.start_soon(_act, store, f"r{n}", 1, 5)
    assert await store.ledger.stock_taken("r") == 5
    assert (await store.ledger.ledger("c1")).lifetime_minor == 10_000 - 5  # type: ignore[union-attr]


async def test_a_refused_change_appends_no_notice_and_writes_nothing(store: Store) -> None:
    assert await _act(store, "r1", 100) == "refused"
    assert await store.ledger.notices(None, 10) == []
    assert (await store.ledger.redemption("r1"), await store.ledger.stock_taken("r")) == (None, 0)
    assert await store.coupons.coupon("CODER1") is None


async def test_the_outbox_is_read_on_from_the_last_id_in_order(store: Store) -> None:
    await store.ledger.transact("c1", "o1", add_order("o1", 1000))
    for n in range(5):
        assert await _act(store, f"r{n}", 10) == "redeemed"
    every = await store.ledger.notices(None, 100)
    assert len(every) == 10
    assert len({n.id for n in every}) == 10
    ids = [n.id for n in every]
    assert ids == sorted(ids, key=_as_pair)
    first, rest = await store.ledger.notices(None, 4), await store.ledger.notices(every[3].id, 100)
    assert first + rest == every
    assert await store.ledger.notices(every[-1].id, 100) == []


def _as_pair(notice_id: str) -> tuple[int, int]:
    ms, _, sequence = notice_id.partition("-")
    return int(ms), int(sequence)


async def test_a_notice_dated_another_day_trims_by_the_clock_not_by_its_date(store: Store) -> None:
    """A job run as of a later day writes notices dated that day; the outbox keeps what came before (the bound is the
    clock that numbers the entries)."""
    year = 365 * 86_400_000
    for n, at_ms in enumerate((time.time_ns() // 1_000_000, time.time_ns() // 1_000_000 + year)):
        notice = Notice(kind=f"k{n}", customer_id="c1", at_ms=at_ms)
        await store.ledger.act("c1", Wants(), lambda reads, notice=notice: LedgerChange(notices=(notice,)))
    assert [n.kind for n in await store.ledger.notices(None, 10)] == ["k0", "k1"]
