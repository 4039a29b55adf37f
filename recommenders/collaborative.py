"""Collaborative recommenders trained offline: ALS (``implicit``), EASE, and a popularity baseline.

Each model's ``fit`` reduces it to :class:`TopLists` — every user's top-N unseen items and every item's top-N
similar items, precomputed — so serving is an array lookup whose cost does not grow with the catalog. The models
and the lists follow ``recommenders.base``: a query of items is answered from the items' neighbour lists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recommenders.base import Path, Query, as_items, empty
from recommenders.interactions import Interactions

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]
StrArray = npt.NDArray[np.str_]
ScoreRows = Callable[[int, int], npt.NDArray[np.float32]]
"""``(start, stop) -> dense scores`` of rows ``start:stop`` against every item."""
_CELLS_PER_BATCH = 20_000_000


class TopLists:
    """Precomputed neighbour lists; ``-1`` pads rows shorter than ``k``."""

    def __init__(
        self,
        user_ids: StrArray,
        item_ids: StrArray,
        user_top: tuple[IntArray, FloatArray],
        item_top: tuple[IntArray, FloatArray],
    ) -> None:
        self.user_ids, self.item_ids = user_ids, item_ids
        self.user_idx, self.user_score = user_top
        self.item_idx, self.item_score = item_top
        self.user_index = {str(u): row for row, u in enumerate(user_ids)}
        self.item_index = {str(i): col for col, i in enumerate(item_ids)}

    def recommend(self, query: Query, n: int, exclude: Collection[str] = ()) -> tuple[StrArray, FloatArray]:
        """A user's top unseen items (``query`` a user id), or the items most similar to a session's or basket's
        items in all (their neighbour scores added); best first, empty for what the model never saw."""
        if isinstance(query, str):
            row = self.user_index.get(query)
            if row is None:
                return empty()
            return self._pick(self.user_idx[row], self.user_score[row], n, exclude)
        return self._around(as_items(query), n, exclude)

    def _around(self, items: list[str], n: int, exclude: Collection[str]) -> tuple[StrArray, FloatArray]:
        banned = {*items, *exclude}
        summed: dict[int, float] = {}
        for col in (self.item_index[item] for item in items if item in self.item_index):
            for neighbour, score in zip(self.item_idx[col].tolist(), self.item_score[col].tolist(), strict=True):
                if neighbour >= 0:
                    summed[neighbour] = summed.get(neighbour, 0.0) + score
        ranked = sorted(
            ((col, score) for col, score in summed.items() if str(self.item_ids[col]) not in banned),
            key=lambda pair: -pair[1],
        )[:n]
        if not ranked:
            return empty()
        cols = np.asarray([col for col, _ in ranked], dtype=np.int32)
        return self.item_ids[cols], np.asarray([score for _, score in ranked], dtype=np.float32)

    def similar_items(self, item_id: str, n: int, exclude: Collection[str] = ()) -> tuple[StrArray, FloatArray]:
        """Items most similar to ``item_id`` (never itself), best first; empty for an unknown item."""
        col = self.item_index.get(item_id)
        if col is None:
            return empty()
        return self._pick(self.item_idx[col], self.item_score[col], n, (*exclude, item_id))

    def _pick(self, idx: IntArray, score: FloatArray, n: int, exclude: Collection[str]) -> tuple[StrArray, FloatArray]:
        # rows are short (top-k): plain Python over them beats numpy's set operations on every call
        banned = {col for col in map(self.item_index.get, exclude) if col is not None}
        kept = [pos for pos, col in enumerate(idx.tolist()) if col >= 0 and col not in banned][:n]
        return self.item_ids[idx[kept]], score[kept]

    def penalized(self, popularity: npt.NDArray[np.float64], beta: float) -> TopLists:
        """These lists with each user's items re-ranked by ``score · share^−β``, ``share`` the item's popularity
        (distinct users, per column of ``item_ids``) over the most popular item's, both plus one; a negative score
        is divided instead, so it only falls. Item lists are unchanged; ``β = 0`` changes nothing."""
        if beta == 0:
            return self
        share = (popularity + 1.0) / (popularity.max(initial=0.0) + 1.0)
        idx, score = self.user_idx, self.user_score.astype(np.float64)
        present = idx >= 0
        weight = np.where(present, share[np.where(present, idx, 0)] ** -beta, 1.0)
        adjusted = np.where(score > 0, score * weight, score / weight)
        adjusted[~present] = -np.inf
        order = np.argsort(-adjusted, axis=1, kind="stable")
        ranked = np.take_along_axis(adjusted, order, axis=1)
        user_top = (
            np.take_along_axis(idx, order, axis=1).astype(np.int32),
            np.where(np.isfinite(ranked), ranked, 0.0).astype(np.float32),
        )
        return TopLists(self.user_ids, self.item_ids, user_top, (self.item_idx, self.item_score))

    def save(self, path: Path) -> None:
        """One ``.npz``, no pickle."""
        np.savez_compressed(
            path,
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            user_idx=self.user_idx,
            user_score=self.user_score,
            item_idx=self.item_idx,
            item_score=self.item_score,
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read what :meth:`save` wrote."""
        with np.load(path, allow_pickle=False) as f:
            return cls(f["user_ids"], f["item_ids"], (f["user_idx"], f["user_score"]), (f["item_idx"], f["item_score"]))


