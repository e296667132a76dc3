"""The serving bundle: what a recommender service loads in one call, without DuckDB or our
code beyond this file.

Per build and embedding space, a folder with
    films.parquet     row (= the vector's row in the index), movie_id, tmdb_id, imdb_id,
                      title, year, genres, poster_path, popularity,
                      vector FixedSizeList<float32, dim>
    users.parquet     row, user_id, source, vector, rating_vector, text_vector, alpha,
                      n_liked, parts, seen (film rows the user rated or mentioned)
    films.usearch     an HNSW index over the film vectors (cosine), keyed by film row
    manifest.json     model, space, dim, normalised, build, snapshot, counts, the index's
                      parameters, its recall@10 against exact search and its query latency
                      (both measured when it was built), and the sha256 of every file
Both Parquet files carry the same facts in their schema metadata (key `reelreason`).

Why usearch: one small wheel (no compiler, no BLAS), HNSW with cosine built in, and an index
file that opens memory-mapped (`view=True`) so a service starts without rebuilding it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from usearch.index import Index

from reelreason.taste import vector_matrix

BUNDLE_FORMAT = 1
METADATA_KEY = b"reelreason"
# HNSW parameters: connectivity 16 / expansion 128 while adding / 64 while searching gave
# recall@10 >= 0.99 on 40k x 768 synthetic vectors (scripts/bench_serving.py).
INDEX_PARAMS = {"connectivity": 16, "expansion_add": 128, "expansion_search": 64}
RECALL_TARGET = 0.98


@dataclass(frozen=True)
class Space:
    name: str  # st | openai
    model: str
    dim: int
    # The embedding cache's space: model, revision (weights' commit), normalisation.
    space_id: str | None = None


class Bundle(NamedTuple):
    ids: list[str]  # movie_id per row
    matrix: np.ndarray  # (films, dim) float32, unit rows
    index: Index  # HNSW over `matrix`, keys = rows
    metadata: dict  # manifest.json, plus `folder`


def fixed_vectors(matrix: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Rows of `matrix` as FixedSizeList<float32, dim> (loads as one contiguous block);
    rows where `missing` is true are null."""
    values = pa.array(np.ascontiguousarray(matrix, np.float32).ravel(), pa.float32())
    mask = None if missing is None else pa.array(missing)
    return pa.FixedSizeListArray.from_arrays(values, matrix.shape[1], mask=mask)


def _nullable_matrix(column: pa.ChunkedArray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    missing = column.is_null().to_numpy(zero_copy_only=False)
    matrix = np.zeros((len(column), dim), np.float32)
    if (~missing).any():
        present = column.filter(pa.array(~missing))
        matrix[~missing] = vector_matrix(present, dim)
    return matrix, missing


def _with_metadata(table: pa.Table, facts: dict) -> pa.Table:
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(facts).encode()})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_index(matrix: np.ndarray) -> Index:
    index = Index(ndim=matrix.shape[1], metric="cos", dtype="f32", **INDEX_PARAMS)
    index.add(np.arange(len(matrix)), matrix)
    return index


