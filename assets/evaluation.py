"""Evaluation: leave-last-out ranking vs baselines, genre separation, emotion profiles, plots."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.incremental import Step
from assets.write_path import lake_step
from pipelines.resources import (
    EmbeddingSettings,
    EvaluationSettings,
    OpenAIEmbeddingResource,
    SentenceTransformerResource,
)
from reelreason.embeddings import (
    EmbeddingCache,
    embed_long_texts,
    embed_texts,
    sha256_text,
)
from reelreason.evaluation import (
    bootstrap_ci,
    concat_profiles,
    emotion_profile_table,
    genre_rows,
    genre_separation,
    held_out_splits,
    macro_f1,
    prototypes,
    rank_held_out,
    summary_rows,
    training_popularity,
    user_vector,
)
from reelreason.keyphrases import genre_precision, load_requests, retrieve
from reelreason.parse.common import Parsed
from reelreason.plots import markdown_image, metrics_chart, taste_map
from reelreason.taste import vector_matrix
from schemas import arrow_schema

GROUP = "evaluation"
BACKENDS = ("st", "openai")
# What the emotion prototypes are made of (the texts encoded once, by goemotions_encoded).
EMOTION_INPUTS = ["goemotions_texts", "goemotions_emotions", "goemotions_encoded"]
# Runs after the user vectors, without reading them: the held-out users' texts (their
# windows) are then in the embedding cache, never encoded by both steps at once.
ORDER_ONLY = [f"user_embeddings_{b}" for b in BACKENDS]


# Every film a user rated or mentioned: these are never recommended back to them.
SEEN_SQL = """
SELECT 'movielens:' || r.user_id AS user_id, x.movie_id FROM ml1m_ratings r
JOIN movie_xref x ON x.source = 'ml1m' AND x.source_id = CAST(r.movie_id AS VARCHAR)
UNION SELECT 'movietweetings:' || r.user_id, x.movie_id FROM movietweetings_ratings r
JOIN movie_xref x ON x.source = 'movietweetings' AND x.source_id = r.imdb_id
UNION SELECT 'redial:conv:' || m.conversation_id, x.movie_id FROM redial_mentions m
JOIN movie_xref x ON x.source = 'redial' AND x.source_id = m.redial_movie_id
UNION SELECT 'inspired:dialog:' || u.dialog_id, x.movie_id
FROM (SELECT dialog_id, unnest(movies) AS t FROM inspired_utterances) u
JOIN movie_xref x ON x.source = 'inspired_mention' AND x.source_id = u.t
UNION SELECT 'ccpe:conv:' || s.conversation_id, x.movie_id FROM ccpe_segments s
JOIN movie_xref x ON x.source = 'ccpe' AND x.source_id = trim(s.text)
WHERE s.entity_type = 'MOVIE_OR_SERIES'
"""


def _backend(name, context, sentence_model, openai_embeddings):
    if name == "st":
        return sentence_model.backend(context.log)
    return (
        None if openai_embeddings.unavailable_reason() else openai_embeddings.backend(context.log)
    )


def _load_space(con, name: str):
    rows = con.execute(
        f"SELECT movie_id, vector, model, dim FROM movie_embeddings_{name} "
        "WHERE vector IS NOT NULL ORDER BY movie_id"
    ).to_arrow_table()
    if not rows.num_rows:
        return None
    dim = rows.column("dim")[0].as_py()
    vectors = vector_matrix(rows.column("vector"), dim)
    return rows.column("movie_id").to_pylist(), vectors, rows.column("model")[0].as_py()


@dg.asset(
    group_name=GROUP,
    kinds={"python", "pandera"},
    metadata={"order_only_deps": ORDER_ONLY},
    deps=[
        "movie_embeddings_st",
        "movie_embeddings_openai",
        "user_likes",
        "user_texts",
        "movies",
        "movie_xref",
        *EMOTION_INPUTS,
        *ORDER_ONLY,
        "keyphrase_embeddings_st",
        # what users have already seen, never recommended back (SEEN_SQL)
        "ml1m_ratings",
        "movietweetings_ratings",
        "redial_mentions",
        "inspired_utterances",
        "ccpe_segments",
    ],
    description="Per embedding model and source: leave-last-out HR@10, NDCG@10, MRR@10 and "
    "Recall@50 with 95% bootstrap intervals, next to popularity (training part only) and "
    "random baselines on the same split; genre separation; the emotion prototypes' macro-F1 "
    "on held-out GoEmotions texts; keyphrase retrieval (max and sum) against single film "
    "vectors on 30 written requests (genre precision@10). Plots on this asset's page.",
)
@lake_step(source="evaluation")
def eval_results(
    step: Step,
    sentence_model: SentenceTransformerResource,
    openai_embeddings: OpenAIEmbeddingResource,
    embedding_settings: EmbeddingSettings,
    evaluation_settings: EvaluationSettings,
) -> Parsed:
    context, build_id = step.context, step.context.run.run_id
    cache = EmbeddingCache(step.warehouse.lake)
    with step.session() as con:
        data = read_eval_inputs(con, step.warehouse.lake.data_tables(con))
    rows: list[dict] = []
    plots: dict[str, bytes] = {}
    for name, space in data.spaces.items():
        if space is None:
            context.log.info(f"no {name} movie embeddings in this build: not evaluated")
            continue
        backend = _backend(name, context, sentence_model, openai_embeddings)
        space_rows, space_plots = evaluate_space(
            name, space, backend, data, cache, build_id, embedding_settings, evaluation_settings
        )
        rows += space_rows
        plots.update(space_plots)
    if data.phrase_rows and data.spaces.get("st") is not None:
        backend = _backend("st", context, sentence_model, openai_embeddings)
        rows += _keyphrase_eval(
            backend,
            cache,
            build_id,
            evaluation_settings.seed,
            data.phrase_rows,
            data.spaces["st"],
            data.film_genres,
        )
    else:
        context.log.info("no keyphrase embeddings in this build: keyphrase retrieval not evaluated")
    plot_dir = Path(step.warehouse.root) / "plots" / build_id
    plot_dir.mkdir(parents=True, exist_ok=True)
    for key, png in plots.items():
        (plot_dir / f"{key}.png").write_bytes(png)
    step.describe(
        "eval_results",
        **headline_metrics(rows),
        summary=dg.MetadataValue.md(_summary_markdown(rows)),
        plots_folder=dg.MetadataValue.path(str(plot_dir)),
        **{k: dg.MetadataValue.md(markdown_image(v, k)) for k, v in plots.items()},
    )
    return Parsed({"eval_results": pa.Table.from_pylist(rows, schema=arrow_schema("eval_results"))})


HEADLINE = ("hr@10", "ndcg@10", "mrr@10", "recall@50")


def headline_metrics(rows: list[dict]) -> dict[str, float]:
    """One number per (metric, space, model or baseline) over all users, as
    `hr@10/st` or `hr@10/st:baseline:popularity`: numeric metadata, so the asset's Plots tab
    charts quality build over build."""
    return {
        f"{r['metric']}/{r['embedding']}"
        + (f":{r['model']}" if r["model"].startswith("baseline:") else ""): round(r["value"], 4)
        for r in rows
        if r["segment"] == "all" and r["metric"] in HEADLINE and r["value"] is not None
    }


@dataclass
class EvalInputs:
    """What the evaluation reads from the build, once."""

    likes: list[tuple]
    seen_rows: list[tuple]
    texts: dict[str, str]
    titles: dict[str, list[str]]
    film_genres: dict[str, list[str]]
    go: list[tuple]
    emotions: list[str]
    spaces: dict[str, tuple | None]
    phrase_rows: list[tuple]


def goemotions_labelled(con) -> list[tuple]:
    """(text, labels, split) of every GoEmotions comment, in a stable order."""
    return con.execute(
        "SELECT text, labels, split FROM goemotions_texts ORDER BY comment_id"
    ).fetchall()


def emotion_names(con) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT emotion FROM goemotions_emotions ORDER BY label_index"
        ).fetchall()
    ]


def read_eval_inputs(con, data_tables: list[str]) -> EvalInputs:
    titles = defaultdict(list)
    for mid, t in con.execute(
        "SELECT movie_id, title FROM movies UNION SELECT movie_id, source_title FROM movie_xref"
    ).fetchall():
        titles[mid].append(t)
    return EvalInputs(
        likes=con.execute("SELECT user_id, source, movie_id, position FROM user_likes").fetchall(),
        seen_rows=con.execute(SEEN_SQL).fetchall(),
        texts=dict(con.execute("SELECT user_id, text FROM user_texts").fetchall()),
        titles=titles,
        film_genres=dict(con.execute("SELECT movie_id, genres FROM movies").fetchall()),
        go=goemotions_labelled(con),
        emotions=emotion_names(con),
        spaces={name: _load_space(con, name) for name in BACKENDS},
        phrase_rows=(
            con.execute(
                "SELECT movie_id, phrase, vector FROM keyphrase_embeddings_st ORDER BY movie_id"
            ).fetchall()
            if "keyphrase_embeddings_st" in data_tables
            else []
        ),
    )


def evaluate_space(
    name, space, backend, data: EvalInputs, cache, build_id, embedding_settings, evaluation
) -> tuple[list[dict], dict[str, bytes]]:
    """One embedding space: leave-last-out ranking against the baselines, genre separation,
    emotion prototypes; its metrics chart and taste map."""
    seed = evaluation.seed
    ids, film_vecs, model = space
    held = held_out_splits(
        data.likes,
        data.seen_rows,
        {m: i for i, m in enumerate(ids)},
        data.texts,
        data.titles,
        min_likes=embedding_settings.min_likes,
        users_per_source=evaluation.users_per_source,
        seed=seed,
    )
    # Text parts without the held-out film, embedded through the cache.
    text_vecs = {}
    if held.masked_texts and backend is not None:
        text_vecs, _, _ = embed_long_texts(backend, held.masked_texts, cache, run_id=build_id)
    popularity = training_popularity(held, len(ids))
    ranks = rank_held_out(
        held, film_vecs, text_vecs, popularity, alpha=embedding_settings.alpha, seed=seed
    )
    rows: list[dict] = []
    for seg, per_method in sorted(ranks.items()):
        rows += summary_rows(build_id, name, model, seg, per_method, seed)
    genres = [data.film_genres.get(m) or [] for m in ids]
    rows += genre_rows(build_id, name, model, genre_separation(film_vecs, genres, seed=seed))
    # Emotion prototypes classify held-out single-label GoEmotions texts.
    if backend is not None and data.go:
        rows += _emotion_eval(backend, cache, build_id, name, model, data.go, data.emotions, seed)
    plots = {}
    model_rows = [
        r
        for r in rows
        if r["segment"] == "all" and not r["metric"].startswith(("genre", "emotion"))
    ]
    if model_rows:
        plots[f"{name}_metrics"] = metrics_chart(model_rows)
    firsts = [(data.film_genres.get(m) or ["(none)"])[0] for m in ids]
    # A few users from each source, so the map shows where different audiences sit.
    sample_users = [
        s
        for src in sorted(held.by_source)
        for s in [x for x in held.chosen if held.source_of[x.user_id] == src][:2]
    ][:8]
    user_vecs = np.array(
        [user_vector(film_vecs, s.train + [s.held_out]) for s in sample_users]
    ).reshape(-1, film_vecs.shape[1])
    plots[f"{name}_taste_map"] = taste_map(
        film_vecs, firsts, user_vecs, [s.user_id for s in sample_users]
    )
    return rows, plots


def _keyphrase_eval(backend, cache, build_id, seed, phrase_rows, space, film_genres) -> list[dict]:
    """Genre precision@10 on the written requests: keyphrase retrieval (max, sum) against the
    request text's single vector against random, all over the films that have keyphrases."""
    requests = load_requests()
    texts = [r.text for r in requests] + [p for r in requests for p in r.phrases]
    vectors = embed_texts(backend, texts, cache, run_id=build_id).vectors
    ids, film_vecs, model = space
    p_ids = [r[0] for r in phrase_rows]
    p_texts = [r[1] for r in phrase_rows]
    p_vecs = np.asarray([r[2] for r in phrase_rows], np.float32)
    with_phrases = set(p_ids)
    candidates = [i for i, m in enumerate(ids) if m in with_phrases]
    rng = np.random.default_rng(seed)
    per_method = defaultdict(list)
    for req in requests:
        q = np.stack([vectors[sha256_text(p)] for p in req.phrases])
        for agg in ("max", "sum"):
            found = retrieve(req.phrases, q, p_ids, p_texts, p_vecs, aggregate=agg, k=10)
            top = [s.movie_id for s in found]
            per_method[f"keyphrase_{agg}"].append(genre_precision(top, film_genres, req.genres))
        scores = film_vecs[candidates] @ vectors[sha256_text(req.text)]
        top = [ids[candidates[i]] for i in np.argsort(-scores, kind="stable")[:10]]
        per_method["single_vector"].append(genre_precision(top, film_genres, req.genres))
        pick = rng.choice(len(candidates), min(10, len(candidates)), replace=False)
        top = [ids[candidates[i]] for i in pick]
        per_method["baseline:random"].append(genre_precision(top, film_genres, req.genres))
    rows = []
    for method, values in per_method.items():
        lo, hi = bootstrap_ci(values, seed=seed)
        rows.append(
            {
                "build_id": build_id,
                "embedding": "st",
                "model": method if method.startswith("baseline") else f"{method}:{model}",
                "metric": "genre_precision@10",
                "segment": "keyphrase_requests",
                "value": float(np.mean(values)),
                "ci_low": lo,
                "ci_high": hi,
                "n": len(values),
            }
        )
    return rows


