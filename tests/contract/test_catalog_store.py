"""The catalog store contract, on both backends."""

from __future__ import annotations

import pytest

from personalize.catalog.items import Item
from personalize.store.protocols import Store

pytestmark = pytest.mark.anyio


def item(n: int, brand: str = "Gucci", category: str = "women/dresses", price: int = 10_000) -> Item:
    return Item(item_id=f"i{n:04d}", title=f"Item {n}", brand=brand, category=category, price=price)


async def test_upsert_then_get_returns_the_item(store: Store) -> None:
    version = await store.catalog.upsert_items([item(1), item(2)])
    assert version == 1
    assert await store.catalog.get_item("i0001") == item(1)
    assert await store.catalog.get_item("missing") is None
    assert await store.catalog.version() == 1


async def test_upsert_replaces_and_moves_the_indexes(store: Store) -> None:
    await store.catalog.upsert_items([item(1, brand="Gucci", category="women/dresses")])
    await store.catalog.upsert_items([item(1, brand="Prada", category="men/shoes", price=5)])
    assert (await store.catalog.get_item("i0001")) == item(1, brand="Prada", category="men/shoes", price=5)
    gucci, _ = await store.catalog.list_items(brand="gucci", category=None, limit=10, cursor=None)
    dresses, _ = await store.catalog.list_items(brand=None, category="women", limit=10, cursor=None)
    men, _ = await store.catalog.list_items(brand="PRADA", category="men", limit=10, cursor=None)
    assert (gucci, dresses, [i.item_id for i in men]) == ([], [], ["i0001"])
    assert await store.catalog.version() == 2


async def test_paging_visits_every_matching_item_once_in_id_order(store: Store) -> None:
    items = [
        item(n, brand="Gucci" if n % 3 else "Prada", category="women/bags" if n % 2 else "women/shoes")
        for n in range(1, 1201)
    ]
    await store.catalog.upsert_items(items)
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = await store.catalog.list_items(brand="gucci", category="women/bags", limit=97, cursor=cursor)
        seen += [i.item_id for i in page]
        if cursor is None:
            break
    expected = [i.item_id for i in items if i.brand == "Gucci" and i.category == "women/bags"]
    assert seen == sorted(expected)
    assert len(seen) == 400


async def test_category_filter_matches_whole_levels_only(store: Store) -> None:
    await store.catalog.upsert_items([item(1, category="women/dresses"), item(2, category="women/dresses-long")])
    page, cursor = await store.catalog.list_items(brand=None, category="women/dresses", limit=10, cursor=None)
    assert [i.item_id for i in page] == ["i0001"]
    assert cursor is None


async def test_all_items_streams_the_whole_catalog(store: Store) -> None:
    await store.catalog.upsert_items([item(n) for n in range(2500)])
    ids = {i.item_id async for i in store.catalog.all_items()}
    assert len(ids) == 2500
