"""Leakage-free ranking evaluation, genre separation and emotion prototypes (pure NumPy).

The split is decided once, from the likes alone, before any space is trained
(`plan_holdout`): per source, seeded, `validation` users (they choose α and the blend
weight) and `test` users (they are scored), each with their last like held out; and, per rating
source, one time cutoff for all its users (a global time split). Training (the tuned space, popularity) only ever sees
`training_likes`. Two protocols:

- leave-last-out: the user vector is rebuilt from the training likes and the user's own
  words with every mention of the held-out film removed; every film is ranked by cosine,
  films the user rated or mentioned excluded (the held-out one stays a candidate);
- time split (rating sources): what each user liked before their source's cutoff predicts
  their first like after it; popularity and the tuned space are trained on the past only.

One relevant film per user, so IDCG = 1 and Recall@50 = HR@50. Next to each space on the
same users: popularity (training likes only), a seeded random order, and popularity blended
with the space's own scores (the blend weight chosen on validation users).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy import sparse

from reelreason.taste import mix, normalize, vector_matrix

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


# --- the split: decided once, from the likes, before anything is trained ----------------------

VALIDATION_SHARE = 0.2
TIME_SPLIT_QUANTILE = 0.9
RATING_SOURCES = ("movielens", "movietweetings")
FEW_LIKES = 5  # users with at most this many training likes: the `few_likes` segment
ALPHA_GRID = tuple(a / 10 for a in range(11))
BLEND_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
# Fewer validation users with both a rating part and a text part than this: α is not
# chosen by validation (too noisy) and REELREASON_ALPHA stands.
MIN_VALIDATION_USERS = 20


@dataclass(frozen=True)
class Holdout:
    """Who the evaluation asks about what, from the likes alone (movie ids, not a space's
    rows). `role`: user -> "test" | "validation"; `held_out`: user -> the movie id of their
    last like; `cutoffs`: source -> the time split's boundary (epoch seconds), for the
    sources whose likes carry a time."""

    role: dict[str, str]
    held_out: dict[str, str]
    cutoffs: dict[str, float]


def plan_holdout(
    likes: Sequence[tuple],
    *,
    min_likes: int,
    users_per_source: int,
    seed: int,
    validation_share: float = VALIDATION_SHARE,
    time_quantile: float = TIME_SPLIT_QUANTILE,
) -> Holdout:
    """likes: (user, source, movie id, position, liked_at epoch or None). Per source, the
    users with more than `min_likes` likes are shuffled (seeded): the first
    `validation_share` of them (at most a quarter of `users_per_source`) validate, the next
    `users_per_source` are tested. A source's cutoff is the `time_quantile` of its likes'
    times (sources span different years: MovieLens 2000-03, MovieTweetings 2013-)."""
    by_user: dict[str, list[tuple[int, str]]] = defaultdict(list)
    source_of: dict[str, str] = {}
    times: dict[str, list[float]] = defaultdict(list)
    for u, source, movie, position, liked_at in likes:
        by_user[u].append((position, movie))
        source_of[u] = source
        if liked_at is not None:
            times[source].append(liked_at)
    eligible: dict[str, list[str]] = defaultdict(list)
    for u, items in sorted(by_user.items()):
        if len(items) >= min_likes + 1:
            eligible[source_of[u]].append(u)
    rng = np.random.default_rng(seed)
    role, held_out = {}, {}
    for _source, users in sorted(eligible.items()):
        order = [users[i] for i in rng.permutation(len(users))]
        n_val = min(round(validation_share * len(order)), max(users_per_source // 4, 1))
        for i, u in enumerate(order[: n_val + users_per_source]):
            role[u] = "validation" if i < n_val else "test"
            held_out[u] = max(by_user[u])[1]
    cutoffs = {s: float(np.quantile(t, time_quantile)) for s, t in sorted(times.items())}
    return Holdout(role, held_out, cutoffs)


def training_likes(
    likes: Sequence[tuple], holdout: Holdout, *, past_only: bool = False
) -> dict[str, list[str]]:
    """Per user, the movie ids liked in training, in time order: every like except the
    held-out ones; with `past_only`, also no like at or after its source's cutoff (dialogue
    likes carry no time and stay)."""
    kept: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for u, source, movie, position, liked_at in likes:
        if holdout.held_out.get(u) == movie:
            continue
        cutoff = holdout.cutoffs.get(source)
        if past_only and liked_at is not None and cutoff is not None and liked_at >= cutoff:
            continue
        kept[u].append((position, movie))
    return {u: [m for _, m in sorted(items)] for u, items in sorted(kept.items())}


def popularity_counts(train: dict[str, list[str]], index: dict[str, int]) -> np.ndarray:
    """Training likes per film row: popularity as known before the films being predicted."""
    counts = np.zeros(len(index))
    for movies in train.values():
        for m in movies:
            if m in index:
                counts[index[m]] += 1
    return counts


@dataclass
class Case:
    """One evaluated user: what is known (training likes in time order, as film rows), what
    is asked (the target film) and what is never recommended back (`seen`)."""

    user_id: str
    source: str
    train: list[int]
    target: int
    seen: set[int]


def leave_last_out_cases(
    likes: Sequence[tuple],
    holdout: Holdout,
    seen_rows: Sequence[tuple[str, str]],
    index: dict[str, int],
    *,
    role: str,
) -> list[Case]:
    """The holdout's `role` users whose held-out film and training likes have rows in the
    space (`index`: movie id -> row); `seen_rows`: (user, movie id) rated or mentioned."""
    train = training_likes(likes, holdout)
    source_of = {u: s for u, s, *_ in likes}
    seen: dict[str, set[int]] = defaultdict(set)
    for u, m in seen_rows:
        if m in index:
            seen[u].add(index[m])
    cases = []
    for u, r in sorted(holdout.role.items()):
        target = index.get(holdout.held_out[u])
        rows = [index[m] for m in train.get(u, []) if m in index]
        if r == role and target is not None and rows:
            cases.append(Case(u, source_of[u], rows, target, (seen[u] | set(rows)) - {target}))
    return cases


def time_split_cases(
    likes: Sequence[tuple],
    holdout: Holdout,
    index: dict[str, int],
    *,
    min_likes: int,
    users_per_source: int,
    seed: int,
) -> list[Case]:
    """Users with `min_likes` timed likes before their source's cutoff and one after it
    (sampled per source, seeded): the target is their first like after the cutoff, and only
    what they liked before it is excluded (their later ratings are the future)."""
    before: dict[str, list[tuple[int, int]]] = defaultdict(list)
    after: dict[str, list[tuple[int, int]]] = defaultdict(list)
    source_of = {}
    for u, source, movie, position, liked_at in likes:
        if liked_at is None or movie not in index or source not in holdout.cutoffs:
            continue
        source_of[u] = source
        past = liked_at < holdout.cutoffs[source]
        (before if past else after)[u].append((position, index[movie]))
    eligible: dict[str, list[str]] = defaultdict(list)
    for u in sorted(after):
        if len(before.get(u, ())) >= min_likes:
            eligible[source_of[u]].append(u)
    rng = np.random.default_rng(seed)
    cases = []
    for source, users in sorted(eligible.items()):
        for i in sorted(rng.choice(len(users), min(users_per_source, len(users)), replace=False)):
            u = users[i]
            rows = [f for _, f in sorted(before[u])]
            target = min(after[u])[1]
            cases.append(Case(u, source, rows, target, set(rows) - {target}))
    return cases


def mask_titles(text: str, titles: Sequence[str]) -> str:
    """The user's words without the held-out film: its titles (and a year after them) are
    replaced by [film], longest first, so a title inside another is not half-replaced."""
    for t in sorted({t for t in titles if t and len(t) > 1}, key=lambda t: (-len(t), t)):
        text = re.sub(re.escape(t) + r"(\s*\(\d{4}\))?", "[film]", text, flags=re.IGNORECASE)
    return text


def masked_texts(
    holdout: Holdout, texts: dict[str, str], titles: dict[str, list[str]]
) -> dict[str, str]:
    """Every held-out user's words (test and validation) without their held-out film."""
    return {
        u: mask_titles(texts[u], titles.get(movie, []))
        for u, movie in sorted(holdout.held_out.items())
        if u in texts
    }


