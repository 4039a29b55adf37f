"""Filling a page's placements: each walks its chain until it holds ``limit`` items.

Items are taken in order, skipping what is out of stock, outside the placement's categories, already on the page,
in the cart, the page's own item or excluded by the caller. Every item's ``reason`` names the source that served
it. Pages whose placements are all visitor-free are composed once per moment per process
(``personalize.pages.placement_cache``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from personalize.catalog.items import Item
from personalize.pages.context import PageContext
from personalize.pages.placement_cache import PlacementCache
from personalize.pages.placements import VISITOR_FREE, fill_order
from personalize.pages.sources import Allowed, Ranked
from personalize.pages.types import RecommendedItem, recommended


async def compose(
    ctx: PageContext, names: Sequence[str], limit: int, cache: PlacementCache
) -> dict[str, list[RecommendedItem]]:
    """Every requested placement (an item appears on the page once), in the order asked; a page of visitor-free
    placements only comes from ``cache`` when it was composed a moment ago."""
    key = _shared_key(ctx, names, limit)
    if key is not None and (cached := cache.get(key)) is not None:
        return cached
    composed = await _compose(ctx, names, limit)
    if key is not None:
        cache.put(key, composed)
    return composed


def _shared_key(ctx: PageContext, names: Sequence[str], limit: int) -> Hashable | None:
    """What a visitor-free page's placements depend on; ``None`` when one of them depends on the visitor."""
    if not VISITOR_FREE.issuperset(names):
        return None
    page = ctx.request.page
    return (
        tuple(names),
        page.item_id,
        tuple(line.item_id for line in page.cart),
        frozenset(ctx.blocked),
        limit,
        ctx.catalog.version,
        ctx.models.manifest.version if ctx.models else None,
    )


async def _compose(ctx: PageContext, names: Sequence[str], limit: int) -> dict[str, list[RecommendedItem]]:
    page: dict[str, list[RecommendedItem]] = {}
    for placement in fill_order(names):
        chain, allowed = placement.chain(ctx)
        chosen: list[tuple[Item, float, str]] = []
        for reason, source in chain:
            if len(chosen) >= limit:
                break
            ranked = await source(ctx, limit + len(ctx.blocked))
            chosen += _take(ranked, reason, ctx, allowed, limit - len(chosen))
        page[placement.name] = [recommended(item, score, reason, ctx.currency) for item, score, reason in chosen]
    return {name: page[name] for name in names}


def _take(ranked: Ranked, reason: str, ctx: PageContext, allowed: Allowed, room: int) -> list[tuple[Item, float, str]]:
    taken: list[tuple[Item, float, str]] = []
    for item_id, score in ranked:
        item = ctx.catalog.get(item_id)
        if item is None or not item.in_stock or item_id in ctx.blocked or not allowed(item):
            continue
        taken.append((item, score, reason))
        ctx.blocked.add(item_id)
        if len(taken) == room:
            break
    return taken
