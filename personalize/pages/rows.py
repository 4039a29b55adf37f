"""What one row of items may hold, beyond the page's own rules (in stock, allowed category, not already shown):

- never two items of one near-duplicate title: the same brand and the same title once its colour word, case
  and punctuation are set aside (the same dress in red and in black is one choice to a shopper);
- from the steps of a chain that say so (``Step.capped``), at most ``recommendations.brand_share`` of the row
  of one brand, except the brand the visitor is loyal to (:attr:`~personalize.pages.context.PageContext.loyal_brand`).
  Chains follow capped steps with the same steps uncapped, so a cap never leaves a row short.
"""

from __future__ import annotations

import functools
import math
import re

from personalize.catalog.items import Item

_WORD = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=65_536)
def _key(brand: str, title: str, color: str) -> tuple[str, str]:
    colour = color.lower()
    return brand.lower(), " ".join(word for word in _WORD.findall(title.lower()) if word != colour)


def title_key(item: Item) -> tuple[str, str]:
    """What near-duplicate titles share: the brand and the title without its colour word, case or punctuation."""
    return _key(item.brand, item.title, item.color)


def brand_cap(limit: int, share: float | None) -> int | None:
    """Most items of one brand in a row of ``limit`` (at least one), or ``None`` when the row has no cap."""
    return None if share is None else max(1, math.floor(limit * share))


class Row:
    """A row being filled: its items with their scores and reasons, its titles and its brands."""

    def __init__(self, limit: int, cap: int | None, free_brand: str | None) -> None:
        self.limit, self.cap, self.free_brand = limit, cap, free_brand
        self.chosen: list[tuple[Item, float, str]] = []
        self._titles: set[tuple[str, str]] = set()
        self._brands: dict[str, int] = {}

    @property
    def full(self) -> bool:
        return len(self.chosen) >= self.limit

    def admits(self, item: Item, capped: bool) -> bool:
        """Whether the item may join: no near-duplicate title in the row, and its brand under the cap."""
        if title_key(item) in self._titles:
            return False
        if not capped or self.cap is None or item.brand == self.free_brand:
            return True
        return self._brands.get(item.brand, 0) < self.cap

    def add(self, item: Item, score: float, reason: str) -> None:
        self.chosen.append((item, score, reason))
        self._titles.add(title_key(item))
        self._brands[item.brand] = self._brands.get(item.brand, 0) + 1
