"""Orders and refunds in the experiments: which units an order counts for, and what it moves (pure).

An order counts for every experiment running at its ``completed_at`` whose unit was exposed at or before that time:
the customer's unit first (``unit = "customer"``), else the order's session. It moves that unit's totals and its
arm's sums in the order's own store step (``LedgerStore.act``), so an order delivered twice counts once (the second
delivery is a replay and writes nothing). A refund moves the same units back by exactly its amount; a refund that
leaves nothing of the order also takes back the order and its items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from loyalty_nudges.experiment_sums import Sums, UnitRecord, added, after_order, after_refund
from loyalty_nudges.ledger import StoredOrder
from personalize.experiments.assignment import order_units
from personalize.experiments.definitions import Experiment

UnitKey = tuple[str, str]


class Moves(msgspec.Struct, frozen=True, kw_only=True):
    """What an order or refund writes to the experiments: units whole, arms' sums by their deltas."""

    units: dict[UnitKey, UnitRecord] = msgspec.field(default_factory=dict)
    arm_sums: dict[UnitKey, Sums] = msgspec.field(default_factory=dict)

    @property
    def attributed(self) -> tuple[UnitKey, ...]:
        return tuple(self.units)


def wanted_units(experiments: Sequence[Experiment], customer_id: str, session_id: str | None) -> tuple[UnitKey, ...]:
    """Every unit an order of this customer and session may count for (read in the order's step)."""
    return tuple((e.id, unit) for e in experiments for unit in order_units(e, customer_id, session_id))


def order_moves(
    experiments: Sequence[Experiment],
    found: Mapping[UnitKey, UnitRecord | None],
    *,
    customer_id: str,
    session_id: str | None,
    revenue: int,
    items: int,
    at_ms: int,
) -> Moves:
    """What one order moves (see the module docstring)."""
    units: dict[UnitKey, UnitRecord] = {}
    sums: dict[UnitKey, Sums] = {}
    for experiment in experiments:
        for unit in order_units(experiment, customer_id, session_id):
            record = found.get((experiment.id, unit))
            if record is None or record.exposed_ms > at_ms:
                continue
            moved, delta = after_order(
                record, revenue, items, at_ms, experiment.retention_days, customer=unit.startswith("c:")
            )
            units[(experiment.id, unit)] = moved
            sums[(experiment.id, record.arm)] = added(sums.get((experiment.id, record.arm), {}), delta)
            break
    return Moves(units=units, arm_sums=sums)


def refund_moves(order: StoredOrder, found: Mapping[UnitKey, UnitRecord | None], amount: int, whole: bool) -> Moves:
    """What a refund of ``amount`` of an attributed order moves (``whole``: nothing of the order remains)."""
    items = sum(line.quantity for line in order.lines)
    units: dict[UnitKey, UnitRecord] = {}
    sums: dict[UnitKey, Sums] = {}
    for name in order.attributed:
        record = found.get(name)
        if record is None:  # the unit's record expired: its arm's sums stay as they were
            continue
        moved, delta = after_refund(record, amount, whole, items)
        units[name] = moved
        arm = (name[0], record.arm)
        sums[arm] = added(sums.get(arm, {}), delta)
    return Moves(units=units, arm_sums=sums)
