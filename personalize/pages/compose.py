"""The recommendation part of a page: each placement walks its fallback chain until it is full.

A chain is a list of ``(reason, source)``; a source returns ranked ``(item_id, score)`` pairs. Items are
taken in order, skipping what is out of stock, outside the placement's categories, already on the page,
in the cart, the page's own item or excluded by the caller, until the placement holds ``limit`` items.
Every item's ``reason`` names the source that served it; a missing model simply yields nothing.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable, Hashable, Sequence

import numpy as np
import numpy.typing as npt

from personalize.catalog.index import CatalogIndex, Item, category_levels
from personalize.models.artifacts import ModelSet
from personalize.pages.placement_cache import VISITOR_FREE
from personalize.pages.types import PageRequest, RecommendedItem, recommended
from personalize.runtime import Runtime
from recommenders.ranking import blend_weight, diversify, rank

Ranked = list[tuple[str, float]]
BRAND_CANDIDATES = 60
"""Newest items of each of the visitor's top brands added to a category's ranking candidates."""
SAME_ATTRIBUTE_CANDIDATES = 2000
"""Newest items of the anchor's brand (or colour) in the wanted categories that same-brand/colour ranks."""
Source = Callable[["PageState", int], Awaitable[Ranked]]
Allowed = Callable[[Item], bool]


class PageState:
    """What the placements of one page view read."""

    def __init__(
        self,
        runtime: Runtime,
        request: PageRequest,
        customer_id: str | None,
        scores: dict[str, float],
        recent: Sequence[str],
        now: int,
    ) -> None:
        self.runtime, self.request, self.customer_id, self.now = runtime, request, customer_id, now
        self.scores, self.recent = scores, list(recent)
        self.catalog: CatalogIndex = runtime.catalog
        self.models: ModelSet | None = runtime.models
        self.blocked = {line.item_id for line in request.page.cart} | set(request.exclude)
        if request.page.item_id:
            self.blocked.add(request.page.item_id)

    @property
    def anchor(self) -> Item | None:
        """The product page's item."""
        return self.catalog.get(self.request.page.item_id) if self.request.page.item_id else None

    def affinity(self, item: Item) -> float:
        """The visitor's affinity for an item: weighted sum of its attributes' decayed scores."""
        weights = self.runtime.settings.recommendations.attribute_weights
        values = {"brand": item.brand, "color": item.color, "price_band": str(self.catalog.price_band(item))}
        return sum(w * self.scores.get(f"{attr}:{values[attr]}", 0.0) for attr, w in weights.items() if attr in values)


FILL_ORDER = (
    "home_trending",
    "category_ranking",
    "product_similar",
    "product_complete_the_look",
    "cart_cross_sell",
    "home_for_you",
)
"""Placements whose own source is the page's point are filled first: the trending row gets the trending head,
and ``home_for_you`` falling back to trending continues below it instead of taking it."""


async def compose(state: PageState, names: Sequence[str], limit: int) -> dict[str, list[RecommendedItem]]:
    """Every requested placement (an item appears on the page once), in the order asked. Pages of visitor-free
    placements only are composed once per moment per process (``personalize.placement_cache``)."""
    key = _shared_key(state, names, limit)
    if key is not None and (cached := state.runtime.placements.get(key)) is not None:
        return cached
    composed = await _compose(state, names, limit)
    if key is not None:
        state.runtime.placements.put(key, composed)
    return composed


def _shared_key(state: PageState, names: Sequence[str], limit: int) -> Hashable | None:
    """What a visitor-free page's placements depend on; ``None`` when one of them depends on the visitor."""
    if not VISITOR_FREE.issuperset(names):
        return None
    page = state.request.page
    return (
        tuple(names),
        page.item_id,
        tuple(line.item_id for line in page.cart),
        frozenset(state.blocked),
        limit,
        state.catalog.version,
        state.models.manifest.version if state.models else None,
    )


async def _compose(state: PageState, names: Sequence[str], limit: int) -> dict[str, list[RecommendedItem]]:
    currency = state.runtime.settings.currency
    page: dict[str, list[RecommendedItem]] = {}
    for name in sorted(names, key=FILL_ORDER.index):
        chain, allowed = _CHAINS[name](state)
        chosen: list[tuple[Item, float, str]] = []
        for reason, source in chain:
            if len(chosen) >= limit:
                break
            ranked = await source(state, limit + len(state.blocked))
            chosen += _take(ranked, reason, state, allowed, limit - len(chosen))
        page[name] = [recommended(item, score, reason, currency) for item, score, reason in chosen]
    return {name: page[name] for name in names}


