"""Pandera models of the staging tables: the contract analysts and later stages rely on.

Each table is validated when written (see `schemas.validate`); a failure stops the write,
so a bad table never replaces a good one. List columns hold Python/NumPy sequences of
strings after conversion from Arrow, checked by `ListColumns`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from reelreason.parse.movielens import ML_AGE_CODES, ML_GENRES

IMDB_ID = r"^tt\d{7,}$"
Int8, Int16, Int32, Int64 = pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype


def _is_str_list(value) -> bool:
    return isinstance(value, (list, np.ndarray)) and all(isinstance(x, str) and x for x in value)


class Table(pa.DataFrameModel):
    """Base: exact column set, no silent extra columns."""

    class Config:
        strict = True
        ordered = False

    # Names of list<string> columns; elements must be non-empty strings.
    _list_columns: tuple[str, ...] = ()

    @pa.dataframe_check(error="list columns must hold lists of non-empty strings")
    @classmethod
    def _lists_hold_strings(cls, df: pd.DataFrame) -> bool:
        return all(df[c].map(_is_str_list).all() for c in cls._list_columns if c in df)


# --- MovieLens 1M ------------------------------------------------------------------------------


class Ml1mMovies(Table):
    movie_id: Series[Int32] = pa.Field(unique=True, gt=0)
    title_raw: Series[str]
    title: Series[str] = pa.Field(str_length={"min_value": 1})
    alt_title: Series[str] = pa.Field(nullable=True)
    year: Series[Int16] = pa.Field(nullable=True, ge=1870, le=2100)
    genres: Series[object]
    _list_columns = ("genres",)

    @pa.check("genres", element_wise=True, error="genre outside the 18 MovieLens genres")
    @classmethod
    def _known_genres(cls, value) -> bool:
        return all(g in ML_GENRES for g in value)


class Ml1mRatings(Table):
    user_id: Series[Int32] = pa.Field(gt=0)
    movie_id: Series[Int32] = pa.Field(gt=0)
    rating: Series[Int8] = pa.Field(ge=1, le=5)
    rated_at_epoch: Series[Int64] = pa.Field(ge=0)
    rated_at: Series["datetime64[us]"]  # noqa: F821 - pandera dtype string


class Ml1mUsers(Table):
    user_id: Series[Int32] = pa.Field(unique=True, gt=0)
    gender: Series[str] = pa.Field(isin=["M", "F"])
    age_code: Series[Int8] = pa.Field(isin=list(ML_AGE_CODES))
    occupation_code: Series[Int8] = pa.Field(ge=0, le=20)
    zip: Series[str] = pa.Field(nullable=True)  # free text such as 98107-2117: never a number


class MlLinks(Table):
    movie_id: Series[Int32] = pa.Field(unique=True, gt=0)
    imdb_id: Series[str] = pa.Field(nullable=True, str_matches=IMDB_ID)
    tmdb_id: Series[Int64] = pa.Field(nullable=True, gt=0)


# --- MovieTweetings ----------------------------------------------------------------------------


class MovietweetingsMovies(Table):
    imdb_id: Series[str] = pa.Field(unique=True, str_matches=IMDB_ID)
    movietweetings_id: Series[str] = pa.Field(str_matches=r"^\d+$")
    title_raw: Series[str]
    title: Series[str] = pa.Field(nullable=True)
    year: Series[Int16] = pa.Field(nullable=True, ge=1870, le=2100)
    genres: Series[object]  # possibly empty: upstream leaves the field blank
    _list_columns = ("genres",)


class MovietweetingsRatings(Table):
    user_id: Series[Int32] = pa.Field(gt=0)
    imdb_id: Series[str] = pa.Field(str_matches=IMDB_ID)
    rating: Series[Int8] = pa.Field(ge=0, le=10)
    rating_5: Series[float] = pa.Field(ge=0, le=5)
    rated_at_epoch: Series[Int64] = pa.Field(ge=0)
    rated_at: Series["datetime64[us]"]  # noqa: F821


class MovietweetingsUsers(Table):
    user_id: Series[Int32] = pa.Field(unique=True, gt=0)
    has_twitter_id: Series[bool]


# --- INSPIRED ----------------------------------------------------------------------------------

SPLITS = ["train", "dev", "test"]


class InspiredUtterances(Table):
    dialog_id: Series[str]
    split: Series[str] = pa.Field(isin=SPLITS)
    utt_id: Series[Int32] = pa.Field(ge=0)
    speaker: Series[str] = pa.Field(isin=["RECOMMENDER", "SEEKER"])
    turn_id: Series[Int32] = pa.Field(nullable=True)
    text: Series[str]
    text_raw: Series[str]
    text_with_placeholder: Series[str] = pa.Field(nullable=True)
    movies: Series[object]
    genres: Series[object]
    people_names: Series[object]
    expert_label: Series[str] = pa.Field(nullable=True)
    second_label: Series[str] = pa.Field(nullable=True)
    _list_columns = ("movies", "genres", "people_names")

    @pa.check("text", error="QUOTATION_MARK left in text")
    @classmethod
    def _quotes_restored(cls, s: Series[str]) -> Series[bool]:
        return ~s.str.contains("QUOTATION_MARK", regex=False)


class InspiredDialogs(Table):
    dialog_id: Series[str] = pa.Field(unique=True)
    split: Series[str] = pa.Field(isin=SPLITS)
    n_utterances: Series[Int32] = pa.Field(gt=0)
    movies: Series[object]
    genres: Series[object]
    actors: Series[object]
    directors: Series[object]
    other_people: Series[object]
    fine_label: Series[str] = pa.Field(nullable=True)
    coarse_label: Series[str] = pa.Field(nullable=True)
    trailer_youtube_id: Series[str] = pa.Field(nullable=True)
    malformed_dicts: Series[object]
    _list_columns = ("movies", "genres", "actors", "directors", "other_people", "malformed_dicts")

    @pa.check("fine_label", error="the literal 'nan' must be read as missing")
    @classmethod
    def _no_nan_string(cls, s: Series[str]) -> Series[bool]:
        return s.isna() | (s != "nan")


class InspiredMovies(Table):
    """Typed from the file's own header: only the columns every version has are fixed."""

    title: Series[str] = pa.Field(nullable=True)
    title_clean: Series[str] = pa.Field(nullable=True)
    year: Series[Int32] = pa.Field(nullable=True, ge=1870, le=2100)

    class Config:
        strict = False


