"""Evaluation: metric functions against hand-computed rankings, no leakage, no seen films,
genre separation, and the evaluation asset with its plots."""

import math

import numpy as np
import pytest

from reelreason.evaluation import (
    Split,
    bootstrap_ci,
    evaluate_split,
    genre_separation,
    leave_last_out,
    macro_f1,
    metrics_for_rank,
    rank_of,
    user_vector,
)
from tests.conftest import step_errors


def test_metrics_by_hand():
    assert metrics_for_rank(1) == {"hr@10": 1, "ndcg@10": 1, "mrr@10": 1, "recall@50": 1}
    m3 = metrics_for_rank(3)
    assert m3["ndcg@10"] == pytest.approx(1 / math.log2(4)) == pytest.approx(0.5)
    assert m3["mrr@10"] == pytest.approx(1 / 3)
    m11 = metrics_for_rank(11)
    assert (m11["hr@10"], m11["ndcg@10"], m11["mrr@10"], m11["recall@50"]) == (0, 0, 0, 1)
    assert metrics_for_rank(51)["recall@50"] == 0


def test_rank_of_excludes_seen_items_and_counts_ties_against():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.7])
    assert rank_of(3, scores) == 5
    assert rank_of(3, scores, exclude=[0, 1]) == 3
    assert rank_of(2, scores) == 4  # tied with item 4: the pessimistic rank


def test_seen_films_never_appear_above_the_held_out_one():
    films = np.eye(6, dtype=np.float32)
    split = Split("u", train=[0, 1], held_out=5, seen={0, 1, 2, 3})
    # Seen films 0..3 score highest, but they are excluded: the held-out film ranks 1st of 2.
    scores_vec = np.array([1, 1, 1, 1, 0.2, 0.5], dtype=np.float32)
    assert evaluate_split(split, scores_vec, films) == 1


def test_leaked_held_out_film_would_score_well_but_the_protocol_scores_it_poorly():
    rng = np.random.default_rng(0)
    films = rng.standard_normal((200, 32)).astype(np.float32)
    films /= np.linalg.norm(films, axis=1, keepdims=True)
    train = [0]
    # The held-out film is the one least like the training likes: only a leak can find it.
    scores = films @ user_vector(films, train)
    target = int(np.argmin(np.where(np.isin(np.arange(200), train), np.inf, scores)))
    split = Split("u", train=train, held_out=target, seen=set(train))
    leaked = evaluate_split(split, user_vector(films, train + [target]), films)
    honest = evaluate_split(split, user_vector(films, split.train), films)
    assert leaked <= 10  # the leak would put the target in the top 10...
    assert honest == 199  # ...the protocol, which never sees it, ranks it last


def test_leave_last_out_holds_out_the_latest_like():
    likes = {"a": [(3, 30), (1, 10), (2, 20)], "b": [(1, 5), (2, 6)]}
    (split,) = leave_last_out(likes, {"a": {99}}, min_likes=2)
    assert (split.user_id, split.train, split.held_out) == ("a", [10, 20], 30)
    assert split.seen == {99, 10, 20, 30}


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
    models = {m for (m,) in q("SELECT DISTINCT model FROM eval_results WHERE metric = 'hr@10'")}
    assert models == {
        "sentence-transformers/all-MiniLM-L6-v2",
        "baseline:popularity",
        "baseline:random",
    }
    segments = {s for (s,) in q("SELECT DISTINCT segment FROM eval_results WHERE metric = 'hr@10'")}
    assert {"all", "movielens"} <= segments
    assert q(
        "SELECT count(*) FROM eval_results WHERE metric = 'genre_gap' AND segment = 'macro'"
    ) == [(1,)]
    (meta,) = [
        e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == "eval_results"
    ]
    assert meta["st_metrics"].value.startswith("![st_metrics](data:image/png;base64,")
    plots = list((builder.warehouse_root / "plots" / result.run_id).glob("*.png"))
    assert sorted(p.name for p in plots) == ["st_metrics.png", "st_taste_map.png"]
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
    assert set(f1) == {"sentence-transformers/all-MiniLM-L6-v2", "baseline:majority"}


# --- leave-last-out of one space, as plain functions (no warehouse) ---------------------------


def _space():
    """Five films on the unit circle's axes: 0 and 1 close together, the rest apart."""
    vecs = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float32)
    return ["m0", "m1", "m2", "m3", "m4"], vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_a_user_whose_only_mention_is_the_held_out_film_keeps_no_trace_of_it():
    from reelreason.evaluation import held_out_splits

    ids, _ = _space()
    likes = [("u", "redial", m, pos) for pos, m in enumerate(["m2", "m3", "m0"])]
    texts = {"u": "I loved The Matrix (1999)! the matrix is the best."}
    titles = {"m0": ["The Matrix", "Matrix"]}
    held = held_out_splits(
        likes,
        [],
        {m: i for i, m in enumerate(ids)},
        texts,
        titles,
        min_likes=2,
        users_per_source=10,
        seed=1,
    )
    assert [ids[s.held_out] for s in held.chosen] == ["m0"]
    masked = held.masked_texts["u"]
    assert "matrix" not in masked.lower() and "1999" not in masked
    assert masked == "I loved [film]! [film] is the best."


def test_popularity_counts_the_training_part_only():
    from reelreason.evaluation import held_out_splits, training_popularity

    ids, _ = _space()
    index = {m: i for i, m in enumerate(ids)}
    likes = [
        ("a", "ml1m", "m2", 1),
        ("a", "ml1m", "m1", 2),
        ("b", "ml1m", "m1", 1),
        ("b", "ml1m", "m2", 2),
    ]
    held = held_out_splits(likes, [], index, {}, {}, min_likes=1, users_per_source=5, seed=0)
    popularity = training_popularity(held, len(ids))
    # each of m1, m2 liked twice, once as someone's held-out film: one training like each
    assert popularity.tolist() == [0, 1, 1, 0, 0]


def test_the_model_ranks_the_film_its_taste_points_to_and_the_sampling_is_seeded():
    from reelreason.evaluation import held_out_splits, rank_held_out, training_popularity

    ids, vecs = _space()
    index = {m: i for i, m in enumerate(ids)}
    likes = [(f"u{k}", "ml1m", m, pos) for k in range(6) for pos, m in enumerate(["m0", "m1"])]
    held = held_out_splits(likes, [], index, {}, {}, min_likes=1, users_per_source=3, seed=7)
    again = held_out_splits(likes, [], index, {}, {}, min_likes=1, users_per_source=3, seed=7)
    assert [s.user_id for s in held.chosen] == [s.user_id for s in again.chosen]
    assert len(held.chosen) == 3 and len(held.by_source["ml1m"]) == 6
    popularity = training_popularity(held, len(ids))
    ranks = rank_held_out(held, vecs, {}, popularity, alpha=1.0, seed=7)
    # trained on m0, the nearest unseen film is m1, the held-out one
    assert ranks["all"]["model"] == [1, 1, 1] and ranks["ml1m"]["model"] == [1, 1, 1]
    assert set(ranks["all"]) == {"model", "popularity", "random"}


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
