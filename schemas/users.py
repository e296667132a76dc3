"""Pandera models of the user and embedding tables."""

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.arrow import arrow
from schemas.movies import MOVIE_ID
from schemas.staging import Int16, Int32, Int64, PerEmotionColumns, Table

USER_ID = r"^(movielens:\d+|movietweetings:\d+|redial:conv:.+|inspired:dialog:.+|ccpe:conv:.+)$"
LIKE_SOURCES = ["movielens", "movietweetings", "redial", "inspired", "ccpe"]
EVAL_PROTOCOLS = (
    "leave_last_out",
    "time_split",
    "alpha_validation",
    "genre_separation",
    "emotion_prototypes",
    "keyphrase_retrieval",
)


class UserLikes(Table):
    """One row per (user, liked film): who liked what, in what order, and why it counts as
    a like (README, "Taste embeddings")."""

    user_id: Series[str] = pa.Field(
        str_matches=USER_ID,
        description="namespaced by source: `movielens:42`, `movietweetings:7`, "
        "`redial:conv:<id>`, `inspired:dialog:<id>`, `ccpe:conv:<id>`",
    )
    source: Series[str] = pa.Field(isin=LIKE_SOURCES, description="the user's source")
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")
    position: Series[Int64] = pa.Field(
        ge=0, description="order of the likes in time: rating order or place in the dialogue"
    )
    liked_at: Series["datetime64[us]"] = pa.Field(  # noqa: F821
        nullable=True, description="rating time (rating sources only)"
    )
    rating: Series[float] = pa.Field(
        nullable=True, ge=0, le=5, description="rating on a 0–5 scale (rating sources only)"
    )
    evidence: Series[str] = pa.Field(
        description="why this is a like (`rated 4/5`, `seeker said liked`, …)"
    )

    _key = ("user_id", "movie_id")  # one row per (user, film)


class CcpePreferences(Table):
    """CCPE preference spans that name a film, with the polarity classifier's verdict
    (CCPE itself does not label polarity)."""

    user_id: Series[str] = pa.Field(str_matches=r"^ccpe:conv:.+$", description="the CCPE user")
    utterance_index: Series[Int32] = pa.Field(ge=0, description="utterance (`ccpe_utterances`)")
    span: Series[str] = pa.Field(description="the preference span")
    film_span: Series[str] = pa.Field(description="the film name inside it")
    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")
    p_positive: Series[float] = pa.Field(
        ge=0, le=1, description="classifier's probability that the span is positive"
    )
    liked: Series[bool] = pa.Field(description="counted as a like (in `user_likes`)")


class UserTexts(Table):
    """Dialogue users' own words: the seeker's / user's turns only, film mentions rendered
    to titles (embedded as the text part of a user vector)."""

    user_id: Series[str] = pa.Field(unique=True, str_matches=USER_ID, description="the user")
    source: Series[str] = pa.Field(
        isin=["redial", "inspired", "ccpe"], description="the dialogue source"
    )
    text: Series[str] = pa.Field(str_length={"min_value": 1}, description="turns, one per line")
    n_turns: Series[Int32] = pa.Field(ge=1, description="turns in `text`")


def _agrees_with_most(df: pd.DataFrame, column: str) -> pd.Series:
    """Row-level form of "one value per table": the odd rows out are the ones quarantined."""
    if df.empty:
        return pd.Series(True, index=df.index)
    return df[column] == df[column].mode().iloc[0]


def _unit(v) -> bool:
    return v is None or abs(float(np.linalg.norm(np.asarray(v, dtype=np.float64))) - 1) < 1e-3


class _Vectors(Table):
    model: Series[str] = pa.Field(description="the embedding model that really ran")
    dim: Series[Int32] = pa.Field(gt=0, description="vector length")
    normalized: Series[bool] = pa.Field(description="vectors have unit length")
    vector: Series[object] = pa.Field(
        nullable=True,
        description="FLOAT[] (`<table>_vectors` serves FLOAT[dim])",
        metadata=arrow("list<float32>"),
    )

    @pa.dataframe_check(error="every vector has `dim` values and unit length")
    @classmethod
    def _shape(cls, df: pd.DataFrame) -> pd.Series:  # row-level
        ok = pd.Series(True, index=df.index)
        for col in [c for c in ("vector", "rating_vector", "text_vector") if c in df]:
            present = df[col].notna()
            fits = df.loc[present, col].map(len) == df.loc[present, "dim"]
            fits &= df.loc[present, col].map(_unit).astype(bool)
            ok.loc[present] &= fits.astype(bool)
        return ok

    @pa.dataframe_check(error="one model and one dimension per table")
    @classmethod
    def _one_space(cls, df: pd.DataFrame) -> pd.Series:
        return _agrees_with_most(df, "dim") & _agrees_with_most(df, "model")


class _FilmKey(Table):
    movie_id: Series[str] = pa.Field(
        unique=True, str_matches=MOVIE_ID, description="the film (`movies`)"
    )


