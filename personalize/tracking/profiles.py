"""Affinity profiles read back: stored sums decayed to now, the customer's long-term part merged in."""

from __future__ import annotations

from collections import defaultdict

from personalize.store.protocols import RawProfile, RawScores, TrackingConfig
from personalize.tracking.types import Affinity, SessionProfile
from recommenders import decay

ATTRIBUTES = ("brand", "category", "color", "price_band")
MIN_SCORE = 1e-6


def decayed(raw: RawScores | None, now_ms: float, half_life_ms: float) -> dict[str, float]:
    """Each stored sum as its value at ``now_ms``."""
    if raw is None:
        return {}
    return {key: decay.to_now(value, raw.epoch_ms, now_ms, half_life_ms) for key, value in raw.scores.items()}


def merged_scores(raw: RawProfile, config: TrackingConfig, customer_weight: float, now_ms: float) -> dict[str, float]:
    """Session scores plus ``customer_weight`` × the linked customer's long-term scores."""
    scores = decayed(raw.session, now_ms, config.session_half_life_ms)
    for key, value in decayed(raw.customer, now_ms, config.customer_half_life_ms).items():
        scores[key] = scores.get(key, 0.0) + customer_weight * value
    return scores


def build_profile(session_id: str, customer_id: str | None, scores: dict[str, float]) -> SessionProfile:
    """Group ``attribute:value`` scores by attribute, drop what has decayed away, sort each list."""
    grouped: dict[str, list[Affinity]] = defaultdict(list)
    for key, score in scores.items():
        attribute, _, value = key.partition(":")
        if value and score > MIN_SCORE:
            grouped[attribute].append(Affinity(value, round(score, 6)))
    affinities = {name: sorted(grouped[name], key=lambda a: (-a.score, a.value)) for name in ATTRIBUTES}
    return SessionProfile(
        session_id=session_id,
        customer_id=customer_id,
        evidence=round(scores.get("n", 0.0), 6),
        affinities=affinities,
    )
