"""LLM keyphrases per film and one embedding per phrase (the multi-vector retrieval path)."""

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.embeddings import BACKEND_RESOURCE, backend_for
from assets.incremental import Step
from assets.write_path import lake_step
from pipelines.resources import (
    ChatModelResource,
    OpenAIEmbeddingResource,
    SentenceTransformerResource,
)
from reelreason.embeddings import EmbeddingCache, embed_texts, sha256_text
from reelreason.keyphrases import PROMPT_VERSION, KeyphraseCache, generate_keyphrases
from reelreason.parse.common import Parsed
from reelreason.taste import vector_column
from schemas import arrow_schema

GROUP = "keyphrases"


@dg.asset(
    name="movie_keyphrases",
    group_name=GROUP,
    kinds={"openai", "pandera"},
    deps=["movie_texts"],
    description="10-15 keyphrases of 2-4 words per film (mood, themes, style, audience, "
    "emotions, plot elements, similar films) written by an OpenAI-compatible chat model from "
    "the film's own text; JSON answers validated (shape, count, length, duplicates) and "
    "retried with the reason when invalid. Cached by (model, prompt version, text sha256). "
    "Films whose answers stayed invalid are quarantined with the reason.",
)
@lake_step(source="keyphrases")
def movie_keyphrases(step: Step, chat_model: ChatModelResource) -> Parsed:
    context, warehouse = step.context, step.warehouse
    reason = chat_model.unavailable_reason()
    if reason:
        return step.skip("movie_keyphrases", arrow_schema("movie_keyphrases"), reason)
    with step.session() as con:
        films = con.execute(
            "SELECT movie_id, text, text_sha256 FROM movie_texts ORDER BY movie_id"
        ).fetchall()
    client = chat_model.client()
    phrases, report = generate_keyphrases(
        client,
        films,
        KeyphraseCache(warehouse.lake),
        run_id=context.run.run_id,
        concurrency=chat_model.max_concurrency,
        attempts=chat_model.invalid_attempts,
        log=context.log.info,
    )
    rows = [
        {
            "movie_id": movie_id,
            "phrase": phrase,
            "position": i,
            "model": client.model,
            "prompt_version": PROMPT_VERSION,
        }
        for movie_id, _, sha in films
        for i, phrase in enumerate(phrases.get(sha, []))
    ]
    # Films the model never answered validly: quarantined with the last reason, not lost.
    failed = [
        {"file": "movie_texts", "line": None, "raw": movie_id, "reason": error}
        for movie_id, error in report.failures.items()
    ]
    parsed = Parsed(
        {"movie_keyphrases": pa.Table.from_pylist(rows, schema=arrow_schema("movie_keyphrases"))},
        quarantine={"movie_keyphrases": failed},
    )
    if report.failures:  # the endpoint may answer them another day: do not reuse this version
        step.mark_incomplete(f"{len(report.failures)} films without valid keyphrases")
    for movie_id, error in list(report.failures.items())[:5]:
        context.log.warning(f"no keyphrases for {movie_id}: {error}")
    step.describe(
        "movie_keyphrases",
        model=client.model,
        prompt_version=PROMPT_VERSION,
        films=len(films),
        films_with_keyphrases=len({r["movie_id"] for r in rows}),
        **report.as_metadata(),
    )
    return parsed


def keyphrase_embeddings_asset(name: str) -> dg.AssetsDefinition:
    table = f"keyphrase_embeddings_{name}"

    @dg.asset(
        name=table,
        group_name=GROUP,
        kinds={"python", "pandera"},
        deps=["movie_keyphrases"],
        description="One normalised vector per film keyphrase (through the embedding cache), "
        f"so requests match films phrase by phrase. `{table}_vectors` serves FLOAT[dim].",
    )
    @lake_step(source="keyphrases", resource_keys=[BACKEND_RESOURCE[name]])
    def _asset(
        step: Step,
        sentence_model: SentenceTransformerResource,
        openai_embeddings: OpenAIEmbeddingResource,
    ) -> Parsed:
        backend, skipped = backend_for(name, step.context, sentence_model, openai_embeddings)
        with step.session() as con:
            phrases = con.execute(
                "SELECT movie_id, phrase, position FROM movie_keyphrases "
                "ORDER BY movie_id, position"
            ).fetchall()
        if backend is None or not phrases:
            reason = skipped or "skipped: movie_keyphrases is empty in this build"
            return step.skip(table, arrow_schema(table), reason)
        embedded = embed_texts(
            backend,
            [p for _, p, _ in phrases],
            EmbeddingCache(step.warehouse.lake),
            run_id=step.context.run.run_id,
        )
        vectors = [embedded.vectors[sha256_text(p)] for _, p, _ in phrases]
        data = pa.table(
            {
                "movie_id": [m for m, _, _ in phrases],
                "phrase": [p for _, p, _ in phrases],
                "position": pa.array([i for _, _, i in phrases], pa.int16()),
                "model": [backend.model] * len(phrases),
                "dim": pa.array([backend.dim] * len(phrases), pa.int32()),
                "vector": vector_column(vectors),
            },
            schema=arrow_schema(table),
        )
        step.add_view(
            f"{table}_vectors",
            f"SELECT movie_id, phrase, position, model, "
            f"CAST(vector AS FLOAT[{backend.dim}]) AS vector FROM {table}",
        )
        films = {m for m, _, _ in phrases}
        step.describe(
            table,
            model=backend.model,
            films=len(films),
            phrases_per_film=round(len(phrases) / len(films), 2),
            unique_phrases=len({p for _, p, _ in phrases}),
            mean_norm=float(np.mean([np.linalg.norm(v) for v in vectors])),
            **embedded.report.as_metadata(),
        )
        return Parsed({table: data})

    return _asset


keyphrase_assets = [
    movie_keyphrases,
    keyphrase_embeddings_asset("st"),
    keyphrase_embeddings_asset("openai"),
]
