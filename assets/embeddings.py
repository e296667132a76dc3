"""Taste embeddings: liked films and users' own words -> movie and user vectors per backend."""

import hashlib
from collections import Counter

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.incremental import Step
from assets.publishing import write_parsed
from pipelines.resources import (
    EmbeddingSettings,
    OpenAIEmbeddingResource,
    SentenceTransformerResource,
    WarehouseResource,
)
from reelreason.embeddings import (
    EmbeddingCache,
    embed_long_texts,
    embed_texts,
    mix,
    normalize,
    sha256_text,
    vector_matrix,
)
from reelreason.parse.common import Parsed
from reelreason.polarity import THRESHOLD, PolarityModel, evaluation_set, training_set
from reelreason.users import (
    ccpe_preference_spans,
    dialogue_likes,
    one_like_per_film,
    rating_likes,
    read_preferences,
    user_texts,
)

GROUP = "embeddings"
BACKENDS = ("st", "openai")
# The resource that configures each backend (what its vectors depend on).
BACKEND_RESOURCE = {"st": "sentence_model", "openai": "openai_embeddings"}


def vector_column(vectors: list[np.ndarray | None]) -> pa.Array:
    return pa.array(
        [None if v is None else v.astype(np.float32).tolist() for v in vectors],
        type=pa.list_(pa.float32()),
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "user_likes",
            group_name=GROUP,
            kinds={"duckdb", "pandera"},
            deps=[
                "movie_xref",
                "ml1m_ratings",
                "movietweetings_ratings",
                "redial_mentions",
                "redial_messages",
                "inspired_utterances",
                "inspired_dialogs",
                "ccpe_segments",
                "ccpe_utterances",
                "goemotions_texts",
                "goemotions_emotions",
                "goemotions_encoded",
            ],
            description="Liked films per user (namespaced ids): MovieLens >= 4, "
            "MovieTweetings >= 8/10, ReDial seeker liked (the seeker's own answer "
            "wins), INSPIRED accepted-and-rated-good recommendations, CCPE "
            "preference spans read as positive by the GoEmotions-trained classifier.",
        ),
        dg.AssetSpec(
            "ccpe_preferences",
            group_name=GROUP,
            kinds={"python", "pandera"},
            deps=[
                "ccpe_segments",
                "ccpe_utterances",
                "movie_xref",
                "goemotions_texts",
                "goemotions_encoded",
            ],
            description="Every CCPE preference span on a film with its predicted "
            "polarity (P(positive)), the evidence behind CCPE likes.",
        ),
    ],
    can_subset=False,
)
def user_likes_tables(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    sentence_model: SentenceTransformerResource,
):
    run_id = context.run.run_id
    step = Step(context, warehouse)
    if step.reusable():
        yield from step.reused()
        return
    backend = sentence_model.backend(context.log)
    cache = EmbeddingCache(warehouse.lake)
    with step.session() as con:
        ratings = rating_likes(con)
        dialogues = dialogue_likes(con)
        spans = ccpe_preference_spans(con)
        train_texts, train_labels = training_set(con)
    # Polarity of CCPE preferences: logistic regression on sentence embeddings.
    eval_texts, eval_labels = evaluation_set()
    embedded = embed_texts(
        backend, train_texts + eval_texts + [s["span"] for s in spans], cache, run_id=run_id
    )

    def vec(texts):
        return (
            np.stack([embedded.vectors[sha256_text(t)] for t in texts])
            if texts
            else np.zeros((0, backend.dim), np.float32)
        )

    model = PolarityModel.fit(vec(train_texts), train_labels)
    quality = model.evaluate(vec(eval_texts), eval_labels)
    context.log.info(f"CCPE polarity classifier: {quality}")
    p = model.p_positive(vec([s["span"] for s in spans])) if spans else np.zeros(0)
    preferences, ccpe_likes = read_preferences(spans, p, THRESHOLD)
    likes = one_like_per_film(pa.concat_tables([ratings, dialogues, ccpe_likes]))
    parsed = Parsed({"user_likes": likes, "ccpe_preferences": preferences})
    per_source = Counter(likes.column("source").to_pylist())
    for result in write_parsed(context, warehouse, parsed, source="users", step=step):
        extra = {}
        if result.asset_key == dg.AssetKey("user_likes"):
            users = len(set(likes.column("user_id").to_pylist()))
            extra = {"likes_per_source": dg.MetadataValue.json(dict(per_source)), "users": users}
        else:
            extra = {
                "polarity_accuracy": quality["accuracy"],
                "polarity_majority_baseline": quality["majority_baseline"],
                "polarity_eval_sentences": quality["n"],
                "polarity_trained_on": quality["trained_on"],
                "read_as_positive": ccpe_likes.num_rows,
            }
        yield dg.MaterializeResult(
            asset_key=result.asset_key,
            metadata={**result.metadata, **extra},
            data_version=result.data_version,
        )


