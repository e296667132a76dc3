"""Pandera models of the user and embedding tables."""

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.movies import MOVIE_ID
from schemas.staging import Int32, Int64, Table

USER_ID = r"^(movielens:\d+|movietweetings:\d+|redial:conv:.+|inspired:dialog:.+|ccpe:conv:.+)$"
LIKE_SOURCES = ["movielens", "movietweetings", "redial", "inspired", "ccpe"]


class UserLikes(Table):
    user_id: Series[str] = pa.Field(str_matches=USER_ID)
    source: Series[str] = pa.Field(isin=LIKE_SOURCES)
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID)
    position: Series[Int64] = pa.Field(ge=0)
    liked_at: Series["datetime64[us]"] = pa.Field(nullable=True)  # noqa: F821
    rating: Series[float] = pa.Field(nullable=True, ge=0, le=5)
    evidence: Series[str]

    @pa.dataframe_check(error="one row per (user, film)")
    @classmethod
    def _unique(cls, df: pd.DataFrame) -> bool:
        return not df.duplicated(["user_id", "movie_id"]).any()


class CcpePreferences(Table):
    user_id: Series[str] = pa.Field(str_matches=r"^ccpe:conv:.+$")
    utterance_index: Series[Int32] = pa.Field(ge=0)
    span: Series[str]
    film_span: Series[str]
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID)
    p_positive: Series[float] = pa.Field(ge=0, le=1)
    liked: Series[bool]


class UserTexts(Table):
    user_id: Series[str] = pa.Field(unique=True, str_matches=USER_ID)
    source: Series[str] = pa.Field(isin=["redial", "inspired", "ccpe"])
    text: Series[str] = pa.Field(str_length={"min_value": 1})
    n_turns: Series[Int32] = pa.Field(ge=1)


def _unit(v) -> bool:
    return v is None or abs(float(np.linalg.norm(np.asarray(v, dtype=np.float64))) - 1) < 1e-3


class _Vectors(Table):
    model: Series[str]
    dim: Series[Int32] = pa.Field(gt=0)
    normalized: Series[bool]
    vector: Series[object] = pa.Field(nullable=True)

    @pa.dataframe_check(error="every vector has `dim` values and unit length")
    @classmethod
    def _shape(cls, df: pd.DataFrame) -> bool:
        ok = True
        for col in [c for c in ("vector", "rating_vector", "text_vector") if c in df]:
            present = df[col].notna()
            lengths = df.loc[present, col].map(len)
            ok &= bool((lengths == df.loc[present, "dim"]).all())
            ok &= bool(df.loc[present, col].map(_unit).all())
        return ok and df["dim"].nunique() <= 1 and df["model"].nunique() <= 1


class MovieEmbeddings(_Vectors):
    movie_id: Series[str] = pa.Field(unique=True, str_matches=MOVIE_ID)
    text_sha256: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}$")


class UserEmbeddings(_Vectors):
    user_id: Series[str] = pa.Field(unique=True, str_matches=USER_ID)
    vector: Series[object]
    rating_vector: Series[object] = pa.Field(nullable=True)
    text_vector: Series[object] = pa.Field(nullable=True)
    alpha: Series[float] = pa.Field(ge=0, le=1)
    n_liked: Series[Int32] = pa.Field(ge=0)
    n_text_tokens: Series[Int32] = pa.Field(ge=0)
    parts: Series[str] = pa.Field(isin=["rating+text", "rating", "text"])


class EvalResults(Table):
    build_id: Series[str]
    embedding: Series[str] = pa.Field(isin=["st", "openai"])
    model: Series[str]
    metric: Series[str]
    segment: Series[str]
    value: Series[float] = pa.Field(nullable=True)
    ci_low: Series[float] = pa.Field(nullable=True)
    ci_high: Series[float] = pa.Field(nullable=True)
    n: Series[Int64] = pa.Field(ge=0)

    @pa.dataframe_check(error="a 95% interval must contain its value")
    @classmethod
    def _interval(cls, df: pd.DataFrame) -> bool:
        has = df["ci_low"].notna()
        v, lo, hi = df.loc[has, "value"], df.loc[has, "ci_low"], df.loc[has, "ci_high"]
        return bool(((lo <= v + 1e-9) & (v <= hi + 1e-9)).all())


class _EmotionProfile(Table):
    embedding: Series[str] = pa.Field(isin=["st", "openai"])
    model: Series[str]
    top_emotions: Series[object]
    _list_columns = ("top_emotions",)

    class Config:
        strict = False

    @pa.dataframe_check(error="28 emotion cosines in [-1, 1]")
    @classmethod
    def _profile(cls, df: pd.DataFrame) -> bool:
        fixed = {"movie_id", "user_id", "embedding", "model", "top_emotions"}
        cols = [c for c in df.columns if c not in fixed]
        return len(cols) == 28 and bool(((df[cols] >= -1.0001) & (df[cols] <= 1.0001)).all().all())


class MovieEmotions(_EmotionProfile):
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID)


class UserEmotions(_EmotionProfile):
    user_id: Series[str] = pa.Field(str_matches=USER_ID)