def _take(ranked: Ranked, reason: str, state: PageState, allowed: Allowed, room: int) -> list[tuple[Item, float, str]]:
    taken: list[tuple[Item, float, str]] = []
    for item_id, score in ranked:
        item = state.catalog.get(item_id)
        if item is None or not item.in_stock or item_id in state.blocked or not allowed(item):
            continue
        taken.append((item, score, reason))
        state.blocked.add(item_id)
        if len(taken) == room:
            break
    return taken


def _pairs(found: tuple[npt.NDArray[np.str_], npt.NDArray[np.float32]]) -> Ranked:
    ids, scores = found
    return list(zip(ids.tolist(), scores.tolist(), strict=True))


def _anything(_: Item) -> bool:
    return True


def under(scopes: Sequence[str]) -> Allowed:
    """Items whose category is one of ``scopes`` or below one of them."""
    wanted = frozenset(scopes)
    return lambda item: not wanted.isdisjoint(category_levels(item.category))


# --- sources --------------------------------------------------------------------------------------------


def trending(scope: str) -> Source:
    async def source(state: PageState, _n: int) -> Ranked:
        return await state.runtime.trending.top(scope, state.now)

    return source


def newest(scope: str) -> Source:
    async def source(state: PageState, n: int) -> Ranked:
        return [(item_id, 0.0) for item_id in state.catalog.by_category.get(scope, ())[: n + 200]]

    return source


async def for_customer(state: PageState, n: int) -> Ranked:
    models = state.models
    if not (models and models.collaborative and state.customer_id):
        return []
    return _pairs(models.collaborative.recommend(state.customer_id, n, state.blocked))


async def for_session(state: PageState, n: int) -> Ranked:
    models = state.models
    minimum = state.runtime.settings.recommendations.session_min_items
    if not (models and models.sessions) or len(set(state.recent)) < minimum:
        return []
    return _pairs(models.sessions.recommend(state.recent, n, state.blocked))


def from_items(items: Callable[[PageState], list[str]]) -> Source:
    """Session-based recommendations from given items (the anchor, the cart) rather than the session."""

    async def source(state: PageState, n: int) -> Ranked:
        anchors = items(state)
        if not (state.models and state.models.sessions and anchors):
            return []
        return _pairs(state.models.sessions.recommend(anchors, n, state.blocked))

    return source


async def similar(state: PageState, n: int) -> Ranked:
    anchor = state.anchor
    if not (anchor and state.models and state.models.collaborative):
        return []
    return _pairs(state.models.collaborative.similar_items(anchor.item_id, n * 4, state.blocked))


def rules_from(items: Callable[[PageState], list[str]]) -> Source:
    async def source(state: PageState, n: int) -> Ranked:
        anchors = items(state)
        if not (state.models and state.models.rules and anchors):
            return []
        return _pairs(state.models.rules.recommend(anchors, n * 4, state.blocked))

    return source


def same_attribute(attribute: str, scopes: Callable[[PageState], list[str]]) -> Source:
    """Items sharing the anchor's brand or colour in the given categories, by trend then newest."""

    async def source(state: PageState, n: int) -> Ranked:
        anchor = state.anchor
        if anchor is None:
            return []
        catalog, value, wanted = state.catalog, getattr(anchor, attribute), scopes(state)
        index = catalog.by_category_brand if attribute == "brand" else catalog.by_category_color
        per_scope = (index.get((scope, value), ())[:SAME_ATTRIBUTE_CANDIDATES] for scope in wanted)
        merged = dict.fromkeys(heapq.merge(*per_scope, key=catalog.newest_first))  # nested scopes overlap
        found = list(itertools.islice(merged, SAME_ATTRIBUTE_CANDIDATES))
        trend: dict[str, float] = {}
        for scope in wanted:
            trend.update(await state.runtime.trending.top(scope, state.now))
        return sorted(((i, trend.get(i, 0.0)) for i in found), key=lambda pair: -pair[1])[: n * 4]

    return source


