"""Which arm a unit is in, and what the running experiments do to one page view.

The arm is the unit's bucket — SHA-256 of ``"{salt}:{unit}"`` mod 10,000 (``banners.assignment.bucket``, the one
bucket function) — laid over the arms' cumulative weights: the same unit gets the same arm on every call, in every
process, with nothing read. Units are ``c:<customer id>`` and ``s:<session id>``.

A page view is exposed to an experiment only when the arm changed or could have changed what the page showed: a
personalization holdout on every page (the personal content it withholds), a placement's experiment on pages that
show the placement (unless the unit is held out of personalization), a banner experiment on every page, a nudge
experiment on a signed customer's cart page. Exposures go to the store with the page's own call.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

import msgspec

from banners.assignment import BUCKETS, bucket
from loyalty_nudges.experiment_sums import Exposure
from personalize.experiments.definitions import Arm, Experiment

UNIT_TTL_DAYS = 90
"""How long a unit's record outlives its experiment's stop (or its exposure, for an experiment without one)."""


class Treatment(msgspec.Struct, kw_only=True):
    """What the running experiments change on one page, and the exposures it records."""

    personal: bool = True
    banners: bool = True
    banner_slots_off: frozenset[str] = frozenset()
    nudges: bool = True
    strategies: dict[str, str] = msgspec.field(default_factory=dict)
    exposures: list[Exposure] = msgspec.field(default_factory=list)

    def shows_banner(self, slot: str) -> bool:
        return self.banners and slot not in self.banner_slots_off


class Prepared(msgspec.Struct, frozen=True):
    """An experiment made ready for page views once per version: its window in epoch milliseconds (``stop_ms``
    :data:`NO_STOP` for none) and its arms' upper bucket bounds."""

    experiment: Experiment
    start_ms: int
    stop_ms: int
    bounds: tuple[float, ...]

    @classmethod
    def of(cls, experiment: Experiment) -> Prepared:
        bounds = tuple(accumulate(arm.weight * BUCKETS / 100 for arm in experiment.arms))
        return cls(experiment, experiment.start_ms, experiment.stop_ms or NO_STOP, bounds)

    def arm(self, unit: str) -> Arm:
        """The unit's arm (see the module docstring)."""
        arms = self.experiment.arms
        return arms[min(bisect_right(self.bounds, bucket(self.experiment.seed, unit)), len(arms) - 1)]


NO_STOP = 2**63
"""The ``stop_ms`` of an experiment without a stop."""


def prepare(experiments: Sequence[Experiment]) -> tuple[Prepared, ...]:
    """The experiments ready for :func:`treatment`, personalization holdouts first (their control leaves the others
    nothing to change)."""
    ordered = sorted(experiments, key=lambda experiment: experiment.changes != "personalization")
    return tuple(Prepared.of(experiment) for experiment in ordered)


def arm_of(experiment: Experiment, unit: str) -> Arm:
    """The unit's arm."""
    return Prepared.of(experiment).arm(unit)


def unit_of(experiment: Experiment, customer_id: str | None, session_id: str | None) -> str | None:
    """The experiment's unit for a visitor: the signed customer (``unit = "customer"``), else the session."""
    if experiment.unit == "customer" and customer_id:
        return f"c:{customer_id}"
    return f"s:{session_id}" if session_id else None


def order_units(experiment: Experiment, customer_id: str, session_id: str | None) -> list[str]:
    """The units an order may count for, in order of preference (it counts for the first one exposed)."""
    units = [f"c:{customer_id}"] if experiment.unit == "customer" else []
    return units + ([f"s:{session_id}"] if session_id else [])


def treatment(
    prepared: Sequence[Prepared],
    *,
    page_type: str,
    placements: Sequence[str],
    customer_id: str | None,
    session_id: str,
    now_ms: int,
) -> Treatment:
    """What the experiments running at ``now_ms`` do to this page view, and its exposures."""
    chosen = Treatment()
    for ready in prepared:
        if not ready.start_ms <= now_ms < ready.stop_ms:
            continue
        experiment = ready.experiment
        unit = unit_of(experiment, customer_id, session_id)
        if unit is None or not _applies(experiment, chosen, page_type, placements, customer_id):
            continue
        arm = ready.arm(unit)
        _apply(experiment, arm, chosen)
        chosen.exposures.append(exposure(experiment.id, ready.stop_ms, unit, arm.name, now_ms))
    return chosen


def exposure(experiment_id: str, stop_ms: int, unit: str, arm: str, now_ms: int) -> Exposure:
    """The unit's exposure in that arm at ``now_ms``, kept :data:`UNIT_TTL_DAYS` past the experiment's stop (past
    now, without one); a customer unit's covariate is its lifetime spend."""
    ttl = max(0, stop_ms - now_ms) // 1000 if stop_ms != NO_STOP else 0
    return Exposure(experiment_id, unit, arm, ttl + UNIT_TTL_DAYS * 86_400)


def _applies(
    experiment: Experiment, chosen: Treatment, page_type: str, placements: Sequence[str], customer_id: str | None
) -> bool:
    """Whether the experiment's arm could change this page (an exposure)."""
    kind = experiment.changes
    if kind == "personalization" or kind == "banners":
        return True
    if kind == "placement":
        return chosen.personal and experiment.placement in placements
    if kind == "nudges":
        return chosen.personal and page_type == "cart" and customer_id is not None
    return False  # a campaign's holdout is exposed when the campaign runs, not on pages


def _apply(experiment: Experiment, arm: Arm, chosen: Treatment) -> None:
    kind = experiment.changes
    if kind == "personalization" and not arm.enabled:
        chosen.personal = chosen.nudges = False
    elif kind == "banners" and not arm.enabled:
        if experiment.slot is None:
            chosen.banners = False
        else:
            chosen.banner_slots_off |= {experiment.slot}
    elif kind == "nudges" and not arm.enabled:
        chosen.nudges = False
    elif kind == "placement" and arm.strategy and arm.strategy != "default" and experiment.placement:
        chosen.strategies[experiment.placement] = arm.strategy