@dg.asset(
    name="user_texts",
    group_name=GROUP,
    kinds={"duckdb", "pandera"},
    deps=["redial_messages", "inspired_utterances", "ccpe_utterances"],
    description="Each dialogue user's own words: ReDial initiator, INSPIRED SEEKER and CCPE "
    "USER turns only, film mentions rendered to titles, one user per conversation.",
)
def user_texts_table(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    step = Step(context, warehouse)
    if step.reusable():
        return step.reused()[0]
    with step.session() as con:
        table = user_texts(con)
    (result,) = write_parsed(
        context, warehouse, Parsed({"user_texts": table}), source="users", step=step
    )
    return result


def _embedding_schema(with_parts: bool) -> pa.Schema:
    vec = pa.list_(pa.float32())
    key = [("user_id", pa.string())] if with_parts else [("movie_id", pa.string())]
    common = [("model", pa.string()), ("dim", pa.int32()), ("normalized", pa.bool_())]
    if not with_parts:
        return pa.schema(key + common + [("vector", vec), ("text_sha256", pa.string())])
    return pa.schema(
        key
        + common
        + [
            ("vector", vec),
            ("rating_vector", vec),
            ("text_vector", vec),
            ("alpha", pa.float64()),
            ("n_liked", pa.int32()),
            ("n_text_tokens", pa.int32()),
            ("parts", pa.string()),
        ]
    )


def backend_for(name: str, context, sentence_model, openai_embeddings):
    if name == "st":
        return sentence_model.backend(context.log), None
    reason = openai_embeddings.unavailable_reason()
    return (None, reason) if reason else (openai_embeddings.backend(context.log), None)


def write_skipped(context, warehouse, table: str, schema: pa.Schema, reason: str, step=None):
    """An explicit skip: an empty table, and the reason on the asset page."""
    context.log.warning(reason)
    (result,) = write_parsed(
        context, warehouse, Parsed({table: schema.empty_table()}), source="embeddings", step=step
    )
    return dg.MaterializeResult(
        metadata={**result.metadata, "status": reason}, data_version=result.data_version
    )


def _fixed_view(warehouse: WarehouseResource, table: str, key: str, dim: int, run_id: str):
    """DuckLake stores lists, not fixed-size arrays: `<table>_vectors` serves FLOAT[dim]."""
    warehouse.lake.create_view(
        f"{table}_vectors",
        f"SELECT {key}, model, CAST(vector AS FLOAT[{dim}]) AS vector FROM {table}",
        run_id=run_id,
    )


def shard_of(movie_id: str, shards: int) -> int:
    """Stable across runs, machines and library versions (unlike hash() or DuckDB's hash)."""
    return int(hashlib.sha256(movie_id.encode()).hexdigest()[:8], 16) % shards


def movie_embeddings_asset(name: str, alpha_note: str) -> dg.AssetsDefinition:
    """plan -> embed_shard (one step per id-hash shard, in parallel under the multiprocess
    executor; each fills the shared content-addressed cache) -> write (all cache hits)."""
    table = f"movie_embeddings_{name}"

    def step_for(context, warehouse) -> Step:
        return Step(
            context,
            warehouse,
            tables=[table],
            upstream=["movie_texts"],
            resource_keys=[BACKEND_RESOURCE[name]],
        )

    @dg.op(
        name=f"{table}__plan",
        ins={"movie_texts": dg.In(dg.Nothing)},
        out=dg.DynamicOut(int),
    )
    def plan(
        context: dg.OpExecutionContext,
        embedding_settings: EmbeddingSettings,
        warehouse: WarehouseResource,
        sentence_model: SentenceTransformerResource,  # configure the backend: inputs to reuse
        openai_embeddings: OpenAIEmbeddingResource,
    ):
        if step_for(context, warehouse).reusable():
            return  # no shard steps: the write step reuses the table
        for shard in range(embedding_settings.shards):
            yield dg.DynamicOutput(shard, mapping_key=f"shard_{shard}")

    @dg.op(name=f"{table}__embed_shard")
    def embed_shard(
        context: dg.OpExecutionContext,
        shard: int,
        warehouse: WarehouseResource,
        sentence_model: SentenceTransformerResource,
        openai_embeddings: OpenAIEmbeddingResource,
        embedding_settings: EmbeddingSettings,
    ) -> dict:
        backend, skipped = backend_for(name, context, sentence_model, openai_embeddings)
        if backend is None:
            return {}
        with warehouse.lake.session() as con:
            texts = [
                text
                for movie_id, text in con.execute(
                    "SELECT movie_id, text FROM movie_texts ORDER BY movie_id"
                ).fetchall()
                if shard_of(movie_id, embedding_settings.shards) == shard
            ]
        embedded = embed_texts(
            backend, texts, EmbeddingCache(warehouse.lake), run_id=context.run.run_id
        )
        context.log.info(
            f"shard {shard + 1}/{embedding_settings.shards}: {len(texts):,} films, "
            f"{embedded.report.hits:,} cached, {embedded.report.misses:,} embedded"
        )
        return embedded.report.as_metadata()

    @dg.op(name=f"{table}__write")
    def write(
        context: dg.OpExecutionContext,
        shard_reports: list[dict],
        warehouse: WarehouseResource,
        sentence_model: SentenceTransformerResource,
        openai_embeddings: OpenAIEmbeddingResource,
    ) -> None:
        step = step_for(context, warehouse)
        if step.reusable():
            context.add_output_metadata(dict(step.reused()[0].metadata))
            return
        backend, skipped = backend_for(name, context, sentence_model, openai_embeddings)
        schema = _embedding_schema(with_parts=False)
        if backend is None:
            result = write_skipped(context, warehouse, table, schema, skipped, step)
            context.add_output_metadata(dict(result.metadata))
            return
        with step.session() as con:
            films = con.execute(
                "SELECT movie_id, text, text_sha256 FROM movie_texts ORDER BY movie_id"
            ).fetchall()
        # Every text was embedded by a shard step: this pass only reads the cache.
        embedded = embed_texts(
            backend,
            [t for _, t, _ in films],
            EmbeddingCache(warehouse.lake),
            run_id=context.run.run_id,
        )
        rows = [(mid, embedded.vectors.get(sha)) for mid, _, sha in films]
        data = pa.table(
            {
                "movie_id": [m for m, _ in rows],
                "model": [backend.model] * len(rows),
                "dim": pa.array([backend.dim] * len(rows), pa.int32()),
                "normalized": [True] * len(rows),
                "vector": vector_column([v for _, v in rows]),
                "text_sha256": [sha for _, _, sha in films],
            },
            schema=schema,
        )
        (result,) = write_parsed(
            context, warehouse, Parsed({table: data}), source="embeddings", step=step
        )
        _fixed_view(warehouse, table, "movie_id", backend.dim, context.run.run_id)
        totals = Counter()
        for report in shard_reports:
            totals.update(report)
        context.add_output_metadata(
            {
                **result.metadata,
                "model": backend.model,
                "space": backend.space,
                "dim": backend.dim,
                "shards": len(shard_reports),
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in totals.items()},
                "embed_misses_in_write": embedded.report.misses,
            }
        )

    @dg.graph_asset(
        name=table,
        group_name=GROUP,
        kinds={"python", "pandera"},
        ins={"movie_texts": dg.AssetIn(dagster_type=dg.Nothing)},
        description=f"One normalised vector per film from movie_texts ({alpha_note}), through "
        "the content-addressed embedding cache; the embedding work is split into id-hash "
        "shards (REELREASON_EMBED_SHARDS), one step each. FLOAT[] here; `"
        + table
        + "_vectors` serves FLOAT[dim].",
    )
    def _asset(movie_texts):
        return write(plan(movie_texts).map(embed_shard).collect())

    return _asset


