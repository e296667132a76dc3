"""From staging tables to references, and from resolved references to one row per film.

Field precedence in `movies` (first source that has a real value wins):
    title      TMDB title > MovieLens display title > MovieTweetings > INSPIRED db > mentions
    year       TMDB release year > MovieLens > MovieTweetings > INSPIRED db > mentions
    overview   TMDB overview > INSPIRED long plot > INSPIRED short plot
    genres     TMDB genres, else the union of MovieLens / MovieTweetings / INSPIRED genres,
               all in TMDB's vocabulary (reelreason.genres)
    runtime    TMDB runtime (0 / null = unknown) > INSPIRED runtime
    directors  TMDB crew with job Director > INSPIRED director
    cast       TMDB cast in billing order > INSPIRED actors
    keywords, poster_path, popularity, vote_average, vote_count: TMDB only
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

from reelreason.genres import unify_genres
from reelreason.resolve import Match, Reference
from reelreason.texts import clean, clean_list
from reelreason.titles import clean_mention_name

SOURCE_ORDER = ("ml1m", "movietweetings", "inspired_movies", "redial", "inspired_mention", "ccpe")
# The tables gather_references and ml_links_pairs read: the inputs of resolution and of the
# movies table (a test compares them with what the steps really read).
REFERENCE_TABLES = (
    "ml1m_movies",
    "ml1m_ratings",
    "ml_links",
    "movietweetings_movies",
    "movietweetings_ratings",
    "inspired_movies",
    "inspired_utterances",
    "inspired_dialogs",
    "redial_mentions",
    "ccpe_segments",
)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
        ).fetchone()[0]
    )


def ml_links_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(imdb_id, tmdb_id) of MovieLens links.csv, for the offline IMDb crosswalk."""
    if not _has_table(con, "ml_links"):
        return []
    return con.execute(
        "SELECT imdb_id, tmdb_id FROM ml_links WHERE imdb_id IS NOT NULL AND tmdb_id IS NOT NULL"
    ).fetchall()


def gather_references(con: duckdb.DuckDBPyConnection) -> tuple[list[Reference], dict]:
    """Every source's references to films, with the attributes each source knows.

    Returns (references, attributes keyed by (source, source_id))."""
    refs: list[Reference] = []
    attrs: dict[tuple[str, str], dict] = {}

    def add(ref: Reference, **a) -> None:
        refs.append(ref)
        attrs[(ref.source, ref.source_id)] = a

    has_links = _has_table(con, "ml_links")
    links = "LEFT JOIN ml_links l USING (movie_id)" if has_links else ""
    link_cols = "l.imdb_id, l.tmdb_id" if has_links else "NULL, NULL"
    for mid, title, alt, year, genres, imdb, tmdb, n in con.execute(
        f"""SELECT m.movie_id, m.title, m.alt_title, m.year, m.genres, {link_cols},
                   (SELECT count(*) FROM ml1m_ratings r WHERE r.movie_id = m.movie_id)
            FROM ml1m_movies m {links} ORDER BY m.movie_id"""
    ).fetchall():
        add(
            Reference("ml1m", str(mid), title, year, alt, imdb, tmdb, n),
            title=title,
            year=year,
            genres=genres,
        )
    for imdb, title, year, genres, n in con.execute(
        """SELECT m.imdb_id, m.title, m.year, m.genres,
                  (SELECT count(*) FROM movietweetings_ratings r WHERE r.imdb_id = m.imdb_id)
           FROM movietweetings_movies m ORDER BY m.imdb_id"""
    ).fetchall():
        add(
            Reference("movietweetings", imdb, title, year, imdb_id=imdb, count=n),
            title=title,
            year=year,
            genres=genres,
        )
    cols = _columns(con, "inspired_movies")

    def col(name: str) -> str:
        return name if name in cols else "NULL"

    for row in con.execute(
        f"""SELECT title_clean, year, {col("imdb_id")}, {col("genre")}, {col("director")},
                   {col("actors")}, {col("short_plot")}, {col("long_plot")}, {col("runtime")}
            FROM inspired_movies WHERE title_clean IS NOT NULL"""
    ).fetchall():
        title, year, imdb, genre, director, actors, short, long_, runtime = row
        imdb = imdb if isinstance(imdb, str) and imdb.startswith("tt") else None
        source_id = imdb or f"{title}|{year or ''}"
        if ("inspired_movies", source_id) in attrs:
            continue  # the database lists a few films twice
        add(
            Reference("inspired_movies", source_id, title, year, imdb_id=imdb),
            title=title,
            year=year,
            genres=genre or [],
            directors=[d.strip() for d in (director or "").split(",") if d.strip()],
            cast=actors or [],
            overview=clean(long_) or clean(short),
            runtime=runtime,
        )
    mention_counts: dict[str, int] = defaultdict(int)
    for (movies,) in con.execute("SELECT movies FROM inspired_utterances").fetchall():
        for m in movies:
            mention_counts[m] += 1
    for (movies,) in con.execute("SELECT movies FROM inspired_dialogs").fetchall():
        for m in movies:
            mention_counts.setdefault(m, 0)
    for raw, n in sorted(mention_counts.items()):
        title, year = clean_mention_name(raw)
        add(Reference("inspired_mention", raw, title, year, count=n), title=title, year=year)
    for movie_id, name, n in con.execute(
        """SELECT redial_movie_id, any_value(name_raw), count(*) FROM redial_mentions
           WHERE name_raw IS NOT NULL GROUP BY ALL ORDER BY 1"""
    ).fetchall():
        title, year = clean_mention_name(name)
        add(Reference("redial", movie_id, title, year, count=n), title=title, year=year)
    for span, n in con.execute(
        """SELECT trim(text), count(*) FROM ccpe_segments
           WHERE entity_type = 'MOVIE_OR_SERIES' AND annotation_type = 'ENTITY_NAME'
             AND trim(coalesce(text, '')) <> '' GROUP BY ALL ORDER BY 1"""
    ).fetchall():
        add(Reference("ccpe", span, span, None, count=n), title=span)
    return refs, attrs


