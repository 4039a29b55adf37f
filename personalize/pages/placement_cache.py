"""Placements that are the same for every visitor, composed once per moment per process.

The registry's visitor-free placements (``personalize.pages.placements``: the similar and complete-the-look rows
of a product page, a cart's cross-sell, the home page's trending row) depend on the page (anchor item, cart,
exclusions, limit), the catalog, the models and the trending lists — not on who is looking. A page whose requested
placements are all of that kind is composed once and reused for ``trending.cache_seconds``: the same age the
trending lists themselves are reused for, so a cached page is never staler than one composed from the cached
trending lists. The key holds the catalog version and the model set, so a catalog change or a model reload is seen
at once. At most ``MAX_ENTRIES`` pages are kept, least recently used first out.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from personalize.pages.types import RecommendedItem

MAX_ENTRIES = 20_000

Placements = dict[str, list[RecommendedItem]]


class PlacementCache:
    """Composed visitor-free placements by page key, each kept for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._pages: dict[Hashable, tuple[float, Placements]] = {}

    def get(self, key: Hashable) -> Placements | None:
        """The page's placements if composed less than ``seconds`` ago."""
        found = self._pages.get(key)
        if found is None or time.monotonic() - found[0] >= self.seconds:
            return None
        return found[1]

    def put(self, key: Hashable, placements: Placements) -> None:
        """Keep the page's placements (never mutated afterwards: the response encoder only reads them)."""
        if self.seconds <= 0:
            return
        self._pages.pop(key, None)
        self._pages[key] = (time.monotonic(), placements)
        if len(self._pages) > MAX_ENTRIES:
            del self._pages[next(iter(self._pages))]

    def __len__(self) -> int:
        return len(self._pages)
