"""``python -m loadtests.instructions MODELS N [pages|events|both]``: N product pages and/or N event batches through
the app in process, for counting instructions under callgrind (deterministic, unlike seconds on a shared machine).

It builds the app on the memory store with the demo catalog (no browsing or order history: the store loads in a
moment) and the models in ``MODELS``, then sends ``N`` product pages (half of them for signed customers) and ``N``
batches of 20 events straight into the ASGI app. Run it twice under ``valgrind --tool=callgrind``, with ``N`` and
with 0; the difference of the totals over ``2N`` is the instructions per request. ``BENCHMARKS.md`` says how.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from typing import Any

import msgspec


async def _call(app: Any, path: str, body: bytes) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 9), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(models: str, count: int, only: str) -> None:
    from fixtures import generate
    from personalize.app import create_app
    from personalize.settings import load_settings

    try:
        from loadtests import bench
        from personalize.catalog import types as catalog_types
    except ImportError:  # a build from before the benchmark left the product and the catalog became a package
        from personalize.commands import bench  # type: ignore[no-redef]

        from personalize import catalog as catalog_types  # type: ignore[no-redef]

    os.environ.update({"PZ_MODELS_DIR": models, "PZ_API_KEY": bench.BENCH_KEY, "PZ_ACCESS_LOG": "false",
                       "PZ_IDENTITY_SECRET": bench.BENCH_SECRET, "PZ_SEGMENTS__EVERY_HOURS": "0",
                       "PZ_LIMITS__IP_PER_SECOND": "0", "PZ_LIMITS__SESSION_PER_SECOND": "0",
                       "PZ_TRENDING__CACHE_SECONDS": "0"})  # fmt: skip  # no time-dependent caches
    demo = generate()
    app = create_app(load_settings(config_path=""))
    items = [msgspec.json.decode(msgspec.json.encode(item), type=catalog_types.ItemIn) for item in demo.items]
    async with app.lifespan():  # type: ignore[attr-defined]
        runtime = app.state.runtime
        stored = [catalog_types.to_item(item, runtime.settings.currency) for item in items]
        await runtime.store.catalog.upsert_items(stored)
        await runtime.refresh_catalog()
        bodies = bench._bodies(demo)
        pages = [msgspec.json.encode(body) for body in bodies["product"]]
        events = [msgspec.json.encode(body) for body in bodies["events (20 per call)"]]
        gc.disable()  # the collector's passes fall wherever allocations happen to cross its thresholds: leave them out
        started = time.perf_counter()
        statuses = [await _call(app, "/v1/page", pages[n % len(pages)]) for n in range(count) if only != "events"]
        statuses += [await _call(app, "/v1/events", events[n % len(events)]) for n in range(count) if only != "pages"]
        assert all(status in (200, 202) for status in statuses), set(statuses)
        print(f"{2 * count} requests in {time.perf_counter() - started:.2f} s", file=sys.stderr)


def main() -> int:
    models, count = sys.argv[1], int(sys.argv[2])
    asyncio.run(_drive(models, count, sys.argv[3] if len(sys.argv) > 3 else "both"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