def exact_top(matrix: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ matrix.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def measure_index(index: Index, matrix: np.ndarray, *, k: int = 10, queries: int = 500, seed=0):
    """recall@k of the index against exact search, and ms per query of both, on up to
    `queries` film vectors used as queries."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(matrix), min(queries, len(matrix)), replace=False)
    q = matrix[pick]
    k = min(k, len(matrix))
    start = time.perf_counter()
    exact = exact_top(matrix, q, k)
    exact_ms = (time.perf_counter() - start) * 1000 / len(q)
    start = time.perf_counter()
    found = index.search(q, k).keys
    index_ms = (time.perf_counter() - start) * 1000 / len(q)
    hits = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, exact, strict=True))
    return {
        f"recall@{k}": round(hits / (len(q) * k), 4),
        "queries": len(q),
        "index_ms_per_query": round(index_ms, 4),
        "exact_ms_per_query": round(exact_ms, 4),
    }


def write_bundle(
    folder: Path, *, films: pa.Table, users: pa.Table, space: Space, build: dict
) -> dict:
    """Write the bundle of one space into `folder` (through a temporary folder renamed into
    place: a reader never sees half a bundle). `films` has the film columns and `vector`
    (list<float>); `users` the user columns, vectors as lists and `seen` (film rows).
    Returns the manifest."""
    matrix = vector_matrix(films.column("vector"), space.dim)
    facts = {
        "format": BUNDLE_FORMAT,
        "model": space.model,
        "space": space.name,
        "space_id": space.space_id,
        "dim": space.dim,
        "normalized": True,
        "metric": "cosine",
        "build_id": build["build_id"],
        "snapshot_id": build["snapshot_id"],
    }
    films_out = films.set_column(
        films.schema.get_field_index("vector"), "vector", fixed_vectors(matrix)
    )
    films_out = films_out.add_column(0, "row", pa.array(range(len(films)), pa.int32()))
    users_out = users.add_column(0, "row", pa.array(range(len(users)), pa.int32()))
    for name in ("vector", "rating_vector", "text_vector"):
        part, missing = _nullable_matrix(users_out.column(name), space.dim)
        users_out = users_out.set_column(
            users_out.schema.get_field_index(name), name, fixed_vectors(part, missing)
        )
    index = build_index(matrix)
    quality = measure_index(index, matrix)
    tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        pq.write_table(_with_metadata(films_out, facts), tmp / "films.parquet")
        pq.write_table(_with_metadata(users_out, facts), tmp / "users.parquet")
        index.save(str(tmp / "films.usearch"))
        manifest = {
            **facts,
            "films": len(films_out),
            "users": len(users_out),
            "index": {"library": "usearch", "file": "films.usearch", **INDEX_PARAMS, **quality},
            "files": {
                f.name: {"bytes": f.stat().st_size, "sha256": _sha256(f)}
                for f in sorted(tmp.iterdir())
            },
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def load_bundle(path: str | Path) -> Bundle:
    """(ids, matrix, index, metadata) of a bundle folder, checked against its manifest."""
    folder = Path(path)
    manifest = json.loads((folder / "manifest.json").read_text())
    films = pq.read_table(folder / "films.parquet", columns=["movie_id", "vector"])
    dim = manifest["dim"]
    matrix = films.column("vector").combine_chunks().flatten().to_numpy().reshape(-1, dim)
    index = Index.restore(str(folder / manifest["index"]["file"]), view=True)
    if index.size != len(matrix) or len(matrix) != manifest["films"]:
        raise ValueError(
            f"{folder}: the index holds {index.size} vectors, films.parquet {len(matrix)}, the "
            f"manifest says {manifest['films']}: the bundle is damaged; export it again"
        )
    return Bundle(
        films.column("movie_id").to_pylist(), matrix, index, {**manifest, "folder": str(folder)}
    )


def films_table(bundle: Bundle) -> pa.Table:
    return pq.read_table(Path(bundle.metadata["folder"]) / "films.parquet")


def similar(bundle: Bundle, movie_id: str, k: int = 10) -> list[tuple[int, float]]:
    """(film row, cosine) of the k films nearest `movie_id`, itself left out."""
    try:
        row = bundle.ids.index(movie_id)
    except ValueError:
        raise KeyError(f"{movie_id!r} is not a film of this bundle") from None
    found = bundle.index.search(bundle.matrix[row], k + 1)
    return [
        (int(r), 1.0 - float(d))
        for r, d in zip(found.keys, found.distances, strict=True)
        if int(r) != row
    ][:k]


def recommend(
    bundle: Bundle, user_id: str, k: int = 10, *, exclude_seen: bool = False
) -> list[tuple[int, float]]:
    """(film row, cosine) of the k films nearest the user's taste vector; with
    `exclude_seen`, none the user rated or mentioned."""
    users = pq.read_table(
        Path(bundle.metadata["folder"]) / "users.parquet",
        columns=["user_id", "vector", "seen"],
        filters=[("user_id", "=", user_id)],
    )
    if users.num_rows == 0:
        raise KeyError(f"{user_id!r} has no taste vector in this bundle")
    vector = np.asarray(users.column("vector")[0].as_py(), np.float32)
    seen = set(users.column("seen")[0].as_py() or []) if exclude_seen else set()
    found = bundle.index.search(vector, min(k + len(seen), len(bundle.ids)))
    out = [(int(r), 1.0 - float(d)) for r, d in zip(found.keys, found.distances, strict=True)]
    return [(r, s) for r, s in out if r not in seen][:k]
