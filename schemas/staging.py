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
    # The table's key: one row per key. Later copies of a key are quarantined (the first, in
    # the table's order, is kept). Empty: the single `unique=True` field, if any.
    _key: tuple[str, ...] = ()

    # Row-level (a boolean per row): an odd list quarantines its row, not the table.
    @pa.dataframe_check(error="list columns must hold lists of non-empty strings")
    @classmethod
    def _lists_hold_strings(cls, df: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=df.index)
        for c in cls._list_columns:
            if c in df:
                ok &= df[c].map(_is_str_list).astype(bool)
        return ok


# --- MovieLens 1M ------------------------------------------------------------------------------


class Ml1mMovies(Table):
    """MovieLens 1M films (`movies.dat`), one row per film."""

    movie_id: Series[Int32] = pa.Field(unique=True, gt=0, description="MovieLens film id")
    title_raw: Series[str] = pa.Field(description="title as in the file, year included")
    title: Series[str] = pa.Field(
        str_length={"min_value": 1},
        description="title with the article restored (`American President, The` → "
        "`The American President`), year removed",
    )
    alt_title: Series[str] = pa.Field(
        nullable=True, description="alternate title in parentheses (`Seven (Se7en)` → `Se7en`)"
    )
    year: Series[Int16] = pa.Field(
        nullable=True, ge=1870, le=2100, description="the last `(YYYY)` of the title"
    )
    genres: Series[object] = pa.Field(description="MovieLens genres (`Sci-Fi`, `Children's`, …)")
    _list_columns = ("genres",)

    @pa.check("genres", element_wise=True, error="genre outside the 18 MovieLens genres")
    @classmethod
    def _known_genres(cls, value) -> bool:
        return all(g in ML_GENRES for g in value)


class Ml1mRatings(Table):
    """MovieLens 1M ratings (`ratings.dat`), one row per (user, film) rating."""

    _key = ("user_id", "movie_id")

    user_id: Series[Int32] = pa.Field(gt=0, description="MovieLens user id (`ml1m_users`)")
    movie_id: Series[Int32] = pa.Field(gt=0, description="MovieLens film id (`ml1m_movies`)")
    rating: Series[Int8] = pa.Field(ge=1, le=5, description="stars")
    rated_at_epoch: Series[Int64] = pa.Field(ge=0, description="rating time, Unix seconds")
    rated_at: Series["datetime64[us]"] = pa.Field(  # noqa: F821 - pandera dtype string
        description="rating time (UTC, no time zone)"
    )


class Ml1mUsers(Table):
    """MovieLens 1M users (`users.dat`): demographics as MovieLens codes them."""

    user_id: Series[Int32] = pa.Field(unique=True, gt=0, description="MovieLens user id")
    gender: Series[str] = pa.Field(isin=["M", "F"], description="as self-reported")
    age_code: Series[Int8] = pa.Field(
        isin=list(ML_AGE_CODES),
        description="age band: 1 = under 18, 18 = 18–24, 25, 35, 45, 50, 56 = 56+",
    )
    occupation_code: Series[Int8] = pa.Field(
        ge=0, le=20, description="MovieLens occupation code (0 = other / not specified)"
    )
    # free text such as 98107-2117: never a number
    zip: Series[str] = pa.Field(nullable=True, description="zip code as text (`02460`)")


class MlLinks(Table):
    """`links.csv` of MovieLens ml-latest-small: the first resolver from MovieLens ids to
    IMDb / TMDB ids (MovieLens ids are stable across releases)."""

    movie_id: Series[Int32] = pa.Field(unique=True, gt=0, description="MovieLens film id")
    imdb_id: Series[str] = pa.Field(
        nullable=True, str_matches=IMDB_ID, description="IMDb id, `tt` + at least 7 digits"
    )
    tmdb_id: Series[Int64] = pa.Field(nullable=True, gt=0, description="TMDB film id")


# --- MovieTweetings ----------------------------------------------------------------------------


