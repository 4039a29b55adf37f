"""Conditions compiled to closures, and the page types a condition restricts a banner to.

:func:`compile_condition` turns a validated condition tree into nested closures over
:class:`~banners.context.BannerContext`, with every constant (sets, upper-cased countries, minor-unit
amounts, millisecond windows) computed once. :func:`page_types_of` feeds the engine's index by page type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import assert_never

from banners.context import BannerContext
from banners.rules import (
    NONE_TIER,
    AllOf,
    AnyOf,
    CartTotalBetween,
    Condition,
    CountryIn,
    EngagementBetween,
    HasOrdered,
    LandingSourceIn,
    LocaleIn,
    Not,
    PageTypeIn,
    PointsBetween,
    RewardWithinReach,
    Schedule,
    SegmentIn,
    TierIn,
    VisitorIs,
    amount_minor,
    epoch_ms,
)

NEVER = -(2**63)
"""A start before any ``now_ms``."""
FOREVER = 2**63
"""An end after any ``now_ms``."""

Predicate = Callable[[BannerContext], bool]


def always(context: BannerContext) -> bool:
    """The predicate of a banner without ``when``."""
    return True


def compile_condition(condition: Condition, exponent: int) -> Predicate:
    """A closure that evaluates the (already validated) condition against a context.

    Args:
        condition: The condition tree from the file.
        exponent: The currency's minor-unit exponent, for ``cart_total`` amounts.
    """
    match condition:
        case AllOf(conditions=parts):
            preds = tuple(compile_condition(part, exponent) for part in parts)
            return lambda ctx: all(pred(ctx) for pred in preds)
        case AnyOf(conditions=parts):
            preds = tuple(compile_condition(part, exponent) for part in parts)
            return lambda ctx: any(pred(ctx) for pred in preds)
        case Not(condition=inner):
            pred = compile_condition(inner, exponent)
            return lambda ctx: not pred(ctx)
        case PageTypeIn() | LandingSourceIn() | CountryIn() | LocaleIn() | Schedule():
            return _page_predicate(condition)
        case VisitorIs() | HasOrdered() | TierIn() | SegmentIn() | EngagementBetween() | CartTotalBetween():
            return _visitor_predicate(condition, exponent)
        case PointsBetween() | RewardWithinReach():
            return _points_predicate(condition)
        case _:
            assert_never(condition)


def _page_predicate(condition: PageTypeIn | LandingSourceIn | CountryIn | LocaleIn | Schedule) -> Predicate:
    match condition:
        case PageTypeIn(values=values):
            pages = frozenset(values)
            return lambda ctx: ctx.page_type in pages
        case LandingSourceIn(values=values):
            sources = frozenset(values)
            return lambda ctx: ctx.landing_source is not None and ctx.landing_source.lower() in sources
        case CountryIn(values=values):
            countries = frozenset(value.upper() for value in values)
            return lambda ctx: ctx.country is not None and ctx.country.upper() in countries
        case LocaleIn(values=values):
            prefixes = tuple(_normal_locale(value) for value in values)
            return lambda ctx: ctx.locale is not None and _locale_matches(_normal_locale(ctx.locale), prefixes)
        case Schedule(starts_at=starts_at, ends_at=ends_at):
            start, end = window_ms(starts_at, ends_at)
            return lambda ctx: start <= ctx.now_ms < end


def _visitor_predicate(
    condition: VisitorIs | HasOrdered | TierIn | SegmentIn | EngagementBetween | CartTotalBetween, exponent: int
) -> Predicate:
    match condition:
        case VisitorIs(value=value):
            returning = value == "returning"
            return lambda ctx: ctx.returning is returning
        case HasOrdered(value=ordered):
            return lambda ctx: ctx.has_ordered is ordered
        case TierIn(values=values):
            tiers, untiered = frozenset(values) - {NONE_TIER}, NONE_TIER in values
            return lambda ctx: untiered if ctx.tier is None else ctx.tier in tiers
        case SegmentIn(values=values):
            segments = frozenset(values)
            return lambda ctx: ctx.segment in segments
        case EngagementBetween(min=low, max=high):
            lo, hi = -float("inf") if low is None else low, float("inf") if high is None else high
            return lambda ctx: ctx.engagement is not None and lo <= ctx.engagement < hi
        case CartTotalBetween(min=low, max=high):
            lo_minor = NEVER if low is None else _exact_minor(low, exponent)
            hi_minor = FOREVER if high is None else _exact_minor(high, exponent)
            return lambda ctx: lo_minor <= ctx.cart_total_minor < hi_minor


def _points_predicate(condition: PointsBetween | RewardWithinReach) -> Predicate:
    match condition:
        case PointsBetween(min=low, max=high):
            lo, hi = 0 if low is None else low, FOREVER if high is None else high
            return lambda ctx: ctx.points is not None and lo <= ctx.points < hi
        case RewardWithinReach(value=value):
            return lambda ctx: ctx.reward_within_reach is value


def _exact_minor(amount: float, exponent: int) -> int:
    minor = amount_minor(amount, exponent)
    if minor is None:
        raise ValueError(f"{amount} is not a whole number of minor units (exponent {exponent})")
    return minor


def _normal_locale(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


def _locale_matches(locale: str, prefixes: tuple[str, ...]) -> bool:
    return any(locale == prefix or locale.startswith(prefix + "-") for prefix in prefixes)


def window_ms(starts_at: datetime | None, ends_at: datetime | None) -> tuple[int, int]:
    """A date window as ``(start, end)`` epoch milliseconds, open ends as :data:`NEVER` / :data:`FOREVER`."""
    start = NEVER if starts_at is None else epoch_ms(starts_at)
    end = FOREVER if ends_at is None else epoch_ms(ends_at)
    return start, end


def page_types_of(condition: Condition | None) -> frozenset[str] | None:
    """The page types a condition can match on, or None when it does not restrict them.

    ``page_type`` restricts to its values; ``all`` to the intersection of what its parts restrict; ``any``
    to the union when every part restricts. Anything else (``not`` included) is unrestricted.
    """
    match condition:
        case PageTypeIn(values=values):
            return frozenset(values)
        case AllOf(conditions=parts):
            found = [pages for pages in map(page_types_of, parts) if pages is not None]
            return found[0].intersection(*found[1:]) if found else None
        case AnyOf(conditions=parts):
            every = [page_types_of(part) for part in parts]
            union: frozenset[str] = frozenset()
            for pages in every:
                if pages is None:
                    return None
                union |= pages
            return union
        case _:
            return None
