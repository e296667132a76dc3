"""Taste vectors, pure NumPy/Arrow: films' vector tables, users' rating parts (the mean of
liked films) and text parts, and their α-mix."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse


def normalize(v: np.ndarray) -> np.ndarray:
    """L2-normalise rows (a zero row stays zero)."""
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def mix(rating: np.ndarray | None, text: np.ndarray | None, alpha: float) -> np.ndarray:
    """normalise(α·r̂ + (1−α)·t̂) when both parts exist, else the part that exists."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    if rating is None and text is None:
        raise ValueError("a user vector needs a rating part or a text part")
    if rating is None:
        return normalize(text)
    if text is None:
        return normalize(rating)
    return normalize(alpha * normalize(rating) + (1.0 - alpha) * normalize(text))


def vector_matrix(column: pa.Array | pa.ChunkedArray, dim: int) -> np.ndarray:
    """A FLOAT[] column of non-null dim-long vectors as one (rows, dim) float32 array."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    values = column.flatten().to_numpy(zero_copy_only=False)
    if column.null_count or values.size != len(column) * dim:
        raise ValueError(f"expected {len(column)} non-null vectors of {dim} values")
    return values.astype(np.float32, copy=False).reshape(len(column), dim)


def vector_column(vectors: list[np.ndarray | None]) -> pa.Array:
    return pa.array(
        [None if v is None else v.astype(np.float32).tolist() for v in vectors],
        type=pa.list_(pa.float32()),
    )


def rating_parts(films: pa.Table, likes: pa.Table, dim: int, min_likes: int):
    """Per user: normalise(mean of liked films' vectors) when they have >= min_likes likes,
    and every user's like count. One sparse (users x films) @ (films x dim) product: the
    full MovieLens + MovieTweetings likes (~1M) never become Python lists of vectors.
    `likes` holds user_id and film_index (the row of `films`)."""
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


def film_vector_table(
    films: list[tuple[str, str]], vectors: dict, model: str, dim: int, schema: pa.Schema
) -> pa.Table:
    """One row per (movie_id, text_sha256) in `films`; its vector from `vectors` by text hash
    (None where the backend gave none)."""
    return pa.table(
        {
            "movie_id": [m for m, _ in films],
            "model": [model] * len(films),
            "dim": pa.array([dim] * len(films), pa.int32()),
            "normalized": [True] * len(films),
            "vector": vector_column([vectors.get(sha) for _, sha in films]),
            "text_sha256": [sha for _, sha in films],
        },
        schema=schema,
    )


def user_vector_table(
    rating_part: dict,
    text_part: dict,
    n_liked: dict,
    tokens: dict,
    *,
    alpha: float,
    model: str,
    dim: int,
    schema: pa.Schema,
) -> tuple[pa.Table, Counter]:
    """Every user with a rating part or a text part: both parts, their α-mix, the counts and
    which parts were used; and how many users used each combination."""
    rows, parts_count = [], Counter()
    for user in sorted(set(rating_part) | set(text_part)):
        r = rating_part.get(user, (None, 0))[0]
        t = text_part.get(user)
        parts = "+".join(p for p, v in (("rating", r), ("text", t)) if v is not None)
        parts_count[parts] += 1
        rows.append(
            (user, mix(r, t, alpha), r, t, n_liked.get(user, 0), tokens.get(user, 0), parts)
        )
    table = pa.table(
        {
            "user_id": [r[0] for r in rows],
            "model": [model] * len(rows),
            "dim": pa.array([dim] * len(rows), pa.int32()),
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
    return table, parts_count
