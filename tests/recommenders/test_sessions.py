"""Session recommenders: hand-counted AR/SR rules, the blend, save/load, evaluation, and session-rec's own lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommenders.session_eval import format_report, read_sessions, session_report
from recommenders.sessions import ARModel, SessionRecommender, SRModel

YOOCHOOSE = "yoochoose-100k"


def as_list(result: tuple[np.ndarray, np.ndarray]) -> list[tuple[str, object]]:
    ids, scores = result
    assert ids.dtype.kind == "U"
    assert scores.dtype == np.float32
    return [(str(item), pytest.approx(float(score), rel=1e-6)) for item, score in zip(ids, scores, strict=True)]


def test_ar_counts_every_pair_both_ways_and_scores_from_the_last_item() -> None:
    # a-b: 1 (s1) + 1 (s2) + 2 (s3: b,a and b,a again) = 4; a-c: 1; a-a: 2 (the two a's of s3, counted both
    # ways); b-c: 1. Rows: a {b 4, a 2, c 1}, b {a 4, c 1}, c {a 1, b 1}.
    model = ARModel().fit([["a", "b", "c"], ["a", "b"], ["b", "a", "a"]])
    assert as_list(model.recommend(["c", "a"], 5)) == [("b", 1.0), ("a", 0.5), ("c", 0.25)]
    assert as_list(model.recommend(["b"], 5)) == [("a", 1.0), ("c", 0.25)]
    assert as_list(model.recommend(["c"], 5)) == [("a", 1.0), ("b", 1.0)]  # tie: a was paired with c first
    assert as_list(model.recommend(["c", "a"], 1)) == [("b", 1.0)]


def test_ar_prune_keeps_the_strongest_and_breaks_ties_at_the_cut_by_first_pairing() -> None:
    sessions = [["a", "x"], ["a", "y"], ["a", "z"], ["z", "a"], ["w", "a"]]
    assert as_list(ARModel(prune=2).fit(sessions).recommend(["a"], 5)) == [("z", 1.0), ("x", 0.5)]
    assert [item for item, _ in as_list(ARModel(prune=0).fit(sessions).recommend(["a"], 5))] == ["z", "x", "y", "w"]


def test_sr_weights_later_after_earlier_by_one_over_distance_squared() -> None:
    # s1: a→b 1; b→c 1, a→c 1/4; c→a 1, b→a 1/4, a→a 1/9. s2: a→c 1. Rows: a {b 1, c 5/4, a 1/9}.
    model = SRModel().fit([["a", "b", "c", "a"], ["a", "c"]])
    assert as_list(model.recommend(["a"], 5)) == [("c", 1.0), ("b", 0.8), ("a", (1 / 9) / (5 / 4))]
    assert as_list(model.recommend(["b"], 5)) == [("c", 1.0), ("a", 0.25)]
    assert as_list(model.recommend(["c"], 5)) == [("a", 1.0)]


def test_sr_only_points_forwards() -> None:
    model = SRModel().fit([["p", "q"]])
    assert as_list(model.recommend(["p"], 5)) == [("q", 1.0)]
    assert as_list(model.recommend(["q"], 5)) == []


def test_sr_pairs_at_most_steps_apart() -> None:
    session = [f"i{k}" for k in range(22)]
    ids, scores = SRModel(prune=0).fit([session]).recommend(["i0"], 30)
    assert ids.tolist() == [f"i{k}" for k in range(1, 21)]  # i21 is 21 steps after i0: outside the window
    assert scores[-1] == pytest.approx(1 / 20**2)
    short = SRModel(steps=2, weighting="div").fit([["a", "b", "c", "d"]])
    assert as_list(short.recommend(["a"], 5)) == [("b", 1.0), ("c", 0.5)]


def test_sr_prune_keeps_the_heaviest_rules() -> None:
    # a→y 1 + 1 = 2, a→b 1/4 (two steps) + 1 = 5/4; a→x 1 and a→c 1/4 + 1/9 fall to prune=2
    model = SRModel(prune=2).fit([["a", "x", "b"], ["a", "b"], ["a", "y", "c"], ["a", "y", "z", "c"]])
    assert as_list(model.recommend(["a"], 5)) == [("y", 1.0), ("b", 5 / 8)]


def test_unknown_items_empty_sessions_and_exclusions() -> None:
    model = ARModel().fit([["a", "b"], ["a", "c"], ["a", "c"]])
    assert as_list(model.recommend(["zz"], 5)) == []
    assert as_list(model.recommend([], 5)) == []
    assert as_list(model.recommend(["a"], 0)) == []
    assert as_list(model.recommend(["a"], -3)) == []
    assert as_list(model.recommend(["a"], 5, exclude=["c"])) == [("b", 0.5)]  # still divided by the max


def test_blend_normalises_each_component_and_adds_them_with_their_weights() -> None:
    # AR from a: c 2, b 1; the stub's raw 10 and 5 become 1 and 0.5 before weighting
    def similar(item: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        table = {"a": (np.array(["d", "b"]), np.array([10.0, 5.0]))}
        ids, scores = table.get(item, (np.array([], dtype=str), np.array([])))
        return ids[:n], scores[:n]

    ar, sr = ARModel(), SRModel()
    blend = SessionRecommender(ar, sr, ar_weight=1.0, sr_weight=0.0, similar=similar, similar_weight=2.0, recency=[1])
    blend.fit([["a", "b"], ["a", "c"], ["a", "c"]])
    assert as_list(blend.recommend(["a"], 5)) == [("d", 2.0), ("b", 1.0 * 0.5 + 2.0 * 0.5), ("c", 1.0)]
    only_ar = SessionRecommender(ar, sr, ar_weight=1.0, sr_weight=0.0)
    assert as_list(only_ar.recommend(["c", "a"], 5)) == [("b", 1.0)]  # renormalised once c is excluded


def test_blend_weights_the_last_distinct_items_by_recency() -> None:
    # SR: a {b 1, d 1}, b {c 2}. Session a, b: c 1·1 from b; d 0.5·1 from a (b is in the session)
    blend = SessionRecommender(ar_weight=0.0, sr_weight=1.0, recency=(1.0, 0.5))
    blend.fit([["a", "b"], ["b", "c"], ["b", "c"], ["a", "d"]])
    assert as_list(blend.recommend(["a", "b"], 5)) == [("c", 1.0), ("d", 0.5)]
    assert as_list(blend.recommend(["a", "b", "b"], 5)) == [("c", 1.0), ("d", 0.5)]
    assert as_list(blend.recommend(["a", "b"], 5, exclude=["c"])) == [("d", 1.0)]
    assert as_list(blend.recommend(["a", "b"], 1)) == [("c", 1.0)]


def test_blend_never_returns_session_items() -> None:
    sessions = [["a", "b", "c", "a", "d"], ["b", "a"], ["c", "c", "e"]]
    blend = SessionRecommender().fit(sessions)
    for session in (["a"], ["b", "a"], ["c"], ["a", "c", "e"]):
        ids, scores = blend.recommend(session, 10, exclude=["d"])
        assert not set(ids.tolist()) & ({"d", *session})
        assert list(scores) == sorted(scores, reverse=True)
        assert scores.max(initial=0.0) <= 1.0


def test_save_then_load_gives_the_same_lists(tmp_path: Path) -> None:
    sessions = [["a", "b", "c", "a"], ["b", "c"], ["c", "d", "a"], ["d", "d", "b"]]
    ar, sr = ARModel(prune=2).fit(sessions), SRModel(prune=3, steps=2, weighting="div").fit(sessions)
    blend = SessionRecommender(ar, sr, ar_weight=0.3, sr_weight=0.7, recency=(1.0, 0.25))
    for model, name in ((ar, "ar.npz"), (sr, "sr.model"), (blend, "blend.npz")):
        model.save(tmp_path / name)
        assert (tmp_path / name).is_file()  # written at exactly that path
        with np.load(tmp_path / name, allow_pickle=False) as data:
            assert all(data[key].dtype != object for key in data.files)
    loaded_sr = SRModel.load(tmp_path / "sr.model")
    assert (loaded_sr.prune, loaded_sr.steps, loaded_sr.weighting) == (3, 2, "div")
    loaded_blend = SessionRecommender.load(tmp_path / "blend.npz")
    assert (loaded_blend.weights, loaded_blend.recency) == ((0.3, 0.7, 0.5), (1.0, 0.25))
    pairs = ((ar, ARModel.load(tmp_path / "ar.npz")), (sr, loaded_sr), (blend, loaded_blend))
    for before, after in pairs:
        for session in (["a"], ["b", "c"], ["d", "a"], ["zz"]):
            assert as_list(after.recommend(session, 10)) == as_list(before.recommend(session, 10))
    with pytest.raises(ValueError, match="expected 'sr'"):
        SRModel.load(tmp_path / "ar.npz")


def test_bad_arguments_name_the_value() -> None:
    with pytest.raises(ValueError, match="prune -1"):
        ARModel(prune=-1)
    with pytest.raises(ValueError, match="steps 0"):
        SRModel(steps=0)
    with pytest.raises(ValueError, match="weighting 'linear'"):
        SRModel(weighting="linear")
    with pytest.raises(ValueError, match="recency"):
        SessionRecommender(recency=())
    with pytest.raises(ValueError, match="sr_weight -1"):
        SessionRecommender(sr_weight=-1)


def test_read_sessions_groups_by_session_and_orders_by_time(tmp_path: Path) -> None:
    path = tmp_path / "clicks.txt"
    rows = ["SessionId\tItemId\tTime", "9\tx\t5.0", "2\tb\t3.0", "9\ty\t1.0", "2\ta\t1.0", "2\tc\t3.0", ""]
    path.write_text("\n".join(rows), encoding="utf-8")
    assert read_sessions(path) == [["y", "x"], ["a", "b", "c"]]  # file order of sessions; b before c: stable
    path.write_text("session\titem\n1\ta\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        read_sessions(path)


def test_session_report_scores_every_position_by_hand() -> None:
    train = [["a", "b"], ["a", "b"], ["b", "c"]]
    test = [["a", "b", "c"], ["b", "b"], ["a", "z"]]
    report = session_report(train, test, k=2)
    assert (report.points, report.unseen_targets, report.repeat_targets) == (4, 1, 1)
    assert (report.train_sessions, report.test_sessions, report.k) == (3, 3, 2)
    scores = {method.name: method for method in report.methods}
    assert list(scores) == ["ar", "sr", "blend", "popularity"]
    # AR: a→[b] hit 1; b→[a, c] hit 2 for c, miss for b; a→[b] misses the unseen z
    assert (scores["ar"].hit_rate, scores["ar"].mrr) == pytest.approx((2 / 4, 1.5 / 4))
    assert (scores["ar"].new_hit_rate, scores["ar"].new_mrr) == pytest.approx((2 / 3, 1.5 / 3))
    # popularity b 3, a 2, c 1: top 2 [b, a] hits b twice, misses c and z
    assert (scores["popularity"].hit_rate, scores["popularity"].mrr) == pytest.approx((2 / 4, 2 / 4))
    assert (scores["popularity"].new_hit_rate, scores["popularity"].new_mrr) == pytest.approx((1 / 3, 1 / 3))
    assert "popularity" in format_report(report)
    assert "HR@2" in format_report(report)


def reference_points(path: Path) -> list[tuple[str, int, list[str], list[float]]]:
    points = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        session, position, items, scores = line.split(";")
        points.append((session, int(position), items.split(","), [float(score) for score in scores.split(",")]))
    return points


def assert_same_list(expected: list[tuple[str, float]], ids: list[str], scores: list[float]) -> None:
    """Same items with scores equal to 1e-6 relative; items compared as sets within each group of equal scores."""
    assert len(ids) == len(expected)
    assert scores == pytest.approx([score for _, score in expected], rel=1e-6)
    groups: dict[float, tuple[set[str], set[str]]] = {}
    for (item, score), mine in zip(expected, ids, strict=True):
        want, got = groups.setdefault(score, (set(), set()))
        want.add(item)
        got.add(mine)
    for score, (want, got) in groups.items():
        assert got == want, f"score {score}"


def sessions_by_id(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    events: dict[str, list[tuple[float, str]]] = {}
    for line in lines:
        session, item, time = line.split("\t")
        events.setdefault(session, []).append((float(time), item))
    return list(events), [[item for _, item in sorted(clicks, key=lambda e: e[0])] for clicks in events.values()]


@pytest.mark.dataset
def test_reproduces_session_rec_lists_on_yoochoose(shared_data: Path) -> None:
    folder = shared_data / YOOCHOOSE
    train = read_sessions(folder / "yoochoose-clicks-100k_train_full.txt")
    lines = (folder / "yoochoose-clicks-100k_test.txt").read_text(encoding="utf-8").splitlines()[1:]
    test = dict(zip(*sessions_by_id(lines), strict=True))
    for name, model in (("ar", ARModel().fit(train)), ("sr", SRModel().fit(train))):
        checked = 0
        for session, position, items, scores in reference_points(
            folder / "reference" / f"recoms_rsc15_100k_{name}.csv"
        ):
            # Position p predicts the event after the p-th (0-based): the prefix is events 0 … p
            ids, mine = model.recommend(test[session][: position + 1], 50)
            expected = [(item, score) for item, score in zip(items, scores, strict=True) if score > 0]
            assert_same_list(expected, ids.tolist(), mine.tolist())
            checked += 1
        assert checked == 387, name


@pytest.mark.dataset
def test_session_report_on_yoochoose(shared_data: Path) -> None:
    folder = shared_data / YOOCHOOSE
    train = read_sessions(folder / "yoochoose-clicks-100k_train_full.txt")
    test = read_sessions(folder / "yoochoose-clicks-100k_test.txt")
    report = session_report(train, test, k=20)
    assert (report.train_sessions, report.test_sessions, report.points) == (17_794, 3_416, 13_568 - 3_416)
    assert (report.unseen_targets, report.repeat_targets) == (0, 3475)
    scores = {method.name: (round(method.hit_rate, 4), round(method.mrr, 4)) for method in report.methods}
    assert scores == {
        "ar": (0.6333, 0.3279),
        "sr": (0.6178, 0.3531),
        "blend": (0.3546, 0.1675),
        "popularity": (0.0894, 0.0264),
    }
    new = {method.name: method.new_hit_rate for method in report.methods}
    assert new["blend"] > max(new["ar"], new["sr"])
