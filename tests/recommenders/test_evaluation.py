"""Evaluation metrics by hand, and the splits."""

from __future__ import annotations

import math

import pytest

from recommenders.evaluation import Row, evaluate, split


def test_metrics_by_hand() -> None:
    train = [Row("u", "seen", 0), Row("v", "seen", 0), Row("u", "x", 0)]
    test = [Row("u", "a", 1), Row("u", "b", 1), Row("v", "c", 1), Row("w", "a", 1)]
    lists = {"u": ["a", "z", "b"], "v": ["z", "y", "q"]}
    m = evaluate("hand", lambda user, k, seen: lists[user], train, test, k=3)
    # u: hits at ranks 1 and 3 of 2 relevant; v: no hit; w has no training data and is not evaluated
    assert m.users == 2
    assert m.precision == pytest.approx((2 / 3 + 0) / 2)
    assert m.recall == pytest.approx((1 + 0) / 2)
    ideal = 1 + 1 / math.log2(3)
    assert m.ndcg == pytest.approx(((1 + 1 / math.log2(4)) / ideal) / 2)
    assert m.map == pytest.approx(((1 + 2 / 3) / 2) / 2)
    assert (m.hit_rate, m.mrr) == (pytest.approx(0.5), pytest.approx(0.5))
    assert m.coverage == pytest.approx(0.0)


def test_user_random_split_holds_out_a_share_of_each_users_items_reproducibly() -> None:
    rows = [Row(f"u{u}", f"i{i}", float(i)) for u in range(20) for i in range(8)] + [Row("solo", "i1", 0.0)]
    train, test = split(rows, "user-random", 0.25, seed=42)
    assert split(rows, "user-random", 0.25, seed=42) == (train, test)
    per_user = {u: sum(1 for r in test if r.user == u) for u in {r.user for r in rows}}
    assert per_user["solo"] == 0
    assert {n for u, n in per_user.items() if u != "solo"} == {2}
    assert not {(r.user, r.item) for r in train} & {(r.user, r.item) for r in test}


def test_temporal_split_holds_out_the_latest() -> None:
    rows = [Row("u", f"i{t}", float(t)) for t in range(100)]
    train, test = split(rows, "temporal", 0.25, seed=0)
    assert max(r.ts for r in train) < min(r.ts for r in test)
    assert len(test) == 25
    with pytest.raises(ValueError, match="between 0 and 1"):
        split(rows, "temporal", 1.5, seed=0)
