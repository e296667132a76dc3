"""Leakage-free ranking metrics, genre separation and emotion prototypes (pure NumPy).

Ranking protocol, per user with more likes than the minimum: the last liked film (by
`position`: rating time, or place in the dialogue) is held out; the user vector is rebuilt
from the remaining likes (and from the user's own words with every mention of the held-out
film removed); all films are ranked by cosine, films the user already rated or mentioned are
excluded (the held-out one stays a candidate), and the held-out film's rank gives
HR@10, NDCG@10, MRR@10 and Recall@50. One relevant item per user, so IDCG = 1 and
Recall@50 = HR@50. Baselines on the same split: popularity counted on the training part
only, and a seeded random order.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from reelreason.taste import mix, vector_matrix

K = 10
RECALL_K = 50


def rank_of(target: int, scores: np.ndarray, exclude: Sequence[int] = ()) -> int:
    """1-based rank of item `target` among the items not excluded (ties count against it)."""
    mask = np.ones(len(scores), dtype=bool)
    mask[list(exclude)] = False
    mask[target] = True
    return int((scores[mask] >= scores[target]).sum())


def metrics_for_rank(rank: int) -> dict[str, float]:
    return {
        "hr@10": 1.0 if rank <= K else 0.0,
        "ndcg@10": 1.0 / math.log2(rank + 1) if rank <= K else 0.0,
        "mrr@10": 1.0 / rank if rank <= K else 0.0,
        "recall@50": 1.0 if rank <= RECALL_K else 0.0,
    }


def bootstrap_ci(
    values: Sequence[float], *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def normalize(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v, dtype=np.float32), where=n > 0)


@dataclass
class Split:
    user_id: str
    train: list[int]  # film indices liked before the held-out one
    held_out: int
    seen: set[int]  # every film the user rated or mentioned


def leave_last_out(
    likes: dict[str, list[tuple[int, int]]], seen: dict[str, set[int]], min_likes: int
) -> list[Split]:
    """likes: user -> [(position, film index)]. Users need min_likes + 1 likes."""
    splits = []
    for user, items in sorted(likes.items()):
        if len(items) < min_likes + 1:
            continue
        ordered = [film for _, film in sorted(items)]
        splits.append(Split(user, ordered[:-1], ordered[-1], seen.get(user, set()) | set(ordered)))
    return splits


def user_vector(film_vectors: np.ndarray, train: list[int]) -> np.ndarray:
    """The rating part rebuilt from the training likes only: the held-out film never enters."""
    return normalize(film_vectors[train].mean(axis=0))


def rank_split(split: Split, scores: np.ndarray) -> int:
    """Rank of the held-out film under `scores`, seen films excluded."""
    exclude = [i for i in split.seen if i != split.held_out]
    return rank_of(split.held_out, scores, exclude)


def evaluate_split(split: Split, user_vec: np.ndarray, film_vectors: np.ndarray) -> int:
    return rank_split(split, film_vectors @ user_vec)


def genre_separation(
    vectors: np.ndarray,
    genres: list[list[str]],
    *,
    pairs: int = 2000,
    seed: int = 0,
    min_films: int = 2,
) -> dict[str, dict[str, float]]:
    """Per genre: mean cosine of same-genre pairs vs pairs with one film outside the genre;
    gap = same - diff, relative gap = (same - diff) / (1 - diff)."""
    rng = np.random.default_rng(seed)
    v = normalize(np.asarray(vectors, dtype=np.float32))
    out = {}
    for g in sorted({x for gs in genres for x in gs}):
        inside = np.array([i for i, gs in enumerate(genres) if g in gs])
        outside = np.array([i for i, gs in enumerate(genres) if g not in gs])
        if len(inside) < min_films or len(outside) == 0:
            continue
        a, b = rng.choice(inside, pairs), rng.choice(inside, pairs)
        keep = a != b
        same = float((v[a[keep]] * v[b[keep]]).sum(axis=1).mean())
        c, d = rng.choice(inside, pairs), rng.choice(outside, pairs)
        diff = float((v[c] * v[d]).sum(axis=1).mean())
        out[g] = {
            "same": same,
            "diff": diff,
            "gap": same - diff,
            "relative_gap": (same - diff) / (1 - diff) if diff < 1 else math.nan,
            "films": int(len(inside)),
        }
    return out


def prototypes(vectors: np.ndarray, labels: list[list[str]], names: list[str]) -> np.ndarray:
    """One normalised mean vector per emotion (zero row when no text carries it)."""
    protos = np.zeros((len(names), vectors.shape[1]), dtype=np.float32)
    for j, name in enumerate(names):
        rows = [i for i, ls in enumerate(labels) if name in ls]
        if rows:
            protos[j] = normalize(vectors[rows].mean(axis=0))
    return protos


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    classes = sorted(set(truth))
    f1s = []
    for c in classes:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == c and p == c)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != c and p == c)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s)) if f1s else math.nan


# --- one embedding space, leave-last-out, next to its baselines ----------------------------------


def mask_titles(text: str, titles: Sequence[str]) -> str:
    """The user's words without the held-out film: its titles (and a year after them) are
    replaced by [film], longest first, so a title inside another is not half-replaced."""
    for t in sorted({t for t in titles if t and len(t) > 1}, key=len, reverse=True):
        text = re.sub(re.escape(t) + r"(\s*\(\d{4}\))?", "[film]", text, flags=re.IGNORECASE)
    return text


@dataclass
class HeldOut:
    """What leave-last-out evaluation of one space decided: whom it evaluates, on what."""

    chosen: list[Split]  # the evaluated users' splits, sampled per source
    by_source: dict[str, list[Split]]  # every eligible split, by source
    masked_texts: dict[str, str]  # user -> their words without the held-out film
    source_of: dict[str, str]  # user -> source
    liked: dict[str, list[tuple[int, int]]]  # user -> [(position, film row)], every user


def held_out_splits(
    likes: Sequence[tuple[str, str, int, int]],
    seen_rows: Sequence[tuple[str, int]],
    index: dict,
    texts: dict[str, str],
    titles: dict[int, list[str]],
    *,
    min_likes: int,
    users_per_source: int,
    seed: int,
) -> HeldOut:
    """likes: (user, source, movie id, position); seen_rows: (user, movie id); index: movie id
    -> row of the space. Samples at most `users_per_source` users of each source (seeded) and
    masks their texts."""
    liked: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for u, _, m, pos in likes:
        if m in index:
            liked[u].append((pos, index[m]))
    seen: dict[str, set[int]] = defaultdict(set)
    for u, m in seen_rows:
        if m in index:
            seen[u].add(index[m])
    source_of = {u: s for u, s, _, _ in likes}
    splits = leave_last_out(liked, seen, min_likes)
    rng = np.random.default_rng(seed)
    by_source: dict[str, list[Split]] = defaultdict(list)
    for s in splits:
        by_source[source_of[s.user_id]].append(s)
    chosen: list[Split] = []
    for _source, group in sorted(by_source.items()):
        pick = rng.choice(len(group), min(users_per_source, len(group)), replace=False)
        chosen += [group[i] for i in sorted(pick)]
    ids = {row: movie for movie, row in index.items()}
    masked = {
        s.user_id: mask_titles(texts[s.user_id], titles.get(ids[s.held_out], []))
        for s in chosen
        if s.user_id in texts
    }
    return HeldOut(chosen, dict(by_source), masked, source_of, liked)


def training_popularity(held: HeldOut, n_films: int) -> np.ndarray:
    """Likes per film, the evaluated users' held-out films taken back out: popularity as it
    was known before the films being predicted."""
    popularity = np.zeros(n_films)
    for items in held.liked.values():
        for _, i in items:
            popularity[i] += 1
    for s in held.chosen:
        popularity[s.held_out] -= 1
    return popularity


def rank_held_out(
    held: HeldOut,
    film_vectors: np.ndarray,
    text_vectors: dict[str, np.ndarray],
    popularity: np.ndarray,
    *,
    alpha: float,
    seed: int,
) -> dict[str, dict[str, list[int]]]:
    """The held-out film's rank per user under the model (the α-mix of the training likes and
    the masked text), popularity and a seeded random order; per source and for 'all'."""
    ranks: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    random_scores = np.random.default_rng(seed + 1)
    for s in held.chosen:
        vec = mix(user_vector(film_vectors, s.train), text_vectors.get(s.user_id), alpha)
        for seg in (held.source_of[s.user_id], "all"):
            ranks[seg]["model"].append(evaluate_split(s, vec, film_vectors))
            ranks[seg]["popularity"].append(rank_split(s, popularity))
            ranks[seg]["random"].append(rank_split(s, random_scores.random(len(film_vectors))))
    return ranks


def summary_rows(
    build_id: str, embedding: str, model: str, segment: str, per_method: dict, seed: int
) -> list[dict]:
    """eval_results rows: each metric's mean and 95% bootstrap interval, per method."""
    rows = []
    for method, ranks in per_method.items():
        values = defaultdict(list)
        for rank in ranks:
            for metric, v in metrics_for_rank(rank).items():
                values[metric].append(v)
        for metric, vs in values.items():
            lo, hi = bootstrap_ci(vs, seed=seed)
            rows.append(
                {
                    "build_id": build_id,
                    "embedding": embedding,
                    "model": model if method == "model" else f"baseline:{method}",
                    "metric": metric,
                    "segment": segment,
                    "value": float(np.mean(vs)),
                    "ci_low": lo,
                    "ci_high": hi,
                    "n": len(vs),
                }
            )
    return rows


