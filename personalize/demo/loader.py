"""Loading the demo store (``fixtures/``) into an empty store: catalog, browsing history, order history.

The generated store is written once as JSON lines into ``demo_cache_dir`` (keyed by the generator's source, so a
changed generator writes a new one) and read from there afterwards, which takes a moment where generating it takes
seconds. Fixture times are shifted so the newest event is "now": trending and profiles then look alive. Sessions
are replayed and customers' order histories applied several at a time (one store transaction per customer), with
progress (``personalize.progress``). Into a shared store the history is split by customer between this process
and helper processes, one per core: the work is Python's (scoring, the ledger, the client), and each customer's
browsing and orders still apply in order, in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import multiprocessing.queues
import os
import queue
import shutil
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import msgspec

from fixtures.records import DemoStore
from personalize.catalog.types import ItemIn, to_item
from personalize.clock import epoch_ms, now_ms
from personalize.progress import Advance, progress
from personalize.runtime import Runtime
from personalize.settings import Settings
from personalize.tracking.scoring import TrackingWrite, score_events
from personalize.tracking.types import AddToCart, Click, Event, ProductView, RemoveFromCart, Search

log = logging.getLogger("personalize.demo")
_CHUNK = 2000
_IN_FLIGHT = 32
"""Customers or sessions written at once into a shared store (its round trips overlap); the memory store does one
at a time (there is nothing to wait for)."""
FILES = ("catalog", "customers", "orders", "events")


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


def demo_dir(settings: Settings) -> Path:
    """Where the demo store's JSON lines are: ``fixtures_dir``, else the cache, written first when it lacks them."""
    if settings.fixtures_dir:
        return Path(settings.fixtures_dir)
    cached = Path(settings.demo_cache_dir) / f"seed-7-{_generator_digest()}"
    if not all((cached / f"{name}.jsonl").exists() for name in FILES):
        _write_cache(cached)
    return cached


def _generator_digest() -> str:
    """What the generated store depends on: the generator's source."""
    digest = hashlib.sha256()
    for source in sorted(resources.files("fixtures").iterdir(), key=lambda entry: entry.name):
        if source.name.endswith(".py"):
            digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def _write_cache(cached: Path) -> None:
    from fixtures import generate, write_jsonl

    started = time.perf_counter()
    staging = cached.with_name(f"{cached.name}.{time.time_ns()}.tmp")
    write_jsonl(generate(), staging)
    try:
        staging.rename(cached)
    except OSError:  # another process wrote it first
        shutil.rmtree(staging, ignore_errors=True)
    log.info("demo store generated into %s in %.1f s", cached, time.perf_counter() - started)


def fixture_lines(directory: Path, name: str) -> Iterator[bytes]:
    """The JSON lines of one demo file (``catalog``, ``customers``, ``orders``, ``events``)."""
    with (directory / f"{name}.jsonl").open("rb") as handle:
        yield from (line for line in handle if line.strip())


class DemoCustomer(msgspec.Struct, kw_only=True):
    """A line of ``customers.jsonl``: who may sign in to the demo storefront."""

    customer_id: str
    first_name: str = ""


async def load_demo_if_empty(runtime: Runtime) -> bool:
    """Load the demo store when ``settings.demo`` is on and the store has no catalog (once across processes)."""
    store = runtime.store
    if not runtime.settings.demo or await store.catalog.version() != 0 or not await store.claim_once("demo"):
        return False
    await load_demo(runtime)
    return True


async def train_demo_if_untrained(runtime: Runtime) -> bool:
    """Train the models on the demo history when ``settings.demo`` is on and ``models_dir`` has none."""
    from personalize.models.training import TRAINING_STEPS, from_exports, train, versions

    models_dir = Path(runtime.settings.models_dir)
    if not runtime.settings.demo or versions(models_dir):
        return False
    source = demo_dir(runtime.settings)
    data = from_exports(fixture_lines(source, "events"), fixture_lines(source, "orders"), source="demo store")
    with progress("training the models on the demo store", TRAINING_STEPS, "steps") as advance:
        manifest = await asyncio.to_thread(train, data, models_dir, progress=lambda _: advance(1))
    log.info("demo models trained: %s in %s", manifest.version, models_dir)
    return True


