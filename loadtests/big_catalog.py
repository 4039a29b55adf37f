"""A large catalog for memory measurements: the demo catalog grown with synthetic items, and models trained on
synthetic browsing over all of them (so the model artifacts are the size a catalog that large would give)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec

from fixtures import generate
from personalize.models.training import TrainingData, train
from recommenders.evaluation import Row

USERS = 25_000
EVENTS_PER_USER = 12
TAIL_PER_USER = 4
"""Long-tail visits per user, dealt out in turn so that every item of a 100,000-item catalog is seen."""


def synthetic_catalog(size: int) -> list[dict[str, Any]]:
    """``PUT /v1/catalog/items`` bodies: the demo items, then copies of them under new ids up to ``size``."""
    demo = [msgspec.to_builtins(item) for item in generate().items]
    grown = demo[:size]
    for n in range(size - len(grown)):
        source = demo[n % len(demo)]
        grown.append({**source, "item_id": f"x{n:06d}", "price": min(5000, round(source["price"] + n % 97, 2))})
    return grown


def train_models(catalog: list[dict[str, Any]], models_dir: Path, seed: int = 7) -> None:
    """Train every model on synthetic sessions that touch the whole catalog (popularity skewed, as in shops)."""
    rng = random.Random(seed)
    ids = [item["item_id"] for item in catalog]
    weights = [1.0 / (rank + 10) for rank in range(len(ids))]
    rows: list[Row] = []
    sessions: list[list[str]] = []
    baskets: list[list[str]] = []
    for user in range(USERS):
        picked = rng.choices(ids, weights, k=EVENTS_PER_USER)
        picked += [ids[(user * TAIL_PER_USER + k) % len(ids)] for k in range(TAIL_PER_USER)]
        rows += [Row(f"u{user}", item, float(t), 1.0) for t, item in enumerate(picked)]
        sessions.append(picked)
        if user % 4 == 0:
            baskets.append(list(dict.fromkeys(picked[:3])))
    train(TrainingData(rows=rows, sessions=sessions, baskets=baskets, source="synthetic"), models_dir)
