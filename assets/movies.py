"""Movie resolution: cross-source crosswalk, TMDB details, one canonical movie table, texts."""

import functools
import hashlib
from collections import Counter
from pathlib import Path

import dagster as dg
import pyarrow as pa

from assets.incremental import Step
from assets.write_path import lake_step
from pipelines.resources import TmdbResource
from reelreason.canonical import (
    REFERENCE_TABLES,
    SOURCE_ORDER,
    build_movies,
    gather_references,
    ml_links_pairs,
)
from reelreason.enrich import FetchReport, ResponseCache, fetch_through_cache, parse_details
from reelreason.parse.common import Parsed
from reelreason.resolve import Match, Resolver, imdb_crosswalk
from reelreason.texts import (
    TEMPLATE_VERSION,
    clean_title,
    estimate_tokens,
    movie_text,
    text_sha256,
)
from reelreason.tmdb import movie_details
from schemas import arrow_schema

GROUP = "movies"


def _report_metadata(report: FetchReport, reason: str | None) -> dict:
    return {
        "tmdb_status": reason or "enriched through the TMDB API and its cache",
        "tmdb_cache_hits": report.cache_hits,
        "tmdb_requests_fetched": report.fetched,
        "tmdb_not_fetched": len(report.not_fetched),
        "tmdb_stale_cache_used": report.stale_used,
        "tmdb_http": dg.MetadataValue.json(report.client_stats or {}),
    }


@functools.cache
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tmdb_seed_inputs(tmdb: TmdbResource, **_) -> dict:
    """A TMDB-backed step: the pre-seeded answers are an input too."""
    seed = Path(tmdb.seed_file) if tmdb.seed_file else None
    if seed is None or not seed.is_file():
        return {}
    st = seed.stat()
    return {"tmdb_seed_sha256": _file_sha256(str(seed), st.st_size, st.st_mtime_ns)}


def _record_freshness(step: Step, report: FetchReport, cache: ResponseCache, client) -> None:
    """With a client, cached answers older than the TTL are asked again: so must a rerun."""
    if client is not None and report.oldest_used is not None:
        step.expire_at(report.oldest_used + cache.ttl)


def _tmdb_edge(step: Step, tmdb: TmdbResource):
    """(response cache, pre-seeded when the profile ships answers; client or None; reason)."""
    cache = ResponseCache(step.warehouse.lake, ttl_days=tmdb.ttl_days)
    if tmdb.seed_file:
        cache.seed(Path(tmdb.seed_file), run_id=step.context.run.run_id)
    return cache, tmdb.client(step.context.log), tmdb.unavailable_reason()


@dg.asset(
    group_name=GROUP,
    kinds={"python", "duckdb"},
    deps=REFERENCE_TABLES,
    description="Every source's reference to a film -> one canonical movie id, with the match "
    "method (movielens_links, imdb_links = the offline IMDb crosswalk, imdb_find, "
    "title_year_exact, title_search, ..., unresolved), confidence and the chosen TMDB "
    "candidate. Matches locally before asking TMDB; resolution per source and method in the "
    "metadata.",
)
@lake_step(source="movies", inputs=tmdb_seed_inputs)
def movie_xref(step: Step, tmdb: TmdbResource) -> Parsed:
    context, run_id = step.context, step.context.run.run_id
    cache, client, reason = _tmdb_edge(step, tmdb)
    if reason:
        context.log.warning(reason)
    report = FetchReport()
    with step.session() as con:
        refs, _ = gather_references(con)
        crosswalk = imdb_crosswalk(ml_links_pairs(con))
    context.log.info(f"resolving {len(refs):,} film references from {len(SOURCE_ORDER)} sources")
    resolver = Resolver(
        imdb_to_tmdb=crosswalk,
        fetch=lambda reqs: fetch_through_cache(
            reqs,
            cache=cache,
            client=client,
            run_id=run_id,
            report=report,
            log=context.log.info,
        ),
    )
    matches = resolver.run(refs)
    rows = [
        {
            "source": m.ref.source,
            "source_id": m.ref.source_id,
            "source_title": m.ref.title,
            "source_year": m.ref.year,
            "movie_id": m.canonical_id,
            "tmdb_id": m.tmdb_id,
            "match_method": m.method,
            "confidence": m.confidence,
            "candidate_title": m.candidate.title if m.candidate else None,
            "candidate_year": m.candidate.year if m.candidate else None,
            "note": m.note,
            "reference_count": m.ref.count,
        }
        for m in matches
    ]
    table = pa.Table.from_pylist(rows, schema=arrow_schema("movie_xref"))
    _record_freshness(step, report, cache, client)
    rates = resolution_rates(matches)
    methods = Counter(m.method for m in matches)
    step.describe(
        "movie_xref",
        coverage=dg.MetadataValue.md(resolution_markdown(rates)),
        # one number per source, so the Plots tab charts resolution build over build
        **{f"resolved_share/{src}": r["resolved_share"] for src, r in rates.items()},
        imdb_crosswalk_size=len(crosswalk),
        match_methods=dg.MetadataValue.json(dict(methods.most_common())),
        unresolved=methods.get("unresolved", 0),
        **_report_metadata(report, reason),
    )
    return Parsed({"movie_xref": table})