class MovietweetingsMovies(Table):
    """MovieTweetings films (`movies.dat`), one row per film."""

    imdb_id: Series[str] = pa.Field(
        unique=True,
        str_matches=IMDB_ID,
        description="`tt` + at least 7 digits of the integer id (`25` → `tt0000025`)",
    )
    movietweetings_id: Series[str] = pa.Field(
        str_matches=r"^\d+$", description="the id as written upstream (not reliably zero-padded)"
    )
    title_raw: Series[str] = pa.Field(description="title as in the file, `(YYYY)` included")
    title: Series[str] = pa.Field(nullable=True, description="title without the year")
    year: Series[Int16] = pa.Field(
        nullable=True, ge=1870, le=2100, description="release year from the title"
    )
    # possibly empty: upstream leaves the field blank
    genres: Series[object] = pa.Field(description="IMDb genres; may be empty")
    _list_columns = ("genres",)


class MovietweetingsRatings(Table):
    """MovieTweetings ratings (`ratings.dat`), one row per rating tweet."""

    _key = ("user_id", "imdb_id")

    user_id: Series[Int32] = pa.Field(gt=0, description="MovieTweetings user id")
    imdb_id: Series[str] = pa.Field(
        str_matches=IMDB_ID, description="the film (`movietweetings_movies.imdb_id`)"
    )
    rating: Series[Int8] = pa.Field(ge=0, le=10, description="score out of 10")
    rating_5: Series[float] = pa.Field(ge=0, le=5, description="`rating` / 2, on MovieLens' scale")
    rated_at_epoch: Series[Int64] = pa.Field(ge=0, description="rating time, Unix seconds")
    rated_at: Series["datetime64[us]"] = pa.Field(  # noqa: F821
        description="rating time (UTC, no time zone)"
    )


class MovietweetingsUsers(Table):
    """MovieTweetings users. Twitter ids are personal data and are dropped by the parser."""

    user_id: Series[Int32] = pa.Field(unique=True, gt=0, description="MovieTweetings user id")
    has_twitter_id: Series[bool] = pa.Field(description="whether upstream listed a Twitter id")


# --- INSPIRED ----------------------------------------------------------------------------------

SPLITS = ["train", "dev", "test"]


class InspiredUtterances(Table):
    """INSPIRED dialog turns (`{train,dev,test}.tsv`), one row per utterance."""

    _key = ("dialog_id", "utt_id")

    dialog_id: Series[str] = pa.Field(description="dialog (`inspired_dialogs`)")
    split: Series[str] = pa.Field(isin=SPLITS, description="upstream split")
    utt_id: Series[Int32] = pa.Field(ge=0, description="utterance number in the dialog")
    speaker: Series[str] = pa.Field(isin=["RECOMMENDER", "SEEKER"], description="who speaks")
    turn_id: Series[Int32] = pa.Field(nullable=True, description="turn number in the dialog")
    text: Series[str] = pa.Field(description='what was said, `QUOTATION_MARK` restored to `"`')
    text_raw: Series[str] = pa.Field(description="the text as upstream wrote it")
    text_with_placeholder: Series[str] = pa.Field(
        nullable=True, description="upstream's text with entities replaced by placeholders"
    )
    movies: Series[object] = pa.Field(description="films named in the turn (`Title (Year)`)")
    genres: Series[object] = pa.Field(description="genres named in the turn")
    people_names: Series[object] = pa.Field(description="people named in the turn")
    expert_label: Series[str] = pa.Field(
        nullable=True, description="recommendation strategy label (`opinion_inquiry`, …)"
    )
    second_label: Series[str] = pa.Field(nullable=True, description="a second strategy label")
    _list_columns = ("movies", "genres", "people_names")

    @pa.check("text", error="QUOTATION_MARK left in text")
    @classmethod
    def _quotes_restored(cls, s: Series[str]) -> Series[bool]:
        return ~s.str.contains("QUOTATION_MARK", regex=False)


