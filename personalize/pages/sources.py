"""Where a placement's items come from: ranked sources, and the fallback chain of each placement.

A chain is a list of :class:`Step` (a reason, a source, whether the brand cap applies) and the categories its items
may come from; a source returns ranked
``(item_id, score)`` pairs for a :class:`~personalize.pages.context.PageContext`. A missing model simply yields
nothing, and the chain falls to the next source (personal → session → trending → catalog).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

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
SIMILAR_ANCHORS = 5
"""Cart items whose similar items a cart row draws on (the first ones: carts are short)."""
Source = Callable[["PageContext", int], Awaitable[Ranked]]
Allowed = Callable[[Item], bool]


class Step(NamedTuple):
    """One link of a chain: the reason its items are served with, their source, and whether the row's brand cap
    applies to them (``personalize.pages.rows``)."""

    reason: str
    source: Source
    capped: bool = False


Chain = tuple[list[Step], Allowed]


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


def similar_to(items: Callable[[PageContext], list[str]]) -> Source:
    """The collaborative model's items similar to any of the given items (the cart), each by its best score."""

    async def source(ctx: PageContext, n: int) -> Ranked:
        anchors = items(ctx)
        if not (ctx.models and ctx.models.collaborative and anchors):
            return []
        best: dict[str, float] = {}
        for anchor in anchors[:SIMILAR_ANCHORS]:
            for item_id, score in _pairs(ctx.models.collaborative.similar_items(anchor, n * 4, ctx.blocked)):
                best[item_id] = max(score, best.get(item_id, score))
        return sorted(best.items(), key=lambda pair: -pair[1])[: n * 4]

    return source


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


def nearest_price(scope: str) -> Source:
    """The in-stock items of a leaf category nearest to the anchor's price (on a log scale), nearest first."""

    async def source(ctx: PageContext, n: int) -> Ranked:
        anchor = ctx.anchor
        prices = ctx.catalog.by_leaf_price.get(scope, [])
        if anchor is None or not prices:
            return []
        above = bisect.bisect_left(prices, (anchor.price, ""))
        below = above - 1
        found: Ranked = []
        at = anchor.price + 1  # prices in minor units, plus one: a free item has a distance too
        while len(found) < n * 4 and (below >= 0 or above < len(prices)):
            up = (prices[above][0] + 1) / at if above < len(prices) else math.inf
            down = at / (prices[below][0] + 1) if below >= 0 else math.inf
            if up <= down:
                found.append((prices[above][1], 0.0))
                above += 1
            else:
                found.append((prices[below][1], 0.0))
                below -= 1
        return found

    return source


def near_price(source: Source) -> Source:
    """The source's items priced within ``similar_price_ratio`` of the anchor's (up or down)."""

    async def near(ctx: PageContext, n: int) -> Ranked:
        anchor, catalog = ctx.anchor, ctx.catalog
        ranked = await source(ctx, n)
        if anchor is None:
            return ranked
        ratio = ctx.settings.similar_price_ratio
        low, high = anchor.price / ratio, anchor.price * ratio
        return [
            (item_id, score)
            for item_id, score in ranked
            if (item := catalog.get(item_id)) is not None and low <= item.price <= high
        ]

    return near


def only(keep: Callable[[PageContext, Item], bool], source: Source) -> Source:
    """The source's items that ``keep`` accepts."""

    async def kept(ctx: PageContext, n: int) -> Ranked:
        catalog = ctx.catalog
        return [
            (item_id, score)
            for item_id, score in await source(ctx, n)
            if (item := catalog.get(item_id)) is not None and keep(ctx, item)
        ]

    return kept


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


def complements_of(item: Item, ctx: PageContext) -> list[str]:
    """Category paths that complete an item's look (same root, leaves from the complements map)."""
    root, _, leaf = item.category.rpartition("/")
    return [f"{root}/{other}" if root else other for other in ctx.settings.complements.get(leaf, [])]


def complements(ctx: PageContext) -> list[str]:
    """Category paths that complete the anchor's look."""
    anchor = ctx.anchor
    return complements_of(anchor, ctx) if anchor is not None else []