class _UserKey(Table):
    user_id: Series[str] = pa.Field(unique=True, str_matches=USER_ID, description="the user")


# The key is a base listed last, so its column comes first (pandera collects fields from the
# most basic class up): the models' order is the published column order.
class MovieEmbeddings(_Vectors, _FilmKey):
    """One normalised vector per film, embedding its `movie_texts` text through the
    content-addressed embedding cache. `_st`: sentence-transformers; `_openai`: an
    OpenAI-compatible endpoint (empty when none is configured)."""

    text_sha256: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{64}$", description="sha256 of the text embedded (`movie_texts`)"
    )


class UserEmbeddings(_Vectors, _UserKey):
    """One taste vector per user: normalise(α·rating part + (1−α)·text part) when both
    exist, else the part that exists. `_st` / `_openai` as for the film vectors, in the same
    space, so a user compares directly with films."""

    vector: Series[object] = pa.Field(
        description="final taste vector, FLOAT[] (`<table>_vectors` serves FLOAT[dim])",
        metadata=arrow("list<float32>"),
    )
    rating_vector: Series[object] = pa.Field(
        nullable=True,
        description="normalised mean of the liked films' vectors",
        metadata=arrow("list<float32>"),
    )
    text_vector: Series[object] = pa.Field(
        nullable=True,
        description="the user's own words (`user_texts`), token-weighted",
        metadata=arrow("list<float32>"),
    )
    alpha: Series[float] = pa.Field(ge=0, le=1, description="weight of the rating part")
    n_liked: Series[Int32] = pa.Field(ge=0, description="likes with a film vector")
    n_text_tokens: Series[Int32] = pa.Field(ge=0, description="tokens of text embedded")
    parts: Series[str] = pa.Field(
        isin=["rating+text", "rating", "text"], description="which parts made `vector`"
    )


class TunedAdapters(Table):
    """The tuned space's two linear maps from its base space (`st`), one row per base
    dimension: a film's base vector x maps to normalise(x·W) with W the `film_text` rows
    (what a film nobody liked in training gets, and how a new film would enter); a user's
    text vector t maps to normalise(t·T) with T the `user_text` rows (the text part of a
    tuned user vector). README, "The tuned space"."""

    part: Series[str] = pa.Field(isin=["film_text", "user_text"], description="which map")
    row: Series[Int32] = pa.Field(ge=0, description="the base vector's component")
    base_model: Series[str] = pa.Field(description="the base space's model")
    model: Series[str] = pa.Field(description="the tuned space (`movie_embeddings_tuned.model`)")
    weights: Series[object] = pa.Field(
        description="that row of the map: FLOAT[tuned dim]", metadata=arrow("list<float32>")
    )

    _key = ("part", "row")


class EvalResults(Table):
    """Offline evaluation of this build: one row per (protocol, embedding, model, metric,
    segment), each with a 95% bootstrap interval (README, "Evaluation")."""

    build_id: Series[str] = pa.Field(
        description="the run that computed it (a later build whose inputs were unchanged "
        "reuses the rows; `build_metrics` lists them under each build's own id)"
    )
    protocol: Series[str] = pa.Field(
        isin=list(EVAL_PROTOCOLS),
        description="`leave_last_out` (each test user's last like held out), `time_split` "
        "(rating likes after a global cutoff predicted from those before it), "
        "`alpha_validation` (the α curve on validation users), or the non-ranking checks "
        "`genre_separation`, `emotion_prototypes`, `keyphrase_retrieval`",
    )
    embedding: Series[str] = pa.Field(
        isin=["st", "openai", "tuned"],
        description="embedding space: `st`, `openai`, or `tuned` (trained on this build's "
        "likes over `st`)",
    )
    model: Series[str] = pa.Field(
        description="the space's model, or `baseline:popularity` / `baseline:random` / "
        "`baseline:popularity_blend` (popularity blended with this space's scores) / "
        "`baseline:majority`"
    )
    alpha: Series[float] = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="α of the user vectors scored: the chosen one, or on `alpha_validation` "
        "rows the grid point; the popularity weight on `baseline:popularity_blend` rows",
    )
    metric: Series[str] = pa.Field(
        description="`hr@10`, `ndcg@10`, `mrr@10`, `recall@50`, `coverage@10` (share of "
        "films in anyone's top 10), `popularity_bias@10` (mean popularity percentile of the "
        "top 10), `mrr` (whole ranking), `chosen_alpha`, `genre_gap`, `genre_relative_gap`, "
        "`genre_same`, `genre_diff`, `emotion_macro_f1`, `genre_precision@10`"
    )
    segment: Series[str] = pa.Field(
        description="a source (`movielens`, …), `all`, `rating_users`, `dialogue_users`, "
        "`few_likes` (≤ 5 training likes), `cold_films` (held-out film liked by nobody in "
        "training); a genre or `macro`; `validation`; `goemotions_heldout`; "
        "`keyphrase_requests`"
    )
    value: Series[float] = pa.Field(nullable=True, description="the metric")
    ci_low: Series[float] = pa.Field(nullable=True, description="95% interval, low end")
    ci_high: Series[float] = pa.Field(nullable=True, description="95% interval, high end")
    n: Series[Int64] = pa.Field(ge=0, description="users, film pairs or texts measured")

    @pa.dataframe_check(error="a 95% interval must contain its value")
    @classmethod
    def _interval(cls, df: pd.DataFrame) -> pd.Series:
        v, lo, hi = df["value"], df["ci_low"], df["ci_high"]
        inside = (lo <= v + 1e-9) & (v <= hi + 1e-9)
        return df["ci_low"].isna() | inside.fillna(False)


