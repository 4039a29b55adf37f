"""Where a placement's items come from: ranked sources, and the fallback chain of each placement.

A chain is a list of ``(reason, source)`` and the categories its items may come from; a source returns ranked
``(item_id, score)`` pairs for a :class:`~personalize.pages.context.PageContext`. A missing model simply yields
nothing, and the chain falls to the next source (personal → session → trending → catalog).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from personalize.catalog.items import Item, category_levels
from recommenders.ranking import blend_weight, diversify, rank

if TYPE_CHECKING:
    from personalize.pages.context import PageContext

Ranked = list[tuple[str, float]]
BRAND_CANDIDATES = 60
"""Newest items of each of the visitor's top brands added to a category's ranking candidates."""
SAME_ATTRIBUTE_CANDIDATES = 2000
"""Newest items of the anchor's brand (or colour) in the wanted categories that same-brand/colour ranks."""
Source = Callable[["PageContext", int], Awaitable[Ranked]]
Allowed = Callable[[Item], bool]
Chain = tuple[list[tuple[str, Source]], Allowed]


def _pairs(found: tuple[npt.NDArray[np.str_], npt.NDArray[np.float32]]) -> Ranked:
    ids, scores = found
    return list(zip(ids.tolist(), scores.tolist(), strict=True))


def anything(_: Item) -> bool:
    return True


def under(scopes: Sequence[str]) -> Allowed:
    """Items whose category is one of ``scopes`` or below one of them."""
    wanted = frozenset(scopes)
    return lambda item: not wanted.isdisjoint(category_levels(item.category))


# --- sources --------------------------------------------------------------------------------------------


def trending(scope: str) -> Source:
    async def source(ctx: PageContext, _n: int) -> Ranked:
        return await ctx.trending.top(scope, ctx.now)

    return source


def newest(scope: str) -> Source:
    async def source(ctx: PageContext, n: int) -> Ranked:
        return [(item_id, 0.0) for item_id in ctx.catalog.by_category.get(scope, ())[: n + 200]]

    return source


async def for_customer(ctx: PageContext, n: int) -> Ranked:
    models = ctx.models
    if not (models and models.collaborative and ctx.customer_id):
        return []
    return _pairs(models.collaborative.recommend(ctx.customer_id, n, ctx.blocked))


async def for_session(ctx: PageContext, n: int) -> Ranked:
    models = ctx.models
    minimum = ctx.settings.session_min_items
    if not (models and models.sessions) or len(set(ctx.recent)) < minimum:
        return []
    return _pairs(models.sessions.recommend(ctx.recent, n, ctx.blocked))


def from_items(items: Callable[[PageContext], list[str]]) -> Source:
    """Session-based recommendations from given items (the anchor, the cart) rather than the session."""

    async def source(ctx: PageContext, n: int) -> Ranked:
        anchors = items(ctx)
        if not (ctx.models and ctx.models.sessions and anchors):
            return []
        return _pairs(ctx.models.sessions.recommend(anchors, n, ctx.blocked))

    return source


async def similar(ctx: PageContext, n: int) -> Ranked:
    anchor = ctx.anchor
    if not (anchor and ctx.models and ctx.models.collaborative):
        return []
    return _pairs(ctx.models.collaborative.similar_items(anchor.item_id, n * 4, ctx.blocked))


def rules_from(items: Callable[[PageContext], list[str]]) -> Source:
    async def source(ctx: PageContext, n: int) -> Ranked:
        anchors = items(ctx)
        if not (ctx.models and ctx.models.rules and anchors):
            return []
        return _pairs(ctx.models.rules.recommend(anchors, n * 4, ctx.blocked))

    return source


def same_attribute(attribute: str, scopes: Callable[[PageContext], list[str]]) -> Source:
    """Items sharing the anchor's brand or colour in the given categories, by trend then newest."""

    async def source(ctx: PageContext, n: int) -> Ranked:
        anchor = ctx.anchor
        if anchor is None:
            return []
        catalog, value, wanted = ctx.catalog, getattr(anchor, attribute), scopes(ctx)
        index = catalog.by_category_brand if attribute == "brand" else catalog.by_category_color
        per_scope = (index.get((scope, value), ())[:SAME_ATTRIBUTE_CANDIDATES] for scope in wanted)
        merged = dict.fromkeys(heapq.merge(*per_scope, key=catalog.newest_first))  # nested scopes overlap
        found = list(itertools.islice(merged, SAME_ATTRIBUTE_CANDIDATES))
        trend: dict[str, float] = {}
        for scope in wanted:
            trend.update(await ctx.trending.top(scope, ctx.now))
        return sorted(((i, trend.get(i, 0.0)) for i in found), key=lambda pair: -pair[1])[: n * 4]

    return source


