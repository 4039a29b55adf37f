"""``personalize experiments report ID [--json] [--cuped]``: an experiment's report from a shared store.

The table shows per arm the units, orders, conversion, revenue per unit and average order value, and each treatment
arm's relative lift with its 95 % interval and p-value; ``--json`` prints the report exactly as
``GET /v1/admin/experiments/{id}/report`` answers it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import msgspec

from personalize.cli.shared_store import shared_settings
from personalize.clock import now_ms
from personalize.experiments.report import Report

METRICS = ("conversion", "orders_per_unit", "revenue_per_unit", "average_order_value", "items_per_order", "retention")


def add_parser(commands: Any) -> None:
    """Register ``experiments report``."""
    parser = commands.add_parser("experiments", help="experiment reports")
    steps = parser.add_subparsers(required=True, metavar="STEP")
    report = steps.add_parser("report", help="an experiment's arms, lifts, intervals and sample-ratio check")
    report.add_argument("experiment_id", metavar="ID")
    report.add_argument("--store", help="the store (PZ_STORE_URL; a shared one such as Redis)")
    report.add_argument("--json", action="store_true", help="print the report as JSON (as the API answers it)")
    report.add_argument("--cuped", action="store_true", help="CUPED on revenue per unit (revenue before exposure)")
    report.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 1 for an experiment that is not defined."""
    report = asyncio.run(_report(args.store, args.experiment_id, args.cuped))
    if report is None:
        return 1
    print(msgspec.json.encode(report).decode() if args.json else table(report))
    return 0


async def _report(store_url: str | None, experiment_id: str, cuped: bool) -> Report | None:
    from personalize.experiments.report import experiment_report
    from personalize.runtime import Runtime

    runtime = Runtime.open(shared_settings("experiments report", store_url))
    try:
        await runtime.banners.refresh(runtime.store)
        await runtime.experiments.refresh(runtime.store)
        experiment = runtime.experiments.by_id.get(experiment_id)
        if experiment is None:
            known = ", ".join(sorted(runtime.experiments.by_id)) or "none"
            print(
                f"personalize experiments report: no experiment {experiment_id!r} (defined: {known})", file=sys.stderr
            )
            return None
        return await experiment_report(runtime, experiment, cuped=cuped, now_ms=now_ms())
    finally:
        await runtime.close()


def table(report: Report) -> str:
    """The report as text: one line per arm and metric."""
    lines = [f"experiment {report.experiment_id} ({report.changes}, {report.status}; unit {report.unit}; "
             f"money in {report.currency})"]  # fmt: skip
    ratio = report.sample_ratio
    lines.append(f"sample ratio p = {ratio.p_value:.3g}" + ("  MISMATCH: do not read this report" if ratio.mismatch
                                                           else ""))  # fmt: skip
    lines += [f"note: {note}" for note in report.notes]
    for arm in report.arms:
        lines.append(f"\n{arm.name} (weight {arm.weight:g}): {arm.units} units, {arm.orders} orders")
        for metric in METRICS:
            value = getattr(arm, metric)
            if value is None:
                continue
            line = f"  {metric:<20} {value:>12.4f}"
            difference = arm.differences.get(metric)
            if difference is not None and difference.relative is not None:
                low, high = difference.relative_low or 0.0, difference.relative_high or 0.0
                line += f"   {difference.relative:+.1%} [{low:+.1%}, {high:+.1%}]  p = {difference.p_value:.3g}"
            lines.append(line)
        for placement, through in arm.click_through.items():
            lines.append(f"  clicks {placement:<13} {arm.clicks[placement]:>6}  ({through:.3f} per unit)")
    return "\n".join(lines)
