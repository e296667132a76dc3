"""Pandera models for every table the pipeline publishes, and the one call that checks them."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pyarrow as pa

from schemas import movies, staging, users, warehouse

TABLE_MODELS: dict[str, type[staging.Table]] = {
    "ml1m_movies": staging.Ml1mMovies,
    "ml1m_ratings": staging.Ml1mRatings,
    "ml1m_users": staging.Ml1mUsers,
    "ml_links": staging.MlLinks,
    "movietweetings_movies": staging.MovietweetingsMovies,
    "movietweetings_ratings": staging.MovietweetingsRatings,
    "movietweetings_users": staging.MovietweetingsUsers,
    "inspired_utterances": staging.InspiredUtterances,
    "inspired_dialogs": staging.InspiredDialogs,
    "inspired_movies": staging.InspiredMovies,
    "redial_conversations": staging.RedialConversations,
    "redial_messages": staging.RedialMessages,
    "redial_mentions": staging.RedialMentions,
    "redial_movies": staging.RedialMovies,
    "ccpe_utterances": staging.CcpeUtterances,
    "ccpe_segments": staging.CcpeSegments,
    "goemotions_texts": staging.GoemotionsTexts,
    "goemotions_ratings": staging.GoemotionsRatings,
    "goemotions_emotions": staging.GoemotionsEmotions,
    "movie_xref": movies.MovieXref,
    "tmdb_movies": movies.TmdbMovies,
    "movies": movies.Movies,
    "movie_merge_review": movies.MovieMergeReview,
    "movie_texts": movies.MovieTexts,
    "user_likes": users.UserLikes,
    "ccpe_preferences": users.CcpePreferences,
    "user_texts": users.UserTexts,
    "movie_embeddings_st": users.MovieEmbeddings,
    "movie_embeddings_openai": users.MovieEmbeddings,
    "user_embeddings_st": users.UserEmbeddings,
    "user_embeddings_openai": users.UserEmbeddings,
    "eval_results": users.EvalResults,
    "movie_emotions": users.MovieEmotions,
    "user_emotions": users.UserEmotions,
    "movie_keyphrases": users.MovieKeyphrases,
    "keyphrase_embeddings_st": users.KeyphraseEmbeddings,
    "keyphrase_embeddings_openai": users.KeyphraseEmbeddings,
    "quarantine_rows": warehouse.QuarantineRows,
    "raw_files": warehouse.RawFiles,
    "build_tables": warehouse.BuildTables,
}

_NULLABLE_INTS = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
}


class SchemaViolation(ValueError):
    """A table broke its published contract; it was not written."""


def to_pandas(table: pa.Table) -> pd.DataFrame:
    # Nullable integer dtypes: a missing year must not turn the column into floats.
    return table.to_pandas(types_mapper=_NULLABLE_INTS.get)


def validate(name: str, table: pa.Table) -> None:
    model = TABLE_MODELS.get(name)
    if model is None:
        raise SchemaViolation(f"table {name!r} has no pandera model in schemas/; add one")
    try:
        model.validate(to_pandas(table), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(10)
        lines = [
            f"  column={r.column} check={r.check} value={r.failure_case!r} index={r.index}"
            for r in cases.itertuples()
        ]
        raise SchemaViolation(
            f"Table {name} failed its schema ({len(exc.failure_cases)} failure case(s)); "
            "nothing was written. First cases:\n" + "\n".join(lines)
        ) from None