async def category_ranking(ctx: PageContext, n: int) -> Ranked:
    """The category's items blended from trending and the visitor's affinity, brands varied at the top."""
    scope = ctx.request.page.category or ""
    settings = ctx.settings
    trend = dict(await ctx.trending.top(scope, ctx.now))
    candidates = _candidates(ctx, scope, list(trend), settings.ranking_candidates)
    alpha = blend_weight(ctx.scores.get("n", 0.0), settings.alpha_max, settings.alpha_k)
    affinity = {i: ctx.affinity(ctx.catalog.items[i]) for i in candidates} if alpha else {}
    ranked = rank(candidates, trend, affinity, alpha)
    return diversify(ranked, lambda i: ctx.catalog.items[i].brand, settings.max_brand_run, head=n)


def _candidates(ctx: PageContext, scope: str, trending_ids: list[str], budget: int) -> list[str]:
    """Trending head, then the visitor's top brands in the category, then the newest: bounded work."""
    picked = dict.fromkeys(i for i in trending_ids if i in ctx.catalog.items)
    brands = sorted(
        ((key[6:], s) for key, s in ctx.scores.items() if key.startswith("brand:")), key=lambda pair: -pair[1]
    )[:3]
    for brand, _ in brands:
        picked.update(dict.fromkeys(ctx.catalog.by_category_brand.get((scope, brand), ())[:BRAND_CANDIDATES]))
    for item_id in ctx.catalog.by_category.get(scope, ()):
        if len(picked) >= budget:
            break
        picked.setdefault(item_id, None)
    return list(picked)[: max(budget, len(trending_ids))]


# --- chains ---------------------------------------------------------------------------------------------


def _cart(ctx: PageContext) -> list[str]:
    return [line.item_id for line in ctx.request.page.cart]


def _anchor_and_cart(ctx: PageContext) -> list[str]:
    return ([ctx.request.page.item_id] if ctx.request.page.item_id else []) + _cart(ctx)


def complements(ctx: PageContext) -> list[str]:
    """Category paths that complete the anchor's look (same root, leaves from the complements map)."""
    anchor = ctx.anchor
    if anchor is None:
        return []
    root, _, leaf = anchor.category.rpartition("/")
    wanted = ctx.settings.complements.get(leaf, [])
    return [f"{root}/{other}" if root else other for other in wanted]


def home_for_you(_: PageContext) -> Chain:
    chain = [
        ("collaborative", for_customer),
        ("session", for_session),
        ("trending", trending("")),
        ("catalog", newest("")),
    ]
    return chain, anything


def home_trending(_: PageContext) -> Chain:
    return [("trending", trending("")), ("catalog", newest(""))], anything


def category_page(ctx: PageContext) -> Chain:
    scope = ctx.request.page.category or ""
    if scope not in ctx.catalog.by_category:  # a category the catalog lacks: the shop's trending (with a warning)
        return [("trending", trending("")), ("catalog", newest(""))], anything
    reason = "personalized" if ctx.scores.get("n", 0.0) > 0 else "trending"
    return [(reason, category_ranking), ("catalog", newest(scope))], under([scope])


def product_similar(ctx: PageContext) -> Chain:
    anchor = ctx.anchor
    scope = anchor.category if anchor else ""
    same = lambda _: [scope]  # noqa: E731
    chain = [
        ("similar", similar),
        ("session", from_items(lambda c: [c.request.page.item_id or ""])),
        ("same_brand", same_attribute("brand", same)),
        ("same_color", same_attribute("color", same)),
        ("trending", trending(scope)),
        ("catalog", newest(scope)),
    ]
    return chain, under([scope]) if scope else anything


def complete_the_look(ctx: PageContext) -> Chain:
    scopes = complements(ctx)
    chain = [
        ("cross_sell", rules_from(_anchor_and_cart)),
        ("similar", similar),
        ("same_brand", same_attribute("brand", complements)),
        ("same_color", same_attribute("color", complements)),
    ]
    chain += [("trending", trending(scope)) for scope in scopes]
    return chain, under(scopes)


def cart_cross_sell(ctx: PageContext) -> Chain:
    chain = [
        ("cross_sell", rules_from(_cart)),
        ("session", from_items(_cart)),
        ("trending", trending("")),
        ("catalog", newest("")),
    ]
    return chain, anything
