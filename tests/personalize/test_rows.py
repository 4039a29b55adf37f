"""A row's own rules: near-duplicate titles, the brand cap and the loyal brand."""

from __future__ import annotations

from personalize.catalog.items import Item
from personalize.pages.rows import Row, brand_cap, title_key


def item(item_id: str, title: str, brand: str = "Zara", color: str = "red") -> Item:
    return Item(item_id=item_id, title=title, brand=brand, category="women/dresses", price=100, color=color)


def test_titles_differing_only_by_colour_case_or_punctuation_are_twins() -> None:
    red = item("a", "Zara Red Linen Wrap-Dress", color="red")
    black = item("b", "zara black linen wrap dress", color="black")
    other = item("c", "Zara Red Linen Midi Dress", color="red")
    assert title_key(red) == title_key(black)
    assert title_key(red) != title_key(other)
    assert title_key(red) != title_key(item("d", "Zara Red Linen Wrap-Dress", brand="Mango"))


def test_the_cap_scales_with_the_row_and_never_drops_below_one() -> None:
    assert brand_cap(8, 0.375) == 3
    assert brand_cap(2, 0.375) == 1
    assert brand_cap(8, None) is None


def test_a_row_refuses_twins_always_and_brands_over_the_cap_only_when_capped() -> None:
    row = Row(limit=4, cap=1, free_brand="Gucci")
    row.add(item("a", "Zara Red Silk Dress"), 1.0, "similar")
    assert not row.admits(item("b", "Zara Black Silk Dress", color="black"), capped=False)
    assert not row.admits(item("c", "Zara Red Wool Dress"), capped=True)
    assert row.admits(item("c", "Zara Red Wool Dress"), capped=False)
    row.add(item("g1", "Gucci Gown One", brand="Gucci"), 1.0, "similar")
    assert row.admits(item("g2", "Gucci Gown Two", brand="Gucci"), capped=True)  # the loyal brand passes
    row.add(item("g2", "Gucci Gown Two", brand="Gucci"), 1.0, "similar")
    row.add(item("m", "Mango Dress", brand="Mango"), 1.0, "similar")
    assert row.full
