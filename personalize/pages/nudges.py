"""Cart-page nudges: "Spend $500.00 more to reach Bronze", with items that close the gap.

Shown to an identified customer below the top tier while ``0 < remaining ≤ nudge_window_pct`` of the next
threshold, where ``remaining = threshold − (qualifying spend + what the cart will cost)``; gone once the cart
crosses it. The upgrade itself happens only when an order completes.
"""

from __future__ import annotations

import bisect

from loyalty_nudges.program import LoyaltyProgram
from loyalty_nudges.tiers import next_tier_gap
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


def next_tier_nudge(ctx: PageContext, program: LoyaltyProgram, exponent: int) -> list[Nudge]:
    """The next-tier nudge of a cart page, or none (anonymous visitors, the top tier, a gap outside the window)."""
    standing = ctx.standing
    if standing is None:
        return []
    gap = next_tier_gap(standing.qualifying_minor, ctx.cart_minor, standing.ledger.tier, program, exponent)
    if gap is None:
        return []
    tier, remaining = gap
    text = f"Spend {money.format_amount(remaining, ctx.currency)} more to reach {tier.title}"
    return [
        Nudge(
            kind="next_tier",
            tier=tier.name,
            remaining=money.to_major(remaining, ctx.currency),
            currency=ctx.currency,
            text=text,
            items=_gap_fillers(ctx, remaining),
        )
    ]


def _gap_fillers(ctx: PageContext, remaining: int) -> list[RecommendedItem]:
    """In-stock items priced at or just above the gap, the visitor's favourites first."""
    catalog = ctx.catalog
    start = bisect.bisect_left(catalog.by_price, (remaining, ""))
    ceiling = remaining * _PRICE_HEADROOM
    found = [item_id for price, item_id in catalog.by_price[start : start + _CANDIDATES] if price <= ceiling]
    eligible = [catalog.items[i] for i in found if i not in ctx.blocked]
    ranked = sorted(eligible, key=lambda item: (-ctx.affinity(item), item.price, item.item_id))[:GAP_FILLERS]
    return [recommended(item, ctx.affinity(item), "gap_filler", ctx.currency) for item in ranked]
