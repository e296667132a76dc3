"""Evaluation: metric functions against hand-computed rankings, no leakage, no seen films,
genre separation, and the evaluation asset with its plots."""

import math

import numpy as np
import pytest

from reelreason.evaluation import (
    Case,
    Ranked,
    alpha_curve,
    bootstrap_ci,
    choose_alpha,
    coverage_ci,
    genre_separation,
    leave_last_out_cases,
    macro_f1,
    masked_texts,
    per_user_metrics,
    plan_holdout,
    popularity_counts,
    rank_cases,
    time_split_cases,
    training_likes,
    user_query,
)
from tests.conftest import step_errors


def test_metrics_by_hand():
    ranked = Ranked(np.array([1, 3, 11, 51]), np.zeros((4, 10), np.int64))
    m = per_user_metrics(ranked, np.zeros(1))
    assert m["hr@10"].tolist() == [1, 1, 0, 0]
    assert m["ndcg@10"][1] == pytest.approx(1 / math.log2(4)) == pytest.approx(0.5)
    assert m["mrr@10"].tolist() == pytest.approx([1, 1 / 3, 0, 0])
    assert m["recall@50"].tolist() == [1, 1, 1, 0]


def test_rank_excludes_seen_films_and_counts_ties_against():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.7] + [0.0] * 10)
    (r,) = rank_cases([Case("u", "ml1m", [], 3, set())], lambda c: scores).ranks
    assert r == 5
    (r,) = rank_cases([Case("u", "ml1m", [], 3, {0, 1})], lambda c: scores).ranks
    assert r == 3
    ranked = rank_cases([Case("u", "ml1m", [], 2, set())], lambda c: scores)
    assert ranked.ranks[0] == 4  # tied with film 4: the pessimistic rank
    assert ranked.tops[0][:3].tolist() == [0, 1, 2]  # best first, ties in film order


def test_seen_films_never_appear_above_the_held_out_one():
    case = Case("u", "ml1m", train=[0, 1], target=5, seen={0, 1, 2, 3})
    # Seen films 0..3 score highest, but they are excluded: the held-out film ranks 1st.
    scores = np.array([1, 1, 1, 1, 0.2, 0.5] + [0.0] * 10)
    ranked = rank_cases([case], lambda c: scores)
    assert ranked.ranks[0] == 1 and not {0, 1, 2, 3} & set(ranked.tops[0].tolist())


def test_leaked_held_out_film_would_score_well_but_the_protocol_scores_it_poorly():
    rng = np.random.default_rng(0)
    films = rng.standard_normal((200, 32)).astype(np.float32)
    films /= np.linalg.norm(films, axis=1, keepdims=True)
    # The held-out film is the one least like the training likes: only a leak can find it.
    scores = films @ films[0]
    target = int(np.argmin(np.where(np.arange(200) == 0, np.inf, scores)))
    honest_case = Case("u", "ml1m", train=[0], target=target, seen={0})
    leaky_case = Case("u", "ml1m", train=[0, target], target=target, seen={0})

    def score(c):
        return films @ user_query(films, c, None, 1.0)

    assert rank_cases([leaky_case], score).ranks[0] <= 10  # a leak would find it...
    assert rank_cases([honest_case], score).ranks[0] == 199  # ...the protocol ranks it last


def _likes(rows):
    """(user, source, movie, position, liked_at) with liked_at defaulting to None."""
    return [(*r, None) if len(r) == 4 else r for r in rows]


def test_the_plan_holds_out_each_users_latest_like_and_splits_test_from_validation():
    likes = _likes(
        [(f"movielens:{u}", "movielens", f"m{k}", k) for u in range(20) for k in range(4)]
        + [("movielens:99", "movielens", "m1", 1)]  # too few likes: never evaluated
    )
    plan = plan_holdout(likes, min_likes=2, users_per_source=12, seed=3)
    assert plan == plan_holdout(likes, min_likes=2, users_per_source=12, seed=3)
    assert set(plan.held_out.values()) == {"m3"} and "movielens:99" not in plan.role
    roles = list(plan.role.values())
    # 20% of 20 eligible users validate (at most 12 // 4), then 12 are tested
    assert roles.count("validation") == 3 and roles.count("test") == 12
    other = plan_holdout(likes, min_likes=2, users_per_source=12, seed=4)
    assert other.role != plan.role  # the seed decides who
    train = training_likes(likes, plan)
    for user in plan.role:
        assert train[user] == ["m0", "m1", "m2"]  # the held-out film never reaches training
    assert train["movielens:0" if "movielens:0" not in plan.role else "movielens:99"]