# --- ranking cases under one scoring, and what their top-10s say -------------------------------


def user_query(
    film_vectors: np.ndarray, case: Case, text: np.ndarray | None, alpha: float
) -> np.ndarray:
    """The user vector as the platform builds it, from what the case knows: the α-mix of
    the training likes' mean and the (masked) text part."""
    return mix(normalize(film_vectors[case.train].mean(axis=0)), text, alpha)


@dataclass
class Ranked:
    """Per case: the target's rank (1 = first) and the top-10 film rows, best first."""

    ranks: np.ndarray
    tops: np.ndarray


def rank_cases(cases: Sequence[Case], score: Callable[[Case], np.ndarray]) -> Ranked:
    """Rank each case's target among the films it has not seen (ties count against it)."""
    ranks = np.zeros(len(cases), np.int64)
    tops = np.zeros((len(cases), K), np.int64)
    for i, case in enumerate(cases):
        s = np.asarray(score(case), np.float64).copy()
        s[list(case.seen - {case.target})] = -np.inf
        ranks[i] = int((s >= s[case.target]).sum())
        top = np.argpartition(-s, K)[:K] if len(s) > K else np.arange(len(s))
        top = top[np.argsort(-s[top], kind="stable")]
        tops[i, : len(top)] = top
    return Ranked(ranks, tops)


