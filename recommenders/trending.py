"""Trending: exponentially decayed weighted counts per item ("wisdom of the crowd").

The store keeps each list as scaled sums against a shared epoch (``recommenders.decay``); this module
turns a stored top list into scores at a moment and applies the minimum-count floor, so one view
cannot top a list.
"""

from __future__ import annotations

from collections.abc import Sequence

from recommenders import decay


def decayed_top(
    stored: Sequence[tuple[str, float]], epoch_ms: float, now_ms: float, half_life_ms: float, min_score: float
) -> list[tuple[str, float]]:
    """``(item_id, score at now_ms)`` for the stored items at or above ``min_score``, highest first.

    Args:
        stored: ``(item_id, scaled sum)`` pairs, highest first, as the store returns them.
        epoch_ms: the epoch the sums are kept against.
        now_ms: the moment to decay to.
        half_life_ms: the trending half-life.
        min_score: the floor a decayed weighted count must reach to be listed.
    """
    top: list[tuple[str, float]] = []
    for item_id, scaled in stored:
        score = decay.to_now(scaled, epoch_ms, now_ms, half_life_ms)
        if score < min_score:
            break
        top.append((item_id, score))
    return top