def genre_rows(build_id: str, embedding: str, model: str, separation: dict) -> list[dict]:
    """eval_results rows of genre separation: per genre, and the macro average."""

    def row(metric, segment, value, n):
        return {
            "build_id": build_id,
            "embedding": embedding,
            "model": model,
            "metric": f"genre_{metric}",
            "segment": segment,
            "value": value,
            "ci_low": None,
            "ci_high": None,
            "n": n,
        }

    rows = [
        row(metric, g, vals[metric], vals["films"])
        for g, vals in separation.items()
        for metric in ("gap", "relative_gap", "same", "diff")
    ]
    if separation:
        rows += [
            row(m, "macro", float(np.nanmean([v[m] for v in separation.values()])), len(separation))
            for m in ("gap", "relative_gap")
        ]
    return rows


def emotion_profile_table(
    rows: pa.Table, key: str, embedding: str, protos: np.ndarray, emotions: list[str]
) -> pa.Table:
    """Cosine of each vector in `rows` (key, model, dim, vector) to each emotion prototype,
    one float32 column per emotion, and the 3 closest emotions. Column by column: ~80k
    users x 28 emotions never become Python floats."""
    dim = rows.column("dim")[0].as_py()
    profile = (vector_matrix(rows.column("vector"), dim) @ protos.T).astype(np.float32)
    top = np.argsort(-profile, axis=1)[:, :3]
    return pa.table(
        {
            key: rows.column(key),
            "embedding": pa.array([embedding] * rows.num_rows, pa.string()),
            "model": rows.column("model"),
            **{e: pa.array(profile[:, j]) for j, e in enumerate(emotions)},
            "top_emotions": pa.array(
                [[emotions[i] for i in row] for row in top.tolist()], pa.list_(pa.string())
            ),
        }
    ).cast(profile_schema(key, emotions))


def profile_schema(key: str, emotions: list[str]) -> pa.Schema:
    return pa.schema(
        [(key, pa.string()), ("embedding", pa.string()), ("model", pa.string())]
        + [(e, pa.float32()) for e in emotions]
        + [("top_emotions", pa.list_(pa.string()))]
    )


def concat_profiles(parts: list[pa.Table], key: str, emotions: list[str]) -> pa.Table:
    return pa.concat_tables(parts) if parts else profile_schema(key, emotions).empty_table()