def _cart_complements(ctx: PageContext) -> list[str]:
    """Category paths that complete the cart's items, none the cart already holds, in the cart's order."""
    items = [item for item_id in _cart(ctx) if (item := ctx.catalog.get(item_id)) is not None]
    held = {item.category for item in items}
    wanted = (scope for item in items for scope in complements_of(item, ctx))
    return [scope for scope in dict.fromkeys(wanted) if scope not in held]


def _not_in_cart_categories(ctx: PageContext, item: Item) -> bool:
    held = {found.category for item_id in _cart(ctx) if (found := ctx.catalog.get(item_id)) is not None}
    return item.category not in held


def capped_then_not(steps: list[Step]) -> list[Step]:
    """The steps with the brand cap, then the same steps without it (a row the cap cannot fill is completed)."""
    return [step._replace(capped=True) for step in steps] + steps


def home_for_you(_: PageContext) -> Chain:
    chain = [
        Step("collaborative", for_customer),
        Step("session", for_session),
        Step("trending", trending("")),
        Step("catalog", newest("")),
    ]
    return chain, anything


def home_trending(_: PageContext) -> Chain:
    return [Step("trending", trending("")), Step("catalog", newest(""))], anything


def category_page(ctx: PageContext) -> Chain:
    scope = ctx.request.page.category or ""
    if scope not in ctx.catalog.by_category:  # a category the catalog lacks: the shop's trending (with a warning)
        return [Step("trending", trending("")), Step("catalog", newest(""))], anything
    reason = "personalized" if ctx.scores.get("n", 0.0) > 0 else "trending"
    return [Step(reason, category_ranking), Step("catalog", newest(scope))], under([scope])


def product_similar(ctx: PageContext) -> Chain:
    """Items near the anchor's price, brands mixed, then the nearest in price (brands mixed), then the newest."""
    anchor = ctx.anchor
    scope = anchor.category if anchor else ""
    same = lambda _: [scope]  # noqa: E731
    near = [
        Step("similar", near_price(similar)),
        Step("session", near_price(from_items(lambda c: [c.request.page.item_id or ""]))),
        Step("same_brand", near_price(same_attribute("brand", same))),
        Step("same_color", near_price(same_attribute("color", same))),
        Step("trending", near_price(trending(scope))),
    ]
    nearest = [Step("similar_price", nearest_price(scope))]
    chain = capped_then_not(near) + capped_then_not(nearest) + [Step("catalog", newest(scope))]
    return chain, under([scope]) if scope else anything


def complete_the_look(ctx: PageContext) -> Chain:
    scopes = complements(ctx)
    steps = [
        Step("cross_sell", rules_from(_anchor_and_cart)),
        Step("similar", similar),
        Step("same_brand", same_attribute("brand", complements)),
        Step("same_color", same_attribute("color", complements)),
    ]
    steps += [Step("trending", trending(scope)) for scope in scopes]
    return capped_then_not(steps), under(scopes)


def cart_cross_sell(ctx: PageContext) -> Chain:
    """Categories the cart lacks first (what completes its items, then anything else), the rest after."""
    learned = [
        Step("cross_sell", rules_from(_cart)),
        Step("session", from_items(_cart)),
        Step("similar", similar_to(_cart)),
    ]
    completing = [Step("trending", trending(scope)) for scope in _cart_complements(ctx)]
    general = [Step("trending", trending("")), Step("catalog", newest(""))]
    lacking = [
        Step(reason, only(_not_in_cart_categories, source)) for reason, source, _ in learned + completing + general
    ]
    return lacking + learned + general, anything


STRATEGY_SOURCES: dict[str, Source] = {
    "collaborative": for_customer,
    "session": for_session,
    "similar": similar,
    "trending": trending(""),
    "catalog": newest(""),
}
"""What an experiment arm's ``strategy`` ranks first in its placement (``default``: nothing added)."""


def with_strategy(chain: Chain, strategy: str | None) -> Chain:
    """The chain with the strategy's source first (its items under the placement's rules), then the chain itself."""
    source = STRATEGY_SOURCES.get(strategy or "")
    if source is None:
        return chain
    steps, allowed = chain
    return [Step(strategy or "", source), *steps], allowed
