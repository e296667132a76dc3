"""Evaluation: leave-last-out ranking vs baselines, genre separation, emotion profiles, plots."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.embeddings import text_encoder
from assets.holdout import SEEN_INPUTS, SEEN_SQL, SPLIT_INPUTS, read_split
from assets.incremental import Step
from assets.tuned import BASE, config_from, train_cached
from assets.write_path import lake_step
from pipelines.resources import (
    EmbeddingSettings,
    EvaluationSettings,
    OpenAIEmbeddingResource,
    SentenceTransformerResource,
    TuningSettings,
)
from reelreason.embeddings import (
    EmbeddingCache,
    embed_texts,
    sha256_text,
)
from reelreason.evaluation import (
    Holdout,
    alpha_curve,
    blended,
    bootstrap_ci,
    choose_alpha,
    choose_blend,
    concat_profiles,
    emotion_profile_table,
    genre_rows,
    genre_separation,
    leave_last_out_cases,
    macro_f1,
    masked_texts,
    popularity_counts,
    prototypes,
    rank_cases,
    result_rows,
    time_split_cases,
    training_likes,
    user_query,
)
from reelreason.keyphrases import genre_precision, load_requests, retrieve
from reelreason.parse.common import Parsed
from reelreason.plots import alpha_chart, markdown_image, metrics_chart, taste_map
from reelreason.taste import normalize, vector_matrix
from schemas import arrow_schema

GROUP = "evaluation"
BACKENDS = ("st", "openai")
# Every space scored: the two base spaces and the one trained on this build's likes.
SPACES = (*BACKENDS, "tuned")
# What the emotion prototypes are made of (the texts encoded once, by goemotions_encoded).
EMOTION_INPUTS = ["goemotions_texts", "goemotions_emotions", "goemotions_encoded"]
# Runs after the user vectors, without reading them: the held-out users' texts (their
# windows) are then in the embedding cache, never encoded by both steps at once.
ORDER_ONLY = [f"user_embeddings_{b}" for b in SPACES]


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
        *[f"movie_embeddings_{s}" for s in SPACES],
        "tuned_adapters",
        *SPLIT_INPUTS,
        *EMOTION_INPUTS,
        *ORDER_ONLY,
        "keyphrase_embeddings_st",
        *SEEN_INPUTS,
    ],
    description="Per embedding space (st, openai, tuned), on one split decided before "
    "anything was trained: leave-last-out and a global time split (rating sources), per "
    "source and segment (rating/dialogue users, few likes, cold films), HR@10, NDCG@10, "
    "MRR@10, Recall@50, catalogue coverage and popularity bias of the top 10, with 95% "
    "bootstrap intervals, next to popularity, random and popularity blended with the "
    "space; α chosen on validation users and its curve; genre separation; the emotion "
    "prototypes' macro-F1; keyphrase retrieval against single film vectors on 30 written "
    "requests. Plots on this asset's page.",
)
@lake_step(source="evaluation")
def eval_results(
    step: Step,
    sentence_model: SentenceTransformerResource,
    openai_embeddings: OpenAIEmbeddingResource,
    embedding_settings: EmbeddingSettings,
    evaluation_settings: EvaluationSettings,
    tuning: TuningSettings,
) -> Parsed:
    context, build_id = step.context, step.context.run.run_id
    cache = EmbeddingCache(step.warehouse.lake)
    with step.session() as con:
        data = read_eval_inputs(con, step.warehouse.lake.data_tables(con))
        likes, holdout, texts, titles = read_split(con, embedding_settings, evaluation_settings)
        encoders = {
            name: text_encoder(name, step, con, sentence_model, openai_embeddings)[0]
            for name in SPACES
        }
    split = Split(likes, holdout, texts, titles, data.seen_rows)
    rows: list[dict] = []
    plots: dict[str, bytes] = {}
    curves: dict[str, list[dict]] = {}
    for name, space in data.spaces.items():
        if space is None:
            context.log.info(f"no {name} movie embeddings in this build: not evaluated")
            continue
        retrain = None
        if name == "tuned" and data.spaces.get(BASE) is not None:
            retrain = partial(
                _train_on_the_past,
                base=data.spaces[BASE][1],
                folder=Path(step.warehouse.root) / "models",
                config=config_from(tuning, evaluation_settings.seed),
                log=context.log,
            )
        space_rows, space_plots, curves[name] = evaluate_space(
            name,
            space,
            encoders[name],
            split,
            data,
            build_id,
            embedding_settings,
            evaluation_settings,
            retrain,
        )
        context.log.info(f"{name}: {len(space_rows):,} result rows")
        rows += space_rows
        plots.update(space_plots)
        backend = _backend(name, context, sentence_model, openai_embeddings)
        if name in BACKENDS and backend is not None and data.go:
            rows += _emotion_eval(
                backend,
                cache,
                build_id,
                name,
                space[2],
                data.go,
                data.emotions,
                evaluation_settings.seed,
            )
    if any(c and c[0]["n"] for c in curves.values()):
        plots["alpha_curves"] = alpha_chart(curves)
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
    """One number per (metric, space, model or baseline) over all leave-last-out users, as
    `hr@10/st` or `hr@10/st:baseline:popularity`, and each space's chosen α as `alpha/st`:
    numeric metadata, so the asset's Plots tab charts quality build over build."""
    out = {
        f"{r['metric']}/{r['embedding']}"
        + (f":{r['model']}" if r["model"].startswith("baseline:") else ""): round(r["value"], 4)
        for r in rows
        if r["protocol"] == "leave_last_out"
        and r["segment"] == "all"
        and r["metric"] in HEADLINE
        and r["value"] is not None
    }
    out |= {f"alpha/{r['embedding']}": r["value"] for r in rows if r["metric"] == "chosen_alpha"}
    return out