async def load_demo(runtime: Runtime, shards: int | None = None) -> dict[str, int]:
    """Load the demo catalog, browsing history and order history (through the ledger, so the demo's
    customers have tiers and points), the history in ``shards`` processes (default: see
    :func:`_history_shards`); returns counts per kind."""
    source = demo_dir(runtime.settings)
    items = [to_item(msgspec.json.decode(line, type=ItemIn), runtime.settings.currency)
             for line in fixture_lines(source, "catalog")]  # fmt: skip
    with progress("demo store: catalog", len(items), "items") as advance:
        for start in range(0, len(items), _CHUNK):
            await runtime.store.catalog.upsert_items(items[start : start + _CHUNK])
            advance(len(items[start : start + _CHUNK]))
    await runtime.refresh_catalog()
    events = [msgspec.json.decode(line, type=DemoEvent) for line in fixture_lines(source, "events")]
    shift = now_ms() - max((event.ts for event in events), default=now_ms())
    total = len(events) + sum(1 for _ in fixture_lines(source, "orders"))
    shards = shards or _history_shards(runtime)
    with (
        progress("demo store: browsing and order history", total, "events and orders") as advance,
        _helpers(runtime.settings, source, shift, shards) as helped,
    ):
        parts = await asyncio.gather(
            _replay_history(runtime, source, events, shift, Shard(0, shards), advance), helped(advance)
        )
    loaded, orders = (sum(counts) for counts in zip(parts[0], *parts[1], strict=True))
    codes = await _seed_codes(runtime)
    log.info("demo store loaded: %d items, %d events, %d orders, %d codes", len(items), loaded, orders, codes)
    return {"items": len(items), "events": loaded, "orders": orders, "codes": codes}


DEMO_CAMPAIGNS = (
    # the Facebook welcome banner's code: any customer may use it once
    {"campaign_id": "fb-welcome", "name": "Facebook welcome", "code": "FBWELCOME10", "discount_pct": 10},
    # the personal codes of the engaged-20 and engaged-15 banners
    {"campaign_id": "engaged-20", "name": "Most engaged: 20 % off", "discount_pct": 20, "prefix": "VIP20-",
     "audience": {"min_score": 90}},
    {"campaign_id": "engaged-15", "name": "Engaged: 15 % off", "discount_pct": 15, "prefix": "VIP15-",
     "audience": {"min_score": 60, "max_score": 90}},
)  # fmt: skip


async def _seed_codes(runtime: Runtime) -> int:
    """The demo banners' codes: the shared FBWELCOME10 and personal codes for the engaged customers."""
    from personalize.loyalty.coupons import create_campaign
    from personalize.loyalty.types import CampaignIn

    issued = 0
    for campaign in DEMO_CAMPAIGNS:
        body = msgspec.convert({"valid_hours": 24 * 365, **campaign}, CampaignIn)
        issued += (await create_campaign(runtime, body, now_ms())).codes_issued
    return issued


async def _bounded(runtime: Runtime, jobs: Iterable[Awaitable[int]]) -> int:
    """Run the jobs, several at a time on a shared store; their results summed."""
    limit = asyncio.Semaphore(_IN_FLIGHT if runtime.store.shared else 1)

    async def one(job: Awaitable[int]) -> int:
        async with limit:
            return await job

    return sum(await asyncio.gather(*(one(job) for job in jobs)))


class Shard(NamedTuple):
    """Part ``part`` of ``parts`` of the history: a customer's sessions and orders, or an anonymous session,
    all in one part, so each customer's history is still applied in order (its browsing, then its orders)."""

    part: int
    parts: int

    def owns(self, owner: str) -> bool:
        return zlib.crc32(owner.encode()) % self.parts == self.part


def _history_shards(runtime: Runtime) -> int:
    """How many processes replay the history: one per core (up to four) into a shared store, where the work is
    this process's CPU (scoring, the ledger, redis-py) rather than the store's; one into a memory store, which
    lives in this process."""
    return min(4, len(os.sched_getaffinity(0))) if runtime.store.shared else 1


