"""``personalize train``: read history, fit every model, write one versioned artifact directory.

An artifact is ``<models_dir>/<version>/`` holding ``manifest.json`` and one ``.npz`` per model (no pickle).
It is written under a temporary name and renamed into place, so a server never loads half of one; the
server serves the newest version (names sort by time).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from personalize.clock import epoch_ms
from personalize.store.protocols import Interaction
from personalize.tracking.scoring import RECENT_KINDS
from recommenders.evaluation import Row
from recommenders.interactions import CONFIDENCE, Interactions
from recommenders.rules import AssociationRules
from recommenders.selection import Selection, fit_selected, select, steps
from recommenders.sessions import SessionRecommender

Progress = Callable[[str], None]
TRAINING_STEPS = steps() + 3
"""Calls ``train`` makes to its progress callback: the model selection's, then collaborative, sessions, rules."""
ARTIFACT_FORMAT = 2
"""2: the manifest's ``selection`` records the hyperparameters and the popularity penalty chosen."""


class OrderLine(msgspec.Struct):
    item_id: str
    quantity: int = 1


class OrderRecord(msgspec.Struct):
    """The fields of a ``POST /v1/orders`` body that training reads."""

    customer_id: str
    items: list[OrderLine]
    completed_at: str | int | None = None


class EventRecord(msgspec.Struct):
    """A line of an events export (``personalize fixtures`` writes them)."""

    session_id: str
    type: str
    ts: int
    customer_id: str | None = None
    item_id: str | None = None


class TrainingData(msgspec.Struct, kw_only=True):
    """What the models learn from: weighted ``(user, item, weight)`` rows with times, sessions, baskets."""

    rows: list[Row]
    sessions: list[list[str]]
    baskets: list[list[str]]
    source: str


class Manifest(msgspec.Struct, kw_only=True):
    """``manifest.json`` of an artifact."""

    format: int = ARTIFACT_FORMAT
    version: str
    created_at: str
    source: str
    counts: dict[str, int]
    collaborative: str
    selection: Selection
    """The collaborative model, hyperparameters and popularity penalty chosen on validation, with the figures."""
    params: dict[str, dict[str, float | int | str]]
    seconds: dict[str, float]


def from_exports(events: Iterable[bytes], orders: Iterable[bytes], source: str) -> TrainingData:
    """Training data from JSONL events and orders (one JSON object per line)."""
    decoded_events = (msgspec.json.decode(line, type=EventRecord) for line in events)
    decoded_orders = (msgspec.json.decode(line, type=OrderRecord) for line in orders)
    return from_records(decoded_events, decoded_orders, source)


def from_log(log: Iterable[Interaction], orders: Iterable[bytes], source: str) -> TrainingData:
    """Training data from the store's interaction log (and, optionally, JSONL orders)."""
    events = (
        EventRecord(i.session_id, i.kind, i.ts, None if i.user.startswith("session:") else i.user, i.item_id)
        for i in log
    )
    return from_records(events, (msgspec.json.decode(line, type=OrderRecord) for line in orders), source)


def from_records(events: Iterable[EventRecord], orders: Iterable[OrderRecord], source: str) -> TrainingData:
    """Rows (customer or ``session:<id>`` × item, weighted by kind), time-ordered sessions and order baskets."""
    rows: list[Row] = []
    by_session: dict[str, list[tuple[int, str]]] = {}
    for event in events:
        if event.item_id and event.type in CONFIDENCE:
            user = event.customer_id or f"session:{event.session_id}"
            rows.append(Row(user, event.item_id, float(event.ts), CONFIDENCE[event.type]))
            if event.type in RECENT_KINDS:
                by_session.setdefault(event.session_id, []).append((event.ts, event.item_id))
    baskets: list[list[str]] = []
    for order in orders:
        ts = float(epoch_ms(order.completed_at)) if order.completed_at is not None else 0.0
        rows.extend(Row(order.customer_id, line_.item_id, ts, CONFIDENCE["purchase"]) for line_ in order.items)
        baskets.append(list(dict.fromkeys(line_.item_id for line_ in order.items)))
    sessions = [[item for _, item in sorted(views, key=lambda v: v[0])] for views in by_session.values()]
    return TrainingData(rows=rows, sessions=sessions, baskets=baskets, source=source)


