"""A simulated experiment with a known answer, through the real ``/v1/page`` and ``/v1/orders``.

``python -m loadtests.experiment_sim [--json] [--stores memory,redis] [--visitors 40000] [--seed 16]``: each visitor
views the home page once (a session of its own: the experiment's unit) and, with its arm's probability, completes an
order. Control converts at 5 % with order values lognormal of mean $120 and σ = 0.6 of the log; the treatment at
5.9 % with mean $139.20 — true lifts +18 % conversion, +16 % average order value, +36.88 % revenue per visitor. The
report's 95 % intervals should contain those and exclude 0. Redis runs on a redis-server of the simulation's own on
a free port. ``tests/loadtests/test_experiment_sim.py`` runs the same simulation.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from litestar.testing import TestClient

from loadtests import bench
from personalize.app import create_app
from personalize.experiments.assignment import arm_of
from personalize.experiments.definitions import parse_experiments
from personalize.experiments.report import Report
from personalize.settings import load_settings

KEY = "sim-key"
DEFINITION = """
[[experiments]]
id = "sim"
changes = "personalization"
unit = "session"
start = 2020-01-01T00:00:00Z
[[experiments.arms]]
name = "control"
weight = 50
enabled = false
[[experiments.arms]]
name = "personal"
weight = 50
"""
CONVERSION = {"control": 0.05, "personal": 0.059}
MEAN_VALUE = {"control": 120.0, "personal": 139.2}
SIGMA = 0.6
TRUE_LIFTS = {"conversion": 0.18, "average_order_value": 0.16, "revenue_per_unit": 1.18 * 1.16 - 1}
AUTH = {"Authorization": f"Bearer {KEY}"}


class Lift(msgspec.Struct, kw_only=True):
    """One metric's relative lift as reported, and whether its interval holds the true lift and excludes 0."""

    metric: str
    true: float
    relative: float
    low: float
    high: float
    contains_true: bool
    excludes_zero: bool


class Outcome(msgspec.Struct, kw_only=True):
    """One store's run: visitors, orders per arm, the lifts, the seconds it took, and the report."""

    store: str
    visitors: int
    orders: dict[str, int]
    lifts: list[Lift]
    seconds: float
    report: Report

    @property
    def holds(self) -> bool:
        return all(lift.contains_true and lift.excludes_zero for lift in self.lifts)


def simulate(store_url: str, store: str, visitors: int, seed: int) -> Outcome:
    """Run the visitors through an app on ``store_url`` and read the experiment's report."""
    env = {"PZ_API_KEY": KEY, "PZ_IDENTITY_SECRET": "sim-secret", "PZ_ACCESS_LOG": "false",
           "PZ_SEGMENTS__EVERY_HOURS": "0", "PZ_LOYALTY_DAILY": "false", "PZ_LIMITS__IP_PER_SECOND": "0",
           "PZ_LIMITS__SESSION_PER_SECOND": "0", "PZ_STORE_URL": store_url,
           "PZ_MODELS_DIR": tempfile.mkdtemp(prefix="pz-sim-models-")}  # fmt: skip
    experiment = parse_experiments("toml", DEFINITION).experiments[0]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    orders = dict.fromkeys(CONVERSION, 0)
    with TestClient(create_app(load_settings(env))) as client:
        item = {"item_id": "sim-1", "title": "Sim", "brand": "Sim", "category": "sim", "price": 100, "url": "/p/1",
                "image": "https://img.example/1.jpg"}  # fmt: skip
        _ok(client.put("/v1/catalog/items", json={"items": [item]}, headers=AUTH))
        _ok(client.put("/v1/admin/experiments", content=DEFINITION.encode(), headers={**AUTH, "content-type": "toml"}))
        for n in range(visitors):
            session = f"s-{seed}-{n}"
            _ok(client.post("/v1/page", json={"session_id": session, "page": {"type": "home"}}))
            arm = arm_of(experiment, f"s:{session}").name
            if rng.random() >= CONVERSION[arm]:
                continue
            value = float(rng.lognormal(math.log(MEAN_VALUE[arm]) - SIGMA**2 / 2, SIGMA))
            total = round(max(value, 0.01), 2)
            order = {"order_id": f"o-{seed}-{n}", "customer_id": f"v-{seed}-{n}", "session_id": session,
                     "items": [{"item_id": "sim-1", "quantity": 1, "price": total}], "total": total,
                     "currency": "USD", "completed_at": time.time_ns() // 1_000_000}  # fmt: skip
            _ok(client.post("/v1/orders", json=order, headers=AUTH))
            orders[arm] += 1
        answer = client.get("/v1/admin/experiments/sim/report", headers=AUTH)
        _ok(answer)
        report = msgspec.json.decode(answer.content, type=Report)
    return Outcome(store=store, visitors=visitors, orders=orders, lifts=lifts_of(report),
                   seconds=round(time.perf_counter() - started, 1), report=report)  # fmt: skip


def lifts_of(report: Report) -> list[Lift]:
    """The treatment arm's relative lifts against :data:`TRUE_LIFTS`."""
    found = []
    for metric, true in TRUE_LIFTS.items():
        difference = report.arms[1].differences[metric]
        assert difference is not None
        assert difference.relative is not None
        low, high = difference.relative_low or 0.0, difference.relative_high or 0.0
        found.append(Lift(metric=metric, true=round(true, 4), relative=difference.relative, low=low, high=high,
                          contains_true=low <= true <= high, excludes_zero=low > 0 or high < 0))  # fmt: skip
    return found


def _ok(response: Any) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.experiment_sim", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print each store's outcome as JSON")
    parser.add_argument("--stores", default="memory,redis", help="comma separated: memory, redis")
    parser.add_argument("--visitors", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="pz-sim-") as work:
        for store in args.stores.split(","):
            with contextlib.ExitStack() as stack:
                url = stack.enter_context(bench._store_url(store, Path(work)))
                print(f"experiment_sim: {args.visitors} visitors on {store} …", file=sys.stderr)
                outcomes.append(simulate(url, store, args.visitors, args.seed))
    for outcome in outcomes:
        if args.json:
            print(msgspec.json.encode(outcome).decode())
            continue
        print(f"{outcome.store}: {outcome.visitors} visitors, orders {outcome.orders}, {outcome.seconds} s")
        for lift in outcome.lifts:
            verdict = "ok" if lift.contains_true and lift.excludes_zero else "MISSED"
            print(f"  {lift.metric:<20} true {lift.true:+.1%}  reported {lift.relative:+.1%} "
                  f"[{lift.low:+.1%}, {lift.high:+.1%}]  {verdict}")  # fmt: skip
    return 0 if all(outcome.holds for outcome in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
