"""``personalize evaluate recs|sessions|rules``: offline quality, checked against held-out or published data."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec

from personalize.cli.train import read_interactions_csv
from recommenders.collaborative import ALSRecommender, EASERecommender, PopularityRecommender
from recommenders.evaluation import Metrics, Recommend, Row, evaluate, format_table, recommend_with, split
from recommenders.interactions import Interactions
from recommenders.selection import Selection, fit_selected, select
from recommenders.sessions import SessionRecommender


def add_parser(commands: Any) -> None:
    """Register ``evaluate`` and its three kinds."""
    parser = commands.add_parser("evaluate", help="offline evaluation: recs, sessions or rules")
    kinds = parser.add_subparsers(required=True, metavar="KIND")

    recs = kinds.add_parser("recs", help="top-N recommenders on user × item interactions")
    recs.add_argument("interactions", type=Path, help="CSV user_id,item_id,timestamp[,weight]")
    recs.add_argument("--split", choices=["user-random", "temporal"], default="user-random")
    recs.add_argument("--test-fraction", type=float, default=0.25)
    recs.add_argument("--seed", type=int, default=42)
    recs.add_argument("--k", type=int, default=10)
    recs.add_argument("--json", action="store_true", help="one JSON object on stdout")
    recs.set_defaults(run=_recs)

    sessions = kinds.add_parser("sessions", help="next-item prediction (AR, SR, blend, popularity)")
    sessions.add_argument("train", type=Path, help="tab-separated SessionId ItemId Time")
    sessions.add_argument("test", type=Path)
    sessions.add_argument("--k", type=int, default=20)
    sessions.add_argument("--json", action="store_true")
    sessions.set_defaults(run=_sessions)

    rules = kinds.add_parser("rules", help="association rules over baskets")
    rules.add_argument("baskets", type=Path)
    rules.add_argument("--format", choices=["lines", "long"], default="lines")
    rules.add_argument("--min-support", type=float, default=0.001)
    rules.add_argument("--min-confidence", type=float, default=0.5)
    rules.add_argument("--min-length", type=int, default=1)
    rules.add_argument("--max-length", type=int, default=10)
    rules.add_argument("--top", type=int, default=10)
    rules.add_argument("--json", action="store_true")
    rules.set_defaults(run=_rules)


class RecsReport(msgspec.Struct):
    """``evaluate recs --json``."""

    split: str
    test_fraction: float
    seed: int
    k: int
    train_rows: int
    test_rows: int
    results: list[Metrics]
    served: Selection
    """What ``personalize train`` would choose on this training part (tuned on a validation split of it alone);
    its figures are the row ``served``."""


def _recs(args: argparse.Namespace) -> int:
    rows = read_interactions_csv(args.interactions)
    train, test = split(rows, args.split, args.test_fraction, args.seed)
    _say(args, f"{len(train)} training and {len(test)} test interactions ({args.split} split)")
    models = _recommenders(train, args)
    _say(args, "choosing the served model on a validation split of the training part")
    served = select(train, seed=args.seed, k=args.k, progress=lambda message: _say(args, message))
    interactions = Interactions.from_weighted((r.user, r.item, r.weight) for r in train)
    models.append(("served", recommend_with(fit_selected(served, interactions))))
    results = [evaluate(name, recommend, train, test, args.k) for name, recommend in models]
    report = RecsReport(args.split, args.test_fraction, args.seed, args.k, len(train), len(test), results, served)
    if args.json:
        print(msgspec.json.encode(report).decode())
    else:
        print(format_table(results, args.k))
        print(f"served: {served.candidate.label}, popularity penalty {served.penalty:g} (chosen on validation)")
    return 0


def _recommenders(train: list[Row], args: argparse.Namespace) -> list[tuple[str, Recommend]]:
    interactions = Interactions.from_weighted((r.user, r.item, r.weight) for r in train)
    models: list[tuple[str, Any]] = [("popularity", PopularityRecommender()), ("als", ALSRecommender())]
    if interactions.shape[1] <= EASERecommender().max_items:
        models.append(("ease", EASERecommender()))
    found: list[tuple[str, Recommend]] = []
    for name, model in models:
        _say(args, f"fitting {name}")
        found.append((name, recommend_with(model.fit(interactions))))
    _say(args, "fitting the session recommender (AR + SR over each user's history)")
    found.append(("session", _from_sessions(train)))
    return found


def _from_sessions(train: list[Row]) -> Recommend:
    history: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in train:
        history[row.user].append((row.ts, row.item))
    sequences = {user: [item for _, item in sorted(events)] for user, events in history.items()}
    model = SessionRecommender().fit(sequences.values())
    return lambda user, k, seen: [str(i) for i in model.recommend(sequences.get(user, []), k, seen)[0]]


def _sessions(args: argparse.Namespace) -> int:
    from recommenders.session_eval import format_report, read_sessions, session_report

    report = session_report(read_sessions(args.train), read_sessions(args.test), k=args.k)
    print(msgspec.json.encode(report).decode() if args.json else format_report(report))
    return 0


def _rules(args: argparse.Namespace) -> int:
    from recommenders.rules import RulesError
    from recommenders.rules_eval import format_report, read_baskets, rules_report

    try:
        report = rules_report(
            read_baskets(args.baskets, args.format),
            min_support=args.min_support,
            min_confidence=args.min_confidence,
            min_length=args.min_length,
            max_length=args.max_length,
            top=args.top,
        )
    except RulesError as exc:
        print(f"personalize evaluate rules: {exc}", file=sys.stderr)
        return 2
    print(msgspec.json.encode(report).decode() if args.json else format_report(report))
    return 0


def _say(args: argparse.Namespace, message: str) -> None:
    print(f"personalize evaluate: {message}", file=sys.stderr, flush=True)
