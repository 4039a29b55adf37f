"""Offline next-item evaluation of the session recommenders, as session-rec's ``evaluate_sessions`` does it.

Every position of every test session is a prediction point: position ``p`` (0-based, session-rec's
``Position``) asks for the item at ``p + 1`` given the items ``0 … p``. A hit is the target among the first
``k`` ids returned; MRR adds ``1 / rank`` for a hit and 0 otherwise; both are averaged over all points.

Items unseen in training are kept, as session-rec's ``load_data_session`` (the loader its ``run_config``
always uses) keeps them: a point whose target was never trained on stays in the denominator as a miss,
and a point whose last item is unseen gets AR's and SR's empty list. ``unseen_targets`` counts the first
kind. Sessions with a single event give no points.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from recommenders.sessions import ARModel, SessionRecommender, SRModel

Recommend = Callable[[Sequence[str], int], tuple[npt.NDArray[Any], npt.NDArray[Any]]]
"""``(session_items, n) -> (ids, scores)``, the shape every session model's ``recommend`` has."""


class MethodScore(msgspec.Struct, frozen=True, kw_only=True):
    """Next-item accuracy of one method at the report's cut-off, over all points and over "new" points.

    A new point's target does not occur earlier in its session: the blend removes session items, so it
    competes only there, while AR, SR and popularity also score on repeated clicks.
    """

    name: str
    hit_rate: float
    mrr: float
    new_hit_rate: float
    new_mrr: float


class SessionReport(msgspec.Struct, frozen=True, kw_only=True):
    """Next-item HR@k and MRR@k of AR, SR, the blend and popularity on one train/test split.

    ``unseen_targets`` counts points whose target never occurs in training (always misses);
    ``repeat_targets`` counts points whose target already occurs earlier in its session.
    """

    k: int
    train_sessions: int
    test_sessions: int
    points: int
    unseen_targets: int
    repeat_targets: int
    methods: tuple[MethodScore, ...]


def read_sessions(path: str | os.PathLike[str]) -> list[list[str]]:
    """Sessions of a tab-separated ``SessionId ItemId Time`` file with a header line.

    Args:
        path: the file; the header names the columns, in any order.

    Returns:
        One list of item ids per session, ordered by time (stable for equal times), sessions in order of
        their first event in the file (session-rec trains in file order, which decides AR/SR prune ties).
    """
    events: dict[str, list[tuple[float, str]]] = {}
    with Path(path).open(encoding="utf-8") as lines:
        columns = next(lines, "").rstrip("\n").split("\t")
        missing = [name for name in ("SessionId", "ItemId", "Time") if name not in columns]
        if missing:
            raise ValueError(f"{path} header {columns} lacks {missing}")
        session_at, item_at, time_at = (columns.index(name) for name in ("SessionId", "ItemId", "Time"))
        for line in lines:
            if line.strip():
                fields = line.rstrip("\n").split("\t")
                events.setdefault(fields[session_at], []).append((float(fields[time_at]), fields[item_at]))
    return [[item for _, item in sorted(clicks, key=lambda event: event[0])] for clicks in events.values()]


def prediction_points(sessions: Iterable[Sequence[str]]) -> Iterator[tuple[Sequence[str], str]]:
    """``(items 0 … p, item p + 1)`` for every position ``p`` of every session, in order."""
    for session in sessions:
        for position in range(len(session) - 1):
            yield session[: position + 1], session[position + 1]


def ranks(recommend: Recommend, points: Iterable[tuple[Sequence[str], str]], k: int) -> list[int]:
    """The 1-based rank of each point's target among the first ``k`` ids ``recommend`` returns, 0 if absent."""
    found: list[int] = []
    for prefix, target in points:
        ids = recommend(prefix, k)[0].tolist()[:k]
        found.append(ids.index(target) + 1 if target in ids else 0)
    return found


def accuracy(found: Sequence[int]) -> tuple[float, float]:
    """``(HR, MRR)`` of 1-based ranks, 0 meaning a miss; ``(0, 0)`` without points."""
    if not found:
        return 0.0, 0.0
    return sum(rank > 0 for rank in found) / len(found), sum(1.0 / rank for rank in found if rank) / len(found)


def _method_score(name: str, found: Sequence[int], new: Sequence[bool]) -> MethodScore:
    hit_rate, mrr = accuracy(found)
    new_hit_rate, new_mrr = accuracy([rank for rank, is_new in zip(found, new, strict=True) if is_new])
    return MethodScore(name=name, hit_rate=hit_rate, mrr=mrr, new_hit_rate=new_hit_rate, new_mrr=new_mrr)


def popularity(train: Iterable[Sequence[str]]) -> Recommend:
    """The baseline: the most clicked training items for every session (ties in first-click order)."""
    ranked = [item for item, _ in Counter(item for session in train for item in session).most_common()]
    ids = np.array(ranked, dtype=np.str_)
    scores = np.array([1.0] * len(ranked), dtype=np.float32)

    def recommend(session_items: Sequence[str], n: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        return ids[:n], scores[:n]

    return recommend


def session_report(train: Sequence[Sequence[str]], test: Sequence[Sequence[str]], k: int = 20) -> SessionReport:
    """Fit AR, SR and the default blend (no similarity) on ``train`` and score them on ``test``.

    Args:
        train: training sessions as :func:`read_sessions` returns them.
        test: test sessions, likewise.
        k: the cut-off of HR@k and MRR@k.
    """
    ar, sr = ARModel().fit(train), SRModel().fit(train)
    methods: dict[str, Recommend] = {
        "ar": ar.recommend,
        "sr": sr.recommend,
        "blend": SessionRecommender(ar, sr).recommend,
        "popularity": popularity(train),
    }
    points = list(prediction_points(test))
    new = [target not in prefix for prefix, target in points]
    trained = {item for session in train for item in session}
    return SessionReport(
        k=k,
        train_sessions=len(train),
        test_sessions=len(test),
        points=len(points),
        unseen_targets=sum(target not in trained for _, target in points),
        repeat_targets=new.count(False),
        methods=tuple(_method_score(name, ranks(method, points, k), new) for name, method in methods.items()),
    )


def format_report(report: SessionReport) -> str:
    """A plain-text table of the report, one method a row; "new" columns cover non-repeat targets only."""
    k = report.k
    lines = [
        f"{report.train_sessions} train sessions, {report.test_sessions} test sessions, {report.points} points "
        f"({report.unseen_targets} with unseen targets, {report.repeat_targets} repeating a session item)",
        f"{'method':<12}{f'HR@{k}':>10}{f'MRR@{k}':>10}{f'new HR@{k}':>12}{f'new MRR@{k}':>12}",
    ]
    lines += [
        f"{m.name:<12}{m.hit_rate:>10.4f}{m.mrr:>10.4f}{m.new_hit_rate:>12.4f}{m.new_mrr:>12.4f}"
        for m in report.methods
    ]
    return "\n".join(lines)
