"""Pandera models of the movie-resolution tables."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from reelreason.genres import TMDB_GENRES
from reelreason.resolve import CONFIDENCE
from reelreason.texts import text_is_clean
from schemas.arrow import arrow
from schemas.staging import IMDB_ID, Int16, Int32, Int64, Table

MOVIE_ID = r"^(tmdb:\d+|local:[0-9a-f]{16})$"
SOURCES = ["ml1m", "movietweetings", "inspired_movies", "inspired_mention", "redial", "ccpe"]


class MovieXref(Table):
    """Every reference a source makes to a film, resolved to one `movie_id` (one row per
    (source, source id)); `match_method` and `confidence` say how sure the match is."""

    source: Series[str] = pa.Field(
        isin=SOURCES,
        description="which source refers to the film (`inspired_mention` = a film named in an "
        "INSPIRED dialog, `inspired_movies` = its movie database)",
    )
    source_id: Series[str] = pa.Field(
        description="the film's id in that source: MovieLens id, IMDb id, ReDial id, or the "
        "title as written (INSPIRED mentions, CCPE)"
    )
    source_title: Series[str] = pa.Field(nullable=True, description="title the source gives")
    source_year: Series[Int16] = pa.Field(nullable=True, description="year the source gives")
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")
    tmdb_id: Series[Int64] = pa.Field(
        nullable=True, gt=0, description="TMDB id when resolved, else NULL"
    )
    match_method: Series[str] = pa.Field(
        isin=list(CONFIDENCE), description="how the reference was resolved, surest first"
    )
    confidence: Series[float] = pa.Field(
        ge=0, le=1, description="the method's confidence × title similarity"
    )
    candidate_title: Series[str] = pa.Field(nullable=True, description="the chosen film's title")
    candidate_year: Series[Int16] = pa.Field(nullable=True, description="the chosen film's year")
    note: Series[str] = pa.Field(nullable=True, description="why, when unsure or unresolved")
    reference_count: Series[Int64] = pa.Field(
        ge=0, description="ratings or mentions behind this reference"
    )

    _key = ("source", "source_id")

    @pa.dataframe_check(error="movie_id must be tmdb:<tmdb_id> when resolved, local:... if not")
    @classmethod
    def _ids_agree(cls, df: pd.DataFrame) -> pd.Series:
        resolved = df["tmdb_id"].notna()
        expected = "tmdb:" + df["tmdb_id"].astype("Int64").astype("string")
        return (resolved & (df["movie_id"] == expected).fillna(False)) | (
            ~resolved & df["movie_id"].str.startswith("local:")
        )


class _TmdbFilmTail(Table):
    """The TMDB columns `tmdb_movies` and `movies` share, declared once. A base class listed
    first in a model's bases puts its columns last (pandera collects fields from the most
    basic class up), after the model's own head."""

    directors: Series[object] = pa.Field(description="directors")
    cast: Series[object] = pa.Field(description="cast in billing order")
    keywords: Series[object] = pa.Field(description="TMDB keywords")
    poster_path: Series[str] = pa.Field(nullable=True, description="TMDB image path")
    popularity: Series[float] = pa.Field(nullable=True, ge=0, description="TMDB popularity")
    vote_average: Series[float] = pa.Field(nullable=True, ge=0, le=10, description="mean TMDB vote")
    vote_count: Series[Int64] = pa.Field(nullable=True, ge=0, description="TMDB votes")


class _TmdbMoviesHead(Table):
    tmdb_id: Series[Int64] = pa.Field(unique=True, gt=0, description="TMDB film id")
    imdb_id: Series[str] = pa.Field(nullable=True, str_matches=IMDB_ID, description="IMDb id")
    title: Series[str] = pa.Field(nullable=True, description="TMDB title")
    original_title: Series[str] = pa.Field(nullable=True, description="title in its language")
    original_language: Series[str] = pa.Field(nullable=True, description="ISO 639-1 code")
    release_date: Series[str] = pa.Field(
        nullable=True, str_matches=r"^\d{4}-\d{2}-\d{2}$", description="`YYYY-MM-DD`"
    )
    year: Series[Int16] = pa.Field(nullable=True, description="year of `release_date`")
    overview: Series[str] = pa.Field(nullable=True, description="plot summary")
    tagline: Series[str] = pa.Field(nullable=True, description="tagline")
    genres: Series[object] = pa.Field(description="TMDB genres")
    runtime: Series[Int32] = pa.Field(nullable=True, gt=0, description="minutes (TMDB's 0 → NULL)")


