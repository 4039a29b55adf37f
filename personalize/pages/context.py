"""What one page view knows, built once by ``personalize.pages.view`` and read by its placements, banners and nudge.

It holds the request, the visitor (scores, recent items, the signed customer's standing and coupons), the cart's
subtotal, and the parts of the process a page reads (catalog index, models, trending lists, the settings of
recommendations) — not the whole runtime. ``blocked`` grows as the page fills: no item appears twice on a page.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.program import Reward
from loyalty_nudges.rewards import within_reach
from personalize.catalog.index import CatalogIndex
from personalize.catalog.items import Item
from personalize.loyalty.standing import Standing
from personalize.models.artifacts import ModelSet
from personalize.settings import RecommendationSettings
from personalize.tracking.trending_cache import TrendingCache

if TYPE_CHECKING:
    from personalize.pages.types import PageRequest


class PageContext:
    """One page view's inputs; see the module docstring."""

    def __init__(
        self,
        *,
        request: PageRequest,
        now: int,
        catalog: CatalogIndex,
        models: ModelSet | None,
        trending: TrendingCache,
        settings: RecommendationSettings,
        currency: str,
        customer_id: str | None,
        scores: dict[str, float],
        recent: Sequence[str],
        landing_source: str | None,
        standing: Standing | None = None,
        coupons: Sequence[Coupon] = (),
        cart_minor: int = 0,
        session_id: str = "",
    ) -> None:
        self.request, self.now, self.session_id = request, now, session_id
        self.catalog, self.models, self.trending = catalog, models, trending
        self.settings, self.currency = settings, currency
        self.customer_id, self.scores, self.recent = customer_id, scores, list(recent)
        self.landing_source, self.standing, self.coupons = landing_source, standing, tuple(coupons)
        self.cart_minor = cart_minor
        self.strategies: dict[str, str] = {}
        """Placements whose experiment arm ranks another source first (``personalize.experiments``)."""
        self.blocked = {line.item_id for line in request.page.cart} | set(request.exclude)
        if request.page.item_id:
            self.blocked.add(request.page.item_id)

    @functools.cached_property
    def loyal_brand(self) -> str | None:
        """The brand the visitor is loyal to: with ``loyal_brand_events`` weighted events, their top brand when it
        holds ``loyal_brand_share`` of their brand affinity (a row lets it past its brand cap); else ``None``."""
        if self.scores.get("n", 0.0) < self.settings.loyal_brand_events:
            return None
        brands = {key[6:]: value for key, value in self.scores.items() if key.startswith("brand:") and value > 0}
        total = sum(brands.values())
        if not total:
            return None
        top = max(brands, key=lambda brand: (brands[brand], brand))
        return top if brands[top] >= self.settings.loyal_brand_share * total else None

    @functools.cached_property
    def reward_within_reach(self) -> tuple[Reward, int] | None:
        """The reward the signed customer is a few points from, and the points missing (the nudge's and the banners'
        ``reward_within_reach``)."""
        standing = self.standing
        if standing is None or not standing.program.rewards:
            return None
        return within_reach(standing.program, standing.ledger.tier, standing.points, self.now)

    @property
    def anchor(self) -> Item | None:
        """The product page's item."""
        return self.catalog.get(self.request.page.item_id) if self.request.page.item_id else None

    def affinity(self, item: Item) -> float:
        """The visitor's affinity for an item: weighted sum of its attributes' decayed scores."""
        values = {"brand": item.brand, "color": item.color, "price_band": str(self.catalog.price_band(item))}
        return sum(
            w * self.scores.get(f"{attr}:{values[attr]}", 0.0)
            for attr, w in self.settings.attribute_weights.items()
            if attr in values
        )
