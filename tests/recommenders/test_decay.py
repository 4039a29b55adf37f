"""The growing-increment form equals the lazy ``s = s·2^(-Δt/H) + w`` update of DOMAIN.md."""

from __future__ import annotations

import random

import pytest

from recommenders import decay
from recommenders.trending import decayed_top

H = 45 * 60_000.0


def lazy(events: list[tuple[float, float]], now: float) -> float:
    score, last = 0.0, events[0][0]
    for ts, weight in events:
        score = score * 2 ** (-(ts - last) / H) + weight
        last = ts
    return score * 2 ** (-(now - last) / H)


def test_matches_the_lazy_update_on_random_streams() -> None:
    rng = random.Random(3)
    for _ in range(50):
        ts = 1.7e12
        events = []
        for _ in range(rng.randint(1, 40)):
            ts += rng.expovariate(1 / 600_000)
            events.append((ts, rng.choice([1.0, 2.0, 5.0, 10.0])))
        epoch = events[0][0]
        scaled = sum(w * decay.growth(t, epoch, H) for t, w in events)
        now = ts + rng.uniform(0, 3 * H)
        assert decay.to_now(scaled, epoch, now, H) == pytest.approx(lazy(events, now), rel=1e-9)


def test_a_sum_far_in_the_past_reads_as_zero() -> None:
    assert decay.to_now(1e300, 0.0, 2000 * H, H) == 0.0
    assert decay.needs_rebase(61 * H, 0.0, H)
    assert not decay.needs_rebase(59 * H, 0.0, H)


def test_trending_applies_the_floor_after_decay() -> None:
    stored = [("a", 8.0), ("b", 4.0), ("c", 2.0)]
    assert decayed_top(stored, 0.0, H, H, min_score=2.0) == [("a", 4.0), ("b", 2.0)]
