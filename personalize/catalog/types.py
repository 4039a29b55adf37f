"""The catalog's wire types (``PUT /v1/catalog/items`` and its reads) and their conversion to stored items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from personalize import links, money
from personalize.catalog.items import CategoryPath, Item, ItemId, check_category
from personalize.clock import WireTime, check_time, epoch_ms
from personalize.openapi import list_of, schema

Title = Annotated[str, Meta(min_length=1, max_length=300)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Link = Annotated[str, Meta(max_length=2000)]
Href = Annotated[Link, schema(pattern=links.LINK_PATTERN)]
"""An http(s) URL, a path on the shop's host or empty (``personalize.links``); checked in ``ItemIn.__post_init__``."""
Tag = Annotated[str, Meta(min_length=1, max_length=50)]
MAX_ITEMS_PER_CALL = 10_000


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
