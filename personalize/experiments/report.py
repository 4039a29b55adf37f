"""An experiment's report: per arm the exposed units and the metrics, per treatment arm the differences to control.

Every figure comes from the arms' running sums (``loyalty_nudges.experiment_sums``), one store read per arm, so a
report costs the same at a thousand units as at ten million. The statistics are ``loyalty_nudges.experiment_stats``
(its docstring has the formulas and their sources): Welch for per-unit means (conversion, orders, revenue per unit,
retention), the delta method for ratio metrics (average order value, items per order) and every relative lift, the
χ² sample-ratio check, and CUPED on revenue per unit when asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from loyalty_nudges import experiment_stats as stats
from loyalty_nudges.experiment_sums import ArmFigures, figures
from personalize.experiments.definitions import Experiment

if TYPE_CHECKING:
    from personalize.runtime import Runtime

MIN_ORDERS = 100
"""Below this many orders in an arm the report says the experiment is too young to read."""
MONEY = ("revenue_per_unit", "average_order_value")
"""Metrics in money: reported in the shop currency's major units."""


class DifferenceOut(msgspec.Struct, kw_only=True):
    """A treatment arm against control: the absolute difference and the relative lift with their 95 % intervals, and
    the two-sided p-value of the difference."""

    absolute: float
    absolute_low: float
    absolute_high: float
    relative: float | None
    relative_low: float | None
    relative_high: float | None
    p_value: float


class ArmReport(msgspec.Struct, kw_only=True):
    """One arm's figures; ``differences`` (treatment arms) by metric, ``None`` where an arm has too few units."""

    name: str
    weight: float
    units: int
    orders: int
    revenue: float
    conversion: float | None
    orders_per_unit: float | None
    revenue_per_unit: float | None
    average_order_value: float | None
    items_per_order: float | None
    retention: float | None
    """Customer-unit experiments: the share of exposed customers with a second order within ``retention_days``."""
    clicks: dict[str, int]
    click_through: dict[str, float]
    """Clicks on each placement per exposed unit."""
    differences: dict[str, DifferenceOut | None] = msgspec.field(default_factory=dict)


class SampleRatio(msgspec.Struct, kw_only=True):
    """χ² of the exposed units per arm against the weights; ``mismatch`` at p < 0.001."""

    p_value: float
    mismatch: bool


class Report(msgspec.Struct, kw_only=True):
    """``GET /v1/admin/experiments/{id}/report``."""

    experiment_id: str
    changes: str
    target: str
    status: str
    """``scheduled``, ``running`` or ``stopped``."""
    start: datetime
    stop: datetime | None
    unit: str
    currency: str
    control: str
    arms: list[ArmReport]
    sample_ratio: SampleRatio
    trustworthy: bool
    """False when the sample ratio is off: the split itself is broken and no difference can be read."""
    too_young: bool
    """Fewer than 100 orders in some arm: the intervals are wide and the lifts unstable."""
    cuped: bool
    notes: list[str]


async def experiment_report(runtime: Runtime, experiment: Experiment, *, cuped: bool, now_ms: int) -> Report:
    """The report of one experiment (see the module docstring)."""
    names = [arm.name for arm in experiment.arms]
    sums = await runtime.store.experiments.arm_sums(experiment.id, names)
    return build_report(experiment, {name: figures(sums[name]) for name in names}, cuped=cuped, now_ms=now_ms,
                        currency=runtime.settings.currency, exponent=runtime.settings.currency_exponent)  # fmt: skip


