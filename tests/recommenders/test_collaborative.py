"""The shared behavioural test of the collaborative models, on data with a known answer (fixed seeds)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from recommenders.collaborative import ALSRecommender, EASERecommender, PopularityRecommender, TopLists, top_k_rows
from recommenders.interactions import Interactions

GROUPS = {"a": [f"a{i}" for i in range(8)], "b": [f"b{i}" for i in range(8)]}


def two_tastes() -> Interactions:
    """Two groups of users, each buying only from its own group of items; user ``a-probe`` lacks ``a0``."""
    rng = random.Random(7)
    triples = []
    for group, items in GROUPS.items():
        for user in range(40):
            triples += [(f"{group}-{user}", item, 1.0) for item in rng.sample(items, 5)]
    triples += [("a-probe", item, 1.0) for item in GROUPS["a"][1:6]]
    return Interactions.from_weighted(triples)


@pytest.mark.parametrize("model", [ALSRecommender(factors=8, iterations=20), EASERecommender(l2=10.0)])
def test_personal_models_recommend_within_the_users_taste(model: ALSRecommender | EASERecommender) -> None:
    lists = model.fit(two_tastes())
    ids, scores = lists.recommend("a-probe", 2)
    assert set(ids) <= set(GROUPS["a"]) - set(GROUPS["a"][1:6])
    assert len(ids) == 2
    assert list(scores) == sorted(scores, reverse=True)
    similar, _ = lists.similar_items("b3", 5)
    assert set(similar) <= set(GROUPS["b"]) - {"b3"}


def test_popularity_is_the_same_list_for_everyone_minus_what_they_have() -> None:
    x = Interactions.from_weighted(
        [
            ("u1", "hit", 1.0),
            ("u2", "hit", 1.0),
            ("u3", "hit", 1.0),
            ("u3", "niche", 1.0),
            ("u4", "niche", 1.0),
            ("u5", "rare", 1.0),
        ]
    )
    lists = PopularityRecommender().fit(x)
    assert list(lists.recommend("u5", 2)[0]) == ["hit", "niche"]
    assert list(lists.recommend("u1", 2)[0]) == ["niche", "rare"]


def test_unknown_ids_and_exclusions() -> None:
    lists = EASERecommender(l2=10.0).fit(two_tastes())
    assert len(lists.recommend("stranger", 5)[0]) == 0
    assert len(lists.similar_items("nothing", 5)[0]) == 0
    first = lists.recommend("a-probe", 1)[0][0]
    assert first not in lists.recommend("a-probe", 5, exclude={first})[0]


def test_top_k_rows_matches_a_full_sort_and_pads() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((5, 30), dtype=np.float32)
    idx, _top = top_k_rows(scores, 4)
    assert idx.tolist() == np.argsort(-scores, axis=1)[:, :4].tolist()
    narrow_idx, _ = top_k_rows(np.array([[0.5, 0.2]], dtype=np.float32), 2, banned=_csr([[1, 0]]))
    assert narrow_idx.tolist() == [[1, -1]]


def _csr(dense: list[list[int]]) -> object:
    import scipy.sparse as sp

    return sp.csr_matrix(np.array(dense, dtype=np.float32))


def test_lists_round_trip_without_pickle(tmp_path: Path) -> None:
    lists = ALSRecommender(factors=8, iterations=5).fit(two_tastes())
    lists.save(tmp_path / "c.npz")
    loaded = TopLists.load(tmp_path / "c.npz")
    for user in ("a-probe", "b-3"):
        assert list(loaded.recommend(user, 5)[0]) == list(lists.recommend(user, 5)[0])
    with np.load(tmp_path / "c.npz", allow_pickle=False) as f:
        assert all(f[name].dtype != object for name in f.files)


def test_ease_refuses_a_catalog_too_large_for_a_dense_inverse() -> None:
    with pytest.raises(ValueError, match="max_items=4"):
        EASERecommender(max_items=4).fit(two_tastes())
