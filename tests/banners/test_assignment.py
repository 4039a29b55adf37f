"""Deterministic holdout and variant assignment."""

from __future__ import annotations

import hashlib
from collections import Counter

from banners import TemplateValues
from banners.assignment import (
    BUCKETS,
    bucket,
    cumulative_weights,
    holdout_cut,
    is_held_out,
    variant_index,
)
from banners.engine import HOLDOUT
from tests.banners.documents import banner, context, load

SUBJECTS = [f"session-{n}" for n in range(10_000)]


def test_bucket_is_sha256_prefix_mod_10000() -> None:
    digest = hashlib.sha256(b"winback:cust-42").digest()
    assert bucket("winback", "cust-42") == int.from_bytes(digest[:8], "big") % 10_000
    salted = hashlib.sha256(b"winback:cust-42:variant").digest()
    assert bucket("winback", "cust-42", ":variant") == int.from_bytes(salted[:8], "big") % BUCKETS
    assert all(0 <= bucket("b", subject) < BUCKETS for subject in SUBJECTS[:500])


def test_holdout_cut() -> None:
    assert (holdout_cut(0), holdout_cut(12.5), holdout_cut(50), holdout_cut(100)) == (0, 1250, 5000, 10_000)
    assert not any(is_held_out("b", subject, 0) for subject in SUBJECTS[:500])
    assert all(is_held_out("b", subject, 10_000) for subject in SUBJECTS[:500])


def test_half_holdout_splits_10000_subjects_50_2_and_is_stable() -> None:
    banners = load({"banners": [banner("winback", holdout_pct=50)]})
    arms = {}
    for subject in SUBJECTS:
        choice = banners.choose(context(subject=subject), TemplateValues())
        arms[subject] = choice.exposures()
    held = sum(1 for exposures in arms.values() if exposures == [("winback", HOLDOUT)])
    shown = sum(1 for exposures in arms.values() if exposures == [("winback", "control")])
    assert held + shown == len(SUBJECTS)
    assert 4800 <= held <= 5200
    for subject in SUBJECTS[:1000]:
        assert banners.choose(context(subject=subject), TemplateValues()).exposures() == arms[subject]
    again = load({"banners": [banner("winback", holdout_pct=50)]}, fmt="json")
    assert all(again.choose(context(subject=s), TemplateValues()).exposures() == arms[s] for s in SUBJECTS[:1000])


def test_variants_follow_the_weights_and_are_stable() -> None:
    cumulative = cumulative_weights((3.0, 1.0))
    counts = Counter(variant_index("promo", subject, cumulative) for subject in SUBJECTS)
    assert 7300 <= counts[0] <= 7700
    assert counts[0] + counts[1] == len(SUBJECTS)
    assert [variant_index("promo", s, cumulative) for s in SUBJECTS[:200]] == [
        variant_index("promo", s, cumulative) for s in SUBJECTS[:200]
    ]
    assert variant_index("promo", "x", (1.0,)) == 0


def test_holdout_and_variant_are_independent() -> None:
    cumulative = cumulative_weights((1.0, 1.0))
    cut = holdout_cut(50)
    held = [s for s in SUBJECTS if is_held_out("b", s, cut)]
    share = sum(variant_index("b", s, cumulative) for s in held) / len(held)
    assert 0.46 <= share <= 0.54


def test_same_subject_other_banner_draws_again() -> None:
    cut = holdout_cut(50)
    together = sum(is_held_out("a", s, cut) == is_held_out("b", s, cut) for s in SUBJECTS)
    assert 4700 <= together <= 5300
