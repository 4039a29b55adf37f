"""The one shape every recommender has, in ``implicit``'s vocabulary.

A recommender is fitted on its data — user × item interactions, time-ordered sessions, or order baskets —
and ``fit`` returns the model itself. It then answers, with ``(ids, scores)`` arrays best first (``str`` ids,
``float32`` scores, at most ``n`` long, never an excluded id):

- ``recommend(query, n, exclude)``: for a *query* that is a user id (a model of users) or items (a session's or a
  basket's, oldest first; a single item id stands for itself). A query the model knows nothing of gets empty arrays.
  The query's own items are left out too, except by AR and SR alone, which reproduce session-rec's published
  lists (they keep them).
- ``similar_items(item, n, exclude)``: the items most like ``item``, never ``item`` itself (empty for a model
  without relations between items, such as popularity).

``save(path)`` writes one ``.npz`` without pickles and ``load(path)`` reads it back into a model that answers the
same. ``tests/recommenders/test_behaviour.py`` holds every model to this on data with a known answer.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.str_]
Scores = npt.NDArray[np.float32]
Query = str | Sequence[str]
"""A user id, or the items of a session or basket (oldest first)."""
Path = str | os.PathLike[str]


class Recommender(Protocol):
    """What serving and evaluation call on any model (see the module docstring)."""

    def recommend(self, query: Query, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """Items for a user or for a session's or basket's items, best first."""
        ...

    def similar_items(self, item: str, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """Items most like ``item`` (never itself), best first."""
        ...

    def save(self, path: Path) -> None:
        """One ``.npz``, no pickle."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read what :meth:`save` wrote."""
        ...


def as_items(query: Query) -> list[str]:
    """A query as a list of item ids (a single id stands for itself)."""
    return [query] if isinstance(query, str) else list(query)


def empty() -> tuple[Ids, Scores]:
    """The answer for a query the model knows nothing of."""
    return np.asarray([], dtype=np.str_), np.asarray([], dtype=np.float32)