def from_rows(rows: list[Row], source: str) -> TrainingData:
    """Training data from ``user,item,timestamp,weight`` rows: each user's history is one session."""
    by_user: dict[str, list[tuple[float, str]]] = {}
    for row in rows:
        by_user.setdefault(row.user, []).append((row.ts, row.item))
    sessions = [[item for _, item in sorted(history)] for history in by_user.values()]
    return TrainingData(rows=rows, sessions=sessions, baskets=[], source=source)


def train(
    data: TrainingData, models_dir: Path, *, rules_min_count: int = 3, progress: Progress | None = None
) -> Manifest:
    """Fit the collaborative, session and cross-sell models and write a new artifact; returns its manifest."""
    say = progress or (lambda _message: None)
    seconds: dict[str, float] = {}
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging = models_dir / f".{version}.tmp"
    staging.mkdir(parents=True)
    try:
        with _timed(seconds, "select"):
            chosen = select(data.rows, progress=say)
        with _timed(seconds, "collaborative"):
            say(f"fitting {chosen.candidate.label} (penalty {chosen.penalty:g}) on {len(data.rows)} interactions")
            interactions = Interactions.from_weighted((r.user, r.item, r.weight) for r in data.rows)
            fit_selected(chosen, interactions).save(staging / "collaborative.npz")
        with _timed(seconds, "sessions"):
            say(f"fitting AR and SR on {len(data.sessions)} sessions")
            SessionRecommender().fit(data.sessions).save(staging / "sessions.npz")
        min_support = rules_min_count / max(len(data.baskets), 1)
        with _timed(seconds, "rules"):
            say(f"mining association rules in {len(data.baskets)} baskets")
            rules = AssociationRules(min_support=min_support).fit(data.baskets)
            rules.save(staging / "rules.npz")
        manifest = Manifest(
            version=version,
            created_at=datetime.now(UTC).isoformat(),
            source=data.source,
            counts={
                "users": interactions.shape[0],
                "items": interactions.shape[1],
                "interactions": interactions.nnz,
                "sessions": len(data.sessions),
                "baskets": len(data.baskets),
            },
            collaborative=chosen.model,
            selection=chosen,
            params={"rules": {"min_support": min_support, "min_count": rules_min_count}},
            seconds=seconds,
        )
        (staging / "manifest.json").write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
        os.rename(staging, models_dir / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


@contextlib.contextmanager
def _timed(into: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    into[name] = round(time.perf_counter() - started, 3)


class _Format(msgspec.Struct):
    format: int = 1


def versions(models_dir: Path) -> list[Path]:
    """Complete artifact directories of this format, oldest first (an older format's are left for retraining)."""
    if not models_dir.is_dir():
        return []
    return sorted(
        path
        for path in models_dir.iterdir()
        if path.is_dir() and not path.name.startswith(".") and _format(path / "manifest.json") == ARTIFACT_FORMAT
    )


def _format(manifest: Path) -> int | None:
    try:
        return msgspec.json.decode(manifest.read_bytes(), type=_Format).format
    except (OSError, msgspec.DecodeError):
        return None


def read_manifest(path: Path) -> Manifest:
    """The manifest of one artifact directory."""
    return msgspec.json.decode((path / "manifest.json").read_bytes(), type=Manifest)


def iter_lines(path: Path) -> Iterator[bytes]:
    """Non-empty lines of a JSONL file."""
    with path.open("rb") as handle:
        yield from (line for line in handle if line.strip())
