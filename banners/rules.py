"""Banner rules as marketers write them: the file, its banners, their variants and conditions.

A condition is a tagged union on the field ``type`` (``{type = "country", values = ["US"]}``), decoded by
one typed decoder and handled with ``match`` (validation in :mod:`banners.files`, compilation in
:mod:`banners.engine`). Every type here is written by people, so unknown fields are errors.

Semantics, stated once:

- ``all`` / ``any`` need at least one condition; ``not`` negates one.
- ``page_type``, ``landing_source`` (lower case), ``segment_in``: the visitor's value is one of ``values``.
- ``country``: ISO 3166 alpha-2, compared upper case.
- ``tier_in``: ``"none"`` matches a visitor with no tier, anonymous ones included.
- ``engagement``, ``points`` and ``cart_total``: ``min`` inclusive, ``max`` exclusive; a visitor without a score
  fails ``engagement``, one without a loyalty standing fails ``points`` (the spendable balance). Cart amounts are
  written in the shop currency and compared exactly in integer minor units.
- ``reward_within_reach``: the customer is a few points from a reward (the cart's ``reward_within_reach`` nudge
  rule: at most the program's ``nudge_window_pct`` of its cost); ``value = false`` matches everybody else.
- ``schedule`` and a banner's own ``starts_at``/``ends_at``: ``starts_at <= now < ends_at``; date-times
  need a time zone (``Z`` or an offset).
- ``locale``: a prefix on subtag boundaries, case-insensitive (``en`` matches ``en``, ``en-US`` and
  ``en_GB``, not ``eng``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

PageType = Literal["home", "category", "product", "cart", "checkout", "search", "other"]
PAGE_TYPES: tuple[PageType, ...] = ("home", "category", "product", "cart", "checkout", "search", "other")

BannerId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
SlotName = Annotated[str, Meta(pattern=r"^[a-z0-9_-]{1,32}$")]
VariantName = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
CouponCode = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
TitleTemplate = Annotated[str, Meta(min_length=1, max_length=300)]
TextTemplate = Annotated[str, Meta(max_length=1000)]
Url = Annotated[str, Meta(min_length=1, max_length=2048)]
Instant = Annotated[datetime, Meta(tz=True)]
Score = Annotated[float, Meta(ge=-1e9, le=1e9)]
Points = Annotated[int, Meta(ge=0, le=1_000_000_000)]
Amount = Annotated[float, Meta(ge=0, le=1e12)]
Name = Annotated[str, Meta(min_length=1, max_length=64)]

LandingSource = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Country = Annotated[str, Meta(pattern=r"^[A-Za-z]{2}$")]
Locale = Annotated[str, Meta(pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")]

NONE_TIER = "none"
"""The ``tier_in`` value that matches a visitor without a tier (anonymous ones included)."""


class _Condition(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type"):
    """Base of the condition union; each subclass names its ``type`` tag."""


class AllOf(_Condition, frozen=True, tag="all"):
    conditions: Annotated[tuple[Condition, ...], Meta(min_length=1)]


class AnyOf(_Condition, frozen=True, tag="any"):
    conditions: Annotated[tuple[Condition, ...], Meta(min_length=1)]


class Not(_Condition, frozen=True, tag="not"):
    condition: Condition


class PageTypeIn(_Condition, frozen=True, tag="page_type"):
    values: Annotated[tuple[PageType, ...], Meta(min_length=1)]


class LandingSourceIn(_Condition, frozen=True, tag="landing_source"):
    values: Annotated[tuple[LandingSource, ...], Meta(min_length=1)]


class CountryIn(_Condition, frozen=True, tag="country"):
    values: Annotated[tuple[Country, ...], Meta(min_length=1)]


class VisitorIs(_Condition, frozen=True, tag="visitor"):
    value: Literal["new", "returning"]


class HasOrdered(_Condition, frozen=True, tag="has_ordered"):
    value: bool


class TierIn(_Condition, frozen=True, tag="tier_in"):
    values: Annotated[tuple[Name, ...], Meta(min_length=1)]


class SegmentIn(_Condition, frozen=True, tag="segment_in"):
    values: Annotated[tuple[Name, ...], Meta(min_length=1)]


class EngagementBetween(_Condition, frozen=True, tag="engagement"):
    min: Score | None = None
    max: Score | None = None


class PointsBetween(_Condition, frozen=True, tag="points"):
    min: Points | None = None
    max: Points | None = None


class RewardWithinReach(_Condition, frozen=True, tag="reward_within_reach"):
    value: bool = True


class CartTotalBetween(_Condition, frozen=True, tag="cart_total"):
    min: Amount | None = None
    max: Amount | None = None


class Schedule(_Condition, frozen=True, tag="schedule"):
    starts_at: Instant | None = None
    ends_at: Instant | None = None


class LocaleIn(_Condition, frozen=True, tag="locale"):
    values: Annotated[tuple[Locale, ...], Meta(min_length=1)]


Condition = (
    AllOf
    | AnyOf
    | Not
    | PageTypeIn
    | LandingSourceIn
    | CountryIn
    | VisitorIs
    | HasOrdered
    | TierIn
    | SegmentIn
    | EngagementBetween
    | PointsBetween
    | RewardWithinReach
    | CartTotalBetween
    | Schedule
    | LocaleIn
)

CONDITION_TYPES: tuple[str, ...] = tuple(str(kind.__struct_config__.tag) for kind in get_args(Condition))
"""Every ``type`` a condition may have."""


class SlotConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How many banners a slot shows at most."""

    max: Annotated[int, Meta(ge=1, le=50)] = 1


class Variant(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An arm of a banner's test; the fields it sets override the banner's."""

    name: VariantName
    weight: Annotated[float, Meta(gt=0, le=1e6)] = 1.0
    title: TitleTemplate | None = None
    text: TextTemplate | None = None
    link: Url | None = None
    image: Url | None = None


class Banner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One marketer-authored banner; ``when`` absent means always (inside its date window)."""

    id: BannerId
    slot: SlotName
    priority: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)] = 0
    """Higher first within a slot; ties by id."""
    title: TitleTemplate
    text: TextTemplate = ""
    link: Url | None = None
    image: Url | None = None
    coupon_code: CouponCode | None = None
    """A static shop-wide code; also the ``{coupon_code}`` token's value when the visitor has no personal code."""
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    holdout_pct: Annotated[float, Meta(ge=0, le=100)] = 0.0
    variants: tuple[Variant, ...] = ()
    when: Condition | None = None


class BannerFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole banner file (TOML or JSON, same schema); slots not listed show at most one banner."""

    version: Annotated[str, Meta(max_length=128)] | None = None
    slots: dict[str, SlotConfig] = msgspec.field(default_factory=dict)
    banners: tuple[Banner, ...] = ()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch for an aware date-time, exactly (no float rounding)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def amount_minor(amount: float, exponent: int) -> int | None:
    """An amount as written in the file in integer minor units, or None when it has finer digits than that.

    Args:
        amount: The amount in the shop currency (``49.99``).
        exponent: The currency's minor-unit exponent (2 for USD, 0 for JPY).

    Returns:
        ``4999`` for ``(49.99, 2)``; None for ``(10.005, 2)``.
    """
    scaled = Decimal(str(amount)).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)
