"""RFM segments: the named map, position-based quintiles, win-back gaps and stages, price-sensitivity deciles.

The dataset test checks ``segment_customers`` on all of CDNOW against an independent numpy computation.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import cast

import msgspec
import numpy as np
import pytest

from fixtures.cdnow import cdnow_orders
from loyalty_nudges.segments import (
    DAY_MS,
    DEFAULT_RULES,
    CustomerFacts,
    CustomerSegment,
    OrderFact,
    SegmentError,
    SegmentPolicy,
    SegmentRule,
    segment_counts,
    segment_customers,
    segment_table,
    validate_rules,
)

AS_OF = 20_000 * DAY_MS
EXPECTED_MAP = {
    "hibernating": "11 12 21 22",
    "at_risk": "13 14 23 24",
    "cant_lose": "15 25",
    "about_to_sleep": "31 32",
    "need_attention": "33",
    "loyal_customers": "34 35 44 45",
    "promising": "41",
    "new_customers": "51",
    "potential_loyalists": "42 43 52 53",
    "champions": "54 55",
}
NAME_OF_CODE = {code: name for name, codes in EXPECTED_MAP.items() for code in codes.split()}


def facts(
    customer_id: str, *days_ago: float, net: int = 1000, promo: Iterable[int] = (), discount: int = 0
) -> CustomerFacts:
    """A customer with one order ``d`` days before ``AS_OF`` per argument; ``promo`` lists order indexes."""
    on_promotion = set(promo)
    orders = tuple(
        OrderFact(
            ts_ms=AS_OF - round(d * DAY_MS), net_minor=net, on_promotion=i in on_promotion, discount_minor=discount
        )
        for i, d in enumerate(days_ago)
    )
    return CustomerFacts(customer_id=customer_id, orders=orders)


def by_id(segments: list[CustomerSegment]) -> dict[str, CustomerSegment]:
    return {s.customer_id: s for s in segments}


def latin_population(shift: int) -> tuple[list[CustomerFacts], dict[str, str]]:
    """Five customers landing on R = 1..5 with F = a rotation of 1..5: five shifts cover all 25 codes."""
    customers, codes = [], {}
    for i in range(5):
        r, f = i + 1, (i + shift) % 5 + 1
        recency = 10 * (6 - r)
        customers.append(facts(f"c{i}", *(recency + j for j in range(f))))
        codes[f"c{i}"] = f"{r}{f}"
    return customers, codes


# --- the named map -----------------------------------------------------------------------------------


def test_default_rules_are_the_domain_map_and_name_every_code() -> None:
    validate_rules(DEFAULT_RULES)
    assert [rule.name for rule in DEFAULT_RULES] == list(EXPECTED_MAP)
    assert segment_table(DEFAULT_RULES) == {code: NAME_OF_CODE[code] for code in sorted(NAME_OF_CODE)}


@pytest.mark.parametrize("shift", range(5))
def test_every_code_lands_in_its_named_segment(shift: int) -> None:
    customers, codes = latin_population(shift)

    segments = segment_customers(customers, AS_OF)

    assert {s.customer_id: f"{s.r}{s.f}" for s in segments} == codes
    assert {s.customer_id: s.segment for s in segments} == {c: NAME_OF_CODE[code] for c, code in codes.items()}


def test_first_matching_rule_wins_and_unmatched_codes_are_other() -> None:
    rules = (SegmentRule(pattern="1[1-2]", name="first"), SegmentRule(pattern="[1-2]1", name="second"))
    seen: dict[str, str] = {}
    for shift in range(5):
        customers, codes = latin_population(shift)
        seen |= {codes[s.customer_id]: s.segment for s in segment_customers(customers, AS_OF, rules)}

    assert seen["11"] == "first"  # matched by both rules
    assert (seen["12"], seen["21"]) == ("first", "second")
    assert {code for code, name in seen.items() if name == "other"} == set(NAME_OF_CODE) - {"11", "12", "21"}


def test_segment_counts_list_every_rule_name_and_other_only_when_present() -> None:
    customers, _ = latin_population(0)  # codes 11 22 33 44 55
    default = segment_counts(segment_customers(customers, AS_OF))
    rules = (SegmentRule(pattern="[1-2].", name="lapsed"), SegmentRule(pattern="5.", name="fans"))
    custom = segment_counts(segment_customers(customers, AS_OF, rules), rules)
    shared = (SegmentRule(pattern="1.", name="lapsed"), SegmentRule(pattern="2.", name="lapsed"))

    assert default == dict.fromkeys(EXPECTED_MAP, 0) | {
        "hibernating": 2,
        "need_attention": 1,
        "loyal_customers": 1,
        "champions": 1,
    }
    assert list(default) == list(EXPECTED_MAP)
    assert custom == {"lapsed": 2, "fans": 1, "other": 2}
    assert segment_counts(segment_customers(customers, AS_OF, shared), shared) == {"lapsed": 2, "other": 3}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([("[1-", "broken")], r"Segment rule 1 'broken' \(pattern '\[1-'\): pattern is not a valid regex"),
        ([("11", "")], r"Segment rule 1 '' \(pattern '11'\): name must match"),
        ([("5.", "fans"), ("11", "Hibernating")], r"Segment rule 2 'Hibernating' \(pattern '11'\): name must match"),
        ([("11", "other")], r"Segment rule 1 'other' .*reserved"),
        ([("6[1-2]", "ghost")], r"Segment rule 1 'ghost' \(pattern '6\[1-2\]'\): matches none of the R,F codes"),
        ([("1", "short")], r"Segment rule 1 'short' .*matches none"),
        ([("[1-5].", "everyone"), ("55", "champions")], r"Segment rule 2 'champions' .*never applies"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(rules: list[tuple[str, str]], message: str) -> None:
    parsed = [SegmentRule(pattern=pattern, name=name) for pattern, name in rules]

    with pytest.raises(SegmentError, match=message):
        validate_rules(parsed)
    with pytest.raises(ValueError, match=message):
        segment_customers([facts("a", 1)], AS_OF, parsed)


def test_a_rules_file_with_unknown_fields_is_refused() -> None:
    decoded = msgspec.json.decode(b'[{"pattern": "5.", "name": "fans"}]', type=tuple[SegmentRule, ...])

    assert decoded == (SegmentRule(pattern="5.", name="fans"),)
    with pytest.raises(msgspec.ValidationError, match="unknown field `colour`"):
        msgspec.json.decode(b'[{"pattern": "5.", "name": "fans", "colour": 1}]', type=tuple[SegmentRule, ...])


# --- quintiles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, [5]),
        (3, [2, 4, 5]),
        (7, [1, 2, 3, 3, 4, 5, 5]),
        (12, [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5]),
    ],
)
def test_quintiles_bin_by_position_when_n_is_not_a_multiple_of_five(n: int, expected: list[int]) -> None:
    customers = [facts(f"c{i:02d}", 3, net=100 * (n - i)) for i in range(n)]  # money descends with the id

    segments = segment_customers(customers, AS_OF)

    assert [s.m for s in segments] == expected[::-1]
    assert [s.f for s in segments] == expected  # one order each: the id decides
    assert [s.r for s in segments] == [6 - score for score in expected]  # same recency: the id decides


def test_ties_are_broken_by_customer_id_whatever_the_input_order() -> None:
    customers = [facts("b", 1, net=50), facts("a", 1, net=50), facts("e", 1, net=10), facts("c", 1, net=50)]
    customers.append(facts("d", 1, net=10))

    segments = segment_customers(customers, AS_OF)

    assert [s.customer_id for s in segments] == ["a", "b", "c", "d", "e"]
    assert {s.customer_id: s.m for s in segments} == {"d": 1, "e": 2, "a": 3, "b": 4, "c": 5}


def test_frequency_counts_orders_and_ranks_them_before_binning() -> None:
    customers = [facts("a", 1, 2, 3), facts("b", 1), facts("c", 1, 2), facts("d", 1), facts("e", 1, 2, 3, 4)]

    segments = by_id(segment_customers(customers, AS_OF))

    assert {c: (s.frequency, s.f) for c, s in segments.items()} == {
        "b": (1, 1),
        "d": (1, 2),
        "c": (2, 3),
        "a": (3, 4),
        "e": (4, 5),
    }


def test_recency_is_whole_days_and_inverted_so_the_most_recent_score_five() -> None:
    customers = [facts("a", 40), facts("b", 0), facts("c", 19.9), facts("d", 5), facts("e", 1.5)]

    segments = by_id(segment_customers(customers, AS_OF))

    assert {c: (s.recency_days, s.r) for c, s in segments.items()} == {
        "b": (0, 5),
        "e": (1, 4),
        "d": (5, 3),
        "c": (19, 2),
        "a": (40, 1),
    }


def test_orders_after_as_of_are_ignored_and_as_of_itself_counts() -> None:
    later_only = facts("a", -1, -30)
    mixed = CustomerFacts(
        customer_id="b",
        orders=(
            OrderFact(ts_ms=AS_OF + 1, net_minor=900, on_promotion=True, discount_minor=900),
            OrderFact(ts_ms=AS_OF, net_minor=100, on_promotion=False),
        ),
    )

    segments = segment_customers([later_only, mixed, facts("c", 10, 20)], AS_OF)

    assert [s.customer_id for s in segments] == ["b", "c"]
    b = segments[0]
    assert (b.frequency, b.monetary_minor, b.recency_days) == (1, 100, 0)
    assert b.winback_gap_days == 30.0  # the store gap: c's 10 days to a second order, floored
    assert segments[1].winback_gap_days == 10.0


def test_customers_listed_twice_or_negative_amounts_are_refused() -> None:
    with pytest.raises(SegmentError, match="Customer 'a' is listed twice"):
        segment_customers([facts("a", 1), facts("a", 2)], AS_OF)
    with pytest.raises(SegmentError, match=r"Customer 'a' order at .*net_minor -1"):
        segment_customers([facts("a", 1, net=-1)], AS_OF)


def test_nobody_to_score_gives_an_empty_list() -> None:
    assert segment_customers([facts("a", -1)], AS_OF) == []
    assert segment_customers([], AS_OF) == []


# --- win-back ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recency", "stage"),
    [(0, 0), (15, 0), (16, 1), (20, 1), (21, 2), (30, 2), (31, 3), (400, 3)],
)
@pytest.mark.parametrize("intervals", [(2, 10, 40), (2, 8, 12, 40)], ids=["odd", "even"])
def test_winback_stage_follows_the_personal_median_gap(recency: int, stage: int, intervals: tuple[int, ...]) -> None:
    days_ago = [recency]
    for interval in intervals:
        days_ago.append(days_ago[-1] + interval)

    (segment,) = segment_customers([facts("a", *days_ago)], AS_OF)

    assert segment.winback_gap_days == 10.0
    assert (segment.recency_days, segment.winback_stage) == (recency, stage)


def test_a_fractional_median_gap_is_kept() -> None:
    segments = segment_customers(
        [facts(c, r, r + 3, r + 7) for c, r in (("a", 5), ("b", 6), ("c", 7), ("d", 8))], AS_OF
    )

    assert {s.winback_gap_days for s in segments} == {3.5}
    assert [s.winback_stage for s in segments] == [0, 1, 1, 2]  # 1.5·3.5 = 5.25, 2·3.5 = 7, 3·3.5 = 10.5


def repeat_buyers(*days_to_second: int) -> list[CustomerFacts]:
    return [facts(f"r{i}", 1, 1 + gap) for i, gap in enumerate(days_to_second)]


@pytest.mark.parametrize(
    ("recency", "stage"),
    [(105, 0), (106, 1), (140, 1), (141, 2), (210, 2), (211, 3)],
)
def test_one_order_customers_use_the_store_p80_time_to_second_purchase(recency: int, stage: int) -> None:
    # First-to-second gaps 40, 50, 60, 80 and (a third order later) 70: nearest-rank p80 of 5 is the 4th, 70.
    customers = [*repeat_buyers(40, 50, 60, 80), facts("r9", 1, 2, 72), facts("single", recency)]

    segments = by_id(segment_customers(customers, AS_OF))

    assert segments["single"].winback_gap_days == 70.0
    assert segments["single"].winback_stage == stage
    assert segments["r9"].winback_gap_days == 35.5  # its own median of 1 and 70


@pytest.mark.parametrize(("recency", "stage"), [(45, 0), (46, 1), (61, 2), (91, 3)])
def test_the_store_gap_is_floored_at_30_days(recency: int, stage: int) -> None:
    customers = [*repeat_buyers(5, 6, 7, 8, 9), facts("single", recency)]

    segments = by_id(segment_customers(customers, AS_OF))

    assert (segments["single"].winback_gap_days, segments["single"].winback_stage) == (30.0, stage)


@pytest.mark.parametrize(("recency", "stage"), [(135, 0), (136, 1), (181, 2), (271, 3)])
def test_the_store_gap_is_90_days_when_nobody_bought_twice_by_as_of(recency: int, stage: int) -> None:
    second_after_as_of = facts("later", 1, -5)
    customers = [facts("single", recency), facts("other", 3), second_after_as_of]

    segments = by_id(segment_customers(customers, AS_OF))

    assert {s.winback_gap_days for s in segments.values()} == {90.0}
    assert segments["single"].winback_stage == stage


def test_the_policy_changes_the_numbers() -> None:
    policy = SegmentPolicy(store_gap_percentile=50, store_gap_floor_days=0, winback_stages=(1.0, 1.5, 2.0))
    customers = [*repeat_buyers(5, 6, 7, 8, 9), facts("single", 8)]

    segments = by_id(segment_customers(customers, AS_OF, policy=policy))

    assert (segments["single"].winback_gap_days, segments["single"].winback_stage) == (7.0, 1)
    with pytest.raises(SegmentError, match=r"winback_stages \(2.0, 1.5, 3.0\) must be positive and ascending"):
        segment_customers(customers, AS_OF, policy=SegmentPolicy(winback_stages=(2.0, 1.5, 3.0)))


# --- price sensitivity -------------------------------------------------------------------------------

SENSITIVITY_ORDER = [
    facts("a_none", 1, 2),  # 0
    CustomerFacts(customer_id="z_no_money", orders=(OrderFact(ts_ms=AS_OF, net_minor=0, on_promotion=False),)),  # 0
    facts("b_half_promo", 1, 2, promo=[0]),  # 0.2·0.5 = 0.1
    facts("c_all_promo", 1, 2, promo=[0, 1]),  # 0.2
    facts("d_discount_30", 1, net=70, discount=30),  # 0.8·0.3 = 0.24
    facts("e_promo_discount_10", 1, net=90, discount=10, promo=[0]),  # 0.2 + 0.08
    facts("f_discount_50", 1, 2, net=50, discount=50),  # 0.4
    facts("g_promo_discount_50", 1, net=50, discount=50, promo=[0]),  # 0.6
    facts("h_discount_90", 1, net=10, discount=90),  # 0.72
    facts("i_all_discount", 1, net=0, discount=100),  # 0.8
]


def test_price_sensitivity_deciles_weigh_discount_share_over_promotion_share() -> None:
    customers = SENSITIVITY_ORDER[::-1]

    segments = by_id(segment_customers(customers, AS_OF))

    assert [segments[c.customer_id].price_sensitivity for c in SENSITIVITY_ORDER] == list(range(1, 11))


def test_price_sensitivity_ties_exactly_and_falls_to_the_id() -> None:
    # Both score exactly 7/15; in floats b's 0.2 + 0.8/3 comes out below a's 0.8·7/12.
    a = facts("a", 1, net=5, discount=7)
    b = facts("b", 1, net=2, discount=1, promo=[0])

    segments = segment_customers([b, a], AS_OF)

    assert [(s.customer_id, s.price_sensitivity) for s in segments] == [("a", 5), ("b", 10)]


def test_twenty_customers_fill_each_decile_twice() -> None:
    customers = [facts(f"c{i:02d}", 1, net=100 - i, discount=i) for i in range(20)]

    segments = segment_customers(customers, AS_OF)

    assert [s.price_sensitivity for s in segments] == [d for d in range(1, 11) for _ in range(2)]


# --- CDNOW, checked against an independent numpy computation -----------------------------------------

CDNOW_AS_OF = int(datetime.fromisoformat("1998-07-01T00:00:00Z").timestamp()) * 1000
DIGIT_MAP = [  # the DOMAIN.md map spelled as explicit digit sets, no regex
    ({1, 2}, {1, 2}, "hibernating"),
    ({1, 2}, {3, 4}, "at_risk"),
    ({1, 2}, {5}, "cant_lose"),
    ({3}, {1, 2}, "about_to_sleep"),
    ({3}, {3}, "need_attention"),
    ({3, 4}, {4, 5}, "loyal_customers"),
    ({4}, {1}, "promising"),
    ({5}, {1}, "new_customers"),
    ({4, 5}, {2, 3}, "potential_loyalists"),
    ({5}, {4, 5}, "champions"),
]


def cdnow_facts(path: Path) -> list[CustomerFacts]:
    """One order per row through the ``POST /v1/orders`` bodies: net = total in cents, no promotions."""
    orders: dict[str, list[OrderFact]] = collections.defaultdict(list)
    for body in cdnow_orders(path):
        ts_ms = int(datetime.fromisoformat(cast(str, body["completed_at"])).timestamp()) * 1000
        net = int(cast(Decimal, body["total"]).scaleb(2))
        orders[cast(str, body["customer_id"])].append(OrderFact(ts_ms=ts_ms, net_minor=net, on_promotion=False))
    return [CustomerFacts(customer_id=c, orders=tuple(o)) for c, o in orders.items()]


def position_scores(values: np.ndarray, ids: np.ndarray, bins: int) -> np.ndarray:
    n = len(values)
    position = np.empty(n, dtype=np.int64)
    position[np.lexsort((ids, values))] = np.arange(1, n + 1)
    return (bins * position + n - 1) // n


def group_starts(keys: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def group_medians(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` per key: the mean of the two middle sorted values (one when the count is odd)."""
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    starts = group_starts(keys)
    counts = np.diff(np.r_[starts, len(keys)])
    return keys[starts], (values[starts + (counts - 1) // 2] + values[starts + counts // 2]) / 2


def independent_rfm(path: Path, as_of_ms: int) -> dict[str, np.ndarray]:
    tokens = np.array(path.read_text().split()[4:]).reshape(-1, 4)
    assert set(np.char.str_len(tokens[:, 0])) == {5}  # zero-padded: int order is the string id order
    assert all(np.char.find(tokens[:, 3], ".") == np.char.str_len(tokens[:, 3]) - 3)  # two decimals each
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in tokens[:, 1]], dtype="datetime64[D]")
    ts = dates.astype(np.int64) * DAY_MS + DAY_MS // 2
    keep = ts <= as_of_ms
    cust, ts, cents = (
        tokens[keep, 0].astype(np.int64),
        ts[keep],
        np.char.replace(tokens[keep, 3], ".", "").astype(np.int64),
    )
    order = np.lexsort((ts, cust))
    cust, ts, cents = cust[order], ts[order], cents[order]
    starts = group_starts(cust)
    ids, counts = cust[starts], np.diff(np.r_[starts, len(cust)])
    recency = (as_of_ms - ts[starts + counts - 1]) // DAY_MS
    monetary = np.add.reduceat(cents, starts)
    r = 6 - position_scores(recency, ids, 5)
    f = position_scores(counts, ids, 5)
    conditions = [np.isin(r, list(rs)) & np.isin(f, list(fs)) for rs, fs, _ in DIGIT_MAP]
    segment = np.select(conditions, [name for _, _, name in DIGIT_MAP], default="other")
    gap = independent_gaps(cust, ts, ids, counts, starts)
    stage = np.select([recency > 3 * gap, recency > 2 * gap, recency > 1.5 * gap], [3, 2, 1], default=0)
    return {
        "id": ids, "recency_days": recency, "frequency": counts, "monetary_minor": monetary,
        "r": r, "f": f, "m": position_scores(monetary, ids, 5), "segment": segment, "winback_gap_days": gap,
        "winback_stage": stage, "price_sensitivity": position_scores(np.zeros(len(ids)), ids, 10),
    }  # fmt: skip


