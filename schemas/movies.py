"""Pandera models of the movie-resolution tables."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from reelreason.genres import TMDB_GENRES
from reelreason.resolve import CONFIDENCE
from reelreason.texts import _PLACEHOLDERS
from schemas.staging import IMDB_ID, Int16, Int32, Int64, Table

MOVIE_ID = r"^(tmdb:\d+|local:[0-9a-f]{16})$"
SOURCES = ["ml1m", "movietweetings", "inspired_movies", "inspired_mention", "redial", "ccpe"]


class MovieXref(Table):
    source: Series[str] = pa.Field(isin=SOURCES)
    source_id: Series[str]
    source_title: Series[str] = pa.Field(nullable=True)
    source_year: Series[Int16] = pa.Field(nullable=True)
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID)
    tmdb_id: Series[Int64] = pa.Field(nullable=True, gt=0)
    match_method: Series[str] = pa.Field(isin=list(CONFIDENCE))
    confidence: Series[float] = pa.Field(ge=0, le=1)
    candidate_title: Series[str] = pa.Field(nullable=True)
    candidate_year: Series[Int16] = pa.Field(nullable=True)
    note: Series[str] = pa.Field(nullable=True)
    reference_count: Series[Int64] = pa.Field(ge=0)

    @pa.dataframe_check(error="(source, source_id) must be unique")
    @classmethod
    def _one_row_per_reference(cls, df: pd.DataFrame) -> bool:
        return not df.duplicated(["source", "source_id"]).any()

    @pa.dataframe_check(error="movie_id must be tmdb:<tmdb_id> when resolved, local:... if not")
    @classmethod
    def _ids_agree(cls, df: pd.DataFrame) -> bool:
        resolved = df["tmdb_id"].notna()
        expected = "tmdb:" + df.loc[resolved, "tmdb_id"].astype("int64").astype(str)
        local = df.loc[~resolved, "movie_id"].str.startswith("local:").all()
        return bool((df.loc[resolved, "movie_id"] == expected).all() and local)


class TmdbMovies(Table):
    tmdb_id: Series[Int64] = pa.Field(unique=True, gt=0)
    imdb_id: Series[str] = pa.Field(nullable=True, str_matches=IMDB_ID)
    title: Series[str] = pa.Field(nullable=True)
    original_title: Series[str] = pa.Field(nullable=True)
    original_language: Series[str] = pa.Field(nullable=True)
    release_date: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{4}-\d{2}-\d{2}$")
    year: Series[Int16] = pa.Field(nullable=True)
    overview: Series[str] = pa.Field(nullable=True)
    tagline: Series[str] = pa.Field(nullable=True)
    genres: Series[object]
    runtime: Series[Int32] = pa.Field(nullable=True, gt=0)
    directors: Series[object]
    cast: Series[object]
    keywords: Series[object]
    poster_path: Series[str] = pa.Field(nullable=True)
    popularity: Series[float] = pa.Field(nullable=True, ge=0)
    vote_average: Series[float] = pa.Field(nullable=True, ge=0, le=10)
    vote_count: Series[Int64] = pa.Field(nullable=True, ge=0)
    _list_columns = ("genres", "directors", "cast", "keywords")


class Movies(Table):
    movie_id: Series[str] = pa.Field(unique=True, str_matches=MOVIE_ID)
    tmdb_id: Series[Int64] = pa.Field(nullable=True, gt=0)
    imdb_id: Series[str] = pa.Field(nullable=True, str_matches=IMDB_ID)
    title: Series[str] = pa.Field(nullable=True)
    original_title: Series[str] = pa.Field(nullable=True)
    year: Series[Int16] = pa.Field(nullable=True, ge=1870, le=2100)
    overview: Series[str] = pa.Field(nullable=True)
    genres: Series[object]
    runtime: Series[Int32] = pa.Field(nullable=True, gt=0)
    directors: Series[object]
    cast: Series[object]
    keywords: Series[object]
    poster_path: Series[str] = pa.Field(nullable=True)
    popularity: Series[float] = pa.Field(nullable=True, ge=0)
    vote_average: Series[float] = pa.Field(nullable=True, ge=0, le=10)
    vote_count: Series[Int64] = pa.Field(nullable=True, ge=0)
    enriched: Series[bool]
    sources: Series[object]
    n_references: Series[Int32] = pa.Field(ge=1)
    n_ratings: Series[Int64] = pa.Field(ge=0)
    n_mentions: Series[Int64] = pa.Field(ge=0)
    _list_columns = ("genres", "directors", "cast", "keywords", "sources")

    @pa.check("genres", element_wise=True, error="genre outside the unified TMDB vocabulary")
    @classmethod
    def _unified(cls, value) -> bool:
        return all(g in TMDB_GENRES for g in value)


class MovieMergeReview(Table):
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID)
    tmdb_id: Series[Int64] = pa.Field(gt=0)
    title: Series[str] = pa.Field(nullable=True)
    year: Series[Int16] = pa.Field(nullable=True)
    source_years: Series[object]
    year_spread: Series[Int16] = pa.Field(gt=1)
    references: Series[object]


class MovieTexts(Table):
    movie_id: Series[str] = pa.Field(unique=True, str_matches=MOVIE_ID)
    text: Series[str] = pa.Field(str_length={"min_value": 1})
    template_version: Series[str]
    text_sha256: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    n_tokens_est: Series[Int32] = pa.Field(ge=1)
    fields: Series[object]
    _list_columns = ("fields",)

    @pa.check("text", error="placeholder word (nan/None/null) or empty label in a movie text")
    @classmethod
    def _no_placeholders(cls, s: Series[str]) -> Series[bool]:
        # A placeholder standing where a value goes (prose may say "an unknown organism").
        words = "|".join(w for w in _PLACEHOLDERS if w.isalpha()) + "|n/a"
        placeholder = s.str.contains(
            rf"(?:^|: |, |\()(?:{words})(?=[.,)]|$)", case=False, regex=True
        )
        empty_label = s.str.contains(r"[A-Za-z]+: (?:\.|,|$)", regex=True)
        return ~(placeholder | empty_label)