class _Fitted:
    """A model that answers from the top lists its ``fit`` left (``lists``); saved and loaded as those lists."""

    lists: TopLists | None = None

    def _fitted(self) -> TopLists:
        if self.lists is None:
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit first")
        return self.lists

    def recommend(self, query: Query, n: int, exclude: Collection[str] = ()) -> tuple[StrArray, FloatArray]:
        """See :meth:`TopLists.recommend`."""
        return self._fitted().recommend(query, n, exclude)

    def similar_items(self, item_id: str, n: int, exclude: Collection[str] = ()) -> tuple[StrArray, FloatArray]:
        """See :meth:`TopLists.similar_items`."""
        return self._fitted().similar_items(item_id, n, exclude)

    def save(self, path: Path) -> None:
        """The top lists, as :meth:`TopLists.save` writes them."""
        self._fitted().save(path)

    @classmethod
    def load(cls, path: Path) -> Self:
        """A model (default parameters) answering from the lists at ``path``."""
        model = cls()
        model.lists = TopLists.load(path)
        return model


def top_k_rows(
    scores: npt.NDArray[np.float32], k: int, banned: sp.csr_matrix | None = None
) -> tuple[IntArray, FloatArray]:
    """Per row, the ``k`` highest columns (``banned`` non-zeros excluded), best first, ``-1`` padded."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if banned is not None:
        rows, cols = banned.nonzero()
        scores[rows, cols] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int32)
    top = np.take_along_axis(part_scores, order, axis=1)
    idx[~np.isfinite(top)] = -1
    return idx, np.nan_to_num(top, neginf=0.0).astype(np.float32)


def _batched(
    n_rows: int, n_cols: int, k: int, score_rows: ScoreRows, banned: sp.csr_matrix
) -> tuple[IntArray, FloatArray]:
    """Apply ``score_rows`` in row batches small enough for memory and keep each row's top ``k``."""
    batch = max(1, _CELLS_PER_BATCH // max(n_cols, 1))
    parts = [
        top_k_rows(score_rows(start, min(start + batch, n_rows)), k, banned[start : start + batch])
        for start in range(0, n_rows, batch)
    ]
    if not parts:
        return np.zeros((0, k), dtype=np.int32), np.zeros((0, k), dtype=np.float32)
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])


class ALSRecommender(_Fitted):
    """Implicit-feedback matrix factorisation (``implicit``'s ALS), fitted then reduced to top lists."""

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 2.0,
        iterations: int = 15,
        random_state: int = 42,
        top_n: int = 50,
    ) -> None:
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha, "iterations": iterations}
        self.random_state, self.top_n = random_state, top_n

    def fit(self, interactions: Interactions, show_progress: bool = False) -> Self:
        """Train on the interactions and precompute user and item top lists; returns the model."""
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # implicit parallelises over users itself; a BLAS thread pool underneath it only contends (its own advice)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(**self.params, random_state=self.random_state, num_threads=0)
            model.fit(interactions.matrix, show_progress=show_progress)
        users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
        unit = items / np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-9)
        self.lists = _lists(
            interactions, self.top_n, lambda a, b: users[a:b] @ items.T, lambda a, b: unit[a:b] @ unit.T
        )
        return self


class EASERecommender(_Fitted):
    """EASE (Steck 2019): a closed-form item-item model, ``B = I − P·diag(1/diag(P))``, ``P = (XᵀX + λI)⁻¹``.

    Dense in items × items, so only for catalogs up to ``max_items`` (tens of thousands)."""

    def __init__(self, l2: float = 200.0, top_n: int = 50, max_items: int = 20_000) -> None:
        self.l2, self.top_n, self.max_items = l2, top_n, max_items

    def fit(self, interactions: Interactions) -> Self:
        """Solve for ``B`` and precompute user and item top lists; returns the model."""
        n_items = interactions.shape[1]
        if n_items > self.max_items:
            raise ValueError(f"EASE needs a dense {n_items}² matrix; the limit is max_items={self.max_items}")
        x = interactions.matrix.astype(np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices(n_items)] += self.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        b[np.diag_indices(n_items)] = 0.0
        weights = b.astype(np.float32)
        self.lists = _lists(
            interactions,
            self.top_n,
            lambda lo, hi: np.asarray(x[lo:hi] @ weights, dtype=np.float32),
            lambda lo, hi: weights.T[lo:hi],
        )
        return self


class PopularityRecommender(_Fitted):
    """The baseline: items by how many users interacted with them, same list for everyone."""

    def __init__(self, top_n: int = 50) -> None:
        self.top_n = top_n

    def fit(self, interactions: Interactions) -> Self:
        """Count distinct users per item and precompute each user's top unseen popular items; returns the model."""
        counts = np.asarray((interactions.matrix > 0).sum(axis=0), dtype=np.float32).ravel()
        self.lists = _lists(interactions, self.top_n, lambda a, b: np.broadcast_to(counts, (b - a, len(counts))), None)
        return self


def _lists(interactions: Interactions, k: int, user_scores: ScoreRows, item_scores: ScoreRows | None) -> TopLists:
    n_users, n_items = interactions.shape
    user_top = _batched(n_users, n_items, k, user_scores, interactions.matrix)
    if item_scores is None:
        item_top = (np.full((n_items, 1), -1, dtype=np.int32), np.zeros((n_items, 1), dtype=np.float32))
    else:
        item_top = _batched(n_items, n_items, k, item_scores, sp.identity(n_items, format="csr"))
    return TopLists(interactions.user_ids, interactions.item_ids, user_top, item_top)