def test_leave_last_out_cases_exclude_what_the_user_saw_but_the_target():
    index = {f"m{k}": k for k in range(5)}
    likes = _likes([("movielens:1", "movielens", f"m{k}", k) for k in range(3)])
    plan = plan_holdout(likes, min_likes=2, users_per_source=5, seed=0)
    (case,) = leave_last_out_cases(
        likes, plan, [("movielens:1", "m4"), ("movielens:1", "m2")], index, role="test"
    )
    assert (case.train, case.target, case.seen) == ([0, 1], 2, {0, 1, 4})


def test_the_time_split_predicts_the_first_like_after_the_cutoff_from_the_past_only():
    index = {f"m{k}": k for k in range(6)}
    likes = [("movietweetings:1", "movietweetings", f"m{k}", k, 100.0 * k) for k in range(6)]
    likes += [("movietweetings:2", "movietweetings", "m0", 0, 50.0)]
    plan = plan_holdout(likes, min_likes=2, users_per_source=5, seed=0, time_quantile=0.5)
    (cutoff,) = plan.cutoffs.values()
    assert cutoff == pytest.approx(float(np.quantile([100.0 * k for k in range(6)] + [50.0], 0.5)))
    (case,) = time_split_cases(likes, plan, index, min_likes=2, users_per_source=5, seed=0)
    before = [k for k in range(6) if 100.0 * k < cutoff]
    assert case.train == before and case.target == before[-1] + 1
    past = training_likes(likes, plan, past_only=True)
    assert all(int(m[1:]) in before for m in past["movietweetings:1"])


def test_alpha_is_chosen_where_validation_ranks_best_and_falls_back_when_too_few_users():
    films = np.eye(30, dtype=np.float32)
    # Each liked film sits next to a decoy (10..19); the words point at the target (20..29):
    # only a small enough α ranks the target first.
    for i in range(10):
        films[i] = (films[10 + i] + 0.1 * films[i]) / np.linalg.norm(films[10 + i] + 0.1 * films[i])
    cases = [Case(f"u{i}", "redial", [i % 10], 20 + i % 10, {i % 10}) for i in range(25)]
    texts = {f"u{i}": films[20 + i % 10] for i in range(25)}
    curve = alpha_curve(cases, films, texts)
    assert [p["alpha"] for p in curve] == pytest.approx([a / 10 for a in range(11)])
    assert curve[0]["hr@10"] == 1.0 and curve[0]["n"] == 25
    alpha, why = choose_alpha(curve, fallback=0.7)
    assert curve[-1]["hr@10"] == 0.0  # the liked films alone never find it
    assert alpha == 0.5 and "validation users" in why  # the largest α that still does
    few = alpha_curve(cases[:5], films, texts)
    assert choose_alpha(few, fallback=0.7) == (0.7, pytest.approx(choose_alpha(few, 0.7)[1]))
    assert "kept" in choose_alpha(few, 0.7)[1]


def test_coverage_counts_distinct_films_in_the_top_tens():
    tops = np.array([list(range(10)), list(range(5, 15))])
    value, lo, hi = coverage_ci(tops, 100, seed=0)
    assert value == 0.15 and lo <= value <= hi and lo >= 0.10


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    values = [0, 1] * 50
    lo, hi = bootstrap_ci(values, seed=1)
    assert lo < 0.5 < hi and (lo, hi) == bootstrap_ci(values, seed=1)


def test_genre_separation_on_clustered_vectors():
    vecs = np.array([[1, 0.1], [1, 0.2], [0.1, 1], [0.2, 1]], dtype=np.float32)
    genres = [["Crime"], ["Crime"], ["Comedy"], ["Comedy"]]
    sep = genre_separation(vecs, genres, pairs=200)
    assert sep["Crime"]["gap"] > 0.5 and sep["Comedy"]["relative_gap"] > 0.5


