"""An experiment arm's running sums, and how one unit's order or refund moves them in O(1).

A unit (a customer or a session) joins its arm at its first exposure, with its covariate (its revenue before
exposure, for CUPED). From then on each attributed order moves the unit's totals — orders ``o``, revenue ``r`` (minor
units, net of refunds), items ``i`` — from their old values to their new ones, and the arm's sums by the difference:
``Σo``, ``Σo²``, ``Σr``, ``Σr²``, ``Σi``, ``Σi²`` and the cross sums ``Σr·o``, ``Σi·o`` (the ratio metrics: revenue
per order, items per order) and ``Σx·r`` (CUPED), the converted units and the retained customers. No unit list is ever
read: ``loyalty_nudges.experiment_stats`` turns the sums into a report.

Sums of money and counts are integers (exact); squares and products of money are floats (they only feed variances).
"""

from __future__ import annotations

import msgspec

from loyalty_nudges.experiment_stats import Moments, Paired

DAY_MS = 86_400_000
EXACT = ("n", "customers", "x", "conv", "o", "oo", "r", "i", "ii", "io", "ret")
"""The sums kept as integers; the others (``xx``, ``rr``, ``ro``, ``xr``) are floats."""
Sums = dict[str, float]
"""An arm's sums by name (a missing name is 0); clicks per placement as ``k:<placement>``."""


class Exposure(msgspec.Struct, frozen=True, array_like=True):
    """A unit's exposure as the store records it (only the first of each unit and experiment is kept); a customer
    unit's covariate, its revenue before exposure, is its lifetime spend, read in the same store step."""

    experiment_id: str
    unit: str
    arm: str
    ttl_s: int

    @property
    def customer_id(self) -> str | None:
        """The customer of a customer unit (``c:<id>``), else ``None``."""
        return self.unit[2:] if self.unit.startswith("c:") else None


class UnitRecord(msgspec.Struct, frozen=True, array_like=True):
    """One unit of one experiment: its arm, when it was first exposed, its covariate, and its totals since."""

    arm: str
    exposed_ms: int
    covariate: int = 0
    orders: int = 0
    revenue: int = 0
    items: int = 0
    first_order_ms: int = 0
    retained: bool = False


def exposure_sums(covariate: int, customer: bool) -> Sums:
    """What a unit's first exposure adds to its arm: one unit (a customer, for retention), its covariate."""
    sums: Sums = {"n": 1, "customers": 1} if customer else {"n": 1}
    if covariate:
        sums.update(x=covariate, xx=float(covariate) ** 2)
    return sums


def after_order(
    record: UnitRecord, revenue: int, items: int, at_ms: int, retention_days: int, customer: bool
) -> tuple[UnitRecord, Sums]:
    """The unit after one more order, and what its arm's sums move by. A customer unit is retained once it has a
    second order within ``retention_days`` of its first."""
    first = min(record.first_order_ms, at_ms) if record.orders else at_ms
    later = max(record.first_order_ms, at_ms) if record.orders else at_ms
    retained = record.retained or (customer and record.orders >= 1 and later - first <= retention_days * DAY_MS)
    moved = msgspec.structs.replace(
        record,
        orders=record.orders + 1,
        revenue=record.revenue + revenue,
        items=record.items + items,
        first_order_ms=first,
        retained=retained,
    )
    return moved, moves(record, moved)


def after_refund(record: UnitRecord, amount: int, whole: bool, items: int) -> tuple[UnitRecord, Sums]:
    """The unit after a refund of ``amount`` of one of its orders (``whole``: nothing of that order remains, so it
    no longer counts as an order, nor do its ``items``)."""
    moved = msgspec.structs.replace(
        record,
        revenue=record.revenue - amount,
        orders=record.orders - int(whole),
        items=record.items - (items if whole else 0),
    )
    return moved, moves(record, moved)


def moves(before: UnitRecord, after: UnitRecord) -> Sums:
    """How the arm's sums move when one unit's totals go from ``before`` to ``after`` (zero moves left out)."""
    o0, o1, r0, r1, i0, i1 = before.orders, after.orders, before.revenue, after.revenue, before.items, after.items
    x = after.covariate
    deltas: Sums = {
        "conv": int(o1 > 0) - int(o0 > 0),
        "o": o1 - o0,
        "oo": o1 * o1 - o0 * o0,
        "r": r1 - r0,
        "rr": float(r1) ** 2 - float(r0) ** 2,
        "i": i1 - i0,
        "ii": i1 * i1 - i0 * i0,
        "io": i1 * o1 - i0 * o0,
        "ro": float(r1) * o1 - float(r0) * o0,
        "xr": float(x) * (r1 - r0),
        "ret": int(after.retained) - int(before.retained),
    }
    return {name: value for name, value in deltas.items() if value}


def added(sums: Sums, delta: Sums) -> Sums:
    """Two sets of sums added."""
    return {name: sums.get(name, 0) + delta.get(name, 0) for name in sums.keys() | delta.keys()}


class ArmFigures(msgspec.Struct, frozen=True, kw_only=True):
    """An arm's sums as the statistics read them."""

    units: int
    customers: int
    converted: Moments
    """Per unit 0/1: ordered at least once."""
    orders: Moments
    revenue: Moments
    items: Moments
    revenue_per_order: Paired
    """x = orders, y = revenue (AOV)."""
    items_per_order: Paired
    """x = orders, y = items."""
    cuped: Paired
    """x = the covariate, y = revenue."""
    retained: Moments
    """Per customer unit 0/1."""
    clicks: dict[str, int]


def figures(sums: Sums) -> ArmFigures:
    """Read an arm's stored sums (see the module docstring)."""

    def get(name: str) -> float:
        return sums.get(name, 0)

    n = int(get("n"))
    orders = Moments(n=n, total=get("o"), squares=get("oo"))
    revenue = Moments(n=n, total=get("r"), squares=get("rr"))
    items = Moments(n=n, total=get("i"), squares=get("ii"))
    covariate = Moments(n=n, total=get("x"), squares=get("xx"))
    return ArmFigures(
        units=n,
        customers=int(get("customers")),
        converted=Moments(n=n, total=get("conv"), squares=get("conv")),
        orders=orders,
        revenue=revenue,
        items=items,
        revenue_per_order=Paired(x=orders, y=revenue, products=get("ro")),
        items_per_order=Paired(x=orders, y=items, products=get("io")),
        cuped=Paired(x=covariate, y=revenue, products=get("xr")),
        retained=Moments(n=int(get("customers")), total=get("ret"), squares=get("ret")),
        clicks={name[2:]: int(value) for name, value in sums.items() if name.startswith("k:")},
    )
