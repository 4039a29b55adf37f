"""Does a page call's recommendation work grow with the catalog? Measure it at 2,400 and 100,000 items.

``python -m loadtests.catalog_scaling`` builds two in-process servers on the memory store — the demo
catalog, and the demo catalog plus synthetic items up to 100,000 spread over the same categories and
brands — with the same browsing history and the same trained models, then times the composition of
every page type (the recommendation work of ``POST /v1/page``: profile read, placements, fallbacks)
alternating between the two, and prints the per-call medians and their ratio. No HTTP: the framework's
share is measured by ``loadtests/compare_servers.sh``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from personalize.catalog.items import Item
from personalize.clock import now_ms
from personalize.demo.loader import demo_dir, fixture_lines, load_demo
from personalize.models.training import from_exports, train
from personalize.pages.compose import compose
from personalize.pages.placements import placements_for
from personalize.pages.types import PageRequest
from personalize.pages.view import page_context
from personalize.runtime import Runtime
from personalize.settings import load_settings
from personalize.store.protocols import PageReads
from personalize.tracking.scoring import TrackingWrite, score_events
from personalize.tracking.types import ProductView

PAGES = {
    "home": {"type": "home"},
    "category": {"type": "category", "category": "women/dresses"},
    "product": {"type": "product", "item_id": "i00001"},
    "cart": {"type": "cart", "cart": [{"item_id": "i00001", "quantity": 1}, {"item_id": "i00009", "quantity": 1}]},
}


async def build(models_dir: Path, extra_items: int) -> Runtime:
    """A runtime with the demo store, ``extra_items`` synthetic items and the trained models."""
    runtime = Runtime.open(load_settings({"PZ_MODELS_DIR": str(models_dir), "PZ_DEMO": "true"}, config_path=""))
    await load_demo(runtime)
    demo_items = list(runtime.catalog.items.values())
    synthetic = [_copy(demo_items[n % len(demo_items)], n) for n in range(extra_items)]
    for start in range(0, len(synthetic), 10_000):
        await runtime.store.catalog.upsert_items(synthetic[start : start + 10_000])
    await runtime.refresh_catalog()
    await runtime.reload_models()
    views = [ProductView(item_id=item_id) for item_id in ("i00001", "i00002", "i00003")]
    scored, _ = score_events(views, runtime.catalog, runtime.settings, now_ms())
    await runtime.store.tracking.apply(TrackingWrite("bench-session", None, now_ms(), tuple(scored)))
    return runtime


def _copy(item: Item, n: int) -> Item:
    return Item(
        item_id=f"x{n:06d}",
        title=item.title,
        brand=item.brand,
        category=item.category,
        price=item.price + n % 97,
        color=item.color,
        in_stock=True,
        created_at_ms=item.created_at_ms - n,
    )


async def _page(runtime: Runtime, session: str, page: dict[str, object]) -> int:
    import msgspec

    request = msgspec.convert({"session_id": session, "page": page, "limit": 8}, PageRequest)
    now = now_ms()
    raw = await runtime.store.tracking.profile(session)
    ctx = page_context(runtime, request, now, PageReads(raw))
    recs = await compose(ctx, placements_for(request), 8, runtime.placements)
    return sum(len(items) for items in recs.values())


async def measure(runtime: Runtime, page: dict[str, object], calls: int) -> float:
    """Median µs per call over ``calls`` calls."""
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        await _page(runtime, "bench-session", page)
        timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings)


async def main(calls: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        models_dir = Path(tmp)
        source = demo_dir(load_settings({"PZ_DEMO": "true"}, config_path=""))
        train(from_exports(fixture_lines(source, "events"), fixture_lines(source, "orders"), "demo store"), models_dir)
        small = await build(models_dir, 0)
        large = await build(models_dir, 100_000 - len(small.catalog))
        print(
            f"catalog sizes: {len(small.catalog):,} and {len(large.catalog):,} items; {calls} calls x {rounds} rounds"
        )
        print("| page | µs per call, 2,400 items | µs per call, 100,000 items | ratio |")
        print("|---|---:|---:|---:|")
        for name, page in PAGES.items():
            small_runs, large_runs = [], []
            for _ in range(rounds):
                small_runs.append(await measure(small, page, calls))
                large_runs.append(await measure(large, page, calls))
            a, b = statistics.median(small_runs), statistics.median(large_runs)
            print(f"| {name} | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
        await small.close()
        await large.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds))
