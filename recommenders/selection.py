"""Choosing the collaborative model, its main hyperparameters and its popularity penalty on held-out data.

The data a model will be fitted on is split once more (``user-random``, a quarter of each user's items held out,
as :func:`recommenders.evaluation.split` does): every candidate of a small grid — EASE's ``λ``, ALS's factors and
regularization — is fitted on the rest and scored by NDCG@k on the held-out part; the best one wins. Then the
winner's user lists are re-ranked with a popularity penalty of growing strength ``β`` (:meth:`TopLists.penalized`),
and the strongest ``β`` whose NDCG stays within :data:`TOLERANCE` of the unpenalized lists' is kept: personal rows
lean away from the global bestsellers only as far as the held-out data allows.

``personalize train`` runs this on everything it trains on; ``personalize evaluate recs`` runs it inside each
training split, so no figure it reports was tuned on its own test data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
import numpy as np

from recommenders.collaborative import ALSRecommender, EASERecommender, TopLists
from recommenders.evaluation import Row, evaluate, split
from recommenders.interactions import Interactions

TOLERANCE = 0.01
"""Largest relative loss of validation NDCG the popularity penalty may cost."""
PENALTIES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5)
VALIDATION_FRACTION = 0.25
Progress = Callable[[str], None]


class Candidate(msgspec.Struct, frozen=True):
    """A model and its hyperparameters."""

    model: str
    params: dict[str, float]

    @property
    def label(self) -> str:
        return f"{self.model} " + " ".join(f"{name}={value:g}" for name, value in self.params.items())

    def build(self) -> ALSRecommender | EASERecommender:
        if self.model == "ease":
            return EASERecommender(l2=self.params["l2"])
        return ALSRecommender(factors=int(self.params["factors"]), regularization=self.params["regularization"])


GRID: tuple[Candidate, ...] = (
    Candidate("ease", {"l2": 50.0}),
    Candidate("ease", {"l2": 200.0}),
    Candidate("ease", {"l2": 800.0}),
    Candidate("als", {"factors": 32, "regularization": 0.05}),
    Candidate("als", {"factors": 64, "regularization": 0.05}),
    Candidate("als", {"factors": 64, "regularization": 1.0}),
)


class Selection(msgspec.Struct, kw_only=True):
    """What was chosen and the validation figures it was chosen on (the artifact's manifest records it)."""

    model: str
    params: dict[str, float]
    penalty: float
    k: int
    validation_users: int
    ndcg: dict[str, float]
    """Validation NDCG@k of every candidate, by label."""
    penalty_ndcg: dict[str, float]
    """Validation NDCG@k of the chosen candidate's lists under each penalty ``β``."""

    @property
    def candidate(self) -> Candidate:
        return Candidate(self.model, self.params)


def candidates(n_items: int, grid: Sequence[Candidate] = GRID) -> list[Candidate]:
    """The grid's candidates that fit a catalog of ``n_items`` (EASE is dense in items × items)."""
    limit = EASERecommender().max_items
    return [c for c in grid if c.model != "ease" or n_items <= limit]


def steps(grid: Sequence[Candidate] = GRID) -> int:
    """Calls :func:`select` makes to its progress callback: one per candidate of the grid, one for the penalty."""
    return len(grid) + 1


def select(
    rows: Sequence[Row],
    *,
    seed: int = 42,
    k: int = 10,
    grid: Sequence[Candidate] = GRID,
    penalties: Sequence[float] = PENALTIES,
    progress: Progress | None = None,
) -> Selection:
    """The best candidate on a validation split of ``rows`` and the strongest penalty it tolerates."""
    say = progress or (lambda _message: None)
    train, valid = split(rows, "user-random", VALIDATION_FRACTION, seed)
    interactions = Interactions.from_weighted((r.user, r.item, r.weight) for r in train)
    scores: dict[str, float] = {}
    fitted: dict[str, TopLists] = {}
    users = 0
    fits = candidates(interactions.shape[1], grid)
    for candidate in grid:
        if candidate not in fits:
            say(f"skipping {candidate.label}: {interactions.shape[1]} items is too many for it")
            continue
        say(f"validating {candidate.label}")
        lists = _lists(candidate.build().fit(interactions))
        metrics = evaluate(candidate.label, _recommend(lists), train, valid, k)
        scores[candidate.label], fitted[candidate.label], users = metrics.ndcg, lists, metrics.users
    best = max(scores, key=lambda label: (scores[label], label))
    chosen = next(c for c in fits if c.label == best)
    say(f"choosing the popularity penalty of {chosen.label}")
    popularity = item_popularity(interactions)
    by_penalty = {
        beta: evaluate(best, _recommend(fitted[best].penalized(popularity, beta)), train, valid, k).ndcg
        for beta in penalties
    }
    floor = (1 - TOLERANCE) * by_penalty.get(0.0, scores[best])
    penalty = max((beta for beta, ndcg in by_penalty.items() if ndcg >= floor), default=0.0)
    return Selection(
        model=chosen.model,
        params=chosen.params,
        penalty=penalty,
        k=k,
        validation_users=users,
        ndcg={label: round(value, 6) for label, value in scores.items()},
        penalty_ndcg={f"{beta:g}": round(value, 6) for beta, value in by_penalty.items()},
    )


def fit_selected(selection: Selection, interactions: Interactions) -> TopLists:
    """The chosen candidate fitted on ``interactions``, its user lists under the chosen penalty."""
    lists = _lists(selection.candidate.build().fit(interactions))
    return lists.penalized(item_popularity(interactions), selection.penalty) if selection.penalty else lists


def item_popularity(interactions: Interactions) -> np.ndarray:
    """Distinct users per item (the penalty's popularity)."""
    return np.asarray((interactions.matrix > 0).sum(axis=0), dtype=np.float64).ravel()


def _lists(model: ALSRecommender | EASERecommender) -> TopLists:
    if model.lists is None:
        raise ValueError(f"{type(model).__name__} did not fit")
    return model.lists


def _recommend(lists: TopLists) -> Callable[[str, int, set[str]], list[str]]:
    return lambda user, n, seen: [str(item) for item in lists.recommend(user, n, seen)[0]]
