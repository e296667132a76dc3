"""Serving at scale (synthetic, 40k films x 768 dims by default): loading the film vectors
from the serving bundle against reading them through DuckLake, and a query through the
usearch index against brute force, with the index's recall@10. Prints a table.

    .venv/bin/python scripts/bench_serving.py [--films 40000] [--dim 768]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_embed import best  # noqa: E402 - the same timing as the embedding benchmark

from reelreason.serving import Space, exact_top, load_bundle, write_bundle  # noqa: E402
from reelreason.taste import vector_matrix  # noqa: E402
from reelreason.warehouse import Warehouse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--films", type=int, default=40_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # Clustered vectors (like real embeddings), not uniform noise: 200 centres.
    centres = rng.standard_normal((200, args.dim))
    raw = centres[rng.integers(0, 200, args.films)] + 0.6 * rng.standard_normal(
        (args.films, args.dim)
    )
    films = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"tmdb:{i}" for i in range(args.films)]
    vectors = pa.array(list(films), pa.list_(pa.float32()))
    with tempfile.TemporaryDirectory() as tmp:
        lake = Warehouse(Path(tmp) / "warehouse")
        table = pa.table({"movie_id": ids, "vector": vectors})
        lake.write_table("movie_embeddings_st", table, run_id="bench", source="bench")
        start = time.perf_counter()
        manifest = write_bundle(
            Path(tmp) / "bundle",
            films=table,
            users=pa.table(
                {
                    "user_id": ["u"],
                    "vector": pa.array([films[0].tolist()], pa.list_(pa.float32())),
                    "rating_vector": pa.array([None], pa.list_(pa.float32())),
                    "text_vector": pa.array([None], pa.list_(pa.float32())),
                    "seen": pa.array([[]], pa.list_(pa.int32())),
                }
            ),
            space=Space("st", "synthetic", args.dim),
            build={"build_id": "bench", "snapshot_id": 0},
        )
        build_s = time.perf_counter() - start

        def through_ducklake():
            with lake.session(read_only=True) as con:
                rows = con.execute(
                    "SELECT movie_id, vector FROM movie_embeddings_st ORDER BY movie_id"
                ).to_arrow_table()
            return vector_matrix(rows.column("vector"), args.dim)

        ducklake_s = best(through_ducklake, 3)
        bundle_s = best(lambda: load_bundle(Path(tmp) / "bundle"), 3)
        bundle = load_bundle(Path(tmp) / "bundle")
        q = films[rng.choice(args.films, args.queries, replace=False)]
        exact_s = best(lambda: [exact_top(bundle.matrix, row[None], 10) for row in q], 1)
        index_s = best(lambda: [bundle.index.search(row, 10) for row in q], 1)
        found = np.stack([bundle.index.search(row, 10).keys for row in q])
        truth = exact_top(bundle.matrix, q, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
    print(f"{args.films:,} films x {args.dim} dims, {args.queries} single queries, best of 3\n")
    print("| what | time | ratio |")
    print("|---|---:|---:|")
    print(f"| load vectors through DuckLake | {ducklake_s * 1000:.0f} ms | 1.0 |")
    print(
        f"| load_bundle (ids, matrix, index) | {bundle_s * 1000:.0f} ms | "
        f"{ducklake_s / bundle_s:.1f}x faster |"
    )
    print(f"| query, brute force | {exact_s / len(q) * 1000:.3f} ms | 1.0 |")
    print(
        f"| query, usearch index | {index_s / len(q) * 1000:.3f} ms | "
        f"{exact_s / index_s:.1f}x faster |"
    )
    print(
        f"\nindex recall@10 vs exact: {recall:.4f} (build-time estimate in the manifest: "
        f"{manifest['index']['recall@10']}); writing the bundle took {build_s:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
