"""``personalize segments``: recompute the RFM segmentation of a store against an analysis date."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec

from personalize.cli.shared_store import shared_settings
from personalize.clock import epoch_ms, now_ms


def add_parser(commands: Any) -> None:
    """Register ``segments``."""
    parser = commands.add_parser("segments", help="recompute RFM segments, win-back stages and price sensitivity")
    parser.add_argument("--store", help="the store to segment (PZ_STORE_URL; a shared one such as Redis)")
    parser.add_argument("--as-of", help="analysis date, ISO 8601 (default: now), e.g. 1998-07-01")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the segmentation, store it as the live run, print the counts as JSON."""
    as_of = _as_of(args.as_of) if args.as_of else now_ms()
    counts = asyncio.run(_segment(args.store, as_of))
    print(msgspec.json.encode({"as_of": datetime.fromtimestamp(as_of / 1000, tz=UTC), "counts": counts}).decode())
    return 0


def _as_of(text: str) -> int:
    return epoch_ms(text)


async def _segment(store_url: str | None, as_of_ms: int) -> dict[str, int]:
    from personalize.loyalty.jobs import run_segmentation
    from personalize.runtime import Runtime

    runtime = Runtime.open(shared_settings("segments", store_url))
    try:
        return dict((await run_segmentation(runtime, as_of_ms)).counts)
    finally:
        await runtime.close()