def build_report(
    experiment: Experiment, arms: dict[str, ArmFigures], *, cuped: bool, now_ms: int, currency: str, exponent: int
) -> Report:
    """The report from each arm's figures (pure)."""
    scale = 10**exponent
    control = experiment.arms[0].name
    p_value, mismatch = stats.sample_ratio([arms[a.name].units for a in experiment.arms],
                                           [a.weight for a in experiment.arms])  # fmt: skip
    notes: list[str] = []
    if mismatch:
        notes.append(f"sample ratio mismatch (p = {p_value:.2g}): the units do not split as the weights say")
    orders = {name: int(figure.orders.total) for name, figure in arms.items()}
    too_young = min(orders.values()) < MIN_ORDERS
    if too_young:
        counts = ", ".join(f"{name} {count}" for name, count in orders.items())
        notes.append(f"too young to read: an arm has fewer than {MIN_ORDERS} orders ({counts})")
    adjusted = _cuped(experiment, arms, notes) if cuped else None
    out = []
    for arm in experiment.arms:
        figure = arms[arm.name]
        report = _arm(arm.name, arm.weight, figure, scale, experiment.unit == "customer")
        if arm.name != control:
            report.differences = _differences(figure, arms[control], scale, experiment.unit == "customer")
            if adjusted is not None:
                cuped_difference = stats.compare(adjusted[arm.name], adjusted[control])
                report.differences["revenue_per_unit"] = _out(cuped_difference, scale)
        out.append(report)
    stop = experiment.stop_ms
    status = "scheduled" if now_ms < experiment.start_ms else "stopped" if stop and now_ms >= stop else "running"
    return Report(
        experiment_id=experiment.id, changes=experiment.changes, target=experiment.target, status=status,
        start=experiment.start, stop=experiment.stop, unit=experiment.unit, currency=currency, control=control,
        arms=out, sample_ratio=SampleRatio(p_value=p_value, mismatch=mismatch), trustworthy=not mismatch,
        too_young=too_young, cuped=adjusted is not None, notes=notes,
    )  # fmt: skip


def _arm(name: str, weight: float, figure: ArmFigures, scale: int, customers: bool) -> ArmReport:
    n = figure.units
    orders = figure.orders.total

    def per_unit(total: float) -> float | None:
        return total / n if n else None

    return ArmReport(
        name=name,
        weight=weight,
        units=n,
        orders=int(orders),
        revenue=figure.revenue.total / scale,
        conversion=per_unit(figure.converted.total),
        orders_per_unit=per_unit(orders),
        revenue_per_unit=_scaled(per_unit(figure.revenue.total), scale),
        average_order_value=figure.revenue.total / orders / scale if orders else None,
        items_per_order=figure.items.total / orders if orders else None,
        retention=figure.retained.total / figure.customers if customers and figure.customers else None,
        clicks=dict(figure.clicks),
        click_through={placement: clicks / n for placement, clicks in figure.clicks.items()} if n else {},
    )


def _differences(t: ArmFigures, c: ArmFigures, scale: int, customers: bool) -> dict[str, DifferenceOut | None]:
    found: dict[str, DifferenceOut | None] = {}
    per_unit = {"conversion": (t.converted, c.converted), "orders_per_unit": (t.orders, c.orders),
                "revenue_per_unit": (t.revenue, c.revenue)}  # fmt: skip
    if customers:
        per_unit["retention"] = (t.retained, c.retained)
    for metric, (treatment, control) in per_unit.items():
        found[metric] = _guarded(lambda: stats.welch(treatment, control), scale if metric in MONEY else 1)  # noqa: B023
    ratios = {"average_order_value": (t.revenue_per_order, c.revenue_per_order),
              "items_per_order": (t.items_per_order, c.items_per_order)}  # fmt: skip
    for metric, (treatment_pair, control_pair) in ratios.items():
        found[metric] = _guarded(
            lambda: stats.compare(stats.ratio_of(treatment_pair), stats.ratio_of(control_pair)),  # noqa: B023
            scale if metric in MONEY else 1,
        )
    return found


def _guarded(compute: Callable[[], stats.Difference], scale: int) -> DifferenceOut | None:
    """The difference, or ``None`` when an arm cannot give one (fewer than two units, no orders for a ratio)."""
    try:
        difference = compute()
    except stats.StatsError:
        return None
    return _out(difference, scale)


def _cuped(experiment: Experiment, arms: dict[str, ArmFigures], notes: list[str]) -> dict[str, stats.Estimate] | None:
    names = [arm.name for arm in experiment.arms]
    try:
        adjusted = stats.cuped_means([arms[name].cuped for name in names])
    except stats.StatsError as exc:
        notes.append(f"CUPED not applied: {exc}")
        return None
    return dict(zip(names, adjusted, strict=True))


def _out(difference: stats.Difference, scale: int) -> DifferenceOut:
    def finite(value: float) -> float | None:
        return None if math.isnan(value) else value

    return DifferenceOut(
        absolute=difference.absolute / scale,
        absolute_low=difference.absolute_low / scale,
        absolute_high=difference.absolute_high / scale,
        relative=finite(difference.relative),
        relative_low=finite(difference.relative_low),
        relative_high=finite(difference.relative_high),
        p_value=difference.p_value,
    )


def _scaled(value: float | None, scale: int) -> float | None:
    return value / scale if value is not None else None
