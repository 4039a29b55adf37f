"""Offline evaluation of top-N recommenders on held-out interactions.

Protocol (``personalize evaluate recs``): interactions ``(user, item, timestamp, weight)`` are split into
train and test; every recommender is fitted on train; each test user with at least one training
interaction gets a top-k list with their training items excluded; relevance is binary — every item of the
user's test part is relevant. Metrics are averaged over those users; coverage is the share of training
items that appear in any list.

Splits: ``user-random`` holds out ``test_fraction`` of each user's distinct items (at least one, users with
a single item stay in train); ``temporal`` holds out every interaction at or after the time quantile
``1 − test_fraction`` (the last quarter of the history by default).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Literal

import msgspec

from recommenders.base import Recommender

Split = Literal["user-random", "temporal"]
Recommend = Callable[[str, int, set[str]], Sequence[str]]
"""``(user, k, seen) -> item ids``: what :func:`evaluate` asks of a model."""


def recommend_with(model: Recommender) -> Recommend:
    """A model's user recommendations as :func:`evaluate` asks for them."""
    return lambda user, k, seen: [str(item) for item in model.recommend(user, k, seen)[0]]


"""``(user, k, training items) -> up to k item ids, best first``."""


class Row(msgspec.Struct, frozen=True, array_like=True):
    """One interaction."""

    user: str
    item: str
    ts: float
    weight: float = 1.0


class Metrics(msgspec.Struct, kw_only=True):
    """Averages over evaluated users; ``coverage`` over the training catalog."""

    model: str
    users: int
    precision: float
    recall: float
    ndcg: float
    map: float
    hit_rate: float
    mrr: float
    coverage: float


def split(rows: Sequence[Row], how: Split, test_fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    """Train and test parts of the interactions (see the module docstring)."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction {test_fraction} must be between 0 and 1")
    if how == "temporal":
        times = sorted(row.ts for row in rows)
        cut = times[min(len(times) - 1, int(len(times) * (1 - test_fraction)))] if times else 0.0
        return [r for r in rows if r.ts < cut], [r for r in rows if r.ts >= cut]
    return _user_random(rows, test_fraction, seed)


def _user_random(rows: Sequence[Row], test_fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    rng = random.Random(seed)
    items_of: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.item not in items_of[row.user]:
            items_of[row.user].append(row.item)
    held: set[tuple[str, str]] = set()
    for user in sorted(items_of):
        items = items_of[user]
        if len(items) > 1:
            count = max(1, round(len(items) * test_fraction))
            held.update((user, item) for item in rng.sample(items, count))
    train = [r for r in rows if (r.user, r.item) not in held]
    return train, [r for r in rows if (r.user, r.item) in held]


def evaluate(name: str, recommend: Recommend, train: Sequence[Row], test: Sequence[Row], k: int) -> Metrics:
    """Score one recommender's top-k lists against the test part."""
    seen: dict[str, set[str]] = defaultdict(set)
    for row in train:
        seen[row.user].add(row.item)
    relevant: dict[str, set[str]] = defaultdict(set)
    for row in test:
        if row.user in seen and row.item not in seen[row.user]:
            relevant[row.user].add(row.item)
    totals: dict[str, float] = defaultdict(float)
    shown: set[str] = set()
    for user in sorted(relevant):
        ranked = list(recommend(user, k, seen[user]))[:k]
        shown.update(ranked)
        for metric, value in _user_metrics(ranked, relevant[user], k).items():
            totals[metric] += value
    users = len(relevant)
    catalog = {row.item for row in train}
    mean = {metric: (totals[metric] / users if users else 0.0) for metric in _METRICS}
    return Metrics(model=name, users=users, coverage=len(shown & catalog) / max(len(catalog), 1), **mean)


_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "mrr")


def _user_metrics(ranked: list[str], relevant: set[str], k: int) -> dict[str, float]:
    hits = [item in relevant for item in ranked]
    n_hits = sum(hits)
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    precisions = [sum(hits[: i + 1]) / (i + 1) for i, hit in enumerate(hits) if hit]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    return {
        "precision": n_hits / k,
        "recall": n_hits / len(relevant),
        "ndcg": dcg / ideal if ideal else 0.0,
        "map": sum(precisions) / min(len(relevant), k),
        "hit_rate": 1.0 if n_hits else 0.0,
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
    }


def format_table(results: Sequence[Metrics], k: int) -> str:
    """A plain-text table, one model per row."""
    header = (
        f"{'model':<14}{'users':>7}"
        + "".join(f"{name + '@' + str(k):>13}" for name in ("precision", "recall", "NDCG", "MAP", "HR", "MRR"))
        + f"{'coverage':>10}"
    )
    lines = [header, "-" * len(header)]
    for m in results:
        values = (m.precision, m.recall, m.ndcg, m.map, m.hit_rate, m.mrr)
        lines.append(f"{m.model:<14}{m.users:>7}" + "".join(f"{v:>13.4f}" for v in values) + f"{m.coverage:>10.3f}")
    return "\n".join(lines)
