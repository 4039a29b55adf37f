"""The in-process index of the whole catalog that serves reads.

Each server process keeps a :class:`CatalogIndex` of the whole catalog (rebuilt when the store's catalog
version moves), so the request path never waits on the store for titles, prices or price bands.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable

from personalize.catalog.items import Item, category_levels

PRICE_BANDS = 5


class CatalogIndex:
    """An immutable in-process view of the whole catalog at one version."""

    def __init__(self, items: Iterable[Item], version: int) -> None:
        self.version = version
        self.items: dict[str, Item] = {item.item_id: item for item in items}
        prices: dict[str, list[int]] = defaultdict(list)
        by_category: dict[str, list[str]] = defaultdict(list)
        by_category_brand: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_category_color: dict[tuple[str, str], list[str]] = defaultdict(list)
        for item in self.items.values():
            prices[item.category].append(item.price)
            for level in category_levels(item.category):
                by_category[level].append(item.item_id)
                by_category_brand[(level, item.brand)].append(item.item_id)
                by_category_color[(level, item.color)].append(item.item_id)
        self._leaf_prices = {leaf: sorted(values) for leaf, values in prices.items()}
        by_category[""] = list(self.items)
        newest_first = self._newest_first
        self.by_category = {scope: sorted(ids, key=newest_first) for scope, ids in by_category.items()}
        """Item ids under each category level (``""``: all), newest first."""
        self.by_category_brand = {key: sorted(ids, key=newest_first) for key, ids in by_category_brand.items()}
        """Item ids of each (category level, brand), newest first."""
        self.by_category_color = {key: sorted(ids, key=newest_first) for key, ids in by_category_color.items()}
        """Item ids of each (category level, colour), newest first."""
        self._bands = {item.item_id: self._band(item) for item in self.items.values()}
        self.by_price = sorted((item.price, item.item_id) for item in self.items.values() if item.in_stock)
        """In-stock items as (price, id), cheapest first."""
        by_leaf_price: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for price, item_id in self.by_price:
            by_leaf_price[self.items[item_id].category].append((price, item_id))
        self.by_leaf_price = dict(by_leaf_price)
        """In-stock items of each leaf category as (price, id), cheapest first."""

    def newest_first(self, item_id: str) -> tuple[int, str]:
        """Sort key: newest item first, then by id."""
        return self._newest_first(item_id)

    def _newest_first(self, item_id: str) -> tuple[int, str]:
        return -self.items[item_id].created_at_ms, item_id

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> Item | None:
        """The item, or ``None`` when it is not in the catalog."""
        return self.items.get(item_id)

    def price_band(self, item: Item) -> int:
        """Quintile (1 cheapest … 5) of the item's price among the items of its leaf category."""
        band = self._bands.get(item.item_id)
        return band if band is not None and self.items.get(item.item_id) is item else self._band(item)

    def _band(self, item: Item) -> int:
        prices = self._leaf_prices.get(item.category)
        if not prices:
            return 1
        below = bisect.bisect_left(prices, item.price)
        return 1 + min(PRICE_BANDS - 1, below * PRICE_BANDS // len(prices))