def _first(*values):
    """The first real value: a non-empty list, a non-placeholder string, a number."""
    for v in values:
        if isinstance(v, list):
            if v:
                return v
        elif isinstance(v, str):
            if clean(v) is not None:
                return clean(v)
        elif v is not None and v == v:  # v == v is False for NaN
            return v
    return None


def build_movies(
    matches: list[Match], attrs: dict, details: dict[int, dict]
) -> tuple[list[dict], list[dict]]:
    """(movies rows, merge-review rows) from resolved references and TMDB details."""
    groups: dict[str, list[Match]] = defaultdict(list)
    for m in matches:
        groups[m.canonical_id].append(m)
    movies, review = [], []
    for movie_id, group in sorted(groups.items()):
        group.sort(key=lambda m: (SOURCE_ORDER.index(m.ref.source), m.ref.source_id))
        by_source: dict[str, list[dict]] = defaultdict(list)
        for m in group:
            by_source[m.ref.source].append(attrs.get((m.ref.source, m.ref.source_id), {}))
        tmdb_id = group[0].tmdb_id
        d = details.get(tmdb_id) if tmdb_id is not None else None
        d = d or {}

        def pick(field: str, order=SOURCE_ORDER, by_source=by_source):
            return _first(*[a.get(field) for s in order for a in by_source.get(s, [])])

        source_genres = [
            g
            for s in ("ml1m", "movietweetings", "inspired_movies")
            for a in by_source.get(s, [])
            for g in (a.get("genres") or [])
        ]
        row = {
            "movie_id": movie_id,
            "tmdb_id": tmdb_id,
            "imdb_id": _first(d.get("imdb_id"), *[m.ref.imdb_id for m in group]),
            "title": _first(d.get("title"), pick("title")),
            "original_title": d.get("original_title"),
            "year": _first(d.get("year"), pick("year")),
            "overview": _first(d.get("overview"), pick("overview", ("inspired_movies",))),
            "genres": unify_genres(d.get("genres") or source_genres),
            "runtime": _first(d.get("runtime"), pick("runtime", ("inspired_movies",))),
            "directors": clean_list(
                _first(d.get("directors"), pick("directors", ("inspired_movies",))) or []
            ),
            "cast": clean_list(_first(d.get("cast"), pick("cast", ("inspired_movies",))) or []),
            "keywords": clean_list(d.get("keywords") or []),
            "poster_path": d.get("poster_path"),
            "popularity": d.get("popularity"),
            "vote_average": d.get("vote_average"),
            "vote_count": d.get("vote_count"),
            "enriched": bool(d),
            "sources": sorted({m.ref.source for m in group}, key=SOURCE_ORDER.index),
            "n_references": len(group),
            "n_ratings": sum(
                m.ref.count for m in group if m.ref.source in ("ml1m", "movietweetings")
            ),
            "n_mentions": sum(
                m.ref.count for m in group if m.ref.source in ("redial", "inspired_mention", "ccpe")
            ),
        }
        movies.append(row)
        years = sorted({m.ref.year for m in group if m.ref.year is not None})
        if tmdb_id is not None and years and years[-1] - years[0] > 1:
            review.append(
                {
                    "movie_id": movie_id,
                    "tmdb_id": tmdb_id,
                    "title": row["title"],
                    "year": row["year"],
                    "source_years": years,
                    "year_spread": years[-1] - years[0],
                    "references": [
                        f"{m.ref.source}:{m.ref.source_id} ({m.ref.year}) {m.method}" for m in group
                    ],
                }
            )
    return movies, review