# --- ReDial ------------------------------------------------------------------------------------

ANSWER = {"nullable": True, "isin": [0, 1, 2]}


class RedialConversations(Table):
    conversation_id: Series[str] = pa.Field(unique=True)
    split: Series[str] = pa.Field(isin=["train", "test"])
    seeker_worker_id: Series[Int64]
    recommender_worker_id: Series[Int64]
    n_messages: Series[Int32] = pa.Field(ge=0)
    n_mentions: Series[Int32] = pa.Field(ge=0)


class RedialMessages(Table):
    conversation_id: Series[str]
    message_id: Series[Int64] = pa.Field(nullable=True)
    position: Series[Int32] = pa.Field(ge=0)
    time_offset: Series[Int32] = pa.Field(nullable=True)
    sender_worker_id: Series[Int64] = pa.Field(nullable=True)
    sender_role: Series[str] = pa.Field(isin=["seeker", "recommender", "unknown"])
    text: Series[str]
    text_raw: Series[str]
    mentioned_movie_ids: Series[object]
    unresolved_mentions: Series[Int32] = pa.Field(ge=0)
    _list_columns = ("mentioned_movie_ids",)


class RedialMentions(Table):
    conversation_id: Series[str]
    redial_movie_id: Series[str] = pa.Field(str_matches=r"^\d+$")
    name_raw: Series[str] = pa.Field(nullable=True)
    title: Series[str] = pa.Field(nullable=True)
    year: Series[Int16] = pa.Field(nullable=True, ge=1870, le=2100)
    seeker_suggested: Series[Int8] = pa.Field(nullable=True, isin=[0, 1])
    seeker_seen: Series[Int8] = pa.Field(**ANSWER)
    seeker_liked: Series[Int8] = pa.Field(**ANSWER)
    recommender_suggested: Series[Int8] = pa.Field(nullable=True, isin=[0, 1])
    recommender_seen: Series[Int8] = pa.Field(**ANSWER)
    recommender_liked: Series[Int8] = pa.Field(**ANSWER)

    @pa.check("title", error="'%3F' must be decoded to '?'")
    @classmethod
    def _decoded(cls, s: Series[str]) -> Series[bool]:
        return s.isna() | ~s.str.contains("%3F", regex=False)