class InspiredDialogs(Table):
    """INSPIRED dialogs, one row per dialog: the entities of its Python-literal `*_dict`
    columns and its outcome labels."""

    dialog_id: Series[str] = pa.Field(unique=True, description="dialog id")
    split: Series[str] = pa.Field(isin=SPLITS, description="upstream split")
    n_utterances: Series[Int32] = pa.Field(gt=0, description="utterances in the dialog")
    movies: Series[object] = pa.Field(description="films discussed, in order (`Title (Year)`)")
    genres: Series[object] = pa.Field(description="genres discussed")
    actors: Series[object] = pa.Field(description="actors discussed")
    directors: Series[object] = pa.Field(description="directors discussed")
    other_people: Series[object] = pa.Field(description="other people discussed")
    fine_label: Series[str] = pa.Field(
        nullable=True,
        description="outcome, e.g. `accept_rating_good` (upstream's `nan` → NULL)",
    )
    coarse_label: Series[str] = pa.Field(nullable=True, description="outcome, coarse")
    trailer_youtube_id: Series[str] = pa.Field(
        nullable=True, description="upstream `movie_id`: a YouTube trailer id, not a film id"
    )
    malformed_dicts: Series[object] = pa.Field(
        description="`*_dict` columns whose literal was malformed (recovered item by item)"
    )
    _list_columns = ("movies", "genres", "actors", "directors", "other_people", "malformed_dicts")

    @pa.check("fine_label", error="the literal 'nan' must be read as missing")
    @classmethod
    def _no_nan_string(cls, s: Series[str]) -> Series[bool]:
        return s.isna() | (s != "nan")


class InspiredMovies(Table):
    """INSPIRED's `movie_database.tsv`, one row per film, typed from the file's own header:
    only the columns every version has are fixed. Other columns keep their (snake_cased)
    header names: `year` and `runtime` as integers, `rating` as a double, `genre` and
    `actors` as lists, the rest (`imdb_id`, `director`, `short_plot`, `long_plot`, …) as text."""

    title: Series[str] = pa.Field(nullable=True, description="title as in the file")
    title_clean: Series[str] = pa.Field(nullable=True, description="title without `(YYYY)`")
    year: Series[Int32] = pa.Field(
        nullable=True, ge=1870, le=2100, description="release year (column, else the title)"
    )

    class Config:
        strict = False


# --- ReDial ------------------------------------------------------------------------------------

ANSWER = {"nullable": True, "isin": [0, 1, 2]}


class RedialConversations(Table):
    """ReDial conversations (`{train,test}_data.jsonl`), one row per conversation."""

    conversation_id: Series[str] = pa.Field(unique=True, description="ReDial conversation id")
    split: Series[str] = pa.Field(isin=["train", "test"], description="upstream split")
    seeker_worker_id: Series[Int64] = pa.Field(description="the seeker (initiator) worker id")
    recommender_worker_id: Series[Int64] = pa.Field(
        description="the recommender (respondent) worker id"
    )
    n_messages: Series[Int32] = pa.Field(ge=0, description="messages in the conversation")
    n_mentions: Series[Int32] = pa.Field(ge=0, description="films in `movieMentions`")


class RedialMessages(Table):
    """ReDial messages, one row per message, film mentions rendered to titles."""

    _key = ("conversation_id", "message_id")

    conversation_id: Series[str] = pa.Field(description="conversation (`redial_conversations`)")
    message_id: Series[Int64] = pa.Field(nullable=True, description="upstream message id")
    position: Series[Int32] = pa.Field(ge=0, description="place in the conversation, from 0")
    time_offset: Series[Int32] = pa.Field(
        nullable=True, description="seconds since the conversation started"
    )
    sender_worker_id: Series[Int64] = pa.Field(nullable=True, description="sender's worker id")
    sender_role: Series[str] = pa.Field(
        isin=["seeker", "recommender", "unknown"], description="sender's role"
    )
    text: Series[str] = pa.Field(description="`@id` mentions rendered to `Title (Year)`")
    text_raw: Series[str] = pa.Field(description="the text as upstream wrote it")
    mentioned_movie_ids: Series[object] = pa.Field(
        description="ReDial film ids mentioned (`redial_mentions.redial_movie_id`)"
    )
    unresolved_mentions: Series[Int32] = pa.Field(
        ge=0, description="`@id`s missing from `movieMentions` (left as written)"
    )
    _list_columns = ("mentioned_movie_ids",)


