"""Every recommender against one behavioural contract (``recommenders.base``), on data with a known answer.

Two worlds of items, ``a0…a9`` and ``b0…b9``, that never meet: users, sessions and baskets each stay in one. So a
model that relates items must answer a query from world A with items of world A only; popularity, which relates
nothing, must answer the most used items the user has not seen, in order of use. Every model also keeps the
shape of the contract: ``str`` ids and ``float32`` scores best first, at most ``n``, never an excluded or a query
item, empty for what it never saw, and the same answers after ``save`` and ``load``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommenders.base import Recommender
from recommenders.collaborative import ALSRecommender, EASERecommender, PopularityRecommender
from recommenders.interactions import Interactions
from recommenders.rules import AssociationRules
from recommenders.sessions import ARModel, SessionRecommender, SRModel

WORLDS = {"a": [f"a{n}" for n in range(10)], "b": [f"b{n}" for n in range(10)]}
RNG = random.Random(11)


def _world_lists(count: int, size: int) -> list[tuple[str, list[str]]]:
    lists = []
    for world, items in WORLDS.items():
        for _ in range(count):
            chosen = [items[0], *RNG.sample(items[1:], size - 1)]  # the first item of a world is its most used
            RNG.shuffle(chosen)
            lists.append((world, chosen))
    return lists


USERS = {f"u{world}{n}": items for n, (world, items) in enumerate(_world_lists(30, 4))}
SESSIONS = [items for _, items in _world_lists(60, 5)]
BASKETS = [items for _, items in _world_lists(80, 3)]


def interactions() -> Interactions:
    return Interactions.from_weighted((user, item, 1.0) for user, items in USERS.items() for item in items)


MODELS: dict[str, Callable[[], Any]] = {
    "als": lambda: ALSRecommender(factors=32, iterations=30, regularization=0.1, alpha=10).fit(interactions()),
    "ease": lambda: EASERecommender(l2=10.0).fit(interactions()),
    "popularity": lambda: PopularityRecommender().fit(interactions()),
    "ar": lambda: ARModel().fit(SESSIONS),
    "sr": lambda: SRModel().fit(SESSIONS),
    "sessions": lambda: SessionRecommender().fit(SESSIONS),
    "rules": lambda: AssociationRules(min_support=0.01, min_confidence=0.05, max_antecedent=2).fit(BASKETS),
}
USER_MODELS = {"als", "ease", "popularity"}


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request: pytest.FixtureRequest) -> tuple[str, Recommender]:
    fitted = MODELS[request.param]()
    assert isinstance(fitted, type(fitted))  # fit returns the model itself
    return request.param, fitted


def queries(name: str) -> list[Any]:
    user = next(u for u in USERS if u.startswith("ua"))
    return [user, "ua1"] if name in USER_MODELS else [["a1", "a2"], "a3", ["b4"]]


def world_of(query: Any, name: str) -> str:
    """``ua3`` is of world a, and so are ``a3`` and ``["a1", "a2"]``."""
    if name in USER_MODELS:
        return str(query)[1]
    return (query if isinstance(query, str) else query[0])[0]


def _shape(found: tuple[Any, Any], n: int) -> None:
    ids, scores = found
    assert ids.dtype.kind == "U"
    assert scores.dtype == np.float32
    assert len(ids) == len(scores) <= n
    assert list(scores) == sorted(scores, reverse=True)


def test_every_model_fits_into_itself_and_keeps_the_shape(model: tuple[str, Recommender]) -> None:
    name, fitted = model
    for query in queries(name):
        found = fitted.recommend(query, 5)
        _shape(found, 5)
        assert len(found[0]) > 0, (name, query)
        first = str(found[0][0])
        again = fitted.recommend(query, 5, exclude=[first])
        assert first not in again[0]
        if name not in USER_MODELS | {"ar", "sr"}:  # AR and SR keep the session's items, as session-rec does
            asked = [query] if isinstance(query, str) else query
            assert not set(asked) & set(found[0].tolist())
    _shape(fitted.similar_items("a1", 4), 4)
    assert "a1" not in fitted.similar_items("a1", 10)[0]
    unknown = fitted.recommend("nobody" if name in USER_MODELS else ["zz"], 5)
    assert (len(unknown[0]), unknown[0].dtype.kind, unknown[1].dtype) == (0, "U", np.float32)
    assert len(fitted.similar_items("zz", 5)[0]) == 0


def test_items_of_one_world_bring_that_world(model: tuple[str, Recommender]) -> None:
    name, fitted = model
    if name == "popularity":
        user = "ua0"
        counts = Counter(item for items in USERS.values() for item in items)
        unseen = sorted((item for item in counts if item not in USERS[user]), key=lambda i: (-counts[i], i))
        ids, _ = fitted.recommend(user, 3)
        assert {counts[i] for i in ids} == {counts[i] for i in unseen[:3]}  # the most used unseen ones
        assert len(fitted.similar_items("a1", 5)[0]) == 0  # popularity relates no items
        return
    for query in queries(name):
        world = world_of(query, name)
        ids, _ = fitted.recommend(query, 3)  # the strongest answers; far down a row, scores near 0 may cross over
        assert {str(item)[0] for item in ids} == {world}, (name, query, ids)
    similar, _ = fitted.similar_items("b2", 3)
    assert len(similar) > 0
    assert {str(item)[0] for item in similar} == {"b"}, (name, similar)


def test_save_then_load_answers_the_same(model: tuple[str, Recommender], tmp_path: Path) -> None:
    name, fitted = model
    path = tmp_path / f"{name}.npz"
    fitted.save(path)
    loaded = type(fitted).load(path)
    for query in queries(name):
        want, got = fitted.recommend(query, 5), loaded.recommend(query, 5)
        assert want[0].tolist() == got[0].tolist()
        np.testing.assert_allclose(want[1], got[1], rtol=1e-6)
    assert fitted.similar_items("a1", 5)[0].tolist() == loaded.similar_items("a1", 5)[0].tolist()
