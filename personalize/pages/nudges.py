"""Cart-page nudges for an identified customer, each with items that close its gap:

- ``next_tier``: "Spend $500.00 more to reach Bronze", while ``0 < remaining ≤ nudge_window_pct`` of the next
  threshold, where ``remaining = threshold − (qualifying + what the cart adds)``; gone once the cart crosses it. The
  upgrade itself happens only when an order completes. On a points basis the gap is in points and the nudge names the
  spend that earns them.
- ``keep_tier``: "Spend $120.00 more by 31 Dec 2026 to keep Silver", from ``evaluation.keep_tier_nudge_days`` before
  the day the next evaluation would lower the tier, while the cart does not cover it.
- ``reward_within_reach``: "50 more points for −20 % on everything" (``loyalty_nudges.rewards.within_reach``).
"""

from __future__ import annotations

import bisect
from datetime import date

from loyalty_nudges.program import LoyaltyProgram
from loyalty_nudges.tiers import next_tier_gap, spend_for_points, spend_for_units, units_of_spend
from loyalty_nudges.window import day_of
from personalize import money
from personalize.catalog.index import CatalogIndex
from personalize.pages.context import PageContext
from personalize.pages.types import Nudge, PageInfo, RecommendedItem, recommended

GAP_FILLERS = 4
_PRICE_HEADROOM = 1.5
"""Gap-fillers cost at least the gap and at most this multiple of it ("at or just above")."""
_CANDIDATES = 300


def cart_minor(page: PageInfo, catalog: CatalogIndex, currency: str) -> int:
    """What the cart will cost: its lines at catalog prices (the page's own price for items the catalog lacks)
    less ``cart_discount``, never below zero; an amount the currency cannot hold is refused naming its field,
    before the page records anything."""
    total = 0
    for index, line in enumerate(page.cart):
        item = catalog.get(line.item_id)
        own = money.minor_units(line.price, currency, f"page.cart[{index}].price") if line.price is not None else 0
        total += (item.price if item else own) * line.quantity
    if page.cart_discount is not None:
        total -= money.minor_units(page.cart_discount, currency, "page.cart_discount")
    return max(0, total)


def cart_nudges(ctx: PageContext, program: LoyaltyProgram, exponent: int) -> list[Nudge]:
    """The nudges of a cart page (none for anonymous visitors): the next tier, keeping the tier, a reward."""
    if ctx.standing is None:
        return []
    return [
        *next_tier_nudge(ctx, program, exponent),
        *keep_tier_nudge(ctx, program, exponent),
        *reward_nudge(ctx, program, exponent),
    ]


def next_tier_nudge(ctx: PageContext, program: LoyaltyProgram, exponent: int) -> list[Nudge]:
    """The next-tier nudge of a cart page, or none (anonymous visitors, the top tier, a gap outside the window)."""
    standing = ctx.standing
    if standing is None:
        return []
    cart = units_of_spend(ctx.cart_minor, program, exponent)
    gap = next_tier_gap(standing.qualifying, cart, standing.ledger.tier, program, exponent)
    if gap is None:
        return []
    tier, missing = gap
    remaining = spend_for_units(missing, program, exponent)
    text = f"Spend {money.format_amount(remaining, ctx.currency)} more to reach {tier.title}"
    points = missing if program.tier_basis == "points" else None
    return [_nudge(ctx, "next_tier", text, remaining, tier=tier.name, points=points)]


def keep_tier_nudge(ctx: PageContext, program: LoyaltyProgram, exponent: int) -> list[Nudge]:
    """The keep-tier nudge, when the day that keeps the tier is near and the cart does not already keep it."""
    standing = ctx.standing
    if standing is None or standing.tier is None:
        return []
    keep = standing.keep_tier()
    if keep is None or (keep.by - day_of(ctx.now)).days > program.evaluation.keep_tier_nudge_days:
        return []
    missing = keep.missing - units_of_spend(ctx.cart_minor, program, exponent)
    if missing <= 0:
        return []
    remaining = spend_for_units(missing, program, exponent)
    text = (
        f"Spend {money.format_amount(remaining, ctx.currency)} more by {keep.by.day} {keep.by:%b %Y} "
        f"to keep {standing.tier.title}"
    )
    points = missing if program.tier_basis == "points" else None
    return [_nudge(ctx, "keep_tier", text, remaining, tier=standing.tier.name, points=points, by=keep.by)]


def reward_nudge(ctx: PageContext, program: LoyaltyProgram, exponent: int) -> list[Nudge]:
    """The reward the customer is a few points from, with items whose points close the gap."""
    reach = ctx.reward_within_reach
    if reach is None:
        return []
    reward, missing = reach
    remaining = spend_for_points(missing, program, exponent) or 0
    text = f"{missing} more points for {reward.title}"
    return [_nudge(ctx, "reward_within_reach", text, remaining, points=missing, reward_id=reward.id)]


def _nudge(
    ctx: PageContext,
    kind: str,
    text: str,
    remaining: int,
    *,
    tier: str | None = None,
    points: int | None = None,
    by: date | None = None,
    reward_id: str | None = None,
) -> Nudge:
    items = _gap_fillers(ctx, remaining)
    ctx.blocked.update(item.item_id for item in items)
    return Nudge(
        kind=kind,
        tier=tier,
        remaining=money.to_major(remaining, ctx.currency),
        currency=ctx.currency,
        text=text,
        items=items,
        by=by,
        points=points,
        reward_id=reward_id,
    )


def _gap_fillers(ctx: PageContext, remaining: int) -> list[RecommendedItem]:
    """In-stock items priced at or just above the gap, the visitor's favourites first."""
    catalog = ctx.catalog
    start = bisect.bisect_left(catalog.by_price, (remaining, ""))
    ceiling = remaining * _PRICE_HEADROOM
    found = [item_id for price, item_id in catalog.by_price[start : start + _CANDIDATES] if price <= ceiling]
    eligible = [catalog.items[i] for i in found if i not in ctx.blocked]
    ranked = sorted(eligible, key=lambda item: (-ctx.affinity(item), item.price, item.item_id))[:GAP_FILLERS]
    return [recommended(item, ctx.affinity(item), "gap_filler", ctx.currency) for item in ranked]
