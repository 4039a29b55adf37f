"""Loading the demo store (``fixtures/``) into an empty store: catalog, then browsing history.

Fixture times are shifted so the newest event is "now": trending and profiles then look alive.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import msgspec

from fixtures.records import DemoStore
from personalize.catalog.types import ItemIn, to_item
from personalize.clock import epoch_ms, now_ms
from personalize.runtime import Runtime
from personalize.tracking.scoring import TrackingWrite, score_events
from personalize.tracking.types import AddToCart, Click, Event, ProductView, RemoveFromCart, Search

log = logging.getLogger("personalize.demo")
_ENCODER = msgspec.json.Encoder()
_CHUNK = 2000


class DemoEvent(msgspec.Struct, kw_only=True):
    """A line of ``events.jsonl`` (server-side history: the customer id is trusted)."""

    event_id: str
    session_id: str
    customer_id: str | None
    type: str
    item_id: str | None
    ts: int
    quantity: int | None = None
    query: str | None = None


@functools.cache
def _generated() -> DemoStore:
    from fixtures import generate

    return generate()


def fixture_lines(fixtures_dir: str, name: str) -> Iterator[bytes]:
    """JSON lines of one fixture file: read from ``fixtures_dir``, or generated in memory when it is empty."""
    if fixtures_dir:
        with (Path(fixtures_dir) / f"{name}.jsonl").open("rb") as handle:
            yield from (line for line in handle if line.strip())
        return
    store = _generated()
    records: dict[str, Sequence[msgspec.Struct]] = {
        "catalog": store.items,
        "customers": store.customers,
        "orders": store.orders,
        "events": store.events,
    }
    yield from (_ENCODER.encode(record) for record in records[name])


class DemoCustomer(msgspec.Struct, kw_only=True):
    """A line of ``customers.jsonl``: who may sign in to the demo storefront."""

    customer_id: str


def demo_customer_ids(fixtures_dir: str) -> frozenset[str]:
    """The demo store's customer ids."""
    return frozenset(
        msgspec.json.decode(line, type=DemoCustomer).customer_id for line in fixture_lines(fixtures_dir, "customers")
    )


async def load_demo_if_empty(runtime: Runtime, progress: Callable[[str, int], None] | None = None) -> bool:
    """Load the demo store when ``settings.demo`` is on and the store has no catalog (once across processes)."""
    store = runtime.store
    if not runtime.settings.demo or await store.catalog.version() != 0 or not await store.claim_once("demo"):
        return False
    await load_demo(runtime, progress)
    return True


async def train_demo_if_untrained(runtime: Runtime, progress: Callable[[str], None] | None = None) -> bool:
    """Train the models on the demo history when ``settings.demo`` is on and ``models_dir`` has none."""
    from personalize.models.training import from_exports, train, versions

    models_dir = Path(runtime.settings.models_dir)
    if not runtime.settings.demo or versions(models_dir):
        return False
    fixtures = runtime.settings.fixtures_dir
    data = from_exports(fixture_lines(fixtures, "events"), fixture_lines(fixtures, "orders"), source="demo store")
    manifest = await asyncio.to_thread(train, data, models_dir, progress=progress)
    log.info("demo models trained: %s in %s", manifest.version, models_dir)
    return True


async def load_demo(runtime: Runtime, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Load the demo catalog, browsing history and order history (through the ledger, so the demo's
    customers have tiers and points); returns counts per kind."""
    dir_ = runtime.settings.fixtures_dir
    items = [
        to_item(msgspec.json.decode(line, type=ItemIn), runtime.settings.currency)
        for line in fixture_lines(dir_, "catalog")
    ]
    for start in range(0, len(items), _CHUNK):
        await runtime.store.catalog.upsert_items(items[start : start + _CHUNK])
    await runtime.refresh_catalog()
    events = [msgspec.json.decode(line, type=DemoEvent) for line in fixture_lines(dir_, "events")]
    shift = now_ms() - max((event.ts for event in events), default=now_ms())
    sessions: dict[tuple[str, str | None], list[DemoEvent]] = {}
    for event in events:
        sessions.setdefault((event.session_id, event.customer_id), []).append(event)
    loaded = 0
    for (session_id, customer_id), batch in sessions.items():
        loaded += await _replay(runtime, session_id, customer_id, batch, shift)
        if progress:
            progress("events", len(batch))
    orders = await _replay_orders(runtime, fixture_lines(dir_, "orders"), shift, progress)
    log.info("demo store loaded: %d items, %d events, %d orders", len(items), loaded, orders)
    return {"items": len(items), "events": loaded, "orders": orders}


async def _replay_orders(
    runtime: Runtime, lines: Iterable[bytes], shift: int, progress: Callable[[str, int], None] | None
) -> int:
    from personalize.loyalty.orders import complete_order
    from personalize.loyalty.types import OrderIn

    applied = 0
    for line in lines:
        order = msgspec.json.decode(line, type=OrderIn)
        completed = epoch_ms(order.completed_at)
        shifted = msgspec.structs.replace(order, completed_at=completed + shift)
        applied += not (await complete_order(runtime, shifted, completed + shift)).duplicate
        if progress:
            progress("orders", 1)
    return applied


async def _replay(
    runtime: Runtime, session_id: str, customer_id: str | None, batch: list[DemoEvent], shift: int
) -> int:
    events = list(_typed(batch, shift))
    now = now_ms()
    scored, _ = score_events(events, runtime.catalog, runtime.settings, now)
    applied = await runtime.store.tracking.apply(TrackingWrite(session_id, customer_id, now, tuple(scored)))
    return applied.accepted


def _typed(batch: Iterable[DemoEvent], shift: int) -> Iterator[Event]:
    for event in batch:
        ts = event.ts + shift
        item = event.item_id or ""
        match event.type:
            case "product_view":
                yield ProductView(item_id=item, event_id=event.event_id, ts=ts)
            case "click":
                yield Click(item_id=item, event_id=event.event_id, ts=ts)
            case "add_to_cart":
                yield AddToCart(item_id=item, quantity=event.quantity or 1, event_id=event.event_id, ts=ts)
            case "remove_from_cart":
                yield RemoveFromCart(item_id=item, quantity=event.quantity or 1, event_id=event.event_id, ts=ts)
            case "search":
                yield Search(query=event.query or "-", event_id=event.event_id, ts=ts)


def write_interactions_csv(store: DemoStore, path: Path) -> int:
    """The customers' history as ``user_id,item_id,timestamp,weight`` for ``personalize evaluate recs``:
    purchases (weight 5) and signed-in events (view and click 1, add to cart 3); returns the row count."""
    from recommenders.interactions import CONFIDENCE

    rows = 0
    with path.open("w") as out:
        out.write("user_id,item_id,timestamp,weight\n")
        for order in store.orders:
            for line in order.items:
                out.write(f"{order.customer_id},{line.item_id},{order.completed_at},{CONFIDENCE['purchase']:g}\n")
                rows += 1
        for event in store.events:
            if event.customer_id and event.item_id and event.type in CONFIDENCE:
                out.write(f"{event.customer_id},{event.item_id},{event.ts / 1000:.3f},{CONFIDENCE[event.type]:g}\n")
                rows += 1
    return rows
