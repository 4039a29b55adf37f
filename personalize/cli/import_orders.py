"""``personalize import-orders FILE``: bulk order history through the same idempotent path as the API.

Each line is one ``POST /v1/orders`` body. Orders go straight into a store (``--store URL``) or to a running
server (``--server URL``, with the API key; the way to fill a memory store). Different customers' orders are
applied concurrently, one customer's in file order. Progress is checkpointed to ``FILE.progress`` every
chunk, so an interrupted import resumes where it stopped; re-importing anything is harmless (idempotent).
A bad order is reported with its line number and skipped; an unreachable store or server stops the import
before the checkpoint moves past the chunk it was in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from tqdm import tqdm

from personalize.cli.shared_store import shared_settings
from personalize.clock import now_ms
from personalize.errors import ServiceError
from personalize.loyalty.orders import complete_order
from personalize.loyalty.types import OrderIn
from personalize.settings import load_settings

CHUNK = 256
Apply = Callable[[OrderIn], Awaitable[bool]]
"""Applies one order; True when it was new, False for a duplicate."""


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import did."""

    lines: int
    applied: int
    duplicates: int
    rejected: int
    skipped_by_checkpoint: int


def add_parser(commands: Any) -> None:
    """Register ``import-orders``."""
    parser = commands.add_parser("import-orders", help="import a JSONL file of orders (idempotent, resumable)")
    parser.add_argument("file", type=Path, help="one POST /v1/orders body per line")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--store", help="write into this store directly, e.g. redis://127.0.0.1:6379/0")
    target.add_argument("--server", help="post to this running server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--restart", action="store_true", help="ignore FILE.progress and start from the first line")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import, print the report as JSON; exit 1 when any line was rejected."""
    report = asyncio.run(_import(args))
    print(msgspec.json.encode(report).decode())
    return 1 if report.rejected else 0


async def _import(args: argparse.Namespace) -> ImportReport:
    checkpoint = args.file.with_name(args.file.name + ".progress")
    done = 0 if args.restart or not checkpoint.exists() else int(checkpoint.read_text().strip() or 0)
    if args.server:
        return await _via_server(args, checkpoint, done)
    settings = shared_settings("import-orders", args.store, "pass --store redis://… or --server http://…")
    from personalize.runtime import Runtime

    runtime = Runtime.open(settings)
    try:
        await runtime.refresh_catalog()

        async def apply(order: OrderIn) -> bool:
            return not (await complete_order(runtime, order, now_ms())).duplicate

        return await import_file(args.file, apply, checkpoint, done)
    finally:
        await runtime.close()


async def _via_server(args: argparse.Namespace, checkpoint: Path, done: int) -> ImportReport:
    import httpx

    key = load_settings().api_key
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=args.server, headers=headers, timeout=30) as client:

        async def apply(order: OrderIn) -> bool:
            response = await client.post(
                "/v1/orders", content=msgspec.json.encode(order), headers={"content-type": "application/json"}
            )
            if 400 <= response.status_code < 500:
                raise ValueError(f"server refused it ({response.status_code}): {response.text[:200]}")
            if response.status_code != 200:
                raise RuntimeError(f"server answered {response.status_code}: stopping; run again to resume")
            return not response.json()["duplicate"]

        return await import_file(args.file, apply, checkpoint, done)


async def import_file(path: Path, apply: Apply, checkpoint: Path | None = None, skip: int = 0) -> ImportReport:
    """Apply every order of a JSONL file after the first ``skip`` lines, checkpointing as chunks finish."""
    counts = {"applied": 0, "duplicates": 0, "rejected": 0}
    lines = 0
    with tqdm(desc=f"importing {path.name}", unit=" orders", file=sys.stderr, disable=None, initial=skip) as bar:
        for chunk in _chunks(path, skip):
            outcomes = await _apply_chunk(chunk, apply)
            for outcome in outcomes:
                counts[outcome] += 1
            lines = chunk[-1][0]
            bar.update(len(chunk))
            if checkpoint is not None:
                checkpoint.write_text(str(lines))  # noqa: ASYNC240 - a few bytes, in a CLI
    return ImportReport(lines=max(lines, skip), skipped_by_checkpoint=skip, **counts)


def _chunks(path: Path, skip: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number <= skip or not line.strip():
                continue
            chunk.append((number, line))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


async def _apply_chunk(chunk: list[tuple[int, bytes]], apply: Apply) -> list[str]:
    by_customer: dict[str, list[tuple[int, OrderIn]]] = {}
    outcomes: list[str] = []
    for number, line in chunk:
        try:
            order = msgspec.json.decode(line, type=OrderIn)
        except msgspec.DecodeError as exc:
            print(f"line {number}: {exc}", file=sys.stderr)
            outcomes.append("rejected")
            continue
        by_customer.setdefault(order.customer_id, []).append((number, order))

    async def one_customer(orders: list[tuple[int, OrderIn]]) -> None:
        for number, order in orders:
            try:
                outcomes.append("applied" if await apply(order) else "duplicates")
            except (ServiceError, ValueError) as exc:  # the order itself is bad (a domain error too): report, go on
                print(f"line {number}: {getattr(exc, 'message', exc)}", file=sys.stderr)
                outcomes.append("rejected")

    await asyncio.gather(*(one_customer(orders) for orders in by_customer.values()))
    return outcomes
