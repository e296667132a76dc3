"""Embeddings: mixing maths, the OpenAI-compatible client against a local server, the offline
sentence-transformers model, and the cache inside the pipeline."""

import numpy as np
import pytest

from assets.incremental import REUSE_TAG
from reelreason.embeddings import (
    EmbeddingCache,
    OpenAIBackend,
    SentenceTransformerBackend,
    embed_long_texts,
    embed_texts,
    offline_minilm_path,
)
from reelreason.taste import mix, normalize
from reelreason.warehouse import Warehouse
from tests.conftest import step_errors
from tests.fakes.openai_server import FakeOpenAI

# --- mixing ------------------------------------------------------------------------------------


def test_mix_normalises_and_weights_the_parts():
    r, t = np.array([3.0, 0.0]), np.array([0.0, 0.5])
    np.testing.assert_allclose(mix(r, t, 1.0), [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(mix(r, t, 0.0), [0.0, 1.0], atol=1e-6)
    half = mix(r, t, 0.5)  # parts are normalised first: equal weight despite norms 3 and 0.5
    np.testing.assert_allclose(half, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    seventy = mix(r, t, 0.7)
    np.testing.assert_allclose(seventy, normalize(np.array([0.7, 0.3])), atol=1e-6)
    assert abs(np.linalg.norm(seventy) - 1) < 1e-6


def test_mix_with_one_part_is_that_part():
    np.testing.assert_allclose(mix(None, np.array([0.0, 2.0]), 0.7), [0.0, 1.0])
    np.testing.assert_allclose(mix(np.array([2.0, 0.0]), None, 0.7), [1.0, 0.0])
    with pytest.raises(ValueError):
        mix(None, None, 0.7)
    with pytest.raises(ValueError):
        mix(np.ones(2), np.ones(2), 1.5)


# --- OpenAI-compatible endpoint ----------------------------------------------------------------


def backend_for(server, **kw):
    return OpenAIBackend(api_key=server.api_key, base_url=server.base_url, max_retries=4, **kw)


def test_requests_respect_input_count_and_token_budget():
    with FakeOpenAI() as server:
        backend = backend_for(server, max_concurrency=2)
        short = [f"film number {i}" for i in range(2500)]
        vectors = backend.embed(short)
        assert vectors.shape == (2500, 3072)
        assert max(len(r.inputs) for r in server.requests) <= 2048
        assert sum(len(r.inputs) for r in server.requests) == 2500
        np.testing.assert_allclose(vectors[7], server.vector("film number 7", 3072), atol=1e-5)
        server.requests.clear()
        long_texts = [("word " * 7000 + str(i)) for i in range(100)]  # ~700k tokens in all
        backend.embed(long_texts)
        assert len(server.requests) >= 3
        assert all(sum(r.tokens) <= 300_000 for r in server.requests)


def test_oversized_input_is_truncated_and_counted_never_sent_whole():
    with FakeOpenAI() as server:
        backend = backend_for(server)
        huge = "cinema " * 20000  # ~20k tokens, over 8191
        backend.embed([huge, "a short one"])
        sent = [n for r in server.requests for n in r.tokens]
        assert max(sent) <= 8191 and backend.truncated == 1


def test_429_and_500_are_retried_and_recovered():
    with FakeOpenAI(failures=[429, 500, 429]) as server:
        backend = backend_for(server)
        vectors = backend.embed(["Heat", "Zodiac"])
        assert vectors.shape == (2, 3072)
        assert server.attempts == 4 and len(server.requests) == 1


def test_dimensions_and_model_are_sent_and_empty_texts_never_are(tmp_path):
    with FakeOpenAI() as server:
        backend = backend_for(server, model="text-embedding-3-large", dimensions=256)
        embedded = embed_texts(
            backend,
            ["Heat", "", "   ", "Heat", "Zodiac"],
            EmbeddingCache(Warehouse(tmp_path / "wh")),
            run_id="r",
        )
        (req,) = server.requests
        assert req.model == "text-embedding-3-large" and req.dimensions == 256
        assert req.inputs == ["Heat", "Zodiac"]  # de-duplicated, empties dropped
        assert embedded.report.empty == 2 and embedded.report.misses == 2
        assert all(v.shape == (256,) for v in embedded.vectors.values())


# --- the offline sentence-transformers model ---------------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    return SentenceTransformerBackend(
        "sentence-transformers/all-MiniLM-L6-v2", model_path=offline_minilm_path()
    )


def test_offline_model_puts_similar_texts_nearer(minilm):
    v = minilm.embed(
        [
            "A tense crime thriller about a detective hunting a serial killer.",
            "Police investigators chase a murderer through a dark city.",
            "An animated comedy about toys that come alive when children leave the room.",
        ]
    )
    assert v.shape == (3, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


def test_long_user_text_is_chunked_and_averaged_not_truncated(minilm, tmp_path):
    long_text = " ".join(f"I loved film number {i} because it was thrilling." for i in range(80))
    windows = minilm.windows(long_text)
    assert len(windows) >= 3  # 256-token model
    vectors, tokens, report = embed_long_texts(
        minilm, {"u": long_text}, EmbeddingCache(Warehouse(tmp_path / "wh")), run_id="r"
    )
    assert tokens["u"] == sum(minilm.count_tokens(windows)) > 256
    parts = minilm.embed(windows)
    weights = np.array(minilm.count_tokens(windows), dtype=np.float32)
    np.testing.assert_allclose(
        vectors["u"], normalize((parts * weights[:, None]).sum(0)), atol=1e-5
    )


# --- in the pipeline ---------------------------------------------------------------------------


def embed_meta(result):
    return {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }


# The embedding steps and what they read (the rest of the graph is tested elsewhere).
EMBEDDING_STEPS = (
    '+key:"user_embeddings_st" or +key:"movie_embeddings_openai" or key:"warehouse_build"'
)


def test_rebuild_embeds_nothing_and_one_changed_text_recomputes_one(builder, raw_copy):
    first = builder.run(EMBEDDING_STEPS, raw_dir=raw_copy)
    assert first.success, step_errors(first)
    meta = embed_meta(first)
    assert meta["movie_embeddings_st"]["embed_misses"].value == 60
    assert meta["movie_embeddings_openai"]["status"].value.startswith("skipped: no OPENAI_API_KEY")
    # through the cache
    second = builder.run(EMBEDDING_STEPS, raw_dir=raw_copy, tags={REUSE_TAG: "off"})
    meta = embed_meta(second)
    for asset in ("movie_embeddings_st", "user_embeddings_st"):
        assert meta[asset]["embed_misses"].value == 0
        assert meta[asset]["embed_backend_calls"].value == 0
    movies = raw_copy / "movietweetings/movies.dat"  # the one film TMDB does not know
    movies.write_text(movies.read_text().replace("Actuality Reel No. 25", "Actuality Reel 25"))
    third = builder.run(EMBEDDING_STEPS, raw_dir=raw_copy)
    assert embed_meta(third)["movie_embeddings_st"]["embed_misses"].value == 1
    q = builder.query
    assert q("SELECT count(*), min(dim), bool_and(normalized) FROM movie_embeddings_st") == [
        (60, 384, True)
    ]
    assert q("SELECT typeof(vector) FROM movie_embeddings_st_vectors LIMIT 1") == [("FLOAT[384]",)]
    users = dict(q("SELECT parts, count(*) FROM user_embeddings_st GROUP BY ALL"))
    assert users["rating"] > 0 and users["text"] > 0
    assert q(
        "SELECT count(*) FROM user_embeddings_st WHERE user_id LIKE 'movielens:%' AND n_liked < 3"
    ) == [(0,)]


def test_openai_embeddings_in_the_pipeline_record_model_and_dimensions(builder, monkeypatch):
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
        result = builder.run(
            '+key:"user_embeddings_openai" or key:"warehouse_build"',
            openai_base_url=server.base_url,
            openai_dimensions=64,
        )
        assert result.success, step_errors(result)
    rows = builder.query("SELECT DISTINCT model, dim FROM movie_embeddings_openai")
    assert rows == [("text-embedding-3-large", 64)]
    assert builder.query("SELECT count(*) FROM user_embeddings_openai")[0][0] > 0
    assert all(r.dimensions == 64 for r in server.requests)


def test_likes_and_texts_follow_their_rules(sample_build):
    builder, result = sample_build
    assert result.success
    q = builder.query
    # MovieLens: exactly the ratings >= 4 of films that resolved.
    assert q("SELECT count(*) FROM user_likes WHERE source = 'movielens'") == q(
        "SELECT count(*) FROM ml1m_ratings r JOIN movie_xref x ON x.source = 'ml1m' "
        "AND x.source_id = CAST(r.movie_id AS VARCHAR) WHERE r.rating >= 4"
    )
    # ReDial: the seeker's answer wins; the recommender's counts only when the seeker was silent.
    redial = {
        (u, m) for u, m in q("SELECT user_id, movie_id FROM user_likes WHERE source = 'redial'")
    }
    expected = {
        ("redial:conv:" + c, m)
        for c, m in q(
            "SELECT m.conversation_id, x.movie_id FROM redial_mentions m JOIN movie_xref x "
            "ON x.source = 'redial' AND x.source_id = m.redial_movie_id "
            "WHERE m.seeker_liked = 1 OR (coalesce(m.seeker_liked, 2) = 2 "
            "AND m.recommender_liked = 1)"
        )
    }
    assert redial == expected and len(redial) > 0
    assert q("SELECT count(*) FROM user_likes WHERE user_id = 'redial:conv:10007'")[0][0] == 2
    # Texts: the seeker's own turns, nothing the recommender said.
    (text,) = q("SELECT text FROM user_texts WHERE user_id = 'redial:conv:10007'")[0]
    seeker = [
        t
        for (t,) in q(
            "SELECT text FROM redial_messages WHERE conversation_id = "
            "'10007' AND sender_role = 'seeker' ORDER BY position"
        )
    ]
    assert text == "\n".join(seeker)
    assert q("SELECT count(*) FROM user_texts WHERE user_id LIKE 'movielens:%'") == [(0,)]
    # CCPE: a like exactly where the classifier reads the span as positive.
    prefs = q("SELECT user_id, movie_id, p_positive, liked FROM ccpe_preferences")
    assert prefs and all(liked == (p >= 0.5) for _, _, p, liked in prefs)
    liked = {(u, m) for u, m, _, ok in prefs if ok}
    assert liked == {
        (u, m) for u, m in q("SELECT user_id, movie_id FROM user_likes WHERE source = 'ccpe'")
    }


def test_rating_parts_are_the_normalised_mean_of_liked_films():
    import pyarrow as pa

    from reelreason.taste import normalize, rating_parts

    films = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    table = pa.table({"vector": pa.array(films.tolist(), pa.list_(pa.float32()))})
    likes = pa.table({"user_id": ["a", "a", "b", "a", "b", "c"], "film_index": [0, 1, 1, 4, 2, 3]})
    parts, n_liked = rating_parts(table, likes, dim=4, min_likes=2)
    assert n_liked == {"a": 3, "b": 2, "c": 1} and set(parts) == {"a", "b"}
    np.testing.assert_allclose(parts["a"][0], normalize(films[[0, 1, 4]].mean(axis=0)), rtol=1e-5)
    np.testing.assert_allclose(parts["b"][0], normalize(films[[1, 2]].mean(axis=0)), rtol=1e-5)
    assert parts["a"][1] == 3


def test_film_vector_table_takes_each_films_vector_by_its_text_hash():
    import pyarrow as pa

    from reelreason.taste import film_vector_table

    schema = pa.schema(
        [
            ("movie_id", pa.string()),
            ("model", pa.string()),
            ("dim", pa.int32()),
            ("normalized", pa.bool_()),
            ("vector", pa.list_(pa.float32())),
            ("text_sha256", pa.string()),
        ]
    )
    vectors = {"h1": np.array([1, 0], np.float32), "h2": np.array([0, 1], np.float32)}
    films = [("m1", "h2"), ("m2", "h1"), ("m3", "missing")]
    table = film_vector_table(films, vectors, "mini", 2, schema)
    assert table.schema == schema
    assert table.column("vector").to_pylist() == [[0.0, 1.0], [1.0, 0.0], None]
    assert table.column("text_sha256").to_pylist() == ["h2", "h1", "missing"]


def test_user_vector_table_mixes_the_parts_each_user_has():
    import pyarrow as pa

    from reelreason.taste import mix, user_vector_table

    vec = pa.list_(pa.float32())
    schema = pa.schema(
        [
            ("user_id", pa.string()),
            ("model", pa.string()),
            ("dim", pa.int32()),
            ("normalized", pa.bool_()),
            ("vector", vec),
            ("rating_vector", vec),
            ("text_vector", vec),
            ("alpha", pa.float64()),
            ("n_liked", pa.int32()),
            ("n_text_tokens", pa.int32()),
            ("parts", pa.string()),
        ]
    )
    r = np.array([1, 0], np.float32)
    t = np.array([0, 1], np.float32)
    table, counts = user_vector_table(
        {"both": (r, 3), "rated": (r, 5)},
        {"both": t, "talked": t},
        {"both": 3, "rated": 5, "talked": 1},
        {"both": 12, "talked": 7},
        alpha=0.25,
        model="mini",
        dim=2,
        schema=schema,
    )
    rows = {row["user_id"]: row for row in table.to_pylist()}
    assert counts == {"rating+text": 1, "rating": 1, "text": 1}
    np.testing.assert_allclose(rows["both"]["vector"], mix(r, t, 0.25), rtol=1e-6)
    assert rows["rated"]["text_vector"] is None and rows["rated"]["vector"] == [1.0, 0.0]
    assert rows["talked"]["rating_vector"] is None and rows["talked"]["n_liked"] == 1
    assert (rows["both"]["n_text_tokens"], rows["rated"]["n_text_tokens"]) == (12, 0)
    assert list(rows) == sorted(rows)  # a stable order, whatever the dicts' order
