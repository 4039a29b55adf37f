"""The loyalty program a shop configures: tiers, the qualifying window, points, rewards and engagement rules.

Written by people in the settings TOML (``[loyalty]``), so every field is validated and unknown fields are
errors. Thresholds are amounts in the shop currency; the ledger works in integer minor units.

Exceptions::

    LoyaltyError (ValueError)
    └── ProgramError          the program is inconsistent (names the tier, reward or field)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from loyalty_nudges.window import day_of

Window = Literal["lifetime", "rolling_365d", "calendar_year"]
TierBasis = Literal["spend", "points"]
TierName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Amount = Annotated[float, Meta(ge=0, le=1e9)]
RewardKind = Literal["percent_off", "amount_off", "free_shipping", "item"]
RewardId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]


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
    expiry_notice_days: tuple[Annotated[int, Meta(ge=1, le=365)], ...] = (30, 3)
    """Days before points expire that a ``points_expiring`` notice goes out (once each)."""


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


class Reward(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Something a customer buys with points; redeeming it issues a single-use code of its ``kind``."""

    id: RewardId
    title: Annotated[str, Meta(min_length=1, max_length=120)]
    cost: Annotated[int, Meta(ge=1, le=100_000_000)]
    """Points it costs."""
    kind: RewardKind
    percent: Annotated[float, Meta(gt=0, le=100)] | None = None
    """The discount of a ``percent_off`` reward."""
    amount: Annotated[float, Meta(gt=0, le=1e9)] | None = None
    """The discount of an ``amount_off`` reward, in the shop currency."""
    stock: Annotated[int, Meta(ge=0, le=100_000_000)] | None = None
    """How many can ever be redeemed (an experience's seats); none: unlimited."""
    tiers: tuple[str, ...] = ()
    """Only customers in these tiers may redeem it; empty: everybody."""
    available_from: date | None = None
    available_until: date | None = None
    """The last day (UTC) it can be redeemed."""
    code_valid_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    """How long the issued code stays usable."""

    def __post_init__(self) -> None:
        if self.kind == "percent_off" and self.percent is None:
            raise ProgramError(f"reward {self.id!r}: a percent_off reward needs percent")
        if self.kind == "amount_off" and self.amount is None:
            raise ProgramError(f"reward {self.id!r}: an amount_off reward needs amount")
        if self.kind != "percent_off" and self.percent is not None:
            raise ProgramError(f"reward {self.id!r}: percent belongs to percent_off rewards only")
        if self.kind != "amount_off" and self.amount is not None:
            raise ProgramError(f"reward {self.id!r}: amount belongs to amount_off rewards only")
        if self.available_from and self.available_until and self.available_until < self.available_from:
            raise ProgramError(
                f"reward {self.id!r}: available_until {self.available_until} is before available_from "
                f"{self.available_from}"
            )

    def available(self, now_ms: int) -> bool:
        """Whether it can be redeemed on this UTC day."""
        today = day_of(now_ms)
        return (self.available_from is None or today >= self.available_from) and (
            self.available_until is None or today <= self.available_until
        )

    def open_to(self, tier: str | None) -> bool:
        """Whether a customer of this tier may redeem it."""
        return not self.tiers or tier in self.tiers


def check_rewards(rewards: tuple[Reward, ...], tier_names: list[str]) -> None:
    """Program-level rules of the rewards: ids unique, tier restrictions naming tiers of the program."""
    seen: set[str] = set()
    for index, reward in enumerate(rewards):
        if reward.id in seen:
            raise ProgramError(f"rewards[{index}].id: the id {reward.id!r} is used more than once")
        seen.add(reward.id)
        for tier in reward.tiers:
            if tier not in tier_names:
                raise ProgramError(
                    f"rewards[{index}].tiers: {tier!r} is not a tier of the program ({', '.join(tier_names)})"
                )


class ActionRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named action the shop's server reports (``recycling_dropoff``): points, and optionally a code."""

    name: RewardId
    points: Annotated[int, Meta(ge=0, le=1_000_000)]
    coupon_percent: Annotated[float, Meta(gt=0, le=100)] | None = None
    """A single-use code of this discount comes with the points."""
    coupon_valid_days: Annotated[int, Meta(ge=1, le=3650)] = 30


class Schedule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Days (UTC, both included) a rule is on; none given: always."""

    starts: date | None = None
    ends: date | None = None

    def on(self, at_ms: int) -> bool:
        """Whether the rule is on at this moment."""
        day = day_of(at_ms)
        return (self.starts is None or day >= self.starts) and (self.ends is None or day <= self.ends)


class Multiplier(Schedule, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Items with one of ``tags`` or under one of ``categories`` earn ``factor`` times the points."""

    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    factor: Annotated[float, Meta(gt=1, le=10)]

    def __post_init__(self) -> None:
        _check_rule("a multiplier", self, self.tags, self.categories)