def rating_parts(films: pa.Table, likes: pa.Table, dim: int, min_likes: int):
    """Per user: normalise(mean of liked films' vectors) when they have >= min_likes likes,
    and every user's like count. One sparse (users x films) @ (films x dim) product: the
    full MovieLens + MovieTweetings likes (~1M) never become Python lists of vectors."""
    import pyarrow.compute as pc
    from scipy import sparse

    if likes.num_rows == 0:
        return {}, {}
    matrix = vector_matrix(films.column("vector"), dim)
    users = pc.dictionary_encode(likes.column("user_id").combine_chunks())
    user_index = users.indices.to_numpy()
    names = users.dictionary.to_pylist()
    film_index = likes.column("film_index").to_numpy()
    liked = sparse.csr_matrix(
        (np.ones(len(user_index), np.float32), (user_index, film_index)),
        shape=(len(names), len(matrix)),
    )
    sums = np.asarray(liked @ matrix, dtype=np.float32)
    counts = np.asarray(liked.sum(axis=1)).ravel().astype(int)
    n_liked = dict(zip(names, counts.tolist(), strict=True))
    parts = {
        u: (normalize(sums[i] / counts[i]), int(counts[i]))
        for i, u in enumerate(names)
        if counts[i] >= min_likes
    }
    return parts, n_liked


