"""``personalize loyalty evaluate|jobs``: run the loyalty day against a shared store as of a date.

``evaluate`` re-evaluates tiers (downgrades at period end, reactivation); ``jobs`` expires points, sends the expiry
notices and issues birthday codes. Both are what the server's daily task runs, idempotent per customer and period, and
print what they did as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import msgspec

from personalize.cli.shared_store import shared_settings
from personalize.clock import epoch_ms, now_ms


def add_parser(commands: Any) -> None:
    """Register ``loyalty`` and its two commands."""
    parser = commands.add_parser("loyalty", help="tier evaluation and loyalty jobs (expiry, notices, birthdays)")
    steps = parser.add_subparsers(required=True, metavar="STEP")
    for name, text in (
        ("evaluate", "re-evaluate tiers: downgrades at period end, reactivation of lost tiers"),
        ("jobs", "expire points, send expiry notices, issue birthday codes"),
    ):
        step = steps.add_parser(name, help=text)
        step.add_argument("--store", help="the store (PZ_STORE_URL; a shared one such as Redis)")
        step.add_argument("--as-of", help="the day to run as of, ISO 8601 (default: now), e.g. 2026-12-31")
        step.set_defaults(run=run, step=name)


def run(args: argparse.Namespace) -> int:
    """Run the step, print its counts as JSON."""
    as_of = epoch_ms(args.as_of) if args.as_of else now_ms()
    done = asyncio.run(_run(args.store, as_of, args.step))
    print(msgspec.json.encode(done).decode())
    return 0


async def _run(store_url: str | None, as_of_ms: int, step: str) -> Any:
    from personalize.loyalty.daily import run_day
    from personalize.progress import progress
    from personalize.runtime import Runtime

    runtime = Runtime.open(shared_settings(f"loyalty {step}", store_url))
    try:
        customers = (await runtime.store.ledger.totals()).get("customers", 0)
        with progress(f"loyalty {step}", customers, "customers") as advance:
            return await run_day(
                runtime, as_of_ms, tiers=step == "evaluate", upkeep=step == "jobs", progress=lambda _: advance(1)
            )
    finally:
        await runtime.close()
