"""``personalize fixtures``: write the deterministic demo store as JSONL files."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Register ``fixtures``."""
    fixtures = commands.add_parser("fixtures", help="write the demo store as JSONL files")
    fixtures.add_argument("--out", default="var/fixtures", help="directory to write (default var/fixtures)")
    fixtures.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    fixtures.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fixtures import generate, write_jsonl
    from personalize.demo.loader import write_interactions_csv

    out = Path(args.out)
    started = time.perf_counter()
    store = generate(args.seed)
    counts = write_jsonl(store, out)
    counts["interactions.csv"] = write_interactions_csv(store, out / "interactions.csv")
    for name, count in counts.items():
        print(f"{out / name}: {count} lines")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0