class RedialMovies(Table):
    redial_movie_id: Series[str] = pa.Field(unique=True, str_matches=r"^\d+$")
    name_raw: Series[str] = pa.Field(nullable=True)
    title: Series[str] = pa.Field(nullable=True)
    year: Series[Int16] = pa.Field(nullable=True, ge=1870, le=2100)
    n_mentions: Series[Int32] = pa.Field(nullable=True, ge=0)


# --- CCPE-M ------------------------------------------------------------------------------------


class CcpeUtterances(Table):
    conversation_id: Series[str]
    utterance_index: Series[Int32] = pa.Field(ge=0)
    speaker: Series[str] = pa.Field(isin=["USER", "ASSISTANT"])
    text: Series[str]
    n_segments: Series[Int32] = pa.Field(ge=0)


class CcpeSegments(Table):
    conversation_id: Series[str]
    utterance_index: Series[Int32] = pa.Field(ge=0)
    segment_index: Series[Int32] = pa.Field(ge=0)
    start_index: Series[Int32] = pa.Field(nullable=True, ge=0)
    end_index: Series[Int32] = pa.Field(nullable=True, ge=0)
    text: Series[str] = pa.Field(nullable=True)
    annotation_type: Series[str] = pa.Field(
        nullable=True,
        isin=["ENTITY_NAME", "ENTITY_PREFERENCE", "ENTITY_DESCRIPTION", "ENTITY_OTHER"],
    )
    entity_type: Series[str] = pa.Field(nullable=True)
    span_matches_text: Series[bool]


# --- GoEmotions --------------------------------------------------------------------------------


class GoemotionsTexts(Table):
    comment_id: Series[str] = pa.Field(unique=True)
    text: Series[str]
    split: Series[str] = pa.Field(nullable=True, isin=SPLITS)
    labels: Series[object]
    n_raters: Series[Int16] = pa.Field(nullable=True, ge=1)
    # ... and one SMALLINT column per emotion (0/1, or a vote count): checked below.
    _list_columns = ("labels",)

    class Config:
        strict = False

    @pa.dataframe_check(error="emotion columns must be non-negative vote counts")
    @classmethod
    def _votes(cls, df: pd.DataFrame) -> bool:
        fixed = {"comment_id", "text", "split", "labels", "n_raters"}
        votes = [c for c in df.columns if c not in fixed]
        return len(votes) == 28 and bool((df[votes].fillna(0) >= 0).all().all())


class GoemotionsRatings(Table):
    comment_id: Series[str]
    text: Series[str] = pa.Field(nullable=True)
    subreddit: Series[str] = pa.Field(nullable=True)
    link_id: Series[str] = pa.Field(nullable=True)
    parent_id: Series[str] = pa.Field(nullable=True)
    created_at: Series["datetime64[us]"] = pa.Field(nullable=True)  # noqa: F821
    rater_id: Series[Int32] = pa.Field(nullable=True)
    example_very_unclear: Series[bool] = pa.Field(nullable=True)

    class Config:
        strict = False


class GoemotionsEmotions(Table):
    emotion: Series[str] = pa.Field(unique=True)
    label_index: Series[Int8] = pa.Field(ge=0, le=27)
    ekman: Series[str] = pa.Field(
        nullable=True, isin=["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]
    )
    sentiment: Series[str] = pa.Field(
        nullable=True, isin=["positive", "negative", "ambiguous", "neutral"]
    )
