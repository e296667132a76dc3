"""Taste embeddings: liked films and users' own words -> movie and user vectors per backend."""

import hashlib
from collections import Counter

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.holdout import SEEN_INPUTS, SEEN_SQL, SPLIT_INPUTS, read_split
from assets.incremental import Step
from assets.publishing import write_parsed
from assets.tuned import load_adapter
from assets.write_path import lake_step
from pipelines.resources import (
    EmbeddingSettings,
    EvaluationSettings,
    OpenAIEmbeddingResource,
    SentenceTransformerResource,
    WarehouseResource,
)
from reelreason.embeddings import EmbeddingCache, embed_long_texts, embed_texts, sha256_text
from reelreason.evaluation import (
    alpha_curve,
    choose_alpha,
    leave_last_out_cases,
    masked_texts,
)
from reelreason.parse.common import Parsed
from reelreason.polarity import THRESHOLD, PolarityModel, evaluation_set
from reelreason.taste import (
    film_vector_table,
    rating_parts,
    user_vector_table,
    vector_matrix,
)
from reelreason.tuning import through_adapter
from reelreason.users import (
    ccpe_preference_spans,
    dialogue_likes,
    one_like_per_film,
    polarity_training_set,
    rating_likes,
    read_preferences,
    user_texts,
)
from schemas import arrow_schema

GROUP = "embeddings"
BACKENDS = ("st", "openai")
# The resource that configures each backend (what its vectors depend on).
BACKEND_RESOURCE = {
    "st": "sentence_model",
    "openai": "openai_embeddings",
    "tuned": "sentence_model",
}
# Spaces trained over another: users' words go through that one's model, then a map.
BASE_OF = {"tuned": "st"}


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
@lake_step(source="users")
def user_likes_tables(step: Step, sentence_model: SentenceTransformerResource) -> Parsed:
    context, run_id = step.context, step.context.run.run_id
    backend = sentence_model.backend(context.log)
    cache = EmbeddingCache(step.warehouse.lake)
    with step.session() as con:
        ratings = rating_likes(con)
        dialogues = dialogue_likes(con)
        spans = ccpe_preference_spans(con)
        train_texts, train_labels = polarity_training_set(con)
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
    per_source = Counter(likes.column("source").to_pylist())
    step.describe(
        "user_likes",
        likes_per_source=dg.MetadataValue.json(dict(per_source)),
        users=len(set(likes.column("user_id").to_pylist())),
    )
    step.describe(
        "ccpe_preferences",
        polarity_accuracy=quality["accuracy"],
        polarity_majority_baseline=quality["majority_baseline"],
        polarity_eval_sentences=quality["n"],
        polarity_trained_on=quality["trained_on"],
        read_as_positive=ccpe_likes.num_rows,
    )
    return Parsed({"user_likes": likes, "ccpe_preferences": preferences})


@dg.asset(
    name="user_texts",
    group_name=GROUP,
    kinds={"duckdb", "pandera"},
    deps=["redial_messages", "inspired_utterances", "ccpe_utterances"],
    description="Each dialogue user's own words: ReDial initiator, INSPIRED SEEKER and CCPE "
    "USER turns only, film mentions rendered to titles, one user per conversation.",
)
@lake_step(source="users")
def user_texts_table(step: Step) -> Parsed:
    with step.session() as con:
        return Parsed({"user_texts": user_texts(con)})


def backend_for(name: str, context, sentence_model, openai_embeddings):
    if name == "st":
        return sentence_model.backend(context.log), None
    reason = openai_embeddings.unavailable_reason()
    return (None, reason) if reason else (openai_embeddings.backend(context.log), None)


def fixed_view(step: Step, table: str, key: str, dim: int) -> None:
    """DuckLake stores lists, not fixed-size arrays: `<table>_vectors` serves FLOAT[dim]."""
    step.add_view(
        f"{table}_vectors",
        f"SELECT {key}, model, CAST(vector AS FLOAT[{dim}]) AS vector FROM {table}",
    )


