"""The loyalty program a shop configures: tiers, the qualifying window, points and engagement rules.

Written by people in the settings TOML (``[loyalty]``), so every field is validated and unknown fields are
errors. Thresholds are amounts in the shop currency; the ledger works in integer minor units.

Exceptions::

    LoyaltyError (ValueError)
    └── ProgramError          the program is inconsistent (names the tier or field)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Window = Literal["lifetime", "rolling_365d", "calendar_year"]
TierName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Amount = Annotated[float, Meta(ge=0, le=1e9)]


class LoyaltyError(ValueError):
    """Base of the loyalty errors."""


class ProgramError(LoyaltyError):
    """The configured program is inconsistent."""


class Tier(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tier reached at ``threshold`` of qualifying spend, with its member discount."""

    name: TierName
    threshold: Amount
    discount_pct: Annotated[float, Meta(ge=0, le=100)] = 0
    label: str = ""
    """Display name (default: the name, capitalised)."""

    @property
    def title(self) -> str:
        """The tier as shoppers read it: ``Bronze``."""
        return self.label or self.name.capitalize()


class PointsRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How purchases earn points (a currency separate from qualifying spend)."""

    per_unit: Annotated[float, Meta(ge=0, le=1000)] = 1.0
    """Points per whole currency unit of qualifying spend (rounded down per order)."""
    new_collection_days: Annotated[int, Meta(ge=0, le=3650)] = 60
    """Items created this recently before the order earn the new-collection multiplier."""
    new_collection_multiplier: Annotated[float, Meta(ge=1, le=10)] = 2.0
    """Points multiplier of new-collection items."""
    expiry_months: Annotated[int, Meta(ge=1, le=120)] = 12
    """Each order's points (a lot) expire this many months after it."""
    return_window_days: Annotated[int, Meta(ge=0, le=365)] = 0
    """Points stay pending, not spendable, for this long after the order."""


class EngagementRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """iPresso-style engagement score: a targeting score, not a currency."""

    weights: dict[str, Annotated[float, Meta(ge=-1000, le=1000)]] = msgspec.field(
        default_factory=lambda: {
            "click": 5.0,
            "add_to_cart": 10.0,
            "purchase": 50.0,
            "unsubscribe": -50.0,
            "cart_abandoned": -10.0,
        }
    )
    """Score per event kind; negative ones lower it."""
    browser_daily_cap: Annotated[float, Meta(ge=0, le=100000)] = 100.0
    """Most a customer's score can rise per UTC day from events a browser sent."""
    cart_abandoned_hours: Annotated[float, Meta(gt=0, le=720)] = 24.0
    """A cart with no order this long after its last change counts as abandoned."""


class LoyaltyProgram(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole program (``[loyalty]`` in the settings). Demo: bronze 4,000 / silver 10,000 / gold 25,000."""

    window: Window = "lifetime"
    """Which spend qualifies for a tier: all of it, the last 365 days, or this calendar year."""
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] | None = None
    """The program counts in the shop's currency; when given it must be that one (the settings check it)."""
    tiers: tuple[Tier, ...] = (
        Tier(name="bronze", threshold=4000, discount_pct=10),
        Tier(name="silver", threshold=10000, discount_pct=15),
        Tier(name="gold", threshold=25000, discount_pct=20),
    )
    promotions_qualify: bool = True
    """Whether lines bought on promotion count towards tiers and points."""
    nudge_window_pct: Annotated[float, Meta(gt=0, le=100)] = 25.0
    """Show "spend X more" when the gap to the next tier is at most this share of its threshold."""
    points: PointsRules = msgspec.field(default_factory=PointsRules)
    engagement: EngagementRules = msgspec.field(default_factory=EngagementRules)

    def __post_init__(self) -> None:
        names = [tier.name for tier in self.tiers]
        for name in names:
            if names.count(name) > 1:
                raise ProgramError(f"tiers: the name {name!r} is used more than once")
        for lower, upper in zip(self.tiers, self.tiers[1:], strict=False):
            if upper.threshold <= lower.threshold:
                raise ProgramError(
                    f"tiers: {upper.name!r} threshold {upper.threshold:g} must exceed {lower.name!r} threshold "
                    f"{lower.threshold:g}"
                )

    def threshold_minor(self, tier: Tier, exponent: int) -> int:
        """A tier's threshold in minor units (exact for the decimal written in the file)."""
        return int(Decimal(str(tier.threshold)).scaleb(exponent))

    def tier_named(self, name: str | None) -> Tier | None:
        """The tier of that name, if the program has it."""
        return next((tier for tier in self.tiers if tier.name == name), None)
