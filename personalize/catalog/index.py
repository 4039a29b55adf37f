"""Catalog items: the wire types, the stored record, and the in-process index that serves reads.

Each server process keeps a :class:`CatalogIndex` of the whole catalog (rebuilt when the store's catalog
version moves), so the request path never waits on the store for titles, prices or price bands.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from personalize import links, money
from personalize.clock import WireTime, check_time, epoch_ms
from personalize.openapi import list_of, schema

ItemId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
_CATEGORY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*(?:/[a-z0-9]+(?:[-_][a-z0-9]+)*){0,5}$")
# the pattern is checked by check_category (its message names the field), stated here for the schema
CategoryPath = Annotated[str, Meta(min_length=1, max_length=200), schema(pattern=_CATEGORY.pattern)]
Title = Annotated[str, Meta(min_length=1, max_length=300)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Link = Annotated[str, Meta(max_length=2000)]
Href = Annotated[Link, schema(pattern=links.LINK_PATTERN)]
"""An http(s) URL, a path on the shop's host or empty (``personalize.links``); checked in ``ItemIn.__post_init__``."""
Tag = Annotated[str, Meta(min_length=1, max_length=50)]
MAX_ITEMS_PER_CALL = 10_000
PRICE_BANDS = 5


class ItemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One catalog item as the shop sends it. ``category`` is a path of lowercase segments."""

    item_id: ItemId
    title: Title
    brand: Name
    category: CategoryPath
    price: money.Amount
    color: Annotated[str, Meta(max_length=40)] = ""
    in_stock: bool = True
    url: Href = ""
    image: Href = ""
    tags: Annotated[list[Tag], Meta(max_length=32), list_of(Tag)] = msgspec.field(default_factory=list)
    created_at: WireTime | None = None

    def __post_init__(self) -> None:
        check_category(self.category, "category")
        check_time(self.created_at, "created_at")
        money.check_amount(self.price, "price")
        links.check_link(self.url, "url")
        links.check_link(self.image, "image")


class CatalogUpsert(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``PUT /v1/catalog/items``."""

    items: Annotated[list[ItemIn], Meta(min_length=1, max_length=MAX_ITEMS_PER_CALL)]


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """A stored catalog item; ``price`` in minor units, ``created_at_ms`` epoch milliseconds or 0."""

    item_id: str
    title: str
    brand: str
    category: str
    price: int
    color: str = ""
    in_stock: bool = True
    url: str = ""
    image: str = ""
    tags: tuple[str, ...] = ()
    created_at_ms: int = 0


class ItemOut(msgspec.Struct, kw_only=True):
    """A catalog item as the API returns it (money as a number in the shop currency)."""

    item_id: str
    title: str
    brand: str
    category: str
    price: float
    color: str
    in_stock: bool
    url: str
    image: str
    tags: list[str]
    created_at: datetime | None


class ItemPage(msgspec.Struct):
    """One page of ``GET /v1/catalog/items``; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[ItemOut]
    next_cursor: str | None


class UpsertResult(msgspec.Struct):
    """What ``PUT /v1/catalog/items`` changed."""

    upserted: int
    catalog_version: int


def to_item(item: ItemIn, currency: str, field: str = "price") -> Item:
    """The stored form of a validated wire item; ``field`` names its price in a refusal (``items[3].price``)."""
    created = epoch_ms(item.created_at) if item.created_at is not None else 0
    return Item(
        item_id=item.item_id,
        title=item.title,
        brand=item.brand,
        category=item.category,
        price=money.minor_units(item.price, currency, field),
        color=item.color.lower(),
        in_stock=item.in_stock,
        url=item.url,
        image=item.image,
        tags=tuple(item.tags),
        created_at_ms=created,
    )


def to_out(item: Item, currency: str) -> ItemOut:
    """The wire form of a stored item."""
    created = datetime.fromtimestamp(item.created_at_ms / 1000, tz=UTC) if item.created_at_ms else None
    return ItemOut(
        item_id=item.item_id,
        title=item.title,
        brand=item.brand,
        category=item.category,
        price=money.to_major(item.price, currency),
        color=item.color,
        in_stock=item.in_stock,
        url=item.url,
        image=item.image,
        tags=list(item.tags),
        created_at=created,
    )


def check_category(path: str, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``path`` is 1–6 lowercase segments joined by ``/``."""
    if not _CATEGORY.match(path):
        raise ValueError(f"{name} {path[:80]!r} must be a path of lowercase segments such as 'women/dresses'")


@functools.lru_cache(maxsize=4096)
def category_levels(path: str) -> tuple[str, ...]:
    """``women/dresses/midi`` → ``("women", "women/dresses", "women/dresses/midi")`` (cached: shops have few)."""
    parts = path.split("/")
    return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))


class CatalogIndex:
    """An immutable in-process view of the whole catalog at one version."""

    def __init__(self, items: Iterable[Item], version: int) -> None:
        self.version = version
        self.items: dict[str, Item] = {item.item_id: item for item in items}
        prices: dict[str, list[int]] = defaultdict(list)
        by_category: dict[str, list[str]] = defaultdict(list)
        by_brand: dict[str, list[str]] = defaultdict(list)
        by_color: dict[str, list[str]] = defaultdict(list)
        by_category_brand: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_category_color: dict[tuple[str, str], list[str]] = defaultdict(list)
        for item in self.items.values():
            prices[item.category].append(item.price)
            by_brand[item.brand].append(item.item_id)
            by_color[item.color].append(item.item_id)
            for level in category_levels(item.category):
                by_category[level].append(item.item_id)
                by_category_brand[(level, item.brand)].append(item.item_id)
                by_category_color[(level, item.color)].append(item.item_id)
        self._leaf_prices = {leaf: sorted(values) for leaf, values in prices.items()}
        by_category[""] = list(self.items)
        newest_first = self._newest_first
        self.by_category = {scope: sorted(ids, key=newest_first) for scope, ids in by_category.items()}
        """Item ids under each category level (``""``: all), newest first."""
        self.by_brand = {brand: sorted(ids, key=newest_first) for brand, ids in by_brand.items()}
        """Item ids of each brand, newest first."""
        self.by_color = {color: sorted(ids, key=newest_first) for color, ids in by_color.items()}
        """Item ids of each colour, newest first."""
        self.by_category_brand = {key: sorted(ids, key=newest_first) for key, ids in by_category_brand.items()}
        """Item ids of each (category level, brand), newest first."""
        self.by_category_color = {key: sorted(ids, key=newest_first) for key, ids in by_category_color.items()}
        """Item ids of each (category level, colour), newest first."""
        self._bands = {item.item_id: self._band(item) for item in self.items.values()}
        self.by_price = sorted((item.price, item.item_id) for item in self.items.values() if item.in_stock)
        """In-stock items as (price, id), cheapest first."""

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
