"""Category ranking: the trend/affinity blend and brand variety."""

from __future__ import annotations

import pytest

from recommenders.ranking import blend_weight, diversify, rank


def test_alpha_grows_with_evidence_towards_its_maximum() -> None:
    assert blend_weight(0, 0.6, 5) == 0.0
    assert blend_weight(5, 0.6, 5) == pytest.approx(0.3)
    assert blend_weight(1e9, 0.6, 5) == pytest.approx(0.6)


def test_cold_ranking_is_trending_and_evidence_lifts_liked_items() -> None:
    trend = {"hot": 10.0, "warm": 5.0, "liked": 0.0}
    affinity = {"liked": 3.0, "warm": 0.5}
    assert [i for i, _ in rank(["liked", "warm", "hot"], trend, affinity, 0.0)] == ["hot", "warm", "liked"]
    blended = rank(["liked", "warm", "hot"], trend, affinity, 0.6)
    assert [i for i, _ in blended] == ["liked", "hot", "warm"]
    assert blended[0][1] == pytest.approx(0.6)


def test_no_more_than_two_of_a_brand_in_a_row_at_the_top() -> None:
    brand = {"m1": "M", "m2": "M", "m3": "M", "m4": "M", "g1": "G", "p1": "P"}
    ranked = [(i, 1.0) for i in ("m1", "m2", "m3", "m4", "g1", "p1")]
    order = [i for i, _ in diversify(ranked, brand.__getitem__, max_run=2, head=6)]
    assert order == ["m1", "m2", "g1", "m3", "m4", "p1"]
    assert [i for i, _ in diversify(ranked, brand.__getitem__, max_run=2, head=2)] == [
        "m1",
        "m2",
        "m3",
        "m4",
        "g1",
        "p1",
    ]
