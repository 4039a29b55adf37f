"""The one registry of placements: every placement's name, the page types it is a default of, its fallback chain
and categories (``chain``), the order placements are filled in, and whether it depends on the visitor.

Everything else derives from :data:`REGISTRY` — the page types' defaults, the names a request may ask for (and
the OpenAPI enum), the fill order, the placement cache's visitor-free set, and the list the snippet is served
with (``personalize.api.snippet``) — so a placement is added here, once, or nowhere.

Fill order: placements whose own source is the page's point are filled first (the trending row takes the
trending head); ``home_for_you``, which falls back to trending, comes last and continues below it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec

from personalize.pages import sources

if TYPE_CHECKING:
    from personalize.pages.context import PageContext
    from personalize.pages.types import PageRequest

HOME_FOR_YOU = "home_for_you"
HOME_TRENDING = "home_trending"
CATEGORY_RANKING = "category_ranking"
PRODUCT_SIMILAR = "product_similar"
PRODUCT_COMPLETE_THE_LOOK = "product_complete_the_look"
CART_CROSS_SELL = "cart_cross_sell"


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """One placement: its name, the page types that show it by default, its fill rank (lower first), whether its
    content depends on the visitor, and the chain of sources (with the categories it may show) it falls down."""

    name: str
    pages: tuple[str, ...]
    fill_rank: int
    visitor_free: bool
    chain: Callable[[PageContext], sources.Chain]


REGISTRY: tuple[Placement, ...] = (
    Placement(name=HOME_FOR_YOU, pages=("home",), fill_rank=5, visitor_free=False, chain=sources.home_for_you),
    Placement(name=HOME_TRENDING, pages=("home",), fill_rank=0, visitor_free=True, chain=sources.home_trending),
    Placement(name=CATEGORY_RANKING, pages=("category",), fill_rank=1, visitor_free=False, chain=sources.category_page),
    Placement(name=PRODUCT_SIMILAR, pages=("product",), fill_rank=2, visitor_free=True, chain=sources.product_similar),
    Placement(
        name=PRODUCT_COMPLETE_THE_LOOK,
        pages=("product",),
        fill_rank=3,
        visitor_free=True,
        chain=sources.complete_the_look,
    ),
    Placement(name=CART_CROSS_SELL, pages=("cart",), fill_rank=4, visitor_free=True, chain=sources.cart_cross_sell),
)
BY_NAME: dict[str, Placement] = {placement.name: placement for placement in REGISTRY}
NAMES: tuple[str, ...] = tuple(sorted(BY_NAME))
"""Every placement a request may name (the OpenAPI enum, the snippet's list)."""
VISITOR_FREE = frozenset(placement.name for placement in REGISTRY if placement.visitor_free)
"""Placements whose content does not depend on the visitor's profile, customer or session."""


def defaults(page_type: str) -> tuple[str, ...]:
    """The placements a page type shows when the request names none, in registry order."""
    return tuple(placement.name for placement in REGISTRY if page_type in placement.pages)


def placements_for(request: PageRequest) -> tuple[str, ...]:
    """The requested placements, else the defaults of the page type."""
    return tuple(request.placements) if request.placements else defaults(request.page.type)


def fill_order(names: Sequence[str]) -> list[Placement]:
    """The placements of ``names`` in the order they are filled (each known: requests are validated)."""
    return sorted((BY_NAME[name] for name in names), key=lambda placement: placement.fill_rank)
