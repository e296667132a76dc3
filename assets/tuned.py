"""The tuned space: film vectors trained on this build's own likes over the `st` space, and
the two maps that bring films' and users' words into it (README, "The tuned space")."""

import json
import os
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.holdout import SPLIT_INPUTS, read_split
from assets.incremental import Step
from assets.write_path import lake_step
from pipelines.resources import (
    EmbeddingSettings,
    EvaluationSettings,
    SentenceTransformerResource,
    TuningSettings,
)
from reelreason.embeddings import EmbeddingCache, embed_long_texts
from reelreason.evaluation import masked_texts, training_likes
from reelreason.parse.common import Parsed
from reelreason.taste import vector_column, vector_matrix
from reelreason.tuning import TunedSpace, TuningConfig, train_tuned_space, training_key
from schemas import arrow_schema

BASE = "st"  # the space the tuned one is trained over (offline everywhere)
FILMS = "movie_embeddings_tuned"
ADAPTERS = "tuned_adapters"


def load_base(con):
    """(movie ids, vectors, model, text hashes) of the base space's films, or None."""
    rows = con.execute(
        f"""SELECT movie_id, vector, model, dim, text_sha256 FROM movie_embeddings_{BASE}
            WHERE vector IS NOT NULL ORDER BY movie_id"""
    ).to_arrow_table()
    if not rows.num_rows:
        return None
    vectors = vector_matrix(rows.column("vector"), rows.column("dim")[0].as_py())
    return (
        rows.column("movie_id").to_pylist(),
        vectors,
        rows.column("model")[0].as_py(),
        rows.column("text_sha256").to_pylist(),
    )


def load_adapter(con, part: str) -> np.ndarray | None:
    """One of the tuned space's maps (`film_text` or `user_text`) as a (base dim, dim)
    matrix, or None when this build has no tuned space."""
    rows = con.execute(
        f"SELECT weights FROM {ADAPTERS} WHERE part = ? ORDER BY row", [part]
    ).to_arrow_table()
    if not rows.num_rows:
        return None
    column = rows.column("weights").combine_chunks()
    return vector_matrix(column, len(column[0]))


def config_from(tuning: TuningSettings, seed: int) -> TuningConfig:
    return TuningConfig(dim=tuning.dim, epochs=tuning.epochs, max_steps=tuning.max_steps, seed=seed)


def train_cached(
    folder: Path, base, sequences, texts, config: TuningConfig, log
) -> tuple[TunedSpace, str]:
    """The trained space, from `folder` when these exact inputs were trained before (the key
    hashes the base vectors, the training likes, the texts and the configuration)."""
    key = training_key(base, sequences, texts, config)
    path = folder / f"tuned-{key[:32]}.npz"
    if path.exists():
        saved = np.load(path)
        report = {**json.loads(str(saved["report"])), "cached": True}
        log.info(f"tuned space: these inputs were trained before ({path.name}): not retrained")
        space = TunedSpace(
            saved["film_vectors"],
            saved["film_adapter"],
            saved["text_adapter"],
            saved["warm"],
            report,
        )
        return space, key

    def progress(step: int, steps: int, loss: float) -> None:
        log.info(f"tuned space: step {step:,}/{steps:,}, loss {loss:.3f}")

    space = train_tuned_space(base, sequences, texts, config, progress=progress)
    space.report["cached"] = False
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(
        partial,
        film_vectors=space.film_vectors,
        film_adapter=space.film_adapter,
        text_adapter=space.text_adapter,
        warm=space.warm,
        report=json.dumps(space.report),
    )
    os.replace(partial, path)  # a crash mid-write never leaves a half file under the key
    return space, key


def adapter_table(space: TunedSpace, base_model: str, model: str) -> pa.Table:
    parts = [("film_text", space.film_adapter), ("user_text", space.text_adapter)]
    return pa.table(
        {
            "part": [p for p, m in parts for _ in range(len(m))],
            "row": pa.array([i for _, m in parts for i in range(len(m))], pa.int32()),
            "base_model": [base_model] * sum(len(m) for _, m in parts),
            "model": [model] * sum(len(m) for _, m in parts),
            "weights": vector_column([row for _, m in parts for row in m]),
        },
        schema=arrow_schema(ADAPTERS),
    )


# Runs after the base space's user vectors without reading them: the users' text windows
# are then in the embedding cache, never encoded by two steps at once.
ORDER_ONLY = [f"user_embeddings_{BASE}"]


