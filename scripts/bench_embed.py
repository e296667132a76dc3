"""Benchmark: the sentence-transformers path inside the pipeline vs a bare `model.encode` of
the same texts (same run, same model, best of --repeat), the cached rebuild, and the whole
sample build vs a no-change rebuild (two `reelreason build` processes).

    .venv/bin/python scripts/bench_embed.py [--texts 3000] [--repeat 2] [--skip-build]

Overhead target: <= 10% over bare encode. On a CUDA machine it also times bge-base when the
model is in the Hugging Face cache.
"""

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reelreason.embeddings import (  # noqa: E402
    EmbeddingCache,
    SentenceTransformerBackend,
    embed_texts,
    offline_minilm_path,
)
from reelreason.warehouse import Warehouse  # noqa: E402

WORDS = (
    "heist detective city night love war space robot family secret island storm "
    "journey murder comedy friendship revenge dream ghost music school prison desert "
    "ocean king queen soldier doctor artist thief time memory future past"
).split()


def texts(n: int) -> list[str]:
    rng = random.Random(3)
    out = []
    for i in range(n):
        plot = " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 60)))
        out.append(
            f"Title: Film {i} ({1950 + i % 70}). Genres: Drama, Thriller. "
            f"Director: Person {i % 97}. Plot: {plot}."
        )
    return out


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def build_twice() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "REELREASON_WAREHOUSE": f"{tmp}/wh",
            "DAGSTER_HOME": tmp,
            "REELREASON_DAGSTER_DIR": tmp,
        }
        cmd = [str(ROOT / ".venv/bin/reelreason"), "build", "--log-level", "ERROR"]
        walls = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
        return walls[0], walls[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    corpus = texts(args.texts)
    backend = SentenceTransformerBackend(
        "sentence-transformers/all-MiniLM-L6-v2", model_path=offline_minilm_path()
    )
    model = backend.st
    model.encode(corpus[:128], batch_size=64)  # warm-up, not timed
    bare = best(
        lambda: model.encode(
            corpus,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ),
        args.repeat,
    )

    def pipeline_cold():
        with tempfile.TemporaryDirectory() as tmp:
            lake = Warehouse(Path(tmp) / "wh")
            embed_texts(backend, corpus, EmbeddingCache(lake), run_id="bench")
            lake.close()

    cold = best(pipeline_cold, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Warehouse(Path(tmp) / "wh")
        cache = EmbeddingCache(lake)
        embed_texts(backend, corpus, cache, run_id="bench")
        warm = best(lambda: embed_texts(backend, corpus, cache, run_id="bench"), args.repeat)
        lake.close()
    import torch

    print(
        f"sentence-transformers all-MiniLM-L6-v2 (offline package), {args.texts:,} movie-like "
        f"texts; device {backend.device}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; {platform.machine()}, {os.cpu_count()} cores"
    )
    print()
    print("| path | seconds | texts/s | vs bare encode |")
    print("|---|---:|---:|---:|")
    print(f"| bare `model.encode` (batch 64) | {bare:.2f} | {args.texts / bare:,.0f} | 1.00 |")
    print(
        f"| pipeline: hash + cache lookup + encode + cache write | {cold:.2f} | "
        f"{args.texts / cold:,.0f} | {cold / bare:.2f} |"
    )
    print(
        f"| pipeline, unchanged texts (all cache hits) | {warm:.2f} | "
        f"{args.texts / warm:,.0f} | {warm / bare:.3f} |"
    )
    print()
    overhead = (cold - bare) / bare
    print(
        f"overhead of the pipeline path: {overhead:+.1%} (target <= 10%): "
        f"{'MET' if overhead <= 0.10 else 'MISSED'}"
    )
    if torch.cuda.is_available():
        try:
            bge = SentenceTransformerBackend("BAAI/bge-base-en-v1.5")
            t = best(lambda: bge.embed(corpus), args.repeat)
            print(f"CUDA bge-base-en-v1.5: {args.texts / t:,.0f} texts/s")
        except RuntimeError as exc:
            print(f"CUDA present, bge-base not measured: {exc}")
    else:
        print("no CUDA device here: bge-base GPU throughput not measured")
    if not args.skip_build:
        full, again = build_twice()
        print()
        print("| whole sample build (`reelreason build`, own process) | seconds |")
        print("|---|---:|")
        print(f"| first build, empty warehouse | {full:.1f} |")
        print(f"| rebuild, nothing changed | {again:.1f} |")
        print(
            f"rebuild / full: {again / full:.0%} (model load and Dagster start-up dominate "
            "the sample; embeddings computed on rebuild: 0)"
        )


if __name__ == "__main__":
    main()