def shard_of(movie_id: str, shards: int) -> int:
    """Stable across runs, machines and library versions (unlike hash() or DuckDB's hash)."""
    return int(hashlib.sha256(movie_id.encode()).hexdigest()[:8], 16) % shards


def film_vectors(step: Step, name: str, table: str, sentence_model, openai_embeddings) -> Parsed:
    """The film vector table, read from the cache the shard steps filled."""
    backend, skipped = backend_for(name, step.context, sentence_model, openai_embeddings)
    if backend is None:
        return step.skip(table, arrow_schema(table), skipped)
    with step.session() as con:
        films = con.execute(
            "SELECT movie_id, text, text_sha256 FROM movie_texts ORDER BY movie_id"
        ).fetchall()
    # Every text was embedded by a shard step: this pass only reads the cache.
    embedded = embed_texts(
        backend,
        [t for _, t, _ in films],
        EmbeddingCache(step.warehouse.lake),
        run_id=step.context.run.run_id,
    )
    data = film_vector_table(
        [(m, sha) for m, _, sha in films],
        embedded.vectors,
        backend.model,
        backend.dim,
        arrow_schema(table),
    )
    fixed_view(step, table, "movie_id", backend.dim)
    step.describe(
        table,
        model=backend.model,
        space=backend.space,
        dim=backend.dim,
        embed_misses_in_write=embedded.report.misses,
    )
    return Parsed({table: data})


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
        parsed = film_vectors(step, name, table, sentence_model, openai_embeddings)
        (result,) = write_parsed(context, warehouse, parsed, source="embeddings", step=step)
        for view, sql in step.views:
            warehouse.lake.create_view(view, sql, run_id=context.run.run_id)
        totals = Counter()
        for report in shard_reports:
            totals.update(report)
        context.add_output_metadata(
            {
                **result.metadata,
                "shards": len(shard_reports),
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in totals.items()},
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


def text_encoder(name: str, step: Step, con, sentence_model, openai_embeddings):
    """(encode, reason): encode(texts) -> (vectors, tokens, report) puts users' words into
    space `name`; the tuned space takes them through the st model and its `user_text` map."""
    backend, skipped = backend_for(
        BASE_OF.get(name, name), step.context, sentence_model, openai_embeddings
    )
    if backend is None:
        return None, skipped
    cache, run_id = EmbeddingCache(step.warehouse.lake), step.context.run.run_id
    adapter = load_adapter(con, "user_text") if name in BASE_OF else None
    if name in BASE_OF and adapter is None:
        return None, "no tuned space in this build"

    def encode(texts: dict[str, str]):
        vectors, tokens, report = embed_long_texts(backend, texts, cache, run_id=run_id)
        if adapter is not None:
            vectors = {k: through_adapter(adapter, v) for k, v in vectors.items()}
        return vectors, tokens, report

    return encode, None


def validated_alpha(films, ids, likes, holdout, seen, texts, titles, encode, fallback):
    """α chosen on the validation users (their held-out film masked from their words) and
    the curve it was chosen on (README, "Evaluation")."""
    index = {m: i for i, m in enumerate(ids)}
    cases = leave_last_out_cases(likes, holdout, seen, index, role="validation")
    validation = {u for u, r in holdout.role.items() if r == "validation"}
    words = {u: t for u, t in masked_texts(holdout, texts, titles).items() if u in validation}
    text_vecs = encode(words)[0] if words else {}
    curve = alpha_curve(cases, films, text_vecs)
    alpha, why = choose_alpha(curve, fallback)
    return alpha, why, curve


def user_embeddings_asset(name: str) -> dg.AssetsDefinition:
    table = f"user_embeddings_{name}"
    space_inputs = [f"movie_embeddings_{name}"] + (["tuned_adapters"] if name in BASE_OF else [])

    @dg.asset(
        name=table,
        group_name=GROUP,
        kinds={"python", "pandera"},
        deps=[*space_inputs, *SPLIT_INPUTS, *SEEN_INPUTS],
        description="User taste vectors: rating part = mean of liked films' vectors (at least "
        "REELREASON_MIN_LIKES likes), text part = the user's own words (cut into token "
        "windows and averaged: nothing truncated"
        + ("; through the tuned space's `user_text` map" if name in BASE_OF else "")
        + "), final = normalise(α·r̂ + (1−α)·t̂) when both exist, else the part that "
        "exists, with α chosen on validation users (their last like held out and masked "
        "from their words). Both parts, α, counts and parts used stored.",
    )
    @lake_step(
        source="embeddings",
        resource_keys=[
            BACKEND_RESOURCE[name],
            "embedding_settings",
            "evaluation_settings",
        ],
    )
    def _asset(
        step: Step,
        sentence_model: SentenceTransformerResource,
        openai_embeddings: OpenAIEmbeddingResource,
        embedding_settings: EmbeddingSettings,
        evaluation_settings: EvaluationSettings,
    ) -> Parsed:
        schema = arrow_schema(table)
        min_likes = embedding_settings.min_likes
        with step.session() as con:
            encode, skipped = text_encoder(name, step, con, sentence_model, openai_embeddings)
            films = con.execute(
                f"""SELECT movie_id, vector, dim, model FROM movie_embeddings_{name}
                    WHERE vector IS NOT NULL ORDER BY movie_id"""
            ).to_arrow_table()
            if encode is None or not films.num_rows:
                return step.skip(table, schema, skipped or f"no film vectors in {name}")
            likes = con.execute(
                f"""SELECT l.user_id, e.film_index FROM user_likes l JOIN (
                        SELECT movie_id, row_number() OVER (ORDER BY movie_id) - 1 AS film_index
                        FROM movie_embeddings_{name} WHERE vector IS NOT NULL) e
                    USING (movie_id)"""
            ).to_arrow_table()
            split_likes, holdout, texts, titles = read_split(
                con, embedding_settings, evaluation_settings
            )
            seen = con.execute(SEEN_SQL).fetchall()
        dim, model = films.column("dim")[0].as_py(), films.column("model")[0].as_py()
        matrix = vector_matrix(films.column("vector"), dim)
        alpha, alpha_reason, curve = validated_alpha(
            matrix,
            films.column("movie_id").to_pylist(),
            split_likes,
            holdout,
            seen,
            texts,
            titles,
            encode,
            embedding_settings.alpha,
        )
        rating_part, n_liked = rating_parts(films, likes, dim, min_likes)
        text_part, tokens, report = encode(texts)
        data, parts_count = user_vector_table(
            rating_part,
            text_part,
            n_liked,
            tokens,
            alpha=alpha,
            model=model,
            dim=dim,
            schema=schema,
        )
        fixed_view(step, table, "user_id", dim)
        step.describe(
            table,
            model=model,
            alpha=alpha,
            alpha_chosen_by=alpha_reason,
            alpha_curve=dg.MetadataValue.md(alpha_markdown(curve, alpha)),
            min_likes=min_likes,
            users_by_parts=dg.MetadataValue.json(dict(parts_count)),
            users_below_min_likes=sum(1 for n in n_liked.values() if n < min_likes),
            **report.as_metadata(),
        )
        return Parsed({table: data})

    return _asset


def alpha_markdown(curve: list[dict], chosen: float) -> str:
    lines = ["| α | HR@10 | NDCG@10 | MRR | users |", "|---|---|---|---|---|"]
    for p in curve:
        mark = " ← chosen" if p["alpha"] == chosen else ""
        lines.append(
            f"| {p['alpha']:.1f}{mark} | {p['hr@10']:.3f} | {p['ndcg@10']:.3f} | "
            f"{p['mrr']:.4f} | {p['n']} |"
        )
    return "\n".join(lines)


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
    user_embeddings_asset("tuned"),
]