def test_macro_f1():
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_evaluation_asset_writes_results_and_plots(sample_build):
    builder, result = sample_build
    assert result.success, step_errors(result)
    q = builder.query
    minilm = "sentence-transformers/all-MiniLM-L6-v2"
    (tuned,) = q("SELECT DISTINCT model FROM movie_embeddings_tuned")[0]
    assert tuned.startswith(f"tuned:{minilm}:")
    baselines = {"baseline:popularity", "baseline:random", "baseline:popularity_blend"}
    for protocol in ("leave_last_out", "time_split"):
        models = dict(
            q(
                "SELECT embedding, list(DISTINCT model ORDER BY model) FROM eval_results "
                f"WHERE metric = 'hr@10' AND protocol = '{protocol}' GROUP BY embedding"
            )
        )
        assert set(models) == {"st", "tuned"}, protocol
        assert set(models["st"]) == {minilm, *baselines}
        assert set(models["tuned"]) == {tuned, *baselines}
    segments = {s for (s,) in q("SELECT DISTINCT segment FROM eval_results WHERE metric = 'hr@10'")}
    assert {"all", "movielens", "movietweetings", "rating_users", "few_likes"} <= segments
    metrics = {m for (m,) in q("SELECT DISTINCT metric FROM eval_results")}
    assert {"coverage@10", "popularity_bias@10", "recall@50", "chosen_alpha"} <= metrics
    # every ranking row has its interval; the model rows carry the α they were scored with
    assert q(
        "SELECT count(*) FROM eval_results WHERE protocol = 'leave_last_out' "
        "AND (ci_low IS NULL OR NOT ci_low <= value AND value <= ci_high)"
    ) == [(0,)]
    alphas = dict(q("SELECT embedding, value FROM eval_results WHERE metric = 'chosen_alpha'"))
    assert set(alphas) == {"st", "tuned"}
    used = q(
        "SELECT DISTINCT embedding, alpha FROM eval_results "
        "WHERE protocol = 'leave_last_out' AND NOT starts_with(model, 'baseline:')"
    )
    assert dict(used) == alphas
    # the user vectors were mixed with the α the evaluation reports
    for space, alpha in alphas.items():
        assert q(f"SELECT DISTINCT alpha FROM user_embeddings_{space}") == [(alpha,)]
    assert q(
        "SELECT count(*) FROM eval_results WHERE metric = 'genre_gap' AND segment = 'macro'"
    ) == [(2,)]
    (meta,) = [
        e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == "eval_results"
    ]
    assert meta["st_metrics"].value.startswith("![st_metrics](data:image/png;base64,")
    assert {"hr@10/st", "hr@10/tuned", "hr@10/tuned:baseline:popularity", "alpha/tuned"} <= set(
        meta
    )
    plots = list((builder.warehouse_root / "plots" / result.run_id).glob("*.png"))
    assert {p.name for p in plots} >= {
        "st_metrics.png",
        "st_taste_map.png",
        "tuned_metrics.png",
        "tuned_taste_map.png",
    }
    assert all(
        p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000 for p in plots
    )
    # Emotion profiles: one row per film and user vector, 28 cosines each.
    assert q("SELECT count(*) FROM movie_emotions") == q("SELECT count(*) FROM movies")
    assert q("SELECT count(*) FROM user_emotions") == q("SELECT count(*) FROM user_embeddings_st")
    cols = [c for (c,) in q("SELECT column_name FROM (DESCRIBE movie_emotions)")]
    assert len(cols) == 3 + 28 + 1 and "admiration" in cols and "neutral" in cols
    (top,) = q("SELECT top_emotions FROM movie_emotions LIMIT 1")[0]
    assert len(top) == 3
    f1 = dict(q("SELECT model, value FROM eval_results WHERE metric = 'emotion_macro_f1'"))
    assert set(f1) == {minilm, "baseline:majority"}


def test_the_tuned_space_never_trains_on_a_held_out_like(sample_build):
    builder, result = sample_build
    q = builder.query
    (meta,) = [
        e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string()
        == "movie_embeddings_tuned"
    ]
    (likes,) = q("SELECT count(*) FROM user_likes")[0]
    held_out = meta["held_out_likes"].value
    assert held_out > 0 and meta["training_likes"].value == likes - held_out
    assert (
        meta["cold_films"].value + meta["warm_films"].value
        == q("SELECT count(*) FROM movie_embeddings_tuned")[0][0]
    )
    # users' words reach the tuned space through its published map
    assert q("SELECT DISTINCT part FROM tuned_adapters ORDER BY part") == [
        ("film_text",),
        ("user_text",),
    ]
    assert q("SELECT count(*) FROM user_embeddings_tuned WHERE text_vector IS NOT NULL") == q(
        "SELECT count(*) FROM user_embeddings_st WHERE text_vector IS NOT NULL"
    )


