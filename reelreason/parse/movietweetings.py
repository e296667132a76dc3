"""MovieTweetings: `::`-separated, no header, UTF-8 (`{movies,ratings,users}.dat`).

Movie ids are numeric IMDb ids that are not reliably zero-padded (`25`, `0443`, `0013257`):
the IMDb id is built from the integer as `tt` + at least 7 digits. Users' Twitter ids are
personal data and never leave the parser.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from reelreason.parse.common import (
    RATED_AT_COLUMNS_SQL,
    RATING_EMPTY_FIELDS_SQL,
    RATING_TIME_PROBLEM_SQL,
    Parsed,
    read_checked,
)
from reelreason.titles import split_year

IMDB_ID_SQL = "printf('tt%07d', TRY_CAST({col} AS BIGINT))"
_ID_PROBLEM_SQL = """CASE WHEN NOT regexp_full_match({col}, '[0-9]{{1,10}}')
                          THEN 'movie id ' || {col} || ' is not a numeric IMDb id' END"""

MOVIES_SCHEMA = pa.schema(
    [
        ("imdb_id", pa.string()),
        ("movietweetings_id", pa.string()),
        ("title_raw", pa.string()),
        ("title", pa.string()),
        ("year", pa.int16()),
        ("genres", pa.list_(pa.string())),
    ]
)


def parse_movies(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    id_problem = _ID_PROBLEM_SQL.format(col="movie_id")
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        delim="::",
        columns={"movie_id": "VARCHAR", "title_raw": "VARCHAR", "genres_raw": "VARCHAR"},
        reason_sql=f"""coalesce({id_problem},
            CASE WHEN title_raw IS NULL THEN 'empty title'
                 WHEN rowid > min(rowid) OVER (PARTITION BY TRY_CAST(movie_id AS BIGINT))
                 THEN 'duplicate movie id ' || movie_id END)""",
    )
    rows = []
    for movie_id, imdb_id, title_raw, genres_raw in con.execute(
        f"SELECT movie_id, {IMDB_ID_SQL.format(col='movie_id')}, title_raw, genres_raw "
        f"FROM {tmp} ORDER BY rowid"
    ).fetchall():
        title, year = split_year(title_raw)
        rows.append(
            {
                "imdb_id": imdb_id,
                "movietweetings_id": movie_id,
                "title_raw": title_raw,
                "title": title,
                "year": year,
                # An empty genre field (line ends in `::`) is an empty list, not [''].
                "genres": [g for g in (genres_raw or "").split("|") if g],
            }
        )
    return Parsed.one_table(
        "movietweetings_movies",
        pa.Table.from_pylist(rows, schema=MOVIES_SCHEMA),
        quarantine,
        [account],
        {"empty_genre_rows": sum(1 for r in rows if not r["genres"])},
    )


def parse_ratings(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        delim="::",
        columns={"user_id": "INTEGER", "movie_id": "VARCHAR", "rating": "TINYINT", "ts": "BIGINT"},
        reason_sql=f"""coalesce(
            {RATING_EMPTY_FIELDS_SQL},
            {_ID_PROBLEM_SQL.format(col="movie_id")},
            CASE WHEN rating NOT BETWEEN 0 AND 10 THEN 'rating ' || rating || ' outside 0..10' END,
            {RATING_TIME_PROBLEM_SQL})""",
    )
    table = con.execute(
        f"""SELECT user_id, {IMDB_ID_SQL.format(col="movie_id")} AS imdb_id, rating,
                   CAST(rating / 2.0 AS DOUBLE) AS rating_5, {RATED_AT_COLUMNS_SQL}
            FROM {tmp} ORDER BY rowid"""
    ).to_arrow_table()
    return Parsed.one_table("movietweetings_ratings", table, quarantine, [account])


def parse_users(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        delim="::",
        columns={"user_id": "INTEGER", "twitter_id": "VARCHAR"},
        reason_sql="CASE WHEN user_id IS NULL THEN 'empty user_id' "
        "WHEN user_id <= 0 THEN 'user_id must be positive' END",
    )
    # Twitter ids are dropped here; only whether one was present survives.
    table = con.execute(
        f"SELECT user_id, twitter_id IS NOT NULL AND twitter_id <> '' AS has_twitter_id "
        f"FROM {tmp} ORDER BY rowid"
    ).to_arrow_table()
    # Quarantine keeps raw lines; blank out the id there too.
    for q in quarantine:
        q["raw"] = q["raw"].split("::")[0] + "::<twitter id removed>"
    return Parsed.one_table("movietweetings_users", table, quarantine, [account])