@contextlib.contextmanager
def _helpers(
    settings: Settings, source: Path, shift: int, shards: int
) -> Iterator[Callable[[Advance], Awaitable[list[tuple[int, int]]]]]:
    """Processes replaying shards 1 to ``shards`` − 1 while this one replays shard 0; yields a function that
    waits for them, passing their progress on to ``advance``, and returns each one's (events, orders)."""
    if shards == 1:

        async def nothing(_: Advance) -> list[tuple[int, int]]:
            return []

        yield nothing
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no event loop or sockets inherited
    reports: multiprocessing.queues.Queue[tuple[str, int, int]] = context.Queue()
    helpers = [context.Process(target=_replay_elsewhere, args=(settings, source, shift, Shard(n, shards), reports),
                               name=f"demo-history-{n}") for n in range(1, shards)]  # fmt: skip
    for helper in helpers:
        helper.start()

    async def results(advance: Advance) -> list[tuple[int, int]]:
        done: list[tuple[int, int]] = []
        while len(done) < len(helpers):
            try:
                kind, first, second = reports.get_nowait()
            except queue.Empty:
                if dead := [helper.name for helper in helpers if helper.exitcode not in (None, 0)]:
                    raise RuntimeError(f"demo store: {', '.join(dead)} failed (its error is above)") from None
                await asyncio.sleep(0.05)
                continue
            if kind == "done":
                done.append((first, second))
            else:
                advance(first)
        return done

    try:
        yield results
    except BaseException:  # this process's part failed or was interrupted: the helpers stop writing now
        for helper in helpers:
            helper.kill()
        raise
    finally:
        for helper in helpers:
            helper.join(timeout=60)
            if helper.is_alive():
                helper.kill()


def _replay_elsewhere(
    settings: Settings,
    source: Path,
    shift: int,
    shard: Shard,
    reports: multiprocessing.queues.Queue[tuple[str, int, int]],
) -> None:
    """A helper process's part: its own runtime over the shared store, the catalog read back, its shard."""

    async def replay() -> tuple[int, int]:
        runtime = Runtime.open(settings)
        try:
            await runtime.refresh_catalog()
            events = [msgspec.json.decode(line, type=DemoEvent) for line in fixture_lines(source, "events")]
            return await _replay_history(
                runtime, source, events, shift, shard, lambda n: reports.put(("progress", n, 0))
            )
        finally:
            await runtime.close()

    reports.put(("done", *asyncio.run(replay())))


async def _replay_history(
    runtime: Runtime, source: Path, events: list[DemoEvent], shift: int, shard: Shard, advance: Advance
) -> tuple[int, int]:
    """The sessions and then the orders of one shard: (events accepted, orders applied)."""
    mine = [event for event in events if shard.owns(event.customer_id or event.session_id)]
    loaded = await _replay_sessions(runtime, mine, shift, advance)
    return loaded, await _replay_orders(runtime, fixture_lines(source, "orders"), shift, shard, advance)


async def _replay_sessions(runtime: Runtime, events: list[DemoEvent], shift: int, advance: Advance) -> int:
    """Every session's events as one tracking write, written a few hundred at a time (pipelined on Redis)."""
    sessions: dict[tuple[str, str | None], list[DemoEvent]] = {}
    for event in events:
        sessions.setdefault((event.session_id, event.customer_id), []).append(event)
    now = now_ms()
    writes = [_write(runtime, session_id, customer_id, batch, shift, now)
              for (session_id, customer_id), batch in sessions.items()]  # fmt: skip
    accepted = 0
    for start in range(0, len(writes), _CHUNK):
        part = writes[start : start + _CHUNK]
        accepted += sum(applied.accepted for applied in await runtime.store.tracking.apply_many(part))
        advance(sum(len(write.events) for write in part))
    return accepted


async def _replay_orders(runtime: Runtime, lines: Iterable[bytes], shift: int, shard: Shard, advance: Advance) -> int:
    from personalize.loyalty.orders import apply_history
    from personalize.loyalty.types import OrderIn

    histories: dict[str, list[tuple[OrderIn, int]]] = {}
    for line in lines:
        order = msgspec.json.decode(line, type=OrderIn)
        if shard.owns(order.customer_id):
            at = epoch_ms(order.completed_at) + shift
            histories.setdefault(order.customer_id, []).append((msgspec.structs.replace(order, completed_at=at), at))

    async def apply(customer_id: str, history: list[tuple[OrderIn, int]]) -> int:
        applied = await apply_history(runtime, customer_id, sorted(history, key=lambda pair: pair[1]))
        advance(len(history))
        return applied

    return await _bounded(runtime, (apply(c, history) for c, history in histories.items()))


def _write(
    runtime: Runtime, session_id: str, customer_id: str | None, batch: list[DemoEvent], shift: int, now: int
) -> TrackingWrite:
    scored, _ = score_events(list(_typed(batch, shift)), runtime.catalog, runtime.settings, now)
    return TrackingWrite(session_id, customer_id, now, tuple(scored))


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
