"""MovieLens 1M: `::`-separated, no header, latin-1 (`ml-1m/{movies,ratings,users}.dat`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from reelreason.parse.common import (
    CSV_WITH_HEADER,
    RATED_AT_COLUMNS_SQL,
    RATING_EMPTY_FIELDS_SQL,
    RATING_TIME_PROBLEM_SQL,
    Parsed,
    detect_text_encoding,
    empty_fields_sql,
    read_checked,
)
from reelreason.titles import parse_movielens_title

ML_GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
ML_AGE_CODES = (1, 18, 25, 35, 45, 50, 56)

MOVIES_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int32()),
        ("title_raw", pa.string()),
        ("title", pa.string()),
        ("alt_title", pa.string()),
        ("year", pa.int16()),
        ("genres", pa.list_(pa.string())),
    ]
)


def parse_movies(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    encoding, note = detect_text_encoding(path, "latin-1")
    genres = ", ".join("'" + g.replace("'", "''") + "'" for g in ML_GENRES)
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        delim="::",
        encoding=encoding,
        columns={"movie_id": "INTEGER", "title_raw": "VARCHAR", "genres_raw": "VARCHAR"},
        reason_sql=f"""CASE WHEN movie_id IS NULL THEN 'empty movie_id'
                           WHEN movie_id <= 0 THEN 'movie_id must be positive'
                           WHEN title_raw IS NULL OR trim(title_raw) = '' THEN 'empty title'
                           WHEN count(*) OVER (PARTITION BY movie_id) > 1
                                AND rowid > min(rowid) OVER (PARTITION BY movie_id)
                                THEN 'duplicate movie_id ' || movie_id
                           WHEN len(list_filter(string_split(coalesce(genres_raw, ''), '|'),
                                    lambda g: g <> '' AND g NOT IN ({genres}))) > 0
                                THEN 'unknown genre in ' || genres_raw END""",
    )
    rows = []
    for movie_id, title_raw, genres_raw in con.execute(
        f"SELECT movie_id, title_raw, genres_raw FROM {tmp} ORDER BY rowid"
    ).fetchall():
        genres = [g for g in (genres_raw or "").split("|") if g]
        title, alt, year = parse_movielens_title(title_raw)
        rows.append(
            {
                "movie_id": movie_id,
                "title_raw": title_raw,
                "title": title,
                "alt_title": alt,
                "year": year,
                "genres": genres,
            }
        )
    notes = {"encoding": encoding}
    if note:
        notes["encoding_note"] = note
    table = pa.Table.from_pylist(rows, schema=MOVIES_SCHEMA)
    return Parsed.one_table("ml1m_movies", table, quarantine, [account], notes)


# ratings.dat and users.dat: `::`-separated, latin-1 (movies.dat: its encoding is detected).
ML1M_DAT = {"delim": "::", "encoding": "latin-1"}


def parse_ratings(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        **ML1M_DAT,
        columns={"user_id": "INTEGER", "movie_id": "INTEGER", "rating": "TINYINT", "ts": "BIGINT"},
        reason_sql=f"""coalesce({RATING_EMPTY_FIELDS_SQL},
            CASE WHEN rating NOT BETWEEN 1 AND 5 THEN 'rating ' || rating || ' outside 1..5' END,
            {RATING_TIME_PROBLEM_SQL})""",
    )
    table = con.execute(
        f"SELECT user_id, movie_id, rating, {RATED_AT_COLUMNS_SQL} FROM {tmp} ORDER BY rowid"
    ).to_arrow_table()
    return Parsed.one_table("ml1m_ratings", table, quarantine, [account])


def parse_users(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    ages = ", ".join(map(str, ML_AGE_CODES))
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        **ML1M_DAT,
        columns={
            "user_id": "INTEGER",
            "gender": "VARCHAR",
            "age_code": "TINYINT",
            "occupation_code": "TINYINT",
            "zip": "VARCHAR",
        },
        reason_sql=f"""coalesce({empty_fields_sql("user_id", "gender", "age_code", "occupation_code")},
            CASE WHEN gender NOT IN ('M', 'F') THEN 'gender ' || gender || ' not M/F'
                 WHEN age_code NOT IN ({ages}) THEN 'unknown age code ' || age_code
                 WHEN occupation_code NOT BETWEEN 0 AND 20
                     THEN 'unknown occupation code ' || occupation_code END)""",
    )
    table = con.execute(
        f"SELECT user_id, gender, age_code, occupation_code, zip FROM {tmp} ORDER BY rowid"
    ).to_arrow_table()
    return Parsed.one_table("ml1m_users", table, quarantine, [account])


LINKS_SCHEMA = pa.schema(
    [("movie_id", pa.int32()), ("imdb_id", pa.string()), ("tmdb_id", pa.int64())]
)


def parse_links(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    """`links.csv` of a current MovieLens release: movieId -> imdbId (digits), tmdbId."""
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        **CSV_WITH_HEADER,
        columns={"movieId": "INTEGER", "imdbId": "VARCHAR", "tmdbId": "BIGINT"},
        reason_sql="""CASE WHEN movieId IS NULL OR movieId <= 0 THEN 'movieId must be positive'
            WHEN imdbId IS NOT NULL AND NOT regexp_full_match(imdbId, '[0-9]{1,10}')
                THEN 'imdbId ' || imdbId || ' is not numeric'
            WHEN rowid > min(rowid) OVER (PARTITION BY movieId)
                THEN 'duplicate movieId ' || movieId END""",
    )
    table = con.execute(
        f"""SELECT movieId AS movie_id,
                   CASE WHEN imdbId IS NULL THEN NULL
                        ELSE printf('tt%07d', CAST(imdbId AS BIGINT)) END AS imdb_id,
                   CASE WHEN tmdbId > 0 THEN tmdbId END AS tmdb_id
            FROM {tmp} ORDER BY rowid"""
    ).to_arrow_table()
    return Parsed.one_table("ml_links", table.cast(LINKS_SCHEMA), quarantine, [account])
