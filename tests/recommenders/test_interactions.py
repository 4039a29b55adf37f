"""The interactions matrix: id maps, summed confidences, no pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommenders.interactions import Interactions


def test_weights_sum_per_user_and_item_in_first_seen_order() -> None:
    x = Interactions.from_events(
        [("u1", "a", "product_view"), ("u2", "b", "purchase"), ("u1", "a", "add_to_cart"), ("u1", "c", "search")]
    )
    assert list(x.user_ids) == ["u1", "u2"]
    assert list(x.item_ids) == ["a", "b"]
    assert x.matrix.dtype == np.float32
    assert x.matrix.toarray().tolist() == [[4.0, 0.0], [0.0, 5.0]]
    assert (x.shape, x.nnz, x.user_index["u2"], x.item_index["b"]) == ((2, 2), 2, 1, 1)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    x = Interactions.from_weighted([("u1", "a", 1.5), ("u2", "a", 2.0), ("u2", "b", 0.0)])
    x.save(tmp_path / "x.npz")
    y = Interactions.load(tmp_path / "x.npz")
    assert (list(y.user_ids), list(y.item_ids)) == (["u1", "u2"], ["a"])
    assert (y.matrix != x.matrix).nnz == 0
