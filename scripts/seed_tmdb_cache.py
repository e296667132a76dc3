"""Write the sample profile's TMDB fixtures (deterministic; rerun after changing resolution):

1. `sample/raw/movielens/ml-latest-small/links.csv` for the sample's MovieLens ids, in the
   real file's format (`movieId,imdbId,tmdbId`, IMDb digits zero-padded, tmdbId sometimes
   empty). A few films are left out on purpose so the sample exercises title search.
2. `sample/tmdb/responses.jsonl`: every TMDB answer the sample build needs, recorded by
   running the pipeline against the fake TMDB server (tests.fakes.tmdb_server) over
   `sample/tmdb/catalog.json`. The sample profile pre-seeds its cache from this file, so
   the default build is offline and still enriched.

    .venv/bin/python scripts/seed_tmdb_cache.py
"""

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from pipelines.settings import SAMPLE_RAW_DIR, SAMPLE_TMDB_SEED, Settings  # noqa: E402
from reelreason.titles import parse_movielens_title, title_key  # noqa: E402
from reelreason.warehouse import Warehouse  # noqa: E402
from tests.fakes.tmdb_server import CATALOG, FakeTmdb  # noqa: E402

# Left out of links.csv so that the sample resolves them by title search instead.
NOT_IN_LINKS = {"Police Academy", "Hoop Dreams", "1941", "Les Misérables", "Il Postino"}
# In links.csv with an IMDb id but no tmdbId, as some real rows are: resolved through /find.
NO_TMDB_ID = {"The Shining"}


def write_links() -> int:
    catalog = json.loads(CATALOG.read_text())["movies"]
    by_key = {}
    for m in catalog:
        if m.get("decoy"):
            continue
        year = int(m["release_date"][:4]) if m.get("release_date") else None
        for t in (m["title"], m.get("original_title")):
            by_key[(title_key(t), year)] = m
    lines = ["movieId,imdbId,tmdbId"]
    movies = (SAMPLE_RAW_DIR / "movielens/ml-1m/movies.dat").read_bytes().decode("latin-1")
    for line in movies.splitlines():
        movie_id, raw_title, _ = line.split("::")
        title, alt, year = parse_movielens_title(raw_title)
        m = by_key.get((title_key(title), year)) or by_key.get((title_key(alt), year))
        if m is None or title in NOT_IN_LINKS or not m.get("imdb_id"):
            continue
        tmdb = "" if title in NO_TMDB_ID else str(m["id"])
        lines.append(f"{movie_id},{m['imdb_id'][2:]},{tmdb}")
    path = SAMPLE_RAW_DIR / "movielens/ml-latest-small/links.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def record_responses() -> int:
    from pipelines.definitions import build_definitions

    with tempfile.TemporaryDirectory() as tmp, FakeTmdb() as server:
        os.environ["TMDB_API_KEY"] = server.api_key
        settings = Settings(
            profile="full",
            warehouse=Path(tmp) / "wh",
            raw_dir=SAMPLE_RAW_DIR,
            offline=False,
            tmdb_base_url=server.base_url,
        )
        defs = build_definitions(settings)
        job = defs.resolve_implicit_global_asset_job_def()
        with dg.instance_for_test() as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=True)
        assert result.success
        con = Warehouse(settings.warehouse).connect(read_only=True)
        rows = con.execute(
            """SELECT request_key, arg_max(status, fetched_at), arg_max(body, fetched_at)
               FROM tmdb_responses GROUP BY request_key ORDER BY request_key"""
        ).fetchall()
        con.close()
    with open(SAMPLE_TMDB_SEED, "w", encoding="utf-8") as out:
        for key, status, body in rows:
            record = {
                "request_key": key,
                "status": status,
                "body": json.loads(body) if body else None,
                "fetched_at": "2026-11-21T00:00:00+00:00",
            }
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return len(rows)


if __name__ == "__main__":
    print(f"links.csv: {write_links()} films")
    print(f"responses.jsonl: {record_responses()} recorded TMDB answers")
