"""The page-view contract: a page view's write and whole state in one call, on both backends."""

from __future__ import annotations

import pytest

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.ledger import Ledger, StoredOrder
from personalize.store.loyalty_protocols import LedgerChange
from personalize.store.protocols import PageReads, SegmentRecord, Store
from tests.contract.test_tracking_store import T0, event, write

pytestmark = pytest.mark.anyio


def coupon(code: str, customer: str) -> Coupon:
    return Coupon(
        code=code,
        campaign_id="spring",
        discount_pct=10.0,
        discount_minor=0,
        valid_from_ms=T0,
        expires_at_ms=T0 + 1000,
        customer_id=customer,
    )


async def give_ledger(store: Store, customer: str, lifetime_minor: int) -> None:
    def decide(_ledger: Ledger | None, _order: StoredOrder | None) -> LedgerChange:
        return LedgerChange(ledger=Ledger(customer_id=customer, lifetime_minor=lifetime_minor), result="applied")

    await store.ledger.transact(customer, None, decide)


async def test_a_signed_customer_gets_profile_ledger_segment_and_coupons_together(store: Store) -> None:
    await store.tracking.apply(write(event(T0), customer="c1"))
    await give_ledger(store, "c1", 350_000)
    await store.segments.replace(T0, [SegmentRecord("c1", "champions", "555", 0, 3)])
    await store.coupons.add_codes([coupon("AAAA1111", "c1"), coupon("BBBB2222", "c1"), coupon("CCCC3333", "c2")])

    reads = await store.page_view("sess-0001", None, "c1")

    assert reads.profile == await store.tracking.profile("sess-0001")
    assert reads.profile.customer_id == "c1"
    assert reads.profile.recent == ("i1",)
    assert reads.ledger == Ledger(customer_id="c1", lifetime_minor=350_000)
    assert reads.segment == SegmentRecord("c1", "champions", "555", 0, 3)
    assert sorted(c.code for c in reads.coupons) == ["AAAA1111", "BBBB2222"]


async def test_the_live_segment_run_is_the_one_read(store: Store) -> None:
    await store.segments.replace(T0, [SegmentRecord("c1", "champions", "555", 0, 3)])
    await store.segments.replace(T0 + 1, [SegmentRecord("c1", "at_risk", "155", 1, 3)])
    assert (await store.page_view("sess-0001", None, "c1")).segment == SegmentRecord("c1", "at_risk", "155", 1, 3)


async def test_anonymous_reads_carry_only_the_profile(store: Store) -> None:
    await store.tracking.apply(write(event(T0), customer="c1"))
    await give_ledger(store, "c1", 100)
    reads = await store.page_view("sess-0001", None, None)
    assert (reads.ledger, reads.segment, reads.coupons) == (None, None, ())
    assert reads.profile.customer_id == "c1"


async def test_an_unknown_customer_and_session_read_empty(store: Store) -> None:
    reads = await store.page_view("sess-none", None, "nobody")
    assert reads.ledger is None
    assert reads.segment is None
    assert reads.coupons == ()
    assert (reads.profile.session, reads.profile.customer_id, reads.profile.recent) == (None, None, ())
    assert isinstance(reads, PageReads)


async def test_a_page_view_writes_then_reads_in_one_call(store: Store) -> None:
    await give_ledger(store, "c1", 350_000)
    reads = await store.page_view("sess-0001", write(event(T0, item="i7"), customer="c1"), "c1")
    assert reads.profile.recent == ("i7",)  # the write is seen by the reads of the same call
    assert reads.profile.customer_id == "c1"
    assert reads.ledger == Ledger(customer_id="c1", lifetime_minor=350_000)
    assert await store.page_view("sess-0001", None, "c1") == reads  # nothing to record: only the reads
    again = await store.page_view("sess-0001", write(event(T0 + 1, item="i8")), None)
    assert again.profile.recent == ("i7", "i8")
    assert (again.ledger, again.coupons) == (None, ())