class Challenge(Schedule, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """ "Buy ``min_items`` items tagged ``new`` this week: +``bonus`` points", once per customer per ISO week."""

    id: RewardId
    title: Annotated[str, Meta(min_length=1, max_length=120)]
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    min_items: Annotated[int, Meta(ge=1, le=100)] = 1
    bonus: Annotated[int, Meta(ge=1, le=1_000_000)]

    def __post_init__(self) -> None:
        _check_rule(f"challenge {self.id!r}", self, self.tags, self.categories)


def _check_rule(name: str, schedule: Schedule, tags: tuple[str, ...], categories: tuple[str, ...]) -> None:
    if not tags and not categories:
        raise ProgramError(f"{name} needs tags or categories to match items")
    if schedule.starts and schedule.ends and schedule.ends < schedule.starts:
        raise ProgramError(f"{name}: ends {schedule.ends} is before starts {schedule.starts}, so it is never on")


class Earning(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Bonus points beside the purchase points."""

    welcome_bonus: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    """Points a customer gets when their record is first stored (``PUT /v1/customers/{id}``), once."""
    actions: tuple[ActionRule, ...] = ()
    """Actions ``POST /v1/customers/{id}/actions`` may name."""
    multipliers: tuple[Multiplier, ...] = ()
    """Points multipliers by item tag or category (the highest that applies to a line counts)."""
    challenges: tuple[Challenge, ...] = ()
    """Weekly challenges: a bonus once per customer per ISO week for an order that meets the condition."""

    def __post_init__(self) -> None:
        names = [action.name for action in self.actions]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ProgramError(f"earning.actions[{index}].name: the action {name!r} is named more than once")
        ids = [challenge.id for challenge in self.challenges]
        for index, challenge_id in enumerate(ids):
            if challenge_id in ids[:index]:
                raise ProgramError(f"earning.challenges[{index}].id: {challenge_id!r} is used more than once")

    def action_named(self, name: str) -> ActionRule | None:
        """The action of that name, if the program has it."""
        return next((action for action in self.actions if action.name == name), None)


class Evaluation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How tiers are re-evaluated when spend leaves the window (``rolling_365d`` daily, ``calendar_year`` on 1
    January), and how a customer who lost a tier gets it back."""

    max_downgrade: Annotated[int, Meta(ge=1, le=10)] = 1
    """Tiers a customer can drop at one evaluation."""
    keep_tier_nudge_days: Annotated[int, Meta(ge=0, le=366)] = 60
    """The cart shows "spend $X more by DATE to keep Silver" from this many days before that date."""
    reactivation_days: Annotated[int, Meta(ge=0, le=3650)] = 0
    """A customer who lost a tier regains it when, within this many days of losing it, they spend (or earn, on a
    points basis) ``reactivation_pct`` of its threshold; 0: never."""
    reactivation_pct: Annotated[float, Meta(gt=0, le=100)] = 50.0


class Birthday(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A single-use code on the customer's birthday (month and day of their record), once per 365 days."""

    percent_off: Annotated[float, Meta(gt=0, le=100)]
    code_valid_days: Annotated[int, Meta(ge=1, le=366)] = 30


class LoyaltyProgram(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole program (``[loyalty]`` in the settings). Demo: bronze 4,000 / silver 10,000 / gold 25,000."""

    window: Window = "lifetime"
    """Which spend qualifies for a tier: all of it, the last 365 days (today included), or this calendar year."""
    tier_basis: TierBasis = "spend"
    """What tier thresholds count: qualifying spend (in the currency) or points earned in the window."""
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
    rewards: tuple[Reward, ...] = ()
    """What points buy (``[[loyalty.rewards]]``)."""
    earning: Earning = msgspec.field(default_factory=Earning)
    evaluation: Evaluation = msgspec.field(default_factory=Evaluation)
    birthday: Birthday | None = None
    """The birthday coupon; none: no birthday coupons."""

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
        check_rewards(self.rewards, names)
        if self.tier_basis == "points":
            for index, tier in enumerate(self.tiers):
                if tier.threshold != int(tier.threshold):
                    raise ProgramError(f"tiers[{index}].threshold: a points threshold is a whole number of points")
            if self.points.per_unit <= 0:
                raise ProgramError("points.per_unit: a points tier basis needs purchases to earn points")

    def threshold_units(self, tier: Tier, exponent: int) -> int:
        """A tier's threshold in the basis' units: minor units of spend (exact for the decimal written in the file),
        or points."""
        return int(Decimal(str(tier.threshold)).scaleb(exponent if self.tier_basis == "spend" else 0))

    def reward_named(self, reward_id: str) -> Reward | None:
        """The reward of that id, if the program offers it."""
        return next((reward for reward in self.rewards if reward.id == reward_id), None)

    def tier_named(self, name: str | None) -> Tier | None:
        """The tier of that name, if the program has it."""
        return next((tier for tier in self.tiers if tier.name == name), None)