def _emotion_eval(backend, cache, build_id, name, model, go, emotions, seed) -> list[dict]:
    texts = [t for t, _, _ in go]
    embedded = embed_texts(backend, texts, cache, run_id=build_id)
    vecs = np.stack([embedded.vectors[sha256_text(t)] for t in texts])
    has_splits = any(s for _, _, s in go)
    rng = np.random.default_rng(seed)
    heldout = (
        np.array([s in ("dev", "test") for _, _, s in go])
        if has_splits
        else rng.random(len(go)) < 0.3
    )
    train_idx = [i for i in range(len(go)) if not heldout[i]]
    test_idx = [i for i in range(len(go)) if heldout[i] and len(go[i][1]) == 1]
    if not test_idx or not train_idx:
        return []
    protos = prototypes(vecs[train_idx], [go[i][1] for i in train_idx], emotions)
    predicted = [emotions[int(np.argmax(protos @ vecs[i]))] for i in test_idx]
    truth = [go[i][1][0] for i in test_idx]
    majority = Counter(go[i][1][0] for i in train_idx if len(go[i][1]) == 1).most_common(1)
    base = macro_f1(truth, [majority[0][0]] * len(truth)) if majority else float("nan")
    common = {
        "build_id": build_id,
        "embedding": name,
        "metric": "emotion_macro_f1",
        "segment": "goemotions_heldout",
        "ci_low": None,
        "ci_high": None,
        "n": len(test_idx),
    }
    return [
        {**common, "model": model, "value": macro_f1(truth, predicted)},
        {**common, "model": "baseline:majority", "value": base},
    ]