async def category_ranking(state: PageState, n: int) -> Ranked:
    """The category's items blended from trending and the visitor's affinity, brands varied at the top."""
    scope = state.request.page.category or ""
    settings = state.runtime.settings.recommendations
    trend = dict(await state.runtime.trending.top(scope, state.now))
    candidates = _candidates(state, scope, list(trend), settings.ranking_candidates)
    alpha = blend_weight(state.scores.get("n", 0.0), settings.alpha_max, settings.alpha_k)
    affinity = {i: state.affinity(state.catalog.items[i]) for i in candidates} if alpha else {}
    ranked = rank(candidates, trend, affinity, alpha)
    return diversify(ranked, lambda i: state.catalog.items[i].brand, settings.max_brand_run, head=n)


def _candidates(state: PageState, scope: str, trending_ids: list[str], budget: int) -> list[str]:
    """Trending head, then the visitor's top brands in the category, then the newest: bounded work."""
    picked = dict.fromkeys(i for i in trending_ids if i in state.catalog.items)
    brands = sorted(
        ((key[6:], s) for key, s in state.scores.items() if key.startswith("brand:")), key=lambda pair: -pair[1]
    )[:3]
    for brand, _ in brands:
        picked.update(dict.fromkeys(state.catalog.by_category_brand.get((scope, brand), ())[:BRAND_CANDIDATES]))
    for item_id in state.catalog.by_category.get(scope, ()):
        if len(picked) >= budget:
            break
        picked.setdefault(item_id, None)
    return list(picked)[: max(budget, len(trending_ids))]


# --- chains ---------------------------------------------------------------------------------------------


def _cart(state: PageState) -> list[str]:
    return [line.item_id for line in state.request.page.cart]


def _anchor_and_cart(state: PageState) -> list[str]:
    return ([state.request.page.item_id] if state.request.page.item_id else []) + _cart(state)


def complements(state: PageState) -> list[str]:
    """Category paths that complete the anchor's look (same root, leaves from the complements map)."""
    anchor = state.anchor
    if anchor is None:
        return []
    root, _, leaf = anchor.category.rpartition("/")
    wanted = state.runtime.settings.recommendations.complements.get(leaf, [])
    return [f"{root}/{other}" if root else other for other in wanted]


Chain = tuple[list[tuple[str, Source]], Allowed]


def _home_for_you(_: PageState) -> Chain:
    chain = [
        ("collaborative", for_customer),
        ("session", for_session),
        ("trending", trending("")),
        ("catalog", newest("")),
    ]
    return chain, _anything


def _home_trending(_: PageState) -> Chain:
    return [("trending", trending("")), ("catalog", newest(""))], _anything


def _category_ranking(state: PageState) -> Chain:
    scope = state.request.page.category or ""
    reason = "personalized" if state.scores.get("n", 0.0) > 0 else "trending"
    return [(reason, category_ranking), ("catalog", newest(scope))], under([scope])


def _product_similar(state: PageState) -> Chain:
    anchor = state.anchor
    scope = anchor.category if anchor else ""
    same = lambda _: [scope]  # noqa: E731
    chain = [
        ("similar", similar),
        ("session", from_items(lambda s: [s.request.page.item_id or ""])),
        ("same_brand", same_attribute("brand", same)),
        ("same_color", same_attribute("color", same)),
        ("trending", trending(scope)),
        ("catalog", newest(scope)),
    ]
    return chain, under([scope]) if scope else _anything


def _complete_the_look(state: PageState) -> Chain:
    scopes = complements(state)
    chain = [
        ("cross_sell", rules_from(_anchor_and_cart)),
        ("similar", similar),
        ("same_brand", same_attribute("brand", complements)),
        ("same_color", same_attribute("color", complements)),
    ]
    chain += [("trending", trending(scope)) for scope in scopes]
    return chain, under(scopes)


def _cart_cross_sell(state: PageState) -> Chain:
    chain = [
        ("cross_sell", rules_from(_cart)),
        ("session", from_items(_cart)),
        ("trending", trending("")),
        ("catalog", newest("")),
    ]
    return chain, _anything


_CHAINS: dict[str, Callable[[PageState], Chain]] = {
    "home_for_you": _home_for_you,
    "home_trending": _home_trending,
    "category_ranking": _category_ranking,
    "product_similar": _product_similar,
    "product_complete_the_look": _complete_the_look,
    "cart_cross_sell": _cart_cross_sell,
}