@dataclass
class EvalInputs:
    """What the evaluation reads from the build, once."""

    seen_rows: list[tuple]
    film_genres: dict[str, list[str]]
    go: list[tuple]
    emotions: list[str]
    spaces: dict[str, tuple | None]
    phrase_rows: list[tuple]


@dataclass
class Split:
    """The likes and the plan every space is scored on (assets/holdout.py)."""

    likes: list[tuple]
    holdout: Holdout
    texts: dict[str, str]
    titles: dict[str, list[str]]
    seen_rows: list[tuple]


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
    return EvalInputs(
        seen_rows=con.execute(SEEN_SQL).fetchall(),
        film_genres=dict(con.execute("SELECT movie_id, genres FROM movies").fetchall()),
        go=goemotions_labelled(con),
        emotions=emotion_names(con),
        spaces={name: _load_space(con, name) for name in SPACES},
        phrase_rows=(
            con.execute(
                "SELECT movie_id, phrase, vector FROM keyphrase_embeddings_st ORDER BY movie_id"
            ).fetchall()
            if "keyphrase_embeddings_st" in data_tables
            else []
        ),
    )


def _train_on_the_past(sequences, *, base, folder, config, log) -> np.ndarray:
    """The tuned space as it would have been trained at the time split's cutoff."""
    space, _ = train_cached(folder, base, sequences, [], config, log)
    return space.film_vectors


def _row(common: dict, **values) -> dict:
    return {"ci_low": None, "ci_high": None, "alpha": None, **common, **values}