def _summary_markdown(rows: list[dict]) -> str:
    lines = [
        "| embedding | segment | model | hr@10 | ndcg@10 | mrr@10 | recall@50 | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keyed = defaultdict(dict)
    for r in rows:
        if r["metric"] in ("hr@10", "ndcg@10", "mrr@10", "recall@50"):
            keyed[(r["embedding"], r["segment"], r["model"])][r["metric"]] = r
    for (emb, seg, model), ms in sorted(keyed.items()):
        cells = []
        for m in ("hr@10", "ndcg@10", "mrr@10", "recall@50"):
            r = ms.get(m)
            cells.append(f"{r['value']:.3f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" if r else "")
        n = next(iter(ms.values()))["n"]
        lines.append(f"| {emb} | {seg} | {model} | " + " | ".join(cells) + f" | {n} |")
    other = [r for r in rows if r["segment"] in ("macro", "goemotions_heldout")]
    for r in other:
        lines.append(
            f"\n- {r['embedding']} {r['model']} {r['metric']} ({r['segment']}): {r['value']:.3f}"
        )
    return "\n".join(lines)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "movie_emotions",
            group_name=GROUP,
            kinds={"python", "pandera"},
            deps=[
                *[f"movie_embeddings_{b}" for b in BACKENDS],
                *EMOTION_INPUTS,
            ],
            description="A 28-value emotion profile per film and embedding space: "
            "cosine to each GoEmotions emotion prototype (the mean embedding of the "
            "comments labelled with it), plus the top 3 emotions.",
        ),
        dg.AssetSpec(
            "user_emotions",
            group_name=GROUP,
            kinds={"python", "pandera"},
            deps=[
                *[f"user_embeddings_{b}" for b in BACKENDS],
                *EMOTION_INPUTS,
            ],
            description="The same 28-value emotion profile for every user vector.",
        ),
    ],
    can_subset=False,
)
@lake_step(source="evaluation")
def emotion_profiles(
    step: Step,
    sentence_model: SentenceTransformerResource,
    openai_embeddings: OpenAIEmbeddingResource,
) -> list[Parsed]:
    context = step.context
    cache = EmbeddingCache(step.warehouse.lake)
    with step.session() as con:
        go, emotions = goemotions_labelled(con), emotion_names(con)
        vectors = {
            (kind, name): con.execute(
                f"SELECT {kind}_id, model, dim, vector FROM {kind}_embeddings_{name} "
                f"WHERE vector IS NOT NULL ORDER BY {kind}_id"
            ).to_arrow_table()
            for kind in ("movie", "user")
            for name in BACKENDS
        }
    tables = {kind: [] for kind in ("movie", "user")}
    for name in BACKENDS:
        backend = _backend(name, context, sentence_model, openai_embeddings)
        if backend is None or not go:
            continue
        train = [(t, labels) for t, labels, split in go if split in (None, "train")]
        embedded = embed_texts(backend, [t for t, _ in train], cache, run_id=context.run.run_id)
        text_vecs = np.stack([embedded.vectors[sha256_text(t)] for t, _ in train])
        protos = prototypes(text_vecs, [labels for _, labels in train], emotions)
        for kind in ("movie", "user"):
            if vectors[(kind, name)].num_rows:
                tables[kind].append(
                    emotion_profile_table(
                        vectors[(kind, name)], f"{kind}_id", name, protos, emotions
                    )
                )
    return [
        Parsed({f"{kind}_emotions": concat_profiles(tables[kind], f"{kind}_id", emotions)})
        for kind in ("movie", "user")
    ]


evaluation_assets = [eval_results, emotion_profiles]
