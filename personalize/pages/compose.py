"""Filling a page's placements: each walks its chain until it holds ``limit`` items.

Items are taken in order, skipping what is out of stock, outside the placement's categories, already on the page,
in the cart, the page's own item or excluded by the caller, and what the row's own rules refuse
(``personalize.pages.rows``: near-duplicate titles, a brand over its share). Every item's ``reason`` names the
source that served it. Pages whose placements are all visitor-free are composed once per moment per process
(``personalize.pages.placement_cache``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from personalize.pages.context import PageContext
from personalize.pages.placement_cache import PlacementCache
from personalize.pages.placements import VISITOR_FREE, fill_order
from personalize.pages.rows import Row, brand_cap
from personalize.pages.sources import Allowed, Ranked, with_strategy
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
        ctx.loyal_brand,
        ctx.catalog.version,
        ctx.models.manifest.version if ctx.models else None,
        tuple(sorted(ctx.strategies.items())),
    )


async def _compose(ctx: PageContext, names: Sequence[str], limit: int) -> dict[str, list[RecommendedItem]]:
    page: dict[str, list[RecommendedItem]] = {}
    cap = brand_cap(limit, ctx.settings.brand_share)
    for placement in fill_order(names):
        chain, allowed = with_strategy(placement.chain(ctx), ctx.strategies.get(placement.name))
        row = Row(limit, cap, ctx.loyal_brand)
        walked: dict[int, Ranked] = {}  # a chain may walk a source twice (with the brand cap, then without)
        for reason, source, capped in chain:
            if row.full:
                break
            if id(source) not in walked:
                walked[id(source)] = await source(ctx, limit + len(ctx.blocked))
            _take(walked[id(source)], reason, ctx, allowed, row, capped)
        page[placement.name] = [recommended(item, score, reason, ctx.currency) for item, score, reason in row.chosen]
    return {name: page[name] for name in names}


def _take(ranked: Ranked, reason: str, ctx: PageContext, allowed: Allowed, row: Row, capped: bool) -> None:
    for item_id, score in ranked:
        if row.full:
            return
        item = ctx.catalog.get(item_id)
        if item is None or not item.in_stock or item_id in ctx.blocked or not allowed(item):
            continue
        if row.admits(item, capped):
            row.add(item, score, reason)
            ctx.blocked.add(item_id)
