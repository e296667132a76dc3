"""TMDB answers through a response cache kept in the warehouse (`tmdb_responses`).

The cache is keyed by request (path + sorted parameters, never credentials) and is
append-only: a refetch adds a newer row. Answers are committed in batches while a run
fetches, so an interrupted run resumes where it stopped. Entries older than the TTL are
refetched when a client is available; without one (offline, no credentials) they are used
as they are and counted as stale.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from reelreason.tmdb import Request, Response, TmdbClient, canonical_json
from reelreason.warehouse import LAKE, Warehouse

CACHE_SCHEMA = pa.schema(
    [
        ("request_key", pa.string()),
        ("status", pa.string()),
        ("body", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("origin", pa.string()),
        ("run_id", pa.string()),
    ]
)


@dataclass
class FetchReport:
    cache_hits: int = 0
    stale_used: int = 0
    fetched: int = 0
    not_fetched: list[str] = field(default_factory=list)
    seconds: float = 0.0
    client_stats: dict = field(default_factory=dict)
    # Fetch time of the oldest cached answer used as fresh: the result is only as current as
    # that answer, and a rerun after it expires must ask TMDB again.
    oldest_used: datetime | None = None

    def used(self, fetched_at: datetime) -> None:
        if self.oldest_used is None or fetched_at < self.oldest_used:
            self.oldest_used = fetched_at


class ResponseCache:
    def __init__(self, warehouse: Warehouse, ttl_days: float = 30.0):
        self.warehouse = warehouse
        self.ttl = timedelta(days=ttl_days)

    def lookup(self, keys: Iterable[str]) -> dict[str, tuple[Response, datetime]]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        with self.warehouse.session() as con:
            con.register("wanted_keys", pa.table({"k": keys}))
            rows = con.execute(
                f"""SELECT request_key, arg_max(status, fetched_at), arg_max(body, fetched_at),
                           max(fetched_at)
                    FROM {LAKE}.tmdb_responses JOIN wanted_keys ON request_key = k
                    GROUP BY request_key"""
            ).fetchall()
            con.unregister("wanted_keys")
        return {
            k: (Response(k, status, json.loads(body) if body else None), at)
            for k, status, body, at in rows
        }

    def store(self, responses: list[Response], *, run_id: str, origin: str = "api") -> None:
        if not responses:
            return
        now = datetime.now(timezone.utc)
        table = pa.Table.from_pylist(
            [
                {
                    "request_key": r.key,
                    "status": r.status,
                    "body": canonical_json(r.body),
                    "fetched_at": now,
                    "origin": origin,
                    "run_id": run_id,
                }
                for r in responses
            ],
            schema=CACHE_SCHEMA,
        )
        self.warehouse.append_rows("tmdb_responses", table, run_id=run_id)

    def seed(self, path: Path, *, run_id: str) -> int:
        """Load a JSONL of recorded responses for keys the cache does not have yet."""
        if not path.is_file():
            return 0
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        have = self.lookup(r["request_key"] for r in records)
        new = [r for r in records if r["request_key"] not in have]
        if new:
            table = pa.Table.from_pylist(
                [
                    {
                        "request_key": r["request_key"],
                        "status": r["status"],
                        "body": canonical_json(r["body"]),
                        "fetched_at": datetime.fromisoformat(r["fetched_at"]),
                        "origin": "seed",
                        "run_id": run_id,
                    }
                    for r in new
                ],
                schema=CACHE_SCHEMA,
            )
            self.warehouse.append_rows("tmdb_responses", table, run_id=run_id)
        return len(new)


def fetch_through_cache(
    requests_: Iterable[Request],
    *,
    cache: ResponseCache,
    client: TmdbClient | None,
    run_id: str,
    report: FetchReport,
    flush_every: int = 200,
    log: Callable[[str], None] = lambda msg: None,
) -> dict[str, Response]:
    """Answers for the requests: fresh cache entries, else TMDB (if a client is given)."""
    wanted = {r.key: r for r in requests_}
    start = time.monotonic()
    cached = cache.lookup(wanted)
    now = datetime.now(timezone.utc)
    answers: dict[str, Response] = {}
    missing: list[Request] = []
    for key, req in wanted.items():
        hit = cached.get(key)
        if hit and (client is None or now - hit[1] <= cache.ttl):
            answers[key] = hit[0]
            report.used(hit[1])
            report.cache_hits += 1
            report.stale_used += int(now - hit[1] > cache.ttl)
        else:
            missing.append(req)
    if client is None:
        report.not_fetched += [r.key for r in missing]
        for r in missing:  # a stale entry still beats nothing
            if r.key in cached:
                answers[r.key] = cached[r.key][0]
        return answers
    buffer: list[Response] = []
    done = 0
    last_log = time.monotonic()

    def on_response(resp: Response) -> None:
        nonlocal done, last_log
        answers[resp.key] = resp
        report.used(datetime.now(timezone.utc))
        buffer.append(resp)
        done += 1
        if len(buffer) >= flush_every:
            cache.store(buffer, run_id=run_id)
            buffer.clear()
        if time.monotonic() - last_log > 5 or done == len(missing):
            rate = done / max(time.monotonic() - start, 1e-9)
            log(f"TMDB: {done}/{len(missing)} fetched ({rate:.1f} req/s)")
            last_log = time.monotonic()

    try:
        client.get_many(missing, on_response)
    finally:
        cache.store(buffer, run_id=run_id)  # keep what we have, even when interrupted
        report.fetched += done
        report.seconds += time.monotonic() - start
        report.client_stats = dict(client.stats)
    return answers


def parse_details(body: dict, *, top_cast: int = 10) -> dict:
    """The fields of a `/movie/{id}?append_to_response=credits,keywords` answer we keep."""
    date = body.get("release_date") or ""
    credits = body.get("credits") or {}
    cast = sorted(credits.get("cast") or [], key=lambda c: c.get("order", 1 << 30))
    return {
        "tmdb_id": int(body["id"]),
        "imdb_id": body.get("imdb_id") or None,
        "title": body.get("title") or None,
        "original_title": body.get("original_title") or None,
        "original_language": body.get("original_language") or None,
        "release_date": date or None,
        "year": int(date[:4]) if date[:4].isdigit() else None,
        "overview": (body.get("overview") or "").strip() or None,
        "tagline": (body.get("tagline") or "").strip() or None,
        "genres": [g["name"] for g in body.get("genres") or [] if g.get("name")],
        "runtime": body.get("runtime") or None,  # TMDB uses 0 and null for unknown
        "directors": [
            c["name"]
            for c in credits.get("crew") or []
            if c.get("job") == "Director" and c.get("name")
        ],
        "cast": [c["name"] for c in cast[:top_cast] if c.get("name")],
        "keywords": [
            k["name"] for k in (body.get("keywords") or {}).get("keywords") or [] if k.get("name")
        ],
        "poster_path": body.get("poster_path") or None,
        "popularity": body.get("popularity"),
        "vote_average": body.get("vote_average"),
        "vote_count": body.get("vote_count"),
    }