class RedialMentions(Table):
    """ReDial films per conversation, with both sides' questionnaire answers
    (0 = no, 1 = yes, 2 = did not say; NULL when that side answered nothing)."""

    _key = ("conversation_id", "redial_movie_id")

    conversation_id: Series[str] = pa.Field(description="conversation (`redial_conversations`)")
    redial_movie_id: Series[str] = pa.Field(str_matches=r"^\d+$", description="ReDial film id")
    name_raw: Series[str] = pa.Field(nullable=True, description="the name in `movieMentions`")
    title: Series[str] = pa.Field(
        nullable=True, description="cleaned title (`%3F` → `?`, double spaces gone)"
    )
    year: Series[Int16] = pa.Field(
        nullable=True, ge=1870, le=2100, description="year from the name"
    )
    seeker_suggested: Series[Int8] = pa.Field(
        nullable=True, isin=[0, 1], description="seeker: the film was suggested"
    )
    seeker_seen: Series[Int8] = pa.Field(**ANSWER, description="seeker: has seen it")
    seeker_liked: Series[Int8] = pa.Field(**ANSWER, description="seeker: liked it")
    recommender_suggested: Series[Int8] = pa.Field(
        nullable=True, isin=[0, 1], description="recommender: the film was suggested"
    )
    recommender_seen: Series[Int8] = pa.Field(
        **ANSWER, description="recommender: the seeker has seen it"
    )
    recommender_liked: Series[Int8] = pa.Field(
        **ANSWER, description="recommender: the seeker liked it"
    )

    @pa.check("title", error="'%3F' must be decoded to '?'")
    @classmethod
    def _decoded(cls, s: Series[str]) -> Series[bool]:
        return s.isna() | ~s.str.contains("%3F", regex=False)


class RedialMovies(Table):
    """ReDial's `movies_with_mentions.csv` (empty when that optional file is absent)."""

    redial_movie_id: Series[str] = pa.Field(
        unique=True, str_matches=r"^\d+$", description="ReDial film id"
    )
    name_raw: Series[str] = pa.Field(nullable=True, description="name as in the file")
    title: Series[str] = pa.Field(nullable=True, description="cleaned title")
    year: Series[Int16] = pa.Field(
        nullable=True, ge=1870, le=2100, description="year from the name"
    )
    n_mentions: Series[Int32] = pa.Field(
        nullable=True, ge=0, description="mentions across ReDial, per the file"
    )


# --- CCPE-M ------------------------------------------------------------------------------------


class CcpeUtterances(Table):
    """CCPE-M utterances (`data.json`), one row per utterance."""

    _key = ("conversation_id", "utterance_index")

    conversation_id: Series[str] = pa.Field(description="CCPE conversation id")
    utterance_index: Series[Int32] = pa.Field(ge=0, description="place in the conversation")
    speaker: Series[str] = pa.Field(isin=["USER", "ASSISTANT"], description="who speaks")
    text: Series[str] = pa.Field(description="what was said")
    n_segments: Series[Int32] = pa.Field(
        ge=0, description="annotated spans (0 when upstream has no `segments`)"
    )


class CcpeSegments(Table):
    """CCPE-M annotated spans, one row per (span, annotation). Spans nest; preference
    spans carry no polarity (see `ccpe_preferences`)."""

    # one row per annotation of a segment
    _key = ("conversation_id", "utterance_index", "segment_index", "annotation_type", "entity_type")

    conversation_id: Series[str] = pa.Field(description="CCPE conversation id")
    utterance_index: Series[Int32] = pa.Field(ge=0, description="utterance (`ccpe_utterances`)")
    segment_index: Series[Int32] = pa.Field(ge=0, description="span number in the utterance")
    start_index: Series[Int32] = pa.Field(
        nullable=True, ge=0, description="span start offset in the utterance text"
    )
    end_index: Series[Int32] = pa.Field(
        nullable=True, ge=0, description="span end offset (exclusive)"
    )
    text: Series[str] = pa.Field(nullable=True, description="span text")
    annotation_type: Series[str] = pa.Field(
        nullable=True,
        isin=["ENTITY_NAME", "ENTITY_PREFERENCE", "ENTITY_DESCRIPTION", "ENTITY_OTHER"],
        description="what the span is",
    )
    entity_type: Series[str] = pa.Field(
        nullable=True, description="`MOVIE_OR_SERIES`, `MOVIE_GENRE_OR_CATEGORY`, …"
    )
    span_matches_text: Series[bool] = pa.Field(
        description="the offsets cut exactly `text` out of the utterance"
    )


