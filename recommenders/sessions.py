"""Session-based recommenders: association rules (AR), sequential rules (SR) and the blend the server serves.

AR and SR follow the baselines of the public session-rec framework (Ludewig, Jannach et al.,
``algorithms/baselines/ar.py`` and ``sr.py``) closely enough to reproduce its saved lists:

- AR counts every pair of events within a session in both directions, so an item clicked twice in a
  session pairs with itself and gains 2 per such pair of clicks.
- SR adds ``w(d)`` to "later after earlier" for every pair of events at most ``steps`` apart, ``d`` being
  the distance in events (``1/d²`` under the default quadratic weighting); nothing flows backwards.
- Each item keeps its ``prune`` strongest neighbours (0 keeps all). Ties at the cut keep the neighbour
  first paired with the item in the training scan, as session-rec's stable sort of an insertion-ordered
  dict does, so training sessions must come in their file order to match it.
- A list is the neighbours of the session's last item divided by the strongest one (max 1). Items of the
  session are not removed: session-rec keeps them, and on click data the next click often repeats one.

Fit packs the kept neighbours into CSR arrays (``indptr``, ``neighbours``, ``weights`` over one ``items``
vocabulary, each row strongest first), so a recommendation reads one row: O(prune) whatever the catalog
size. Models save to one compressed ``.npz`` of plain arrays, loaded with ``allow_pickle=False``.
Bad arguments raise ``ValueError`` naming the argument and its value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from recommenders.base import Ids, Query, Scores, as_items

Similar = Callable[[str, int], tuple[npt.NDArray[Any], npt.NDArray[Any]]]
"""An item-item similarity lookup: ``(item, n) -> (ids, scores)``, highest first."""
Arrays = dict[str, npt.NDArray[Any]]

FORMAT_VERSION = 1
"""Written into every saved model; :func:`load` refuses other versions."""

WEIGHTINGS: dict[str, Callable[[int], float]] = {
    "same": lambda d: 1.0,
    "div": lambda d: 1.0 / d,
    "log": lambda d: 1.0 / math.log10(d + 1.7),
    "quadratic": lambda d: 1.0 / (d * d),
}
"""SR weight of a pair ``d`` events apart, as session-rec names them (its ``linear`` goes negative past
``d = 10`` and is left out)."""

_EMPTY_IDS: Ids = np.array([], dtype=np.str_)
_EMPTY_SCORES: Scores = np.array([], dtype=np.float32)


def _add(counts: dict[str, dict[str, float]], anchor: str, neighbour: str, weight: float) -> None:
    row = counts.setdefault(anchor, {})
    row[neighbour] = row.get(neighbour, 0.0) + weight


def _strongest(row: dict[str, float], prune: int) -> list[tuple[str, float]]:
    # sorted() is stable: equal weights stay in first-paired order, which decides ties at the cut
    ranked = sorted(row.items(), key=lambda pair: -pair[1])
    return ranked[:prune] if prune > 0 else ranked


class NeighbourTable:
    """Each anchor item's strongest neighbours as CSR rows over one item vocabulary.

    The row of ``items[r]`` is ``neighbours[indptr[r]:indptr[r + 1]]`` (indices into ``items``) with the
    raw rule weights at the same positions in ``weights``, strongest first. Items that only ever appear
    as neighbours have empty rows.
    """

    def __init__(
        self,
        items: Ids,
        indptr: npt.NDArray[np.int64],
        neighbours: npt.NDArray[np.int32],
        weights: npt.NDArray[np.float64],
    ) -> None:
        self.items, self.indptr, self.neighbours, self.weights = items, indptr, neighbours, weights
        self._index = {item: row for row, item in enumerate(items.tolist())}

    @classmethod
    def from_counts(cls, counts: Mapping[str, dict[str, float]], prune: int) -> NeighbourTable:
        """Keep the ``prune`` strongest neighbours of every anchor in ``counts`` and pack them."""
        rows = [_strongest(row, prune) for row in counts.values()]
        vocabulary = {item: index for index, item in enumerate(counts)}
        for row in rows:
            for item, _ in row:
                vocabulary.setdefault(item, len(vocabulary))
        lengths = np.zeros(len(vocabulary), dtype=np.int64)
        lengths[: len(rows)] = [len(row) for row in rows]
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        neighbours = np.array([vocabulary[item] for row in rows for item, _ in row], dtype=np.int32)
        weights = np.array([weight for row in rows for _, weight in row], dtype=np.float64)
        return cls(np.array(list(vocabulary), dtype=np.str_), indptr, neighbours, weights)

    def row(self, item: str, n: int) -> tuple[Ids, npt.NDArray[np.float64]]:
        """The ``n`` strongest neighbours of ``item`` and their raw weights; empty for an unknown item."""
        index = self._index.get(item)
        if index is None or n <= 0:
            return _EMPTY_IDS, np.array([], dtype=np.float64)
        start, end = int(self.indptr[index]), int(self.indptr[index + 1])
        end = min(end, start + n)
        return self.items[self.neighbours[start:end]], self.weights[start:end]

    def arrays(self, prefix: str) -> Arrays:
        """The four arrays under ``{prefix}items`` … ``{prefix}weights``, for ``savez``."""
        names = ("items", "indptr", "neighbours", "weights")
        return {prefix + name: getattr(self, name) for name in names}

    @classmethod
    def from_arrays(cls, data: Mapping[str, npt.NDArray[Any]], prefix: str) -> NeighbourTable:
        """Rebuild a table written by :meth:`arrays`."""
        return cls(
            data[prefix + "items"], data[prefix + "indptr"], data[prefix + "neighbours"], data[prefix + "weights"]
        )


def _check_count(name: str, value: int, minimum: int) -> int:
    if value < minimum:
        raise ValueError(f"{name} {value} must be at least {minimum}")
    return value


class _RuleModel:
    """Shared fit / recommend / save of AR and SR: only the pair counting differs."""

    kind = ""
    param_names: tuple[str, ...] = ("prune",)

    def __init__(self, prune: int) -> None:
        self.prune = _check_count("prune", prune, 0)
        self.table = NeighbourTable.from_counts({}, prune)

    def _count(self, sessions: Iterable[Sequence[str]]) -> dict[str, dict[str, float]]:
        raise NotImplementedError

    def fit(self, sessions: Iterable[Sequence[str]]) -> Self:
        """Count the rules over ``sessions`` (each the time-ordered item ids of one session) and prune them.

        Args:
            sessions: training sessions, in their file order (it decides ties at the prune cut).

        Returns:
            The model itself, fitted.
        """
        self.table = NeighbourTable.from_counts(self._count(sessions), self.prune)
        return self

    def similar_items(self, item: str, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """The ``n`` strongest neighbours of ``item``, divided by the strongest (max 1); empty when unknown."""
        ids, weights = self.table.row(item, n + len(exclude))
        if not len(ids):
            return ids, _EMPTY_SCORES
        scores = (weights / weights[0]).astype(np.float32)  # rows are sorted: the first is the max
        if exclude:
            keep = np.array([i not in exclude and i != item for i in ids.tolist()], dtype=bool)
            ids, scores = ids[keep], scores[keep]
        return ids[:n], scores[:n]

    def recommend(self, query: Query, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """Next-item list for a session, scored from its last item as session-rec does.

        Args:
            query: the session's item ids, oldest first (or one item id).
            n: how many to return at most.
            exclude: ids to leave out (the session's own items are kept unless listed here, as session-rec's
                published lists keep them).

        Returns:
            ``(ids, scores)`` highest first, scores divided by the last item's strongest rule, so the
            first is 1.0 unless excluded. Empty for an empty session or an item never seen in training.
        """
        session_items = as_items(query)
        if not session_items or n <= 0:
            return _EMPTY_IDS, _EMPTY_SCORES
        banned = set(exclude)
        ids, scores = self.similar_items(session_items[-1], n + len(banned))
        keep = np.array([item not in banned for item in ids.tolist()], dtype=bool)
        return ids[keep][:n], scores[keep][:n]

    def arrays(self, prefix: str = "") -> Arrays:
        """Everything :meth:`load` needs, as named arrays."""
        params = {prefix + name: np.array(getattr(self, name)) for name in self.param_names}
        return params | self.table.arrays(prefix)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one compressed ``.npz`` at exactly ``path`` (no pickle)."""
        _write(path, self.kind, self.arrays())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model written by :meth:`save`."""
        return cls.from_arrays(_read(path, cls.kind), "")

    @classmethod
    def from_arrays(cls, data: Mapping[str, npt.NDArray[Any]], prefix: str) -> Self:
        """Rebuild a model from :meth:`arrays` output."""
        model = cls(**{name: data[prefix + name].item() for name in cls.param_names})
        model.table = NeighbourTable.from_arrays(data, prefix)
        return model


class ARModel(_RuleModel):
    """Association rules: symmetric within-session co-occurrence counts, ``prune`` kept per item."""

    kind = "ar"

    def __init__(self, prune: int = 20) -> None:
        super().__init__(prune)

    def _count(self, sessions: Iterable[Sequence[str]]) -> dict[str, dict[str, float]]:
        counts: dict[str, dict[str, float]] = {}
        for session in sessions:
            for position, item in enumerate(session):
                for earlier in session[:position]:
                    _add(counts, item, earlier, 1.0)
                    _add(counts, earlier, item, 1.0)
        return counts


class SRModel(_RuleModel):
    """Sequential rules: "later after earlier" up to ``steps`` events apart, weighted by distance."""

    kind = "sr"
    param_names = ("prune", "steps", "weighting")

    def __init__(self, prune: int = 20, steps: int = 20, weighting: str = "quadratic") -> None:
        super().__init__(prune)
        self.steps = _check_count("steps", steps, 1)
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting {weighting!r} must be one of {sorted(WEIGHTINGS)}")
        self.weighting = weighting

    def _count(self, sessions: Iterable[Sequence[str]]) -> dict[str, dict[str, float]]:
        weight = WEIGHTINGS[self.weighting]
        counts: dict[str, dict[str, float]] = {}
        for session in sessions:
            for position, item in enumerate(session):
                for distance in range(1, min(self.steps, position) + 1):
                    _add(counts, session[position - distance], item, weight(distance))
        return counts


def _write(path: str | os.PathLike[str], kind: str, arrays: Arrays) -> None:
    payload: dict[str, Any] = {"kind": np.array(kind), "format_version": np.array(FORMAT_VERSION)} | arrays
    with Path(path).open("wb") as handle:  # a file object stops numpy from appending ".npz"
        np.savez_compressed(handle, **payload)


def _read(path: str | os.PathLike[str], kind: str) -> dict[str, npt.NDArray[Any]]:
    with np.load(Path(path), allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    found, version = str(arrays.get("kind", "")), int(arrays.get("format_version", -1))
    if found != kind or version != FORMAT_VERSION:
        raise ValueError(f"{path} holds kind {found!r} version {version}, expected {kind!r} version {FORMAT_VERSION}")
    return arrays


class SessionRecommender:
    """The served blend of AR, SR and, optionally, an item-item similarity.

    Each component scores the last ``len(recency)`` distinct items of the session, most recent first and
    weighted by ``recency``, every anchor's list divided by its own best score. A component's sums are then
    divided by its best eligible candidate (max 1) and the components added with their weights, so the
    weights are the components' shares whatever their raw scales. The session's own items and ``exclude``
    are never returned. ``similar`` is not saved: pass it again to :meth:`load`.

    Args:
        ar: association rules (default: an unfitted ``ARModel()``).
        sr: sequential rules (default: an unfitted ``SRModel()``).
        ar_weight: AR's share of the blend (default 0.5).
        sr_weight: SR's share of the blend (default 0.5).
        similar: item-item similarity lookup ``(item, n) -> (ids, scores)``; None (default) leaves it out.
        similar_weight: its share when given (default 0.5).
        recency: weights of the last distinct session items, most recent first (default 1, 0.5, 0.25).
    """

    kind = "session-blend"

    def __init__(
        self,
        ar: ARModel | None = None,
        sr: SRModel | None = None,
        *,
        ar_weight: float = 0.5,
        sr_weight: float = 0.5,
        similar: Similar | None = None,
        similar_weight: float = 0.5,
        recency: Sequence[float] = (1.0, 0.5, 0.25),
    ) -> None:
        self.ar, self.sr, self.similar = ar or ARModel(), sr or SRModel(), similar
        weights = {"ar_weight": ar_weight, "sr_weight": sr_weight, "similar_weight": similar_weight}
        for name, value in weights.items():
            if not value >= 0:
                raise ValueError(f"{name} {value} must be at least 0")
        self.weights = (ar_weight, sr_weight, similar_weight)
        if not recency or not all(value > 0 for value in recency):
            raise ValueError(f"recency {tuple(recency)} must hold at least one weight, all above 0")
        self.recency = tuple(float(value) for value in recency)

    def fit(self, sessions: Iterable[Sequence[str]]) -> Self:
        """Fit AR and SR on ``sessions`` (time-ordered item ids, sessions in file order); returns self."""
        training = list(sessions)
        self.ar.fit(training)
        self.sr.fit(training)
        return self

    def recommend(self, query: Query, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """Next-item list for a session from its last few distinct items.

        Args:
            query: the session's item ids, oldest first (or one item id).
            n: how many to return at most.
            exclude: more ids to leave out besides the session's own items.

        Returns:
            ``(ids, scores)`` highest first; a score is the weighted sum of the components' normalised
            scores, so at most the sum of the weights. Empty when no component knows the recent items.
        """
        session_items = as_items(query)
        if n <= 0:
            return _EMPTY_IDS, _EMPTY_SCORES
        banned = set(session_items).union(exclude)
        anchors = _recent_distinct(session_items, len(self.recency))
        blended: dict[str, float] = {}
        for weight, lookup in self._components():
            part = _gather(lookup, zip(anchors, self.recency, strict=False), n + len(banned), banned)
            peak = max(part.values(), default=1.0)
            for item, score in part.items():
                blended[item] = blended.get(item, 0.0) + weight * score / peak
        ranked = sorted(blended.items(), key=lambda pair: -pair[1])[:n]
        return np.array([item for item, _ in ranked], dtype=np.str_), np.array([s for _, s in ranked], dtype=np.float32)

    def similar_items(self, item: str, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """The blend's answer for a session of the one item (never the item itself)."""
        return self.recommend([item], n, exclude)

    def _components(self) -> list[tuple[float, Similar]]:
        lookups: list[Similar | None] = [self.ar.similar_items, self.sr.similar_items, self.similar]
        return [(weight, lookup) for weight, lookup in zip(self.weights, lookups, strict=True) if lookup and weight > 0]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write AR, SR, the weights and the recency weights to one compressed ``.npz`` (no pickle)."""
        blend = {"weights": np.array(self.weights), "recency": np.array(self.recency)}
        _write(path, self.kind, blend | self.ar.arrays("ar_") | self.sr.arrays("sr_"))

    @classmethod
    def load(cls, path: str | os.PathLike[str], similar: Similar | None = None) -> SessionRecommender:
        """Read a blend written by :meth:`save`, attaching ``similar`` (which is not saved)."""
        data = _read(path, cls.kind)
        ar_weight, sr_weight, similar_weight = (float(value) for value in data["weights"])
        return cls(
            ARModel.from_arrays(data, "ar_"),
            SRModel.from_arrays(data, "sr_"),
            ar_weight=ar_weight,
            sr_weight=sr_weight,
            similar=similar,
            similar_weight=similar_weight,
            recency=data["recency"].tolist(),
        )


def _recent_distinct(session_items: Sequence[str], count: int) -> list[str]:
    anchors: list[str] = []
    for item in reversed(session_items):
        if len(anchors) == count:
            break
        if item not in anchors:
            anchors.append(item)
    return anchors


def _gather(lookup: Similar, anchors: Iterable[tuple[str, float]], n: int, banned: set[str]) -> dict[str, float]:
    """One component's recency-weighted sum over the anchors, each anchor's list divided by its best."""
    scores: dict[str, float] = {}
    for anchor, factor in anchors:
        ids, values = lookup(anchor, n)
        peak = float(np.max(values, initial=0.0))
        for item, value in zip(ids.tolist(), values.tolist(), strict=True):
            if value > 0 and str(item) not in banned:
                scores[str(item)] = scores.get(str(item), 0.0) + factor * float(value) / peak
    return scores