def _spec(name: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        name,
        group_name="embeddings",
        kinds={"python", "pytorch"},
        deps=[f"movie_embeddings_{BASE}", *SPLIT_INPUTS, *ORDER_ONLY],
        metadata={"order_only_deps": ORDER_ONLY},
        description=description,
    )


@dg.multi_asset(
    specs=[
        _spec(
            FILMS,
            "A taste-aligned space trained on this build's own likes: each "
            "film's vector is normalise(x·W + b), x its `movie_embeddings_st` vector, W a "
            "learned map shared by all films, b a per-film vector for films liked in "
            "training (films nobody liked keep normalise(x·W)). Trained to rank the film a "
            "user liked next from the mean of what they liked before (full softmax), with "
            "the evaluation's held-out likes never seen. Same columns as the other spaces.",
        ),
        _spec(
            ADAPTERS,
            "The tuned space's two maps from the st space, one row per base "
            "dimension: `film_text` (a new or unliked film's vector) and `user_text` (a "
            "user's words, the text part of `user_embeddings_tuned`).",
        ),
    ],
    can_subset=False,
)
@lake_step(
    source="embeddings",
    resource_keys=["sentence_model", "embedding_settings", "evaluation_settings", "tuning"],
)
def tuned_space(
    step: Step,
    sentence_model: SentenceTransformerResource,
    embedding_settings: EmbeddingSettings,
    evaluation_settings: EvaluationSettings,
    tuning: TuningSettings,
) -> list[Parsed]:
    context = step.context
    with step.session() as con:
        base = load_base(con)
        likes, holdout, texts, titles = read_split(con, embedding_settings, evaluation_settings)
    reason = (
        "REELREASON_TUNE_MAX_STEPS=0: no tuned space"
        if tuning.max_steps == 0
        else None
        if base is not None
        else f"no movie_embeddings_{BASE} vectors in this build: no tuned space"
    )
    if reason:
        return [
            step.skip(FILMS, arrow_schema(FILMS), reason),
            step.skip(ADAPTERS, arrow_schema(ADAPTERS), reason),
        ]
    ids, vectors, base_model, shas = base
    index = {m: i for i, m in enumerate(ids)}
    train = training_likes(likes, holdout)
    rows = {u: [index[m] for m in movies if m in index] for u, movies in train.items()}
    # Users' words in the base space; held-out users' without their held-out film.
    words = {**texts, **masked_texts(holdout, texts, titles)}
    text_vecs, _, report = embed_long_texts(
        sentence_model.backend(context.log),
        words,
        EmbeddingCache(step.warehouse.lake),
        run_id=context.run.run_id,
    )
    pairs = [(text_vecs[u], rows[u]) for u in sorted(text_vecs) if rows.get(u)]
    space, key = train_cached(
        Path(step.warehouse.root) / "models",
        vectors,
        list(rows.values()),
        pairs,
        config_from(tuning, evaluation_settings.seed),
        context.log,
    )
    model = f"tuned:{base_model}:{key[:12]}"
    dim = space.film_vectors.shape[1]
    films = pa.table(
        {
            "movie_id": ids,
            "model": [model] * len(ids),
            "dim": pa.array([dim] * len(ids), pa.int32()),
            "normalized": [True] * len(ids),
            "vector": vector_column(list(space.film_vectors)),
            "text_sha256": shas,
        },
        schema=arrow_schema(FILMS),
    )
    step.add_view(
        f"{FILMS}_vectors",
        f"SELECT movie_id, model, CAST(vector AS FLOAT[{dim}]) AS vector FROM {FILMS}",
    )
    r = space.report
    step.describe(
        FILMS,
        model=model,
        base_model=base_model,
        dim=dim,
        training_seconds=r["seconds"],
        training_steps=r["steps"],
        retrained=not r["cached"],
        device=r["device"],
        first_loss=r["first_loss"],
        last_loss=r["last_loss"],
        training_users=r["users"],
        training_likes=r["likes"],
        text_users=r["text_users"],
        warm_films=r["warm_films"],
        cold_films=r["cold_films"],
        held_out_likes=len(holdout.held_out),
        texts_encoded=report.misses,
    )
    step.describe(ADAPTERS, model=model, base_model=base_model, dim=dim)
    return [Parsed({FILMS: films}), Parsed({ADAPTERS: adapter_table(space, base_model, model)})]


tuned_assets = [tuned_space]
