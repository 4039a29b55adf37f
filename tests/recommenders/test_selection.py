"""Choosing the collaborative model and its popularity penalty on held-out data, on worlds with a known answer."""

from __future__ import annotations

import random

import numpy as np
import pytest

from recommenders.collaborative import EASERecommender, TopLists
from recommenders.evaluation import Row
from recommenders.interactions import Interactions
from recommenders.selection import GRID, Candidate, candidates, fit_selected, item_popularity, select

BESTSELLER = "hit"


def shop(seed: int = 3, users: int = 400) -> list[Row]:
    """Four worlds of 25 items; each user keeps to one world, and most users also bought the one bestseller."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        world = u % 4
        for item in rng.sample(range(25), 8):
            rows.append(Row(f"u{u}", f"w{world}-{item}", float(len(rows)), 1.0))
        if rng.random() < 0.9:
            rows.append(Row(f"u{u}", BESTSELLER, float(len(rows)), 1.0))
    return rows


SMALL_GRID = (
    Candidate("ease", {"l2": 10.0}),
    Candidate("ease", {"l2": 100.0}),
    Candidate("als", {"factors": 8, "regularization": 0.05}),
)


def test_the_best_candidate_on_validation_is_chosen_and_recorded() -> None:
    chosen = select(shop(), grid=SMALL_GRID, k=10)
    assert set(chosen.ndcg) == {c.label for c in SMALL_GRID}
    best = max(chosen.ndcg, key=lambda label: chosen.ndcg[label])
    assert chosen.candidate.label == best
    assert chosen.validation_users > 300
    assert chosen.penalty in {float(b) for b in chosen.penalty_ndcg}
    floor = 0.99 * chosen.penalty_ndcg["0"]
    assert chosen.penalty_ndcg[f"{chosen.penalty:g}"] >= floor
    stronger = [float(b) for b, ndcg in chosen.penalty_ndcg.items() if float(b) > chosen.penalty]
    assert all(chosen.penalty_ndcg[f"{b:g}"] < floor for b in stronger)  # the strongest one within tolerance


def lists_of(rows: list[tuple[str, list[tuple[int, float]]]], items: list[str]) -> TopLists:
    """Top lists with given user rows (column, score); -1 pads; no item lists."""
    width = max(len(r) for _, r in rows)
    idx = np.full((len(rows), width), -1, dtype=np.int32)
    score = np.zeros((len(rows), width), dtype=np.float32)
    for n, (_, row) in enumerate(rows):
        idx[n, : len(row)] = [c for c, _ in row]
        score[n, : len(row)] = [v for _, v in row]
    empty = (np.full((len(items), 1), -1, dtype=np.int32), np.zeros((len(items), 1), dtype=np.float32))
    return TopLists(np.asarray([u for u, _ in rows]), np.asarray(items), (idx, score), empty)


def test_a_penalty_moves_the_bestseller_down_and_drops_nothing() -> None:
    items = [BESTSELLER, "a", "b", "c"]
    popularity = np.asarray([100.0, 10.0, 10.0, 1.0])
    lists = lists_of([("ann", [(0, 1.0), (1, 0.9), (2, 0.3)]), ("bob", [(1, 0.5), (0, 0.4), (3, -0.2)])], items)
    assert lists.penalized(popularity, 0.0) is lists
    penalized = lists.penalized(popularity, 0.5)
    # ann: hit 1.0 · 1, a 0.9 · (101/11)^0.5 ≈ 2.73, b 0.3 · 3.03 ≈ 0.91
    assert list(penalized.recommend("ann", 3)[0]) == ["a", BESTSELLER, "b"]
    ids, scores = penalized.recommend("bob", 3)
    assert list(ids) == ["a", BESTSELLER, "c"]  # a negative score only falls (-0.2 / (101/2)^0.5)
    assert scores[2] == pytest.approx(-0.2 / (101 / 2) ** 0.5, rel=1e-5)
    assert list(lists.penalized(popularity, 3.0).recommend("ann", 3)[0]) == ["a", "b", BESTSELLER]
    assert np.array_equal(penalized.item_idx, lists.item_idx)  # similar items are left alone


def test_ease_is_left_out_of_a_catalog_too_large_for_it() -> None:
    labels = [c.model for c in candidates(EASERecommender().max_items + 1)]
    assert labels
    assert set(labels) == {"als"}
    assert len(candidates(100)) == len(GRID)


def test_the_chosen_model_is_fitted_with_its_penalty() -> None:
    rows = shop()
    chosen = select(rows, grid=SMALL_GRID[:1], penalties=(0.0, 0.5), k=10)
    interactions = Interactions.from_weighted((r.user, r.item, r.weight) for r in rows)
    served = fit_selected(chosen, interactions)
    plain = SMALL_GRID[0].build().fit(interactions).lists
    assert plain is not None
    expected = plain.penalized(item_popularity(interactions), chosen.penalty)
    assert np.array_equal(served.user_idx, expected.user_idx)