class TmdbMovies(_TmdbFilmTail, _TmdbMoviesHead):
    """TMDB details of every resolved film (`/movie/{id}?append_to_response=credits,keywords`),
    one row per TMDB film."""

    _list_columns = ("genres", "directors", "cast", "keywords")


class _MoviesHead(Table):
    movie_id: Series[str] = pa.Field(
        unique=True,
        str_matches=MOVIE_ID,
        description="`tmdb:<id>` when resolved, else a stable `local:<hash of title and year>`",
    )
    tmdb_id: Series[Int64] = pa.Field(nullable=True, gt=0, description="TMDB id")
    imdb_id: Series[str] = pa.Field(nullable=True, str_matches=IMDB_ID, description="IMDb id")
    title: Series[str] = pa.Field(
        nullable=True, description="TMDB > MovieLens > MovieTweetings > INSPIRED > mentions"
    )
    original_title: Series[str] = pa.Field(nullable=True, description="title in its language")
    year: Series[Int16] = pa.Field(
        nullable=True, ge=1870, le=2100, description="release year, same precedence as `title`"
    )
    overview: Series[str] = pa.Field(
        nullable=True, description="TMDB > INSPIRED long plot > short plot"
    )
    genres: Series[object] = pa.Field(
        description="TMDB's 19-genre vocabulary (source genres mapped into it)"
    )
    runtime: Series[Int32] = pa.Field(nullable=True, gt=0, description="minutes")


class Movies(_TmdbFilmTail, _MoviesHead):
    """One row per film across all sources: the best value per field (TMDB first, then the
    sources; README, "Movie resolution")."""

    enriched: Series[bool] = pa.Field(description="TMDB details were found")
    sources: Series[object] = pa.Field(description="sources that refer to the film")
    n_references: Series[Int32] = pa.Field(ge=1, description="rows in `movie_xref`")
    n_ratings: Series[Int64] = pa.Field(ge=0, description="MovieLens + MovieTweetings ratings")
    n_mentions: Series[Int64] = pa.Field(ge=0, description="mentions in ReDial, INSPIRED, CCPE")
    _list_columns = ("genres", "directors", "cast", "keywords", "sources")

    @pa.check("genres", element_wise=True, error="genre outside the unified TMDB vocabulary")
    @classmethod
    def _unified(cls, value) -> bool:
        return all(g in TMDB_GENRES for g in value)


class MovieMergeReview(Table):
    """Suspicious merges for a person to check: one TMDB id whose sources' years differ by
    more than 1, with every reference."""

    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")
    tmdb_id: Series[Int64] = pa.Field(gt=0, description="TMDB id")
    title: Series[str] = pa.Field(nullable=True, description="title in `movies`")
    year: Series[Int16] = pa.Field(nullable=True, description="year in `movies`")
    source_years: Series[object] = pa.Field(
        description="distinct years the sources give", metadata=arrow("list<int16>")
    )
    year_spread: Series[Int16] = pa.Field(gt=1, description="latest − earliest source year")
    references: Series[object] = pa.Field(
        description="each reference as `source:source_id (year) match_method`",
        metadata=arrow("list<string>"),
    )


class MovieTexts(Table):
    """The text embedded per film: `Title: Heat (1995). Genres: … Director: … Cast: (top 5)
    … Plot: … Keywords: (top 15) …`; absent fields are left out, never written as
    "nan" / "None" / an empty label."""

    movie_id: Series[str] = pa.Field(
        unique=True, str_matches=MOVIE_ID, description="the film (`movies`)"
    )
    text: Series[str] = pa.Field(str_length={"min_value": 1}, description="the description")
    template_version: Series[str] = pa.Field(description="text template (`movie-text-v1`)")
    text_sha256: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{64}$", description="sha256 of `text` (the embedding cache key)"
    )
    n_tokens_est: Series[Int32] = pa.Field(ge=1, description="estimated tokens")
    fields: Series[object] = pa.Field(description="fields present (`title`, `year`, `genres`, …)")
    _list_columns = ("fields",)

    @pa.check("text", error="placeholder word (nan/None/null) or empty label in a movie text")
    @classmethod
    def _no_placeholders(cls, s: Series[str]) -> Series[bool]:
        return s.map(text_is_clean).astype(bool)