def user_embeddings_asset(name: str) -> dg.AssetsDefinition:
    table = f"user_embeddings_{name}"

    @dg.asset(
        name=table,
        group_name=GROUP,
        kinds={"python", "pandera"},
        deps=[f"movie_embeddings_{name}", "user_likes", "user_texts"],
        description="User taste vectors: rating part = mean of liked films' vectors (at least "
        "REELREASON_MIN_LIKES likes), text part = the user's own words (cut into token "
        "windows and averaged: nothing truncated), final = normalise(α·r̂ + (1−α)·t̂) when "
        "both exist, else the part that exists. Both parts, α, counts and parts used stored.",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        sentence_model: SentenceTransformerResource,
        openai_embeddings: OpenAIEmbeddingResource,
        embedding_settings: EmbeddingSettings,
    ) -> dg.MaterializeResult:
        step = Step(
            context, warehouse, resource_keys=[BACKEND_RESOURCE[name], "embedding_settings"]
        )
        if step.reusable():
            return step.reused()[0]
        backend, skipped = backend_for(name, context, sentence_model, openai_embeddings)
        schema = _embedding_schema(with_parts=True)
        if backend is None:
            return write_skipped(context, warehouse, table, schema, skipped, step)
        alpha, min_likes = embedding_settings.alpha, embedding_settings.min_likes
        with step.session() as con:
            films = con.execute(
                f"""SELECT vector FROM movie_embeddings_{name}
                    WHERE vector IS NOT NULL ORDER BY movie_id"""
            ).to_arrow_table()
            likes = con.execute(
                f"""SELECT l.user_id, e.film_index FROM user_likes l JOIN (
                        SELECT movie_id, row_number() OVER (ORDER BY movie_id) - 1 AS film_index
                        FROM movie_embeddings_{name} WHERE vector IS NOT NULL) e
                    USING (movie_id)"""
            ).to_arrow_table()
            texts = dict(con.execute("SELECT user_id, text FROM user_texts").fetchall())
        rating_part, n_liked = rating_parts(films, likes, backend.dim, min_likes)
        text_part, tokens, report = embed_long_texts(
            backend, texts, EmbeddingCache(warehouse.lake), run_id=context.run.run_id
        )
        rows, parts_count = [], Counter()
        for user in sorted(set(rating_part) | set(text_part)):
            r = rating_part.get(user, (None, 0))[0]
            t = text_part.get(user)
            parts = "+".join(p for p, v in (("rating", r), ("text", t)) if v is not None)
            parts_count[parts] += 1
            rows.append(
                (user, mix(r, t, alpha), r, t, n_liked.get(user, 0), tokens.get(user, 0), parts)
            )
        data = pa.table(
            {
                "user_id": [r[0] for r in rows],
                "model": [backend.model] * len(rows),
                "dim": pa.array([backend.dim] * len(rows), pa.int32()),
                "normalized": [True] * len(rows),
                "vector": vector_column([r[1] for r in rows]),
                "rating_vector": vector_column([r[2] for r in rows]),
                "text_vector": vector_column([r[3] for r in rows]),
                "alpha": [alpha] * len(rows),
                "n_liked": pa.array([r[4] for r in rows], pa.int32()),
                "n_text_tokens": pa.array([r[5] for r in rows], pa.int32()),
                "parts": [r[6] for r in rows],
            },
            schema=schema,
        )
        (result,) = write_parsed(
            context, warehouse, Parsed({table: data}), source="embeddings", step=step
        )
        _fixed_view(warehouse, table, "user_id", backend.dim, context.run.run_id)
        too_few = sum(1 for u, n in n_liked.items() if n < min_likes)
        return dg.MaterializeResult(
            data_version=result.data_version,
            metadata={
                **result.metadata,
                "model": backend.model,
                "alpha": alpha,
                "min_likes": min_likes,
                "users_by_parts": dg.MetadataValue.json(dict(parts_count)),
                "users_below_min_likes": too_few,
                **report.as_metadata(),
            },
        )

    return _asset