# --- leave-last-out of one space, as plain functions (no warehouse) ---------------------------


def _space():
    """Five films on the unit circle's axes: 0 and 1 close together, the rest apart."""
    vecs = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float32)
    return ["m0", "m1", "m2", "m3", "m4"], vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_a_user_whose_only_mention_is_the_held_out_film_keeps_no_trace_of_it():
    likes = _likes(
        [("redial:conv:1", "redial", m, pos) for pos, m in enumerate(["m2", "m3", "m0"])]
    )
    plan = plan_holdout(likes, min_likes=2, users_per_source=10, seed=1)
    assert plan.held_out == {"redial:conv:1": "m0"}
    texts = {"redial:conv:1": "I loved The Matrix (1999)! the matrix is the best."}
    masked = masked_texts(plan, texts, {"m0": ["The Matrix", "Matrix"]})["redial:conv:1"]
    assert "matrix" not in masked.lower() and "1999" not in masked
    assert masked == "I loved [film]! [film] is the best."


def test_popularity_counts_the_training_part_only():
    index = {f"m{k}": k for k in range(5)}
    likes = _likes(
        [
            ("movielens:1", "movielens", "m2", 1),
            ("movielens:1", "movielens", "m1", 2),
            ("movielens:2", "movielens", "m1", 1),
            ("movielens:2", "movielens", "m2", 2),
        ]
    )
    plan = plan_holdout(likes, min_likes=1, users_per_source=5, seed=0)
    # each of m1, m2 liked twice, once as someone's held-out film: one training like each
    assert popularity_counts(training_likes(likes, plan), index).tolist() == [0, 1, 1, 0, 0]


def test_preferences_read_as_positive_become_likes_and_each_film_is_liked_once():
    import pyarrow as pa

    from reelreason.users import LIKES_SCHEMA, one_like_per_film, read_preferences

    spans = [
        {
            "user_id": "c1",
            "utterance_index": 3,
            "span": "I really love Heat",
            "film_span": "Heat",
            "movie_id": "m1",
        },
        {
            "user_id": "c1",
            "utterance_index": 5,
            "span": "Cats was awful",
            "film_span": "Cats",
            "movie_id": "m2",
        },
    ]
    preferences, likes = read_preferences(spans, [0.9, 0.1], 0.5)
    assert preferences.column("liked").to_pylist() == [True, False]
    assert likes.column("movie_id").to_pylist() == ["m1"]
    assert likes.column("evidence")[0].as_py().startswith("preference read as positive (p=0.90)")
    earlier = pa.Table.from_pylist(
        [
            {
                "user_id": "c1",
                "source": "redial",
                "movie_id": "m1",
                "position": 1,
                "liked_at": None,
                "rating": None,
                "evidence": "said so first",
            }
        ],
        schema=LIKES_SCHEMA,
    )
    once = one_like_per_film(pa.concat_tables([likes, earlier]))
    assert once.num_rows == 1 and once.column("evidence")[0].as_py() == "said so first"


def test_emotion_profiles_are_cosines_to_each_prototype_with_the_top_three():
    import pyarrow as pa

    from reelreason.evaluation import concat_profiles, emotion_profile_table

    emotions = ["joy", "anger", "fear", "love"]
    protos = np.eye(4, dtype=np.float32)  # emotion i = axis i
    rows = pa.table(
        {
            "movie_id": ["m1", "m2"],
            "model": ["mini", "mini"],
            "dim": pa.array([4, 4], pa.int32()),
            "vector": pa.array(
                [[0.1, 0.7, 0.2, 0.0], [0.5, 0.0, 0.1, 0.8]], pa.list_(pa.float32())
            ),
        }
    )
    table = emotion_profile_table(rows, "movie_id", "st", protos, emotions)
    assert table.column_names == ["movie_id", "embedding", "model", *emotions, "top_emotions"]
    assert table.schema.field("joy").type == pa.float32()
    assert table.column("anger").to_pylist() == pytest.approx([0.7, 0.0])
    assert table.column("top_emotions").to_pylist() == [
        ["anger", "fear", "joy"],
        ["love", "joy", "fear"],
    ]
    empty = concat_profiles([], "user_id", emotions)
    assert empty.num_rows == 0 and empty.column_names[0] == "user_id"