# --- GoEmotions --------------------------------------------------------------------------------


class PerEmotionColumns(Table):
    """A table with one column per GoEmotions emotion besides its declared ones (`_FIXED`):
    the emotions come from the data (`emotions.txt`), so the model cannot list them."""

    _FIXED: frozenset[str] = frozenset()

    class Config:
        strict = False

    @pa.dataframe_check(error="one column per emotion: 28 of them")
    @classmethod
    def _emotion_columns(cls, df: pd.DataFrame) -> bool:  # table-level
        return len([c for c in df.columns if c not in cls._FIXED]) == 28


class GoemotionsTexts(PerEmotionColumns):
    """GoEmotions comments, one row per comment, plus one SMALLINT column per emotion (the 28
    of `goemotions_emotions`): 0/1 from the filtered splits, or the number of raters who
    chose it when only the raw CSVs are given (a label then needs 2 agreeing raters)."""

    comment_id: Series[str] = pa.Field(unique=True, description="Reddit comment id")
    text: Series[str] = pa.Field(description="comment text")
    split: Series[str] = pa.Field(
        nullable=True, isin=SPLITS, description="split (NULL when from the raw CSVs)"
    )
    labels: Series[object] = pa.Field(description="emotions labelled")
    n_raters: Series[Int16] = pa.Field(nullable=True, ge=1, description="raters (raw CSVs only)")
    # ... and one SMALLINT column per emotion (0/1, or a vote count): checked below.
    _list_columns = ("labels",)

    _FIXED = frozenset({"comment_id", "text", "split", "labels", "n_raters"})

    @pa.dataframe_check(error="emotion columns must be non-negative vote counts")
    @classmethod
    def _votes(cls, df: pd.DataFrame) -> pd.Series:  # row-level
        votes = [c for c in df.columns if c not in cls._FIXED]
        return (df[votes].fillna(0) >= 0).all(axis=1)


class GoemotionsRatings(Table):
    """GoEmotions raw rater rows (`goemotions_{1,2,3}.csv`), one row per (comment, rater),
    plus one 0/1 SMALLINT column per emotion; author names are dropped."""

    _key = ("comment_id", "rater_id")

    comment_id: Series[str] = pa.Field(description="Reddit comment id")
    text: Series[str] = pa.Field(nullable=True, description="comment text")
    subreddit: Series[str] = pa.Field(nullable=True, description="subreddit")
    link_id: Series[str] = pa.Field(nullable=True, description="Reddit post id")
    parent_id: Series[str] = pa.Field(nullable=True, description="Reddit parent id")
    created_at: Series["datetime64[us]"] = pa.Field(  # noqa: F821
        nullable=True, description="comment time (UTC, no time zone)"
    )
    rater_id: Series[Int32] = pa.Field(nullable=True, description="rater id")
    example_very_unclear: Series[pd.BooleanDtype] = pa.Field(
        nullable=True, description="the rater found the comment very unclear"
    )

    class Config:
        strict = False


class GoemotionsEmotions(Table):
    """The 28 GoEmotions emotions with their Ekman group and sentiment."""

    emotion: Series[str] = pa.Field(unique=True, description="emotion name")
    label_index: Series[Int8] = pa.Field(
        ge=0, le=27, description="index used by the split files' label ids"
    )
    ekman: Series[str] = pa.Field(
        nullable=True,
        isin=["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"],
        description="Ekman group",
    )
    sentiment: Series[str] = pa.Field(
        nullable=True,
        isin=["positive", "negative", "ambiguous", "neutral"],
        description="sentiment group",
    )
