"""Experiment definitions: the strict file a marketer uploads (``PUT /v1/admin/experiments``), checked whole.

An experiment splits units into arms by weight (percent, summing to 100) and changes one thing:

- ``personalization``: an arm with ``enabled = false`` gets no personal content (trending, non-personal banners, no
  nudges) — the holdout that measures everything at once;
- ``placement``: one placement's ``strategy`` per arm (a source ranked first, the placement's own chain after it);
- ``banners``: an arm with ``enabled = false`` sees no banners (of ``slot``, when given);
- ``nudges``: an arm with ``enabled = false`` gets no cart nudges;
- ``campaign``: an arm with ``enabled = false`` is the holdout of the coupon campaign ``campaign``.

Two experiments that change the same thing (the same placement, the banners of the same slot, …) while both run are
refused, naming both; a personalization holdout may overlap the others (its control simply leaves them nothing to
change). The first arm is the control.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

from personalize.clock import check_time, epoch_ms
from personalize.errors import Refused
from personalize.pages import placements
from personalize.pages.sources import STRATEGY_SOURCES
from personalize.store.documents import FileDocument, Format, decode_file

INVALID = "invalid_experiments"
"""The error code of an experiments file a rule refuses (422)."""
Kind = Literal["personalization", "placement", "banners", "nudges", "campaign"]
Unit = Literal["customer", "session"]
STRATEGIES = ("default", *STRATEGY_SOURCES)
"""What a placement arm may rank first; ``default`` is the placement's own chain."""
ExperimentId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
_CHOICES = {"changes": get_args(Kind), "unit": get_args(Unit)}


class Arm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One arm: its share of the units and what it does."""

    name: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    weight: Annotated[float, Meta(gt=0, le=100)]
    enabled: bool = True
    """Personalization, banners, nudges, campaign: whether this arm gets the thing the experiment changes."""
    strategy: str | None = None
    """Placement experiments: one of :data:`STRATEGIES`."""


class Experiment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One experiment of the file (see the module docstring)."""

    id: ExperimentId
    changes: Kind
    arms: Annotated[list[Arm], Meta(min_length=2, max_length=10)]
    start: datetime
    """A time without an offset is UTC."""
    stop: datetime | None = None
    unit: Unit = "customer"
    """``customer``: a signed customer is the unit, an anonymous visitor their session; ``session``: always the
    session."""
    placement: str | None = None
    slot: Annotated[str, Meta(max_length=64)] | None = None
    campaign: Annotated[str, Meta(max_length=64)] | None = None
    salt: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    """What the assignment hashes with the unit (default: the id); a new salt reshuffles the units."""
    retention_days: Annotated[int, Meta(ge=1, le=365)] = 30
    """Customer units: a second order within this many days of the first counts as retained."""
    description: Annotated[str, Meta(max_length=500)] = ""

    @property
    def start_ms(self) -> int:
        return epoch_ms(self.start)

    @property
    def stop_ms(self) -> int | None:
        return epoch_ms(self.stop) if self.stop else None

    @property
    def seed(self) -> str:
        return self.salt or self.id

    @property
    def target(self) -> str:
        """What the experiment changes, in words (``placement home_for_you``, ``banners of every slot``)."""
        detail = {"placement": self.placement, "banners": f"of slot {self.slot}" if self.slot else "of every slot",
                  "campaign": self.campaign}  # fmt: skip
        return f"{self.changes} {detail.get(self.changes) or ''}".strip()

    def changes_same(self, other: Experiment) -> bool:
        """Whether both change the same thing (the banners of every slot include each slot's)."""
        if self.changes != other.changes:
            return False
        if self.changes == "banners":
            return self.slot is None or other.slot is None or self.slot == other.slot
        return (self.placement, self.campaign) == (other.placement, other.campaign)

    def running(self, at_ms: int) -> bool:
        """Whether units are assigned and orders attributed at ``at_ms``."""
        stop = self.stop_ms
        return self.start_ms <= at_ms and (stop is None or at_ms < stop)


class ExperimentFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole file: every experiment, past, running and future."""

    experiments: Annotated[list[Experiment], Meta(max_length=200)] = msgspec.field(default_factory=list)


def parse_experiments(fmt: Format, content: str) -> ExperimentFile:
    """The experiments a TOML or JSON file defines, checked whole; raises :class:`Refused` (``invalid_experiments``)
    naming the field (``experiments[1].arms``)."""
    parsed = decode_file(FileDocument(fmt, content), ExperimentFile, root="experiments", code=INVALID, choices=_CHOICES)
    for index, experiment in enumerate(parsed.experiments):
        _check(experiment, f"experiments[{index}]")
    _check_overlaps(parsed.experiments)
    return parsed


def _refuse(field: str, message: str) -> Refused:
    return Refused(f"{field}: {message}", field, code=INVALID)


def _check(experiment: Experiment, at: str) -> None:
    total = math.fsum(arm.weight for arm in experiment.arms)
    if abs(total - 100) > 1e-9:
        raise _refuse(f"{at}.arms", f"the arms' weights add up to {total:g}, not 100")
    names = [arm.name for arm in experiment.arms]
    if len(set(names)) != len(names):
        raise _refuse(f"{at}.arms", f"arm names must differ: {names}")
    if experiment.stop is not None and experiment.stop <= experiment.start:
        raise _refuse(
            f"{at}.stop", f"stop {experiment.stop.isoformat()} is not after start {experiment.start.isoformat()}"
        )
    for name, value in (("start", experiment.start), ("stop", experiment.stop)):
        try:
            check_time(value, name)
        except ValueError as exc:
            raise _refuse(f"{at}.{name}", str(exc)) from None
    kind = experiment.changes
    needs = {"placement": "placement", "campaign": "campaign"}.get(kind)
    for field in ("placement", "campaign", "slot"):
        given = getattr(experiment, field) is not None
        allowed = field == needs or (field == "slot" and kind == "banners")
        if given and not allowed:
            raise _refuse(f"{at}.{field}", f"{field} applies to {field if field != 'slot' else 'banners'} experiments, "
                          f"not to {kind!r}")  # fmt: skip
        if field == needs and not given:
            raise _refuse(f"{at}.{field}", f"a {kind} experiment names its {field}")
    if kind == "placement" and experiment.placement not in placements.BY_NAME:
        known = list(placements.NAMES)
        raise _refuse(f"{at}.placement", f"{experiment.placement!r} is not a placement (one of {known})")
    for index, arm in enumerate(experiment.arms):
        _check_arm(arm, kind, f"{at}.arms[{index}]")


def _check_arm(arm: Arm, kind: str, at: str) -> None:
    if kind == "placement":
        if arm.strategy is None:
            raise _refuse(f"{at}.strategy", f"each arm of a placement experiment names its strategy ({STRATEGIES})")
        if arm.strategy not in STRATEGIES:
            raise _refuse(f"{at}.strategy", f"{arm.strategy!r} is not a strategy (one of {list(STRATEGIES)})")
        if not arm.enabled:
            raise _refuse(f"{at}.enabled", "a placement arm changes its strategy, it is not switched off")
    elif arm.strategy is not None:
        raise _refuse(f"{at}.strategy", f"strategy applies to placement experiments, not to {kind!r}")


def _check_overlaps(experiments: list[Experiment]) -> None:
    seen: dict[str, tuple[str, Experiment]] = {}
    for index, experiment in enumerate(experiments):
        if experiment.id in seen:
            raise _refuse(f"experiments[{index}].id", f"{experiment.id!r} is defined twice")
        for _, (_, other) in seen.items():
            if experiment.changes_same(other) and _overlap(other, experiment):
                raise _refuse(
                    f"experiments[{index}]",
                    f"{experiment.id!r} and {other.id!r} both change the {experiment.target} while both run",
                )
        seen[experiment.id] = (f"experiments[{index}]", experiment)


def _overlap(a: Experiment, b: Experiment) -> bool:
    a_stop, b_stop = a.stop_ms or math.inf, b.stop_ms or math.inf
    return a.start_ms < b_stop and b.start_ms < a_stop