@dg.asset(
    group_name=GROUP,
    kinds={"python"},
    deps=["goemotions_texts"],
    description="Encodes every GoEmotions text once per embedding model into the embedding "
    "cache, before the three steps that use them (the CCPE polarity classifier, the emotion "
    "prototypes and their evaluation), so none of them encodes a text another already has "
    "and two never encode the same texts at the same time. Writes no table.",
)
def goemotions_encoded(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    sentence_model: SentenceTransformerResource,
    openai_embeddings: OpenAIEmbeddingResource,
) -> dg.MaterializeResult:
    with warehouse.lake.session() as con:
        texts = [t for (t,) in con.execute("SELECT text FROM goemotions_texts").fetchall()]
    metadata: dict = {"texts": len(texts)}
    for name in BACKENDS:
        backend, reason = backend_for(name, context, sentence_model, openai_embeddings)
        if backend is None:
            metadata[f"{name}_status"] = reason
            continue
        report = embed_texts(
            backend, texts, EmbeddingCache(warehouse.lake), run_id=context.run.run_id
        ).report
        context.log.info(
            f"{name}: {report.unique:,} distinct texts, {report.hits:,} cached, "
            f"{report.misses:,} encoded in {report.seconds:.1f}s"
        )
        metadata.update(
            {
                f"{name}_cached": report.hits,
                f"{name}_encoded": report.misses,
                f"{name}_seconds": round(report.seconds, 2),
            }
        )
    return dg.MaterializeResult(metadata=metadata)


embedding_assets = [
    goemotions_encoded,
    user_likes_tables,
    user_texts_table,
    movie_embeddings_asset("st", "sentence-transformers"),
    movie_embeddings_asset("openai", "OpenAI-compatible endpoint"),
    user_embeddings_asset("st"),
    user_embeddings_asset("openai"),
]
