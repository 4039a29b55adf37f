"""The data and model sub-commands, run in-process: train, evaluate recs / sessions / rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalize.cli import main
from personalize.demo.loader import write_interactions_csv
from personalize.models.training import read_manifest, versions
from recommenders.selection import GRID


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_train_writes_a_versioned_artifact_from_exports(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = run(
        capsys,
        "train",
        "--events",
        str(demo_dir / "events.jsonl"),
        "--orders",
        str(demo_dir / "orders.jsonl"),
        "--models-dir",
        str(tmp_path),
    )
    (artifact,) = versions(tmp_path)
    assert artifact.name == manifest["version"]
    assert {p.name for p in artifact.iterdir()} == {"manifest.json", "collaborative.npz", "sessions.npz", "rules.npz"}
    assert read_manifest(artifact).counts["baskets"] == 22_870
    chosen = read_manifest(artifact).selection
    assert chosen.candidate.label in chosen.ndcg
    assert len(chosen.ndcg) == len(GRID)  # every candidate's validation figure is recorded
    assert chosen.penalty_ndcg[f"{chosen.penalty:g}"] >= 0.99 * chosen.penalty_ndcg["0"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_train_needs_a_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == 2
    assert "--demo" in capsys.readouterr().err


def test_evaluate_recs_on_the_demo_history_beats_popularity(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fixtures import generate

    csv = tmp_path / "interactions.csv"
    write_interactions_csv(generate(), csv)
    report = run(capsys, "evaluate", "recs", str(csv), "--json")
    ndcg = {m["model"]: m["ndcg"] for m in report["results"]}  # type: ignore[attr-defined]
    assert set(ndcg) == {"popularity", "als", "ease", "session", "served"}
    assert ndcg["als"] > ndcg["popularity"]
    # what training would serve, tuned on this training part alone, keeps within 2 % of the best default model
    assert ndcg["served"] >= 0.98 * max(ndcg["als"], ndcg["ease"])
    assert report["served"]["model"] in ("als", "ease")  # type: ignore[index]
    assert ndcg["session"] > ndcg["popularity"]
    assert report["k"] == 10


@pytest.mark.dataset
def test_evaluate_rules_reproduces_the_published_groceries_rules(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = shared_data / "groceries" / "groceries_arules_long.csv"
    report = run(capsys, "evaluate", "rules", str(long), "--format", "long", "--json", "--top", "3")
    assert report["n_rules"] == 5668
    assert report["confidence_above_0_8"] == 371
    top = report["top"]
    assert [round(r["lift"], 3) for r in top] == [18.996, 16.698, 16.408]  # type: ignore[attr-defined]


@pytest.mark.dataset
def test_evaluate_sessions_scores_every_method(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data / "yoochoose-100k"
    report = run(
        capsys,
        "evaluate",
        "sessions",
        str(folder / "yoochoose-clicks-100k_train_full.txt"),
        str(folder / "yoochoose-clicks-100k_test.txt"),
        "--json",
    )
    scores = {m["name"]: m["hit_rate"] for m in report["methods"]}  # type: ignore[attr-defined]
    assert set(scores) >= {"ar", "sr", "popularity"}
    assert min(scores["ar"], scores["sr"]) > scores["popularity"]