@dg.asset(
    group_name=GROUP,
    kinds={"python", "duckdb"},
    deps=[movie_xref],
    description="TMDB details of every resolved film (one request each: "
    "append_to_response=credits,keywords): overview, genres, runtime, directors, cast in "
    "billing order, keywords, poster, popularity, votes. Served from the response cache.",
)
@lake_step(source="tmdb", inputs=tmdb_seed_inputs)
def tmdb_movies(step: Step, tmdb: TmdbResource) -> Parsed:
    context, run_id = step.context, step.context.run.run_id
    cache, client, reason = _tmdb_edge(step, tmdb)
    with step.session() as con:
        ids = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT tmdb_id FROM movie_xref WHERE tmdb_id IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
    report = FetchReport()
    answers = fetch_through_cache(
        [movie_details(i) for i in ids],
        cache=cache,
        client=client,
        run_id=run_id,
        report=report,
        log=context.log.info,
    )
    rows, not_found = [], []
    for i in ids:
        resp = answers.get(movie_details(i).key)
        if resp is not None and resp.status == "ok":
            rows.append(parse_details(resp.body))
        elif resp is not None:
            not_found.append(i)
    table = pa.Table.from_pylist(rows, schema=arrow_schema("tmdb_movies"))
    _record_freshness(step, report, cache, client)
    step.describe(
        "tmdb_movies",
        resolved_films=len(ids),
        details_missing=len(ids) - len(rows),
        tmdb_not_found=dg.MetadataValue.json(not_found[:50]),
        **_report_metadata(report, reason),
    )
    return Parsed({"tmdb_movies": table})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "movies",
            group_name=GROUP,
            kinds={"python", "pandera"},
            deps=[movie_xref, tmdb_movies, *REFERENCE_TABLES],
            description="One row per film: TMDB id when resolved, else a stable "
            "`local:` surrogate; best value per field by a documented precedence; "
            "unified genres; which sources know it and how often.",
        ),
        dg.AssetSpec(
            "movie_merge_review",
            group_name=GROUP,
            kinds={"python", "pandera"},
            deps=[movie_xref, tmdb_movies, *REFERENCE_TABLES],
            description="Suspicious merges to review: one TMDB id whose sources' years "
            "differ by more than 1.",
        ),
    ],
    can_subset=False,
)
@lake_step(source="movies")
def movies_tables(step: Step) -> Parsed:
    with step.session() as con:
        refs, attrs = gather_references(con)
        xref = {
            (s, i): (mid, tmdb_id)
            for s, i, mid, tmdb_id in con.execute(
                "SELECT source, source_id, movie_id, tmdb_id FROM movie_xref"
            ).fetchall()
        }
        details = {
            r["tmdb_id"]: r for r in con.execute("FROM tmdb_movies").to_arrow_table().to_pylist()
        }
    matches = []
    for ref in refs:
        movie_id, tmdb_id = xref[(ref.source, ref.source_id)]
        matches.append(Match(ref, tmdb_id=tmdb_id, linked_id=movie_id))
    movies, review = build_movies(matches, attrs, details)
    step.describe(
        "movies",
        enriched_films=sum(1 for m in movies if m["enriched"]),
        surrogate_ids=sum(1 for m in movies if m["tmdb_id"] is None),
        films_per_source=dg.MetadataValue.json(
            dict(Counter(s for m in movies for s in m["sources"]))
        ),
    )
    return Parsed(
        {
            "movies": pa.Table.from_pylist(movies, schema=arrow_schema("movies")),
            "movie_merge_review": pa.Table.from_pylist(
                review, schema=arrow_schema("movie_merge_review")
            ),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "pandera"},
    deps=["movies"],
    description=f"One rich description per film ({TEMPLATE_VERSION}): title and year, genres, "
    "director, top-5 cast, plot, top-15 keywords. Absent fields are left out; never 'nan'.",
)
@lake_step(source="movies")
def movie_texts(step: Step) -> Parsed:
    with step.session() as con:
        films = con.execute("FROM movies ORDER BY movie_id").to_arrow_table().to_pylist()
    rows, undescribed = [], []
    for f in films:
        fields = {
            "title": f["title"],
            "year": f["year"],
            "genres": f["genres"],
            "directors": f["directors"],
            "cast": f["cast"],
            "overview": f["overview"],
            "keywords": f["keywords"],
        }
        text = movie_text(**fields)
        if not text:  # nothing real to say: left out with the reason, never an empty text
            undescribed.append(
                {
                    "file": "table:movies",
                    "line": None,
                    "raw": f["movie_id"],
                    "reason": f"film {f['movie_id']} has no usable title, year, genres, people, "
                    "plot or keywords: nothing to describe",
                    "rule": "no usable title or other field",
                }
            )
            continue
        rows.append(
            {
                "movie_id": f["movie_id"],
                "text": text,
                "template_version": TEMPLATE_VERSION,
                "text_sha256": text_sha256(text),
                "n_tokens_est": estimate_tokens(text),
                "fields": [k for k, v in fields.items() if _present(k, v)],
            }
        )
    tokens = [r["n_tokens_est"] for r in rows] or [0]
    step.describe(
        "movie_texts",
        tokens_est_total=sum(tokens),
        tokens_est_max=max(tokens),
        example=dg.MetadataValue.md(rows[0]["text"] if rows else "_(none)_"),
    )
    table = pa.Table.from_pylist(rows, schema=arrow_schema("movie_texts"))
    return Parsed({"movie_texts": table}, quarantine={"movie_texts": undescribed})


