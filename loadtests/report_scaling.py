"""Does an experiment's report grow with its units? ``python -m loadtests.report_scaling [--stores memory,redis]``

Two experiments of two arms each, one with 1,000 simulated units and one with 1,000,000 (5 % of them converting,
order values lognormal): every unit's exposure and order moves its arm's running sums exactly as the store's own
steps do (``loyalty_nudges.experiment_sums``), written to the store as the sums of the arm. Then the report of each,
read through the store like ``GET /v1/admin/experiments/{id}/report``, is timed in alternating rounds (one process:
only the ratio matters). The report reads one hash per arm, so both should take the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import redis.asyncio as aioredis

from loadtests.bench import _store_url
from loyalty_nudges.experiment_sums import Sums, UnitRecord, added, after_order
from personalize.experiments.definitions import Arm, Experiment
from personalize.experiments.report import experiment_report
from personalize.runtime import Runtime
from personalize.settings import load_settings
from personalize.store.memory import MemoryStore
from personalize.store.redis_keys import experiment_arm
from personalize.store.redis_loyalty import queue_sums

SIZES = (1_000, 1_000_000)
ARMS = ("control", "treatment")


def experiment(units: int) -> Experiment:
    arms = [Arm(name=name, weight=50) for name in ARMS]
    return Experiment(id=f"scale-{units}", changes="personalization", arms=arms, start=datetime(2026, 1, 1, tzinfo=UTC))


def arm_sums(units: int, seed: int) -> Sums:
    """One arm's sums after ``units`` exposures and a 5 % conversion at $120 lognormal (σ = 0.6)."""
    rng = np.random.default_rng(seed)
    sums: Sums = {"n": units}
    buyers = int(rng.binomial(units, 0.05))
    values = np.rint(rng.lognormal(np.log(12_000) - 0.18, 0.6, buyers)).astype(int)
    for value in values:
        _, moved = after_order(UnitRecord("arm", 0), int(value), 1, 0, 30, customer=False)
        sums = added(sums, moved)
    return sums


async def write(runtime: Runtime, url: str, experiment_id: str, arm: str, sums: Sums) -> None:
    """The arm's sums into the store, as the store's own steps leave them (``HINCRBY`` / ``HINCRBYFLOAT``)."""
    if isinstance(runtime.store, MemoryStore):
        runtime.store.experiments.move(experiment_id, arm, sums)
        return
    client = aioredis.from_url(url)
    async with client.pipeline(transaction=True) as pipe:
        queue_sums(pipe, experiment_arm(experiment_id, arm), sums)
        await pipe.execute()
    await client.aclose()


async def measure(url: str, rounds: int, calls: int) -> dict[int, float]:
    runtime = Runtime.open(load_settings({"PZ_STORE_URL": url}))
    try:
        for size in SIZES:
            for index, arm in enumerate(ARMS):
                await write(runtime, url, f"scale-{size}", arm, arm_sums(size // 2, seed=index))
        timings: dict[int, list[float]] = {size: [] for size in SIZES}
        for round_ in range(rounds):
            for size in SIZES if round_ % 2 == 0 else reversed(SIZES):
                defined = experiment(size)
                started = time.perf_counter()
                for _ in range(calls):
                    report = await experiment_report(runtime, defined, cuped=False, now_ms=0)
                timings[size].append((time.perf_counter() - started) * 1e6 / calls)
                assert sum(arm.units for arm in report.arms) == size
        return {size: statistics.median(values) for size, values in timings.items()}
    finally:
        await runtime.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.report_scaling", description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="memory,redis")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=200, help="reports per round and size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pz-report-") as work:
        for store in args.stores.split(","):
            with _store_url(store, Path(work)) as url:
                medians = asyncio.run(measure(url, args.rounds, args.calls))
            small, large = (medians[size] for size in SIZES)
            print(
                f"{store:6} report µs per call: {SIZES[0]:,} units {small:7.0f}   {SIZES[1]:,} units {large:7.0f}   "
                f"ratio {large / small:.2f} (medians of {args.rounds} rounds of {args.calls})",
                flush=True,
            )


if __name__ == "__main__":
    main()
