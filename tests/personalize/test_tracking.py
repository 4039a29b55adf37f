"""Events reduced to increments: fields per attribute, price bands, weights, unknown items, times."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from personalize.catalog.index import CatalogIndex
from personalize.catalog.items import Item
from personalize.tracking.scoring import event_ts, score_events
from personalize.tracking.types import AddToCart, Event, ProductView, Search
from tests.conftest import make_settings

NOW = 1_800_000_000_000


def catalog() -> CatalogIndex:
    items = [
        Item(item_id=f"d{n}", title="Dress", brand="Gucci", category="women/dresses", price=1000 * (n + 1), color="red")
        for n in range(10)
    ]
    items.append(Item(item_id="s1", title="Shoe", brand="Prada", category="women/shoes", price=1, color=""))
    return CatalogIndex(items, 1)


def test_price_band_is_the_quintile_within_the_leaf_category() -> None:
    index = catalog()
    assert [index.price_band(index.items[f"d{n}"]) for n in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert index.price_band(index.items["s1"]) == 1


def test_a_view_touches_every_attribute_with_its_weight() -> None:
    scored, unknown = score_events([ProductView(item_id="d9", ts=NOW - 5)], catalog(), make_settings(), NOW)
    assert unknown == 0
    (event,) = scored
    assert event.fields == ("brand:Gucci", "category:women", "category:women/dresses", "color:red", "price_band:5", "n")
    assert (event.affinity, event.trend, event.item_id, event.scopes) == (
        1.0,
        1.0,
        "d9",
        ("", "women", "women/dresses"),
    )
    assert event.ts == NOW - 5


def test_cart_weights_unknown_items_and_searches() -> None:
    events = [AddToCart(item_id="s1"), ProductView(item_id="ghost"), Search(query="red dress")]
    scored, unknown = score_events(events, catalog(), make_settings(), NOW)
    assert unknown == 1
    assert (scored[0].affinity, scored[0].trend) == (5.0, 3.0)
    assert "color:" not in " ".join(scored[0].fields)
    assert [(e.fields, e.scopes) for e in scored[1:]] == [((), ()), ((), ())]


def test_event_times_are_clamped_to_now_and_accept_iso() -> None:
    assert event_ts(ProductView(item_id="x", ts=NOW + 3_600_000), NOW) == NOW
    iso = ProductView(item_id="x", ts=datetime.fromtimestamp((NOW - 1000) / 1000, tz=UTC))
    assert event_ts(iso, NOW) == NOW - 1000
    assert event_ts(ProductView(item_id="x"), NOW) == NOW


def test_a_fractional_ts_is_milliseconds_not_seconds() -> None:
    # litestar converts bodies leniently: a number that is not whole must not turn into a datetime of seconds
    event = msgspec.convert({"type": "product_view", "item_id": "d1", "ts": NOW - 0.5}, Event, strict=False)
    assert event_ts(event, NOW) == NOW - 1
    with pytest.raises(msgspec.ValidationError, match="ts"):
        msgspec.convert({"type": "product_view", "item_id": "d1", "ts": -1.5}, Event, strict=False)
