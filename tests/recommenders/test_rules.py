"""Association rules: hand-counted baskets, exact thresholds, serving, and the published groceries numbers."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from recommenders.rules import AssociationRules, Rule, RulesError, mine_rules
from recommenders.rules_eval import format_report, read_baskets, rules_report

BASKETS = [
    ["bread", "milk"],
    ["bread", "butter", "milk"],
    ["bread", "butter"],
    ["milk", "eggs"],
    ["bread", "milk", "butter", "eggs"],
]
# Counts by hand: bread 4, milk 4, butter 3, eggs 2; bread+milk 3, bread+butter 3, milk+butter 2,
# milk+eggs 2, bread+eggs 1, butter+eggs 1, bread+butter+milk 2.


def by_key(rules: list[Rule]) -> dict[tuple[tuple[str, ...], str], Rule]:
    return {(rule.antecedent, rule.consequent): rule for rule in rules}


def test_counts_and_measures_match_a_hand_count() -> None:
    rules = by_key(mine_rules(BASKETS, min_support=0.2, min_confidence=0.6))
    butter_bread = rules[("butter",), "bread"]
    assert (butter_bread.count, butter_bread.antecedent_count, butter_bread.consequent_count) == (3, 3, 4)
    assert butter_bread.support == pytest.approx(3 / 5)
    assert butter_bread.confidence == pytest.approx(1.0)
    assert butter_bread.lift == pytest.approx((3 / 3) / (4 / 5))
    bread_butter = rules[("bread",), "butter"]
    assert bread_butter.confidence == pytest.approx(3 / 4)
    assert bread_butter.lift == pytest.approx((3 / 4) / (3 / 5))
    pair_milk = rules[("bread", "butter"), "milk"]
    assert (pair_milk.count, pair_milk.antecedent_count, pair_milk.n_baskets) == (2, 3, 5)
    assert pair_milk.lift == pytest.approx((2 / 3) / (4 / 5))
    assert (("bread",), "milk") in rules
    assert (("eggs",), "bread") not in rules  # bread+eggs is in 1 basket, below 0.2 · 5
    assert (("milk",), "eggs") not in rules  # confidence 2/4 < 0.6


def test_rules_come_sorted_by_lift_then_count() -> None:
    rules = mine_rules(BASKETS, min_support=0.2, min_confidence=0.1)
    keys = [(-rule.lift, -rule.count) for rule in rules]
    assert keys == sorted(keys)
    assert all(rule.antecedent == tuple(sorted(rule.antecedent)) for rule in rules)


def test_length_one_rules_have_an_empty_antecedent_and_lengths_are_bounded() -> None:
    everything = mine_rules(BASKETS, min_support=0.2, min_confidence=0.8)
    empty = {rule.consequent: rule for rule in everything if not rule.antecedent}
    assert set(empty) == {"bread", "milk"}  # support 0.8 each; butter 0.6 and eggs 0.4 fall short
    assert (empty["bread"].confidence, empty["bread"].lift) == (0.8, 1.0)
    assert Counter(len(rule.antecedent) + 1 for rule in everything).keys() == {1, 2, 3, 4}
    long = Counter(
        len(rule.antecedent) + 1 for rule in mine_rules(BASKETS, min_support=0.2, min_confidence=0.5, min_length=3)
    )
    assert long.keys() == {3, 4}
    assert mine_rules(BASKETS, min_support=0.2, min_confidence=0.5, min_length=5) == []
    short = mine_rules(BASKETS, min_support=0.2, min_confidence=0.5, min_length=2, max_length=2)
    assert short
    assert all(len(rule.antecedent) == 1 for rule in short)


def test_an_item_repeated_in_a_basket_counts_once() -> None:
    rules = by_key(mine_rules([["a", "a", "b"], ["a"], ["b", "b"]], min_support=0.3, min_confidence=0.1))
    a_to_b = rules[("a",), "b"]
    assert (a_to_b.count, a_to_b.antecedent_count, a_to_b.consequent_count) == (1, 2, 2)
    assert a_to_b.confidence == 0.5


def test_an_itemset_exactly_at_min_support_is_kept() -> None:
    baskets = [["x", "y"]] * 7 + [["z"]] * 43
    assert 0.14 * 50 > 7  # a float threshold would drop the count of 7
    rules = by_key(mine_rules(baskets, min_support=0.14, min_confidence=0.5))
    assert rules[("x",), "y"].count == 7
    assert not mine_rules(baskets, min_support=Fraction(15, 100), min_confidence=0.5, min_length=2)


def test_a_rule_exactly_at_min_confidence_is_kept() -> None:
    baskets = [["a", "b"]] * 7 + [["a"]] * 43
    assert 0.14 * 50 > 7
    rules = by_key(mine_rules(baskets, min_support=0.1, min_confidence=0.14))
    assert (rules[("a",), "b"].count, rules[("a",), "b"].antecedent_count) == (7, 50)
    assert (("a",), "b") not in by_key(mine_rules(baskets, min_support=0.1, min_confidence=0.141))


def test_confidence_above_compares_exactly() -> None:
    at = Rule(antecedent=("a",), consequent="b", count=4, antecedent_count=5, consequent_count=4, n_baskets=9)
    over = Rule(antecedent=("a",), consequent="b", count=5, antecedent_count=6, consequent_count=5, n_baskets=9)
    assert not at.confidence_above(Fraction(4, 5))
    assert over.confidence_above(Fraction(4, 5))


RuleKey = tuple[tuple[str, ...], str, int, int, int]


def brute_force(baskets: list[list[str]], min_count: int, min_confidence: Fraction) -> set[RuleKey]:
    counts: Counter[tuple[str, ...]] = Counter()
    for basket in baskets:
        items = sorted(set(basket))
        for size in range(1, len(items) + 1):
            counts.update(combinations(items, size))
    counts[()] = len(baskets)
    found: set[RuleKey] = set()
    for itemset, count in counts.items():
        for consequent in itemset if count >= min_count else ():
            antecedent = tuple(item for item in itemset if item != consequent)
            if Fraction(count, counts[antecedent]) >= min_confidence:
                found.add((antecedent, consequent, count, counts[antecedent], counts[(consequent,)]))
    return found


def test_matches_brute_force_enumeration_on_random_baskets() -> None:
    rng = random.Random(7)
    items = [f"i{k}" for k in range(9)]
    baskets = [rng.sample(items, rng.randint(1, 6)) for _ in range(40)]
    rules = mine_rules(baskets, min_support=0.1, min_confidence=0.3)
    mined = {(r.antecedent, r.consequent, r.count, r.antecedent_count, r.consequent_count) for r in rules}
    assert len(mined) == len(rules) > 50
    assert mined == brute_force(baskets, 4, Fraction(3, 10))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_support": 0, "min_confidence": 0.5},
        {"min_support": 1.5, "min_confidence": 0.5},
        {"min_support": 0.1, "min_confidence": -0.1},
        {"min_support": 0.1, "min_confidence": 0.5, "min_length": 0},
        {"min_support": 0.1, "min_confidence": 0.5, "min_length": 3, "max_length": 2},
    ],
)
def test_out_of_range_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(RulesError):
        mine_rules(BASKETS, **kwargs)  # type: ignore[arg-type]


CART_BASKETS = (
    [["a", "b", "d"]] * 3
    + [["a", "x"]] * 3
    + [["b", "y"]] * 3
    + [["s", "t"]] * 4
    + [["s", "u"]] * 2
    + [["u", "w"]] * 6
    + [["t", "w"]] * 4
)


def cart_model(**kwargs: int) -> AssociationRules:
    return AssociationRules(min_support=0.05, min_confidence=0.3, **kwargs).fit(CART_BASKETS)


def test_recommend_ranks_by_best_lift() -> None:
    ids, scores = cart_model().recommend(["s"], 5)
    n = len(CART_BASKETS)  # 25; s 6, t 8, u 8; s+t 4, s+u 2
    assert ids.tolist() == ["t", "u"]
    assert scores.dtype == np.float32
    assert scores.tolist() == pytest.approx([4 * n / (6 * 8), 2 * n / (6 * 8)])
    assert cart_model().recommend(["s"], 1)[0].tolist() == ["t"]


def test_recommend_takes_each_consequents_best_lift_over_all_fired_rules() -> None:
    ids, scores = cart_model().recommend(["s", "w"], 5)
    n = len(CART_BASKETS)  # w 10; u+w 6, t+w 4
    lifts = {"t": max(4 * n / (6 * 8), 4 * n / (10 * 8)), "u": max(2 * n / (6 * 8), 6 * n / (10 * 8))}
    assert dict(zip(ids.tolist(), scores.tolist(), strict=True)) == pytest.approx(lifts)
    assert ids.tolist() == ["t", "u"]


def test_recommend_drops_the_given_items_and_the_excluded_ones() -> None:
    model = cart_model()
    assert model.recommend(["s", "t"], 5)[0].tolist() == ["w", "u"]  # lifts 25/20 and 50/48
    assert model.recommend(["s"], 5, exclude={"t"})[0].tolist() == ["u"]
    assert model.recommend(["unknown"], 5)[0].tolist() == []
    assert model.recommend(["s"], 0)[0].tolist() == []


def test_a_multi_item_antecedent_fires_only_with_all_its_items() -> None:
    model = AssociationRules(min_support=0.05, min_confidence=0.9).fit(CART_BASKETS)
    assert "d" not in model.recommend(["a"], 10)[0].tolist()  # {a} ⇒ d has confidence 1/2
    assert "d" not in model.recommend(["a", "x"], 10)[0].tolist()
    assert "d" in model.recommend(["a", "b"], 10)[0].tolist()
    single = AssociationRules(min_support=0.05, min_confidence=0.9, max_antecedent=1).fit(CART_BASKETS)
    assert "d" not in single.recommend(["a", "b"], 10)[0].tolist()


def test_only_the_last_twelve_distinct_items_fire_rules() -> None:
    model = AssociationRules(min_support=0.05, min_confidence=0.9).fit(CART_BASKETS)
    fillers = [f"f{k}" for k in range(10)]
    assert "d" in model.recommend(["a", "b", *fillers], 10)[0].tolist()
    assert "d" not in model.recommend(["a", "b", *fillers, "f10"], 10)[0].tolist()
    assert "d" in model.recommend(["a", "b", *fillers, "a"], 10)[0].tolist()  # a repeat is not a new item
    assert "d" not in model.recommend(["a", "b", *fillers, "f10", "a"], 10)[0].tolist()


def test_top_per_antecedent_keeps_the_best_lifts() -> None:
    assert cart_model(top_per_antecedent=1).recommend(["s"], 5)[0].tolist() == ["t"]


def test_save_and_load_round_trip_without_pickle(tmp_path: Path) -> None:
    baskets = [*CART_BASKETS, *[["cream cheese ", "s"]] * 3]
    model = AssociationRules(min_support=0.05, min_confidence=0.3, max_antecedent=2, top_per_antecedent=7).fit(baskets)
    path = tmp_path / "rules.v1.npz"
    model.save(path)
    loaded = AssociationRules.load(path)
    assert (loaded.min_support, loaded.max_antecedent, loaded.top_per_antecedent) == (0.05, 2, 7)
    assert loaded.n_rules == model.n_rules > 0
    for cart in (["s"], ["s", "w"], ["a", "b"], ["cream cheese "], ["t"]):
        for got, expected in zip(loaded.recommend(cart, 10), model.recommend(cart, 10), strict=True):
            assert np.array_equal(got, expected)
    assert "cream cheese " in loaded.recommend(["s"], 10)[0].tolist()
    with np.load(path, allow_pickle=False) as data:
        assert data["item_ids"].dtype.kind == "U"
        assert all(data[name].dtype != object for name in data.files)


def test_load_refuses_another_format(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez_compressed(path, format_version=np.array(99))
    with pytest.raises(RulesError, match="format_version 99"):
        AssociationRules.load(path)


def test_read_baskets_keeps_labels_and_groups_long_files(tmp_path: Path) -> None:
    lines = tmp_path / "baskets.csv"
    lines.write_bytes(b"citrus fruit,cream cheese ,milk\r\n\r\nsoda\n")
    assert read_baskets(lines, "lines") == [["citrus fruit", "cream cheese ", "milk"], ["soda"]]
    long = tmp_path / "long.csv"
    long.write_text("transaction_id,item,level2\n7,soda,drinks\n3,cream cheese ,cheese\n7,milk,dairy\n")
    assert read_baskets(long, "long") == [["soda", "milk"], ["cream cheese "]]
    long.write_text("id,item\n1,soda\n")
    with pytest.raises(RulesError, match="transaction_id"):
        read_baskets(long, "long")


def test_rules_report_counts_and_lists_the_top_rules() -> None:
    report = rules_report(BASKETS, min_support=0.2, min_confidence=0.6, min_length=1, max_length=10, top=2)
    rules = mine_rules(BASKETS, min_support=0.2, min_confidence=0.6)
    assert (report.n_baskets, report.n_items, report.n_rules) == (5, 4, len(rules))
    assert sum(report.by_length.values()) == report.n_rules
    assert [(row.antecedent, row.consequent) for row in report.top] == [(r.antecedent, r.consequent) for r in rules[:2]]
    assert report.confidence_above_0_8 == sum(rule.confidence > 0.8 for rule in rules)
    text = format_report(report)
    assert f"rules {report.n_rules}" in text
    assert f"{{{', '.join(rules[0].antecedent)}}} => {{{rules[0].consequent}}}" in text


GROCERIES_TOP = [
    (("Instant food products", "soda"), "hamburger meat", 18.996, 12),
    (("popcorn", "soda"), "salty snack", 16.698, 12),
    (("baking powder", "flour"), "sugar", 16.408, 10),
]


@pytest.mark.dataset
def test_groceries_reproduces_the_published_rules(shared_data: Path) -> None:
    baskets = read_baskets(shared_data / "groceries" / "groceries_arules_long.csv", "long")
    report = rules_report(baskets, min_support=0.001, min_confidence=0.5, min_length=1, max_length=10, top=3)
    assert (report.n_baskets, report.n_items, report.n_rules) == (9835, 169, 5668)
    assert [(row.antecedent, row.consequent, round(row.lift, 3), row.count) for row in report.top] == GROCERIES_TOP
    assert report.confidence_above_0_8 == 371
    assert report.by_length == {2: 11, 3: 1461, 4: 3211, 5: 939, 6: 46}


@pytest.mark.dataset
def test_groceries_lines_file_gives_the_same_rules(shared_data: Path) -> None:
    baskets = read_baskets(shared_data / "groceries" / "groceries_lantz.csv", "lines")
    assert len(baskets) == 9835
    assert any("cream cheese " in basket for basket in baskets)
    report = rules_report(baskets, min_support=0.001, min_confidence=0.5, min_length=1, max_length=10, top=3)
    assert report.n_rules == 5668
