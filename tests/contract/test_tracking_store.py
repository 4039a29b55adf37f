"""The tracking store contract (profiles, trending, de-duplication), on both backends."""

from __future__ import annotations

import anyio
import pytest

from personalize.store import open_store, tracking_config
from personalize.store.protocols import Store
from personalize.tracking.profiles import decayed
from personalize.tracking.scoring import ScoredEvent, TrackingWrite
from recommenders import decay
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

T0 = 1_790_000_000_000
MIN = 60_000
FIELDS = ("brand:Gucci", "category:women", "n")


def event(
    ts: int,
    event_id: str | None = None,
    weight: float = 1.0,
    item: str = "i1",
    fields: tuple[str, ...] = FIELDS,
    trend: float = 1.0,
    kind: str = "product_view",
    recent: bool = True,
) -> ScoredEvent:
    scopes = ("", "women") if trend else ()
    return ScoredEvent(event_id, kind, ts, weight, fields, trend, item, scopes, recent)


def write(*events: ScoredEvent, session: str = "sess-0001", customer: str | None = None) -> TrackingWrite:
    return TrackingWrite(session, customer, max(e.ts for e in events) if events else T0, tuple(events))


async def session_scores(store: Store, session: str, now: int, half_life: float) -> dict[str, float]:
    raw = await store.tracking.profile(session)
    return decayed(raw.session, now, half_life)


async def test_scores_decay_with_the_session_half_life(store: Store) -> None:
    half = 45 * MIN
    await store.tracking.apply(write(event(T0, weight=1.0), event(T0 + half, weight=5.0)))
    scores = await session_scores(store, "sess-0001", T0 + 2 * half, half)
    # 1 · 2^-2 + 5 · 2^-1
    assert scores["brand:Gucci"] == pytest.approx(0.25 + 2.5, rel=1e-9)


async def test_late_events_land_where_they_belong(store: Store) -> None:
    half = 45 * MIN
    await store.tracking.apply(write(event(T0 + half, weight=5.0)))
    await store.tracking.apply(write(event(T0, weight=1.0)))
    scores = await session_scores(store, "sess-0001", T0 + 2 * half, half)
    assert scores["n"] == pytest.approx(2.75, rel=1e-9)


async def test_a_long_gap_rebases_without_losing_precision(store: Store) -> None:
    half = 45 * MIN
    later = T0 + int((decay.REBASE_AFTER + 5) * half)
    await store.tracking.apply(write(event(T0, weight=3.0)))
    await store.tracking.apply(write(event(later, weight=2.0)))
    scores = await session_scores(store, "sess-0001", later + half, half)
    assert scores["n"] == pytest.approx(1.0 + 3.0 * 2.0 ** -(decay.REBASE_AFTER + 6), rel=1e-9)


async def test_a_long_gap_inside_one_write_rebases_the_events_before_it(store: Store) -> None:
    """One write's increments are summed before they are stored: those before a gap long enough to rebase
    are rescaled with what is stored, not added after it (profile and trending alike)."""
    half, day = 45 * MIN, 24 * 60 * MIN
    gap = int((decay.REBASE_AFTER + 5) * max(half, day))
    later = T0 + gap
    await store.tracking.apply(
        write(event(T0, weight=3.0, item="old"), event(T0 + 1, weight=1.0, item="old"), event(later, item="new"))
    )
    scores = await session_scores(store, "sess-0001", later, half)
    assert scores["n"] == pytest.approx(1.0 + 4.0 * 2.0 ** -(gap / half), rel=1e-9)
    epoch, top = await store.tracking.trending("", 10)
    trends = {item: decay.to_now(s, epoch, later, day) for item, s in top}
    assert trends == pytest.approx({"new": 1.0, "old": 2.0 * 2.0 ** -(gap / day)}, rel=1e-6)


async def test_repeated_event_ids_count_once_per_session(store: Store) -> None:
    first = await store.tracking.apply(write(event(T0, "e1"), event(T0, "e2")))
    again = await store.tracking.apply(write(event(T0, "e1"), event(T0, "e3")))
    other = await store.tracking.apply(write(event(T0, "e1"), session="sess-0002"))
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (again.accepted, again.duplicates) == (1, 1)
    assert (other.accepted, other.duplicates) == (1, 0)
    scores = await session_scores(store, "sess-0001", T0, 45 * MIN)
    assert scores["n"] == pytest.approx(3.0)