def evaluate_space(
    name,
    space,
    encode,
    split: Split,
    data: EvalInputs,
    build_id,
    embedding_settings,
    evaluation,
    retrain=None,
) -> tuple[list[dict], dict[str, bytes], list[dict]]:
    """One space on the shared split: α on validation users, then leave-last-out and the
    time split against the baselines, genre separation; its metrics chart and taste map.
    `retrain(sequences) -> film vectors` retrains a trained space on the time split's past
    (base spaces need none: they never saw a like)."""
    seed = evaluation.seed
    ids, film_vecs, model = space
    index = {m: i for i, m in enumerate(ids)}
    likes, holdout = split.likes, split.holdout
    test = leave_last_out_cases(likes, holdout, split.seen_rows, index, role="test")
    validation = leave_last_out_cases(likes, holdout, split.seen_rows, index, role="validation")
    # Users' words without their held-out film, in this space (None: no text part here).
    words = masked_texts(holdout, split.texts, split.titles)
    text_vecs = encode(words)[0] if encode is not None and words else {}
    common = {"build_id": build_id, "embedding": name}
    curve = alpha_curve(validation, film_vecs, text_vecs)
    alpha, _why = choose_alpha(curve, embedding_settings.alpha)
    rows = [
        _row(
            common,
            protocol="alpha_validation",
            model=model,
            alpha=p["alpha"],
            metric=m,
            segment="validation",
            value=p[m],
            n=p["n"],
        )
        for p in curve
        for m in ("hr@10", "ndcg@10", "mrr")
        if p["n"]
    ]
    rows.append(
        _row(
            common,
            protocol="alpha_validation",
            model=model,
            alpha=alpha,
            metric="chosen_alpha",
            segment="validation",
            value=alpha,
            n=curve[0]["n"],
        )
    )
    popularity = popularity_counts(training_likes(likes, holdout), index)

    def content(case):
        return film_vecs @ user_query(film_vecs, case, text_vecs.get(case.user_id), alpha)

    weight = choose_blend(validation, content, popularity)
    rows += _scored(
        test,
        film_vecs,
        content,
        popularity,
        weight,
        model,
        alpha,
        {**common, "protocol": "leave_last_out"},
        seed,
    )
    # The time split: what rating users liked before the cutoff predicts what came after.
    cases = time_split_cases(
        likes,
        holdout,
        index,
        min_likes=embedding_settings.min_likes,
        users_per_source=evaluation.users_per_source,
        seed=seed,
    )
    if cases:
        past = training_likes(likes, holdout, past_only=True)
        past_vecs = (
            retrain([[index[m] for m in ms if m in index] for ms in past.values()])
            if retrain
            else film_vecs
        )

        def past_content(case):
            return past_vecs @ normalize(past_vecs[case.train].mean(axis=0))

        rows += _scored(
            cases,
            past_vecs,
            past_content,
            popularity_counts(past, index),
            weight,
            model,
            None,
            {**common, "protocol": "time_split"},
            seed,
        )
    genres = [data.film_genres.get(m) or [] for m in ids]
    rows += [
        {**r, "protocol": "genre_separation", "alpha": None}
        for r in genre_rows(build_id, name, model, genre_separation(film_vecs, genres, seed=seed))
    ]
    plots = {}
    model_rows = [
        r
        for r in rows
        if r["protocol"] == "leave_last_out" and r["segment"] == "all" and r["metric"] in HEADLINE
    ]
    if model_rows:
        plots[f"{name}_metrics"] = metrics_chart(model_rows)
    firsts = [(data.film_genres.get(m) or ["(none)"])[0] for m in ids]
    # A few users from each source, so the map shows where different audiences sit.
    sample = [
        c
        for src in sorted({c.source for c in test})
        for c in [x for x in test if x.source == src][:2]
    ][:8]
    user_vecs = np.array(
        [normalize(film_vecs[c.train + [c.target]].mean(axis=0)) for c in sample]
    ).reshape(-1, film_vecs.shape[1])
    plots[f"{name}_taste_map"] = taste_map(
        film_vecs, firsts, user_vecs, [c.user_id for c in sample]
    )
    return rows, plots, curve


def _scored(cases, film_vecs, content, popularity, weight, model, alpha, common, seed):
    """The rows of one protocol: the space and the three baselines on the same cases."""
    noise = np.random.default_rng(seed + 1)
    ranked = {
        model: rank_cases(cases, content),
        "baseline:popularity": rank_cases(cases, lambda c: popularity),
        "baseline:random": rank_cases(cases, lambda c: noise.random(len(film_vecs))),
        "baseline:popularity_blend": rank_cases(
            cases, lambda c: blended(content(c), popularity, weight)
        ),
    }
    alphas = {model: alpha, "baseline:popularity_blend": weight}
    return [
        {**r, "alpha": alphas.get(r["model"])}
        for r in result_rows(cases, ranked, popularity, common, seed=seed)
    ]


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
                "protocol": "keyphrase_retrieval",
                "alpha": None,
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
        "protocol": "emotion_prototypes",
        "alpha": None,
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
    """The ranking table (all users and each segment), then the other checks, one line each."""
    lines = [
        "| protocol | embedding | segment | model | α | hr@10 | ndcg@10 | mrr@10 | recall@50 "
        "| coverage@10 | popularity bias | n |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    shown = (*HEADLINE, "coverage@10", "popularity_bias@10")
    keyed = defaultdict(dict)
    for r in rows:
        if r["protocol"] in ("leave_last_out", "time_split") and r["metric"] in shown:
            keyed[(r["protocol"], r["embedding"], r["segment"], r["model"])][r["metric"]] = r
    for (protocol, emb, seg, model), ms in sorted(keyed.items()):
        cells = []
        for m in shown:
            r = ms.get(m)
            cells.append(f"{r['value']:.3f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" if r else "")
        first = next(iter(ms.values()))
        alpha = "" if first["alpha"] is None else f"{first['alpha']:.1f}"
        lines.append(
            f"| {protocol} | {emb} | {seg} | {model} | {alpha} | "
            + " | ".join(cells)
            + f" | {first['n']} |"
        )
    for r in rows:
        if r["segment"] in ("macro", "goemotions_heldout") or r["metric"] == "chosen_alpha":
            lines.append(
                f"\n- {r['embedding']} {r['model']} {r['metric']} ({r['segment']}): "
                f"{r['value']:.3f}"
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
