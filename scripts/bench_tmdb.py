"""Benchmark: TMDB enrichment of 5,000 generated films against a local TMDB-speaking server
with ~50 ms latency and ~2% 429s, next to the research code's way (a sequential client, 3
calls per film, 0.2 s sleep between films) measured in the same run.

    .venv/bin/python scripts/bench_tmdb.py [--films 5000] [--rate 35] [--baseline-films 100]

Ours: per film one `/find` (IMDb id -> TMDB id) and one `/movie/{id}` with credits and
keywords, through the warehouse response cache, rate-limited and concurrent. The baseline
is timed on `--baseline-films` films and extrapolated linearly to all (stated as such).
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reelreason.enrich import FetchReport, ResponseCache, fetch_through_cache  # noqa: E402
from reelreason.tmdb import TmdbClient, find_imdb, movie_details, search_movie  # noqa: E402
from reelreason.warehouse import Warehouse  # noqa: E402
from tests.fakes.tmdb_server import FakeTmdb, Faults  # noqa: E402


def catalog(n: int) -> dict:
    movies = []
    for i in range(1, n + 1):
        movies.append(
            {
                "id": 500000 + i,
                "imdb_id": f"tt{9000000 + i:07d}",
                "title": f"Generated Film {i}",
                "original_title": f"Generated Film {i}",
                "release_date": f"{1950 + i % 70}-06-01",
                "overview": f"Film number {i}.",
                "genres": [{"id": 18, "name": "Drama"}],
                "runtime": 90 + i % 60,
                "popularity": float(i % 100),
                "vote_average": 6.5,
                "vote_count": 100,
                "directors": [{"id": i, "name": f"Director {i}"}],
                "cast": [{"id": 10**6 + i, "name": f"Actor {i}", "character": "Lead"}],
                "keywords": [{"id": 1, "name": "drama"}],
            }
        )
    return {"movies": movies, "tv": []}


def ours(server: FakeTmdb, films: list[dict], rate: float, workdir: Path) -> dict:
    client = TmdbClient(
        base_url=server.base_url,
        api_key=server.api_key,
        rate_limit=rate,
        max_concurrency=8,
        timeout=5,
        max_attempts=8,
        backoff=0.25,
    )
    cache = ResponseCache(Warehouse(workdir / "wh"))
    report = FetchReport()
    start = time.monotonic()
    finds = fetch_through_cache(
        [find_imdb(f["imdb_id"]) for f in films],
        cache=cache,
        client=client,
        run_id="bench",
        report=report,
    )
    ids = [
        r.body["movie_results"][0]["id"]
        for r in finds.values()
        if r.status == "ok" and r.body["movie_results"]
    ]
    details = fetch_through_cache(
        [movie_details(i) for i in ids], cache=cache, client=client, run_id="bench", report=report
    )
    wall = time.monotonic() - start
    enriched = sum(1 for r in details.values() if r.status == "ok")
    return {
        "wall": wall,
        "requests": client.stats["requests"],
        "throttled": client.stats["throttled"],
        "retries": client.stats["retries"],
        "enriched": enriched,
    }


def baseline(server: FakeTmdb, films: list[dict]) -> float:
    """The research code's loop: search, find, details, one after another, then sleep 0.2 s."""
    session = requests.Session()
    start = time.monotonic()
    for f in films:
        for req in (
            search_movie(f["title"], int(f["release_date"][:4])),
            find_imdb(f["imdb_id"]),
            movie_details(f["id"]),
        ):
            while True:  # it retried a 429 blindly after a second
                resp = session.get(
                    server.base_url + req.path,
                    params=dict(req.params) | {"api_key": server.api_key},
                )
                if resp.status_code != 429:
                    break
                time.sleep(1)
        time.sleep(0.2)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--films", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=35.0, help="client rate limit, req/s")
    parser.add_argument("--baseline-films", type=int, default=100)
    args = parser.parse_args()
    cat = catalog(args.films)
    faults = Faults(rate=0.02, kinds=("429", "429_retry_after"), seed=7)
    with tempfile.TemporaryDirectory() as tmp, FakeTmdb(cat, latency=0.05, faults=faults) as srv:
        result = ours(srv, cat["movies"], args.rate, Path(tmp))
        sample = cat["movies"][: args.baseline_films]
        base_wall = baseline(srv, sample)
    base_all = base_wall / len(sample) * args.films
    achieved = result["requests"] / result["wall"]
    print(
        f"TMDB enrichment of {args.films:,} generated films; local server: 50 ms latency, "
        f"2% 429s (half with Retry-After: 1)"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print()
    print("| client | films | requests | wall s | req/s | limit req/s | films lost |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| ours (cache + rate limit {args.rate:g}/s, 8 concurrent) | {args.films:,} | "
        f"{result['requests']:,} | {result['wall']:.1f} | {achieved:.1f} | {args.rate:g} | "
        f"{args.films - result['enriched']} |"
    )
    print(
        f"| research code: sequential, 3 calls + 0.2 s sleep per film (timed on "
        f"{len(sample)}, extrapolated) | {args.films:,} | {3 * args.films:,} | {base_all:.0f} | "
        f"{3 * args.films / base_all:.1f} | - | - |"
    )
    print()
    print(f"429s met: {result['throttled']}, retries: {result['retries']}")
    print(f"achieved / configured rate: {achieved / args.rate:.0%}")
    print(f"wall time vs baseline: {base_all / result['wall']:.1f}x faster")
    print(f"films lost: {args.films - result['enriched']} (must be 0)")


if __name__ == "__main__":
    main()
