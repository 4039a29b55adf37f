"""Category-page ranking: trending for a cold visitor, blended with learned affinity as evidence grows.

``score = (1 − α)·norm(trend) + α·norm(affinity)`` with ``α = α_max · n / (n + k)`` (DOMAIN.md), where ``n``
is the visitor's weighted event count; then no more than ``max_run`` consecutive items of one brand at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence


def blend_weight(evidence: float, alpha_max: float, k: float) -> float:
    """α for a visitor with ``evidence`` weighted events: 0 when cold, approaching ``alpha_max``."""
    return alpha_max * evidence / (evidence + k) if evidence > 0 else 0.0


def rank(
    candidates: Sequence[str], trend: Mapping[str, float], affinity: Mapping[str, float], alpha: float
) -> list[tuple[str, float]]:
    """Candidates by the blended score, highest first; equal scores keep the candidates' order.

    Args:
        candidates: item ids to rank (in a sensible default order, e.g. newest first).
        trend: trending score per item (missing = 0).
        affinity: the visitor's affinity per item (missing = 0).
        alpha: the blend weight of affinity.
    """
    top_trend = max((trend.get(i, 0.0) for i in candidates), default=0.0) or 1.0
    top_affinity = max((affinity.get(i, 0.0) for i in candidates), default=0.0) or 1.0
    scored = [
        (item, (1 - alpha) * trend.get(item, 0.0) / top_trend + alpha * affinity.get(item, 0.0) / top_affinity)
        for item in candidates
    ]
    return sorted(scored, key=lambda pair: -pair[1])


def diversify(
    ranked: Sequence[tuple[str, float]], group_of: Callable[[str], str], max_run: int, head: int
) -> list[tuple[str, float]]:
    """Reorder the first ``head`` places so no more than ``max_run`` consecutive items share a group
    (brand), taking each time the best item that keeps the rule, or the best one when none can."""
    pending = list(ranked)
    placed: list[tuple[str, float]] = []
    while pending and len(placed) < head:
        run_group = _run_group(placed, group_of, max_run)
        pick = next((i for i, (item, _) in enumerate(pending) if group_of(item) != run_group), 0)
        placed.append(pending.pop(pick))
    return placed + pending


def _run_group(placed: Sequence[tuple[str, float]], group_of: Callable[[str], str], max_run: int) -> str | None:
    """The group that already fills the last ``max_run`` places, if one does."""
    if len(placed) < max_run:
        return None
    groups = {group_of(item) for item, _ in placed[-max_run:]}
    return groups.pop() if len(groups) == 1 else None