async def test_concurrent_deliveries_of_one_batch_count_once(store: Store) -> None:
    batch = write(*(event(T0, f"e{i}") for i in range(20)))
    results = []

    async def deliver() -> None:
        results.append(await store.tracking.apply(batch))

    async with anyio.create_task_group() as group:
        for _ in range(25):
            group.start_soon(deliver)
    assert sum(r.accepted for r in results) == 20
    assert sum(r.duplicates for r in results) == 20 * 24
    scores = await session_scores(store, "sess-0001", T0, 45 * MIN)
    assert scores["n"] == pytest.approx(20.0)
    _, top = await store.tracking.trending("", 5)
    assert len(top) == 1


async def test_a_customer_links_the_session_and_learns_long_term(store: Store) -> None:
    await store.tracking.apply(write(event(T0, weight=2.0), customer="c1"))
    await store.tracking.apply(write(event(T0, weight=3.0), session="sess-0002", customer="c1"))
    raw = await store.tracking.profile("sess-0002")
    assert raw.customer_id == "c1"
    assert decayed(raw.customer, T0, 30 * 86_400_000)["brand:Gucci"] == pytest.approx(5.0)
    assert decayed(raw.session, T0, 45 * MIN)["brand:Gucci"] == pytest.approx(3.0)


async def test_an_unknown_session_has_no_profile(store: Store) -> None:
    raw = await store.tracking.profile("nobody-here")
    assert (raw.session, raw.customer_id, raw.customer) == (None, None, None)


async def test_trending_ranks_by_decayed_weighted_count_per_scope(store: Store) -> None:
    day = 24 * 60 * MIN
    await store.tracking.apply(
        write(
            event(T0, item="old", trend=10.0),
            event(T0 + 2 * day, item="new", trend=3.0),
            event(T0 + 2 * day, item="shoe", trend=1.0, fields=()),
        )
    )
    epoch, top = await store.tracking.trending("", 10)
    now = T0 + 2 * day
    scores = {item: decay.to_now(s, epoch, now, day) for item, s in top}
    assert [i for i, _ in top] == ["new", "old", "shoe"]
    assert scores == pytest.approx({"new": 3.0, "old": 2.5, "shoe": 1.0})
    _, women = await store.tracking.trending("women", 10)
    _, men = await store.tracking.trending("men", 10)
    assert ([i for i, _ in women], men) == (["new", "old", "shoe"], [])


async def test_profiles_and_seen_markers_expire(backend_url: str) -> None:
    settings = make_settings(store_url=backend_url, tracking__session_ttl_hours=0.0003, tracking__dedup_hours=0.0003)
    store = open_store(settings.store_url, tracking_config(settings))
    try:
        await store.tracking.apply(write(event(T0, "e1")))
        assert (await store.tracking.profile("sess-0001")).session is not None
        deadline = anyio.current_time() + 10
        while (await store.tracking.profile("sess-0001")).session is not None:
            assert anyio.current_time() < deadline, "session profile did not expire"
            await anyio.sleep(0.05)
        assert (await store.tracking.apply(write(event(T0, "e1")))).accepted == 1
    finally:
        await store.close()


async def test_recent_items_keep_the_latest_in_order(store: Store) -> None:
    views = [event(T0 + n, f"e{n}", item=f"i{n}") for n in range(25)]
    views.append(event(T0 + 30, "search", item="i99", fields=(), trend=0.0, recent=False))
    await store.tracking.apply(write(*views))
    await store.tracking.apply(write(event(T0 + 40, "dup", item="i3")))
    await store.tracking.apply(write(event(T0 + 40, "dup", item="i3")))
    raw = await store.tracking.profile("sess-0001")
    assert raw.recent == (*tuple(f"i{n}" for n in range(6, 25)), "i3")


async def test_the_interaction_log_keeps_counted_events_for_training(store: Store) -> None:
    await store.tracking.apply(write(event(T0, "e1", item="a"), event(T0 + 1, "e2", item="b", kind="add_to_cart")))
    await store.tracking.apply(write(event(T0 + 2, "e1", item="a")))
    await store.tracking.apply(write(event(T0 + 3, "e3", item="c"), session="sess-0002", customer="c9"))
    logged = [(i.user, i.session_id, i.item_id, i.kind, i.ts) async for i in store.tracking.interactions()]
    assert logged == [
        ("session:sess-0001", "sess-0001", "a", "product_view", T0),
        ("session:sess-0001", "sess-0001", "b", "add_to_cart", T0 + 1),
        ("c9", "sess-0002", "c", "product_view", T0 + 3),
    ]


async def test_the_first_landing_source_of_a_session_is_kept(store: Store) -> None:
    first = TrackingWrite("sess-0001", None, T0, (), landing_source="facebook")
    await store.tracking.apply(first)
    await store.tracking.apply(TrackingWrite("sess-0001", None, T0 + 1, (), landing_source="google"))
    assert (await store.tracking.profile("sess-0001")).landing_source == "facebook"
    assert (await store.tracking.profile("sess-0002")).landing_source is None
