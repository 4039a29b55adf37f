"""``personalize train``: fit the models offline into a new versioned artifact."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import msgspec
from tqdm import tqdm

from personalize.models.training import (
    TRAINING_STEPS,
    TrainingData,
    from_exports,
    from_log,
    from_rows,
    iter_lines,
    train,
)
from personalize.settings import load_settings
from recommenders.evaluation import Row


def add_parser(commands: Any) -> None:
    """Register ``train`` on the CLI's sub-command parsers."""
    parser = commands.add_parser(
        "train",
        help="train the models into a new artifact in models_dir",
        description="Sources, one of: --events/--orders JSONL exports, --interactions CSV, --store URL (its "
        "interaction log), or --demo (the generated demo store).",
    )
    parser.add_argument("--events", type=Path, help="events JSONL (session_id, customer_id, type, item_id, ts)")
    parser.add_argument("--orders", type=Path, help="orders JSONL (POST /v1/orders bodies)")
    parser.add_argument("--interactions", type=Path, help="CSV user_id,item_id,timestamp[,weight]")
    parser.add_argument("--store", help="read the interaction log of this store, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--demo", action="store_true", help="train on the generated demo store")
    parser.add_argument("--models-dir", type=Path, help="where to write (PZ_MODELS_DIR, default var/models)")
    parser.add_argument("--rules-min-count", type=int, default=3, help="baskets a cross-sell rule needs (default 3)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the chosen source, train, print the manifest."""
    settings = load_settings()
    data = _data(args)
    if data is None:
        print("personalize train: give --events/--orders, --interactions, --store or --demo", file=sys.stderr)
        return 2
    models_dir = args.models_dir or Path(settings.models_dir)
    with tqdm(total=TRAINING_STEPS, desc="training", unit=" step", file=sys.stderr, disable=None) as bar:

        def advance(message: str) -> None:
            bar.set_postfix_str(message, refresh=False)
            bar.update(1)

        manifest = train(data, models_dir, rules_min_count=args.rules_min_count, progress=advance)
    print(msgspec.json.format(msgspec.json.encode(manifest)).decode())
    print(f"personalize train: wrote {models_dir / manifest.version}", file=sys.stderr)
    return 0


def _say(message: str) -> None:
    print(f"personalize train: {message}", file=sys.stderr, flush=True)


def _data(args: argparse.Namespace) -> TrainingData | None:
    orders = iter_lines(args.orders) if args.orders else iter(())
    if args.events or args.orders:
        events = iter_lines(args.events) if args.events else iter(())
        return from_exports(events, orders, source=f"exports {args.events} {args.orders}")
    if args.interactions:
        return from_rows(read_interactions_csv(args.interactions), source=f"interactions {args.interactions}")
    if args.store:
        return asyncio.run(_from_store(args.store))
    if args.demo:
        from personalize.demo.loader import demo_dir, fixture_lines

        source = demo_dir(load_settings())
        return from_exports(fixture_lines(source, "events"), fixture_lines(source, "orders"), source="demo store")
    return None


async def _from_store(url: str) -> TrainingData:
    from personalize.store import open_store, tracking_config

    store = open_store(url, tracking_config(load_settings()))
    try:
        log = [interaction async for interaction in store.tracking.interactions()]
    finally:
        await store.close()
    _say(f"read {len(log)} logged interactions from {url}")
    return from_log(log, iter(()), source=f"store {url}")


def read_interactions_csv(path: Path) -> list[Row]:
    """``user_id,item_id,timestamp[,weight]`` with a header; timestamps in epoch s, ms or ISO 8601."""
    import csv
    from datetime import datetime

    rows: list[Row] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if [h.strip() for h in header[:3]] != ["user_id", "item_id", "timestamp"]:
            raise SystemExit(f"{path}: the header must start with user_id,item_id,timestamp (got {header[:3]})")
        for number, record in enumerate(reader, start=2):
            try:
                stamp = record[2].strip()
                ts = float(stamp) if stamp.replace(".", "", 1).isdigit() else datetime.fromisoformat(stamp).timestamp()
                weight = float(record[3]) if len(record) > 3 and record[3].strip() else 1.0
            except (ValueError, IndexError) as exc:
                raise SystemExit(f"{path}:{number}: {exc}") from None
            rows.append(Row(record[0], record[1], ts, weight))
    return rows