def independent_gaps(
    cust: np.ndarray, ts: np.ndarray, ids: np.ndarray, counts: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    repeat = counts >= 2
    to_second = np.sort((ts[starts[repeat] + 1] - ts[starts[repeat]]) / DAY_MS)
    k = len(to_second)
    store = 90.0 if k == 0 else max(30.0, float(to_second[-(-4 * k // 5) - 1]))
    same = cust[1:] == cust[:-1]
    median_ids, medians = group_medians(cust[1:][same], np.diff(ts)[same] / DAY_MS)
    gap = np.full(len(ids), store)
    gap[np.searchsorted(ids, median_ids)] = medians
    return gap


@pytest.mark.dataset
def test_cdnow_segments_agree_with_an_independent_computation(shared_data: Path) -> None:
    path = shared_data / "cdnow" / "CDNOW_master.txt"
    started = time.perf_counter()
    customers = cdnow_facts(path)
    loaded = time.perf_counter()
    segments = segment_customers(customers, CDNOW_AS_OF)
    scored = time.perf_counter()
    expected = independent_rfm(path, CDNOW_AS_OF)

    assert len(segments) == len(expected["id"]) == 23_570
    assert [s.customer_id for s in segments] == [f"cdnow-{i:05d}" for i in expected["id"]]
    for field, column in expected.items():
        if field != "id":
            assert [getattr(s, field) for s in segments] == column.tolist(), field
    counts = segment_counts(segments)
    assert list(counts) == list(EXPECTED_MAP)  # no "other": the default map names every code
    assert counts == dict.fromkeys(EXPECTED_MAP, 0) | collections.Counter(expected["segment"].tolist())
    stages = collections.Counter(s.winback_stage for s in segments)
    print(f"\nCDNOW as of 1998-07-01: {counts}\nwin-back stages: {dict(sorted(stages.items()))}")
    print(f"facts {loaded - started:.2f} s, segment_customers {scored - loaded:.2f} s")