def blended(scores: np.ndarray, popularity: np.ndarray, weight: float) -> np.ndarray:
    """(1 - w)·cosine + w·log-popularity scaled to [0, 1]: popularity blended with content."""
    top = np.log1p(popularity.max()) if popularity.max() > 0 else 1.0
    return (1.0 - weight) * scores + weight * np.log1p(popularity) / top


def popularity_percentile(popularity: np.ndarray) -> np.ndarray:
    """Each film's share of films liked less often in training (0: least, 1: most liked)."""
    order = np.argsort(np.argsort(popularity, kind="stable"), kind="stable")
    return order / max(len(popularity) - 1, 1)


def per_user_metrics(ranked: Ranked, percentile: np.ndarray) -> dict[str, np.ndarray]:
    r = ranked.ranks
    hit = r <= K
    return {
        "hr@10": hit.astype(float),
        "ndcg@10": np.where(hit, 1.0 / np.log2(r + 1), 0.0),
        "mrr@10": np.where(hit, 1.0 / r, 0.0),
        "recall@50": (r <= RECALL_K).astype(float),
        # how popular the recommended films are: 1 = only ever the most liked films
        "popularity_bias@10": percentile[ranked.tops].mean(axis=1) if len(r) else np.zeros(0),
    }


def coverage_ci(
    tops: np.ndarray, n_films: int, *, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """Share of the catalogue in anyone's top-10 and its bootstrap interval over users: one
    sparse product of (boots x users) draw counts with the (users x films) top-10 indicator."""
    users = len(tops)
    if users == 0:
        return (math.nan, math.nan, math.nan)
    indicator = sparse.csr_matrix(
        (np.ones(tops.size), (np.repeat(np.arange(users), tops.shape[1]), tops.ravel())),
        shape=(users, n_films),
    )
    value = len(np.unique(tops)) / n_films
    draws = np.random.default_rng(seed).multinomial(users, np.full(users, 1 / users), n_boot)
    covered = (sparse.csr_matrix(draws) @ indicator).getnnz(axis=1) / n_films
    lo, hi = np.quantile(covered, [0.025, 0.975])
    return value, float(min(lo, value)), float(max(hi, value))


def segments_of(case: Case, popularity: np.ndarray) -> list[str]:
    """The segments a case counts in: its source, all, rating or dialogue users, users with
    few likes, and held-out films nobody liked in training (cold)."""
    kind = "rating_users" if case.source in RATING_SOURCES else "dialogue_users"
    segs = [case.source, "all", kind]
    if len(case.train) <= FEW_LIKES:
        segs.append("few_likes")
    if popularity[case.target] == 0:
        segs.append("cold_films")
    return segs


def result_rows(
    cases: Sequence[Case],
    ranked: dict[str, Ranked],
    popularity: np.ndarray,
    common: dict,
    *,
    seed: int,
) -> list[dict]:
    """eval_results rows for one space and protocol: per method (the space's model name or
    a `baseline:`) and segment, each metric's mean with its 95% bootstrap interval, and the
    top-10s' catalogue coverage."""
    percentile = popularity_percentile(popularity)
    members: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        for seg in segments_of(case, popularity):
            members[seg].append(i)
    rows = []
    for method, result in ranked.items():
        values = per_user_metrics(result, percentile)
        for seg, idx in sorted(members.items()):
            for metric, v in values.items():
                lo, hi = bootstrap_ci(v[idx], seed=seed)
                rows.append(
                    {**common, "model": method, "metric": metric, "segment": seg}
                    | {"value": float(v[idx].mean()), "ci_low": lo, "ci_high": hi, "n": len(idx)}
                )
            cov, lo, hi = coverage_ci(result.tops[idx], len(popularity), seed=seed)
            rows.append(
                {**common, "model": method, "metric": "coverage@10", "segment": seg}
                | {"value": cov, "ci_low": lo, "ci_high": hi, "n": len(idx)}
            )
    return rows


def alpha_curve(
    cases: Sequence[Case],
    film_vectors: np.ndarray,
    text_vectors: dict[str, np.ndarray],
    grid: Sequence[float] = ALPHA_GRID,
) -> list[dict]:
    """Per α of the grid, on the cases with both parts: HR@10, NDCG@10 and the mean
    reciprocal rank over the whole ranking (smooth enough to choose by)."""
    both = [c for c in cases if c.user_id in text_vectors]
    curve = []
    for alpha in grid:
        ranked = rank_cases(
            both,
            lambda c, a=alpha: (
                film_vectors @ user_query(film_vectors, c, text_vectors[c.user_id], a)
            ),
        )
        r = ranked.ranks
        curve.append(
            {
                "alpha": float(alpha),
                "hr@10": float((r <= K).mean()) if len(r) else math.nan,
                "ndcg@10": float(np.where(r <= K, 1 / np.log2(r + 1), 0).mean())
                if len(r)
                else math.nan,
                "mrr": float((1.0 / r).mean()) if len(r) else math.nan,
                "n": len(r),
            }
        )
    return curve


def choose_alpha(curve: list[dict], fallback: float) -> tuple[float, str]:
    """The α with the best mean reciprocal rank (ties: the larger α), or `fallback` with the
    reason when fewer than MIN_VALIDATION_USERS users have both parts."""
    n = curve[0]["n"] if curve else 0
    if n < MIN_VALIDATION_USERS:
        return fallback, (
            f"{n} validation users with both parts (< {MIN_VALIDATION_USERS}): "
            f"REELREASON_ALPHA={fallback} kept"
        )
    best = max(curve, key=lambda p: (p["mrr"], p["alpha"]))
    return best["alpha"], f"chosen on {n} validation users (best mean reciprocal rank)"


def choose_blend(cases: Sequence[Case], scores: Callable[[Case], np.ndarray], popularity) -> float:
    """The popularity weight of the blended baseline with the best validation MRR."""
    if not cases:
        return BLEND_GRID[len(BLEND_GRID) // 2]
    mrr = {
        w: float(
            (1.0 / rank_cases(cases, lambda c, w=w: blended(scores(c), popularity, w)).ranks).mean()
        )
        for w in BLEND_GRID
    }
    return max(BLEND_GRID, key=lambda w: (mrr[w], -w))


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
