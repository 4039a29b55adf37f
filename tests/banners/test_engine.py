"""Choice: slots and priorities, variants, holdouts, and the index by page type."""

from __future__ import annotations

from banners import TemplateValues
from tests.banners.documents import banner, context, load, shown_ids

PRODUCT_ONLY = {"type": "page_type", "values": ["product"]}


def test_priority_desc_then_id_and_slot_max() -> None:
    doc = {
        "slots": {"hero": {"max": 2}},
        "banners": [
            banner("low", priority=1),
            banner("b-high", priority=5),
            banner("a-high", priority=5),
            banner("bar-1", slot="top_bar", priority=0),
            banner("bar-2", slot="top_bar", priority=3),
        ],
    }
    # Slots come in name order; an undeclared slot (top_bar) shows one banner.
    assert shown_ids(load(doc)) == ["a-high", "b-high", "bar-2"]


def test_a_slot_stops_once_full() -> None:
    doc = {"banners": [banner(f"b{n:02d}", priority=-n) for n in range(20)]}
    evaluated: list[str] = []
    choice = load(doc).choose(context(), TemplateValues(), evaluated=evaluated)
    assert [chosen.id for chosen in choice.shown] == ["b00"]
    assert evaluated == ["b00"]


def test_non_matching_banners_let_lower_ones_in() -> None:
    doc = {"banners": [banner("us", priority=9, when={"type": "country", "values": ["US"]}), banner("any")]}
    assert shown_ids(load(doc), country="US") == ["us"]
    assert shown_ids(load(doc), country="FR") == ["any"]


def test_variants_override_fields() -> None:
    base = banner(
        "test",
        link="https://shop.example/a",
        image="/img/a.png",
        variants=[
            {"name": "plain", "weight": 1},
            {
                "name": "bold",
                "weight": 1,
                "title": "BOLD {first_name}",
                "link": "/b",
                "image": "https://cdn.example/b.png",
            },
        ],
    )
    banners = load({"banners": [base]})
    seen = {}
    for n in range(200):
        chosen = banners.choose(context(subject=f"s{n}"), TemplateValues(first_name="Ada")).shown[0]
        seen[chosen.arm] = (chosen.title, chosen.text, chosen.link, chosen.image)
    assert seen == {
        "plain": ("Hello", "World", "https://shop.example/a", "/img/a.png"),
        "bold": ("BOLD Ada", "World", "/b", "https://cdn.example/b.png"),
    }


def test_a_variant_needing_a_missing_value_is_skipped_for_its_subjects_only() -> None:
    variants = [{"name": "plain"}, {"name": "named", "title": "Hi {first_name}"}]
    banners = load({"banners": [banner("test", variants=variants)]})
    arms = {banners.choose(context(subject=f"s{n}"), TemplateValues()).exposures() == [] for n in range(100)}
    assert arms == {True, False}


def test_arm_is_control_without_variants() -> None:
    chosen = load({"banners": [banner()]}).choose(context(), TemplateValues()).shown[0]
    assert (chosen.id, chosen.slot, chosen.arm, chosen.link, chosen.image, chosen.coupon_code) == (
        "b1",
        "hero",
        "control",
        None,
        None,
        None,
    )


def test_held_out_banners_are_reported_and_free_their_place() -> None:
    banners = load({"banners": [banner("test", priority=5, holdout_pct=100), banner("next")]})
    choice = banners.choose(context(), TemplateValues())
    assert [chosen.id for chosen in choice.shown] == ["next"]
    assert [(held.id, held.slot, held.arm) for held in choice.held_out] == [("test", "hero", "holdout")]
    assert choice.exposures() == [("next", "control"), ("test", "holdout")]


def test_held_out_is_not_reported_when_the_banner_could_not_render() -> None:
    banners = load({"banners": [banner("test", title="Hi {first_name}", holdout_pct=100)]})
    assert banners.choose(context(), TemplateValues()).exposures() == []
    assert banners.choose(context(), TemplateValues(first_name="Ada")).exposures() == [("test", "holdout")]


def test_holdout_with_variants_shows_the_variant_name() -> None:
    banners = load({"banners": [banner("test", holdout_pct=50, variants=[{"name": "a"}, {"name": "b"}])]})
    arms = {banners.choose(context(subject=f"s{n}"), TemplateValues()).exposures()[0][1] for n in range(200)}
    assert arms == {"a", "b", "holdout"}


def test_home_call_never_evaluates_product_only_banners() -> None:
    product = [banner(f"p{n:04d}", slot="pdp", when=PRODUCT_ONLY) for n in range(1000)]
    nested = banner(
        "p-nested", slot="pdp", when={"type": "all", "conditions": [{"type": "visitor", "value": "new"}, PRODUCT_ONLY]}
    )
    home = [banner("h1", when={"type": "page_type", "values": ["home"]}), banner("anywhere", slot="top_bar")]
    banners = load({"banners": [*product, nested, *home]})
    evaluated: list[str] = []
    choice = banners.choose(context(page_type="home"), TemplateValues(), evaluated=evaluated)
    assert sorted(evaluated) == ["anywhere", "h1"]
    assert [chosen.id for chosen in choice.shown] == ["h1", "anywhere"]
    assert banners.index_size("home") == 2
    assert banners.index_size("product") == 1002
    assert banners.index_size("cart") == 1
    assert banners.index_size("not-a-page-type") == 1


def test_product_call_stops_after_the_slot_fills() -> None:
    product = [banner(f"p{n:04d}", slot="pdp", when=PRODUCT_ONLY) for n in range(1000)]
    banners = load({"slots": {"pdp": {"max": 3}}, "banners": product})
    evaluated: list[str] = []
    choice = banners.choose(context(page_type="product"), TemplateValues(), evaluated=evaluated)
    assert evaluated == ["p0000", "p0001", "p0002"]
    assert len(choice.shown) == 3


def test_empty_file_shows_nothing() -> None:
    banners = load({})
    assert banners.choose(context(), TemplateValues()).shown == []
    assert banners.ids == ()