class _EmotionProfile(PerEmotionColumns):
    embedding: Series[str] = pa.Field(isin=["st", "openai"], description="embedding backend")
    model: Series[str] = pa.Field(description="the embedding model")
    top_emotions: Series[object] = pa.Field(description="the 3 closest emotions, closest first")
    _list_columns = ("top_emotions",)

    _FIXED = frozenset({"movie_id", "user_id", "embedding", "model", "top_emotions"})

    @pa.dataframe_check(error="28 emotion cosines in [-1, 1]")
    @classmethod
    def _profile(cls, df: pd.DataFrame) -> pd.Series:  # row-level
        cols = [c for c in df.columns if c not in cls._FIXED]
        return ((df[cols] >= -1.0001) & (df[cols] <= 1.0001)).all(axis=1)


class MovieEmotions(_EmotionProfile):
    """Emotion profile per (film, embedding): one FLOAT column per GoEmotions emotion (the
    28 of `goemotions_emotions`), the cosine of the film's vector to that emotion's
    prototype (the mean embedding of the comments labelled with it)."""

    _key = ("embedding", "movie_id")

    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")


class UserEmotions(_EmotionProfile):
    """Emotion profile per (user, embedding), as `movie_emotions` but for taste vectors."""

    _key = ("embedding", "user_id")

    user_id: Series[str] = pa.Field(str_matches=USER_ID, description="the user")


class MovieKeyphrases(Table):
    """10-15 short keyphrases per film written by a chat model from the film's own text
    (mood, themes, style, audience, emotions, plot elements, similar films). Films whose
    answers stayed invalid have no rows here and a `quarantine` row with the reason."""

    _key = ("movie_id", "position")

    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")
    phrase: Series[str] = pa.Field(
        str_matches=r"^\S+( \S+){1,3}$",
        str_length={"max_value": 48},
        description="2-4 words, as the model wrote them (whitespace normalised)",
    )
    position: Series[Int16] = pa.Field(ge=0, le=14, description="order in the model's answer")
    model: Series[str] = pa.Field(description="the chat model that wrote it")
    prompt_version: Series[str] = pa.Field(
        description="version of prompt + validation rules (cache key part)"
    )

    @pa.dataframe_check(error="each film has 10-15 distinct phrases at positions 0..n-1")
    @classmethod
    def _per_film(cls, df: pd.DataFrame) -> pd.Series:  # row-level: all rows of a bad film
        if df.empty:
            return pd.Series(True, index=df.index)
        by_film = df.groupby("movie_id")["position"]
        count, top = by_film.transform("count"), by_film.transform("max")
        repeated = df.assign(p=df["phrase"].str.lower()).duplicated(["movie_id", "p"], keep=False)
        film_repeats = repeated.groupby(df["movie_id"]).transform("any")
        return count.between(10, 15) & (top == count - 1) & ~film_repeats


class KeyphraseEmbeddings(Table):
    """One normalised vector per film keyphrase (`movie_keyphrases`), for phrase-by-phrase
    retrieval. `_st` / `_openai` as for the film vectors; `<table>_vectors` serves
    FLOAT[dim]."""

    movie_id: Series[str] = pa.Field(str_matches=MOVIE_ID, description="the film (`movies`)")
    phrase: Series[str] = pa.Field(description="the keyphrase embedded")
    position: Series[Int16] = pa.Field(ge=0, description="its position in `movie_keyphrases`")
    model: Series[str] = pa.Field(description="the embedding model that really ran")
    dim: Series[Int32] = pa.Field(gt=0, description="vector length")
    vector: Series[object] = pa.Field(
        description="FLOAT[], unit length", metadata=arrow("list<float32>")
    )

    _key = ("movie_id", "position")

    @pa.dataframe_check(error="every vector has `dim` values and unit length")
    @classmethod
    def _shape(cls, df: pd.DataFrame) -> pd.Series:  # row-level
        return (df["vector"].map(len) == df["dim"]) & df["vector"].map(_unit).astype(bool)

    @pa.dataframe_check(error="one model per table")
    @classmethod
    def _one_model(cls, df: pd.DataFrame) -> pd.Series:
        return _agrees_with_most(df, "model")