def resolution_rates(matches: list[Match]) -> dict[str, dict]:
    """Per source: references, resolved to TMDB, share, and references per match method."""
    rates: dict[str, dict] = {}
    for source in SOURCE_ORDER:
        mine = [m for m in matches if m.ref.source == source]
        if not mine:
            continue
        hit = sum(1 for m in mine if m.tmdb_id is not None)
        rates[source] = {
            "references": len(mine),
            "resolved": hit,
            "resolved_share": round(hit / len(mine), 4),
            "methods": dict(Counter(m.method for m in mine).most_common()),
        }
    return rates


def resolution_markdown(rates: dict[str, dict]) -> str:
    lines = [
        "| source | references | resolved to TMDB | share | by method |",
        "|---|---:|---:|---:|---|",
    ]
    for source, r in rates.items():
        methods = ", ".join(f"{k} {v:,}" for k, v in r["methods"].items())
        lines.append(
            f"| {source} | {r['references']:,} | {r['resolved']:,} | "
            f"{r['resolved_share']:.1%} | {methods} |"
        )
    return "\n".join(lines)


def _present(field: str, value) -> bool:
    if field == "title":
        return clean_title(value) is not None
    return value not in (None, [], "")


movie_assets = [movie_xref, tmdb_movies, movies_tables, movie_texts]
