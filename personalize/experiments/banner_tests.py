"""The banner file's holdouts and variants as experiments of the ``banners`` kind (id ``banner:<banner id>``).

A banner with ``holdout_pct`` or variants is a test the banner engine already assigns (``banners.assignment``: its
own SHA-256 buckets over the banner id and the customer or session), so visitors keep the arm they had; this module
only describes it as an experiment, so its units, orders and report go through the same machinery as the
definitions file's. Its arms: ``holdout`` first (the control, when there is one), then the banner's variants (or
``control``, the banner as written), weighted as the engine splits them. A unit is exposed on a page where the
banner matched and was shown or held out (the only pages its arm could change); the banner's window is the
experiment's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from banners import BannerSet
from banners.assignment import BUCKETS
from banners.engine import HOLDOUT, CompiledBanner
from banners.predicates import FOREVER, NEVER
from personalize.experiments.definitions import Arm, Experiment

PREFIX = "banner:"
"""Banner tests' experiment ids; a definitions file's ids cannot contain ``:``, so the two never collide."""


def banner_experiments(rules: BannerSet) -> dict[str, Experiment]:
    """Each tested banner's experiment, by banner id."""
    return {banner.id: _experiment(banner) for banner in rules.banners if _tested(banner)}


def _tested(banner: CompiledBanner) -> bool:
    return banner.holdout_cut > 0 or len(banner.arms) > 1


def _experiment(banner: CompiledBanner) -> Experiment:
    held = banner.holdout_cut * 100 / BUCKETS
    arms = [Arm(name=HOLDOUT, weight=held, enabled=False)] if held else []
    previous = 0.0
    for arm, cumulative in zip(banner.arms, banner.cumulative, strict=True):
        arms.append(Arm(name=arm.name, weight=(100 - held) * (cumulative - previous) / banner.cumulative[-1]))
        previous = cumulative
    return Experiment(
        id=PREFIX + banner.id,
        changes="banners",
        arms=arms,
        start=_moment(banner.starts_ms if banner.starts_ms != NEVER else 0),
        stop=_moment(banner.ends_ms) if banner.ends_ms != FOREVER else None,
        slot=banner.slot,
        description=f"the banner file's test of banner {banner.id!r}",
    )


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
