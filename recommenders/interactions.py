"""Interactions: the users × items matrix every collaborative model trains on.

Conventions, stated once:

- Rows are users (customers, or anonymous sessions), columns are items; both are numbered in first-seen
  order of the input, and ``user_ids[row]`` / ``item_ids[col]`` map back to the string ids.
- The matrix is a ``scipy.sparse.csr_matrix`` of ``float32`` confidences: the sum of the weights of every
  event of that user on that item (DOMAIN.md: view 1, add to cart 3, purchase 5), duplicates summed.
- Rows and columns with no events do not exist: an id that is not in the maps is unknown to the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

CONFIDENCE: Mapping[str, float] = {"product_view": 1.0, "click": 1.0, "add_to_cart": 3.0, "purchase": 5.0}
"""Default confidence per event kind; kinds not listed add nothing."""


class Interactions:
    """Owns the id ↔ index maps and the weighted CSR matrix (see the module docstring)."""

    def __init__(self, user_ids: npt.NDArray[np.str_], item_ids: npt.NDArray[np.str_], matrix: sp.csr_matrix) -> None:
        if matrix.shape != (len(user_ids), len(item_ids)):
            raise ValueError(
                f"matrix shape {matrix.shape} does not match {len(user_ids)} users × {len(item_ids)} items"
            )
        self.user_ids = user_ids
        self.item_ids = item_ids
        self.matrix = matrix
        self.user_index = {str(user): row for row, user in enumerate(user_ids)}
        self.item_index = {str(item): col for col, item in enumerate(item_ids)}

    @classmethod
    def from_events(
        cls, events: Iterable[tuple[str, str, str]], confidence: Mapping[str, float] = CONFIDENCE
    ) -> Interactions:
        """Build from ``(user, item, kind)`` triples, weighting each by ``confidence[kind]``."""
        return cls.from_weighted((user, item, confidence.get(kind, 0.0)) for user, item, kind in events)

    @classmethod
    def from_weighted(cls, triples: Iterable[tuple[str, str, float]]) -> Interactions:
        """Build from ``(user, item, weight)`` triples; non-positive weights are dropped, duplicates summed."""
        users: dict[str, int] = {}
        items: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for user, item, weight in triples:
            if weight > 0:
                rows.append(users.setdefault(user, len(users)))
                cols.append(items.setdefault(item, len(items)))
                values.append(weight)
        matrix = sp.csr_matrix(
            (np.asarray(values, dtype=np.float32), (rows, cols)), shape=(len(users), len(items)), dtype=np.float32
        )
        matrix.sum_duplicates()
        return cls(np.asarray(list(users), dtype=np.str_), np.asarray(list(items), dtype=np.str_), matrix)

    @property
    def shape(self) -> tuple[int, int]:
        """(users, items)."""
        return self.matrix.shape  # type: ignore[no-any-return]

    @property
    def nnz(self) -> int:
        """Stored (user, item) pairs."""
        return int(self.matrix.nnz)

    def save(self, path: Path) -> None:
        """Write one ``.npz`` (no pickle)."""
        m = self.matrix
        np.savez_compressed(
            path, user_ids=self.user_ids, item_ids=self.item_ids, data=m.data, indices=m.indices, indptr=m.indptr
        )

    @classmethod
    def load(cls, path: Path) -> Interactions:
        """Read what :meth:`save` wrote."""
        with np.load(path, allow_pickle=False) as f:
            shape = (len(f["user_ids"]), len(f["item_ids"]))
            matrix = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=shape)
            return cls(f["user_ids"], f["item_ids"], matrix)
