"""Pandera models for every table the pipeline publishes, and the one call that checks them."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa

from reelreason.parse.common import QUARANTINE_SCHEMA
from schemas import movies, staging, users, warehouse
from schemas.arrow import model_arrow_schema, type_mismatches

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
    "movie_embeddings_tuned": users.MovieEmbeddings,
    "user_embeddings_tuned": users.UserEmbeddings,
    "tuned_adapters": users.TunedAdapters,
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
# Rule-quarantined rows stop a table only past this many, whatever the share: one odd row in
# a 40-row table is a quarantined row, not a failed build.
MIN_QUARANTINED_TO_FAIL = 10
RAW_CHARS = 1000  # a quarantined row's values, as JSON, cut to this length


class SchemaViolation(ValueError):
    """A table broke its published contract; it was not written."""


def to_pandas(table: pa.Table, model: type | None = None) -> pd.DataFrame:
    # Nullable integer dtypes: a missing year must not turn the column into floats; a column
    # the model declares as pandas' nullable `boolean` is given that dtype, never `object`.
    df = table.to_pandas(types_mapper=_NULLABLE_INTS.get)
    if model is not None:
        for name, column in model.to_schema().columns.items():
            if name in df and str(column.dtype) == "boolean":
                df[name] = df[name].astype("boolean")
    return df


def _model(name: str) -> type[staging.Table]:
    model = TABLE_MODELS.get(name)
    if model is None:
        raise SchemaViolation(f"table {name!r} has no pandera model in schemas/; add one")
    return model


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of table `name`, from its pandera model (schemas/arrow.py)."""
    return model_arrow_schema(_model(name))


def comments(name: str) -> dict[str, str]:
    """What the catalog says about table `name` (COMMENT ON): its model's docstring (key "")
    and each declared column's description."""
    model = TABLE_MODELS.get(name)
    if model is None:
        return {}
    texts = {
        column: spec.description
        for column, spec in model.to_schema().columns.items()
        if spec.description
    }
    doc = inspect.getdoc(model)
    if doc:
        texts[""] = " ".join(doc.split())
    return texts


def empty_table(name: str) -> pa.Table:
    return arrow_schema(name).empty_table()


def _first_cases(failure_cases: pd.DataFrame, limit: int = 10) -> str:
    return "\n".join(
        f"  column={r.column} check={r.check} value={r.failure_case!r} index={r.index}"
        for r in failure_cases.head(limit).itertuples()
    )


def validate(name: str, table: pa.Table) -> None:
    """Strict check for the warehouse's own bookkeeping rows: any failure stops the write."""
    try:
        _model(name).validate(to_pandas(table), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        raise SchemaViolation(
            f"Table {name} failed its schema ({len(exc.failure_cases)} failure case(s)); "
            "nothing was written. First cases:\n" + _first_cases(exc.failure_cases)
        ) from None


@dataclass
class Screened:
    """A table after row-level validation: the rows that passed, and the ones that did not."""

    table: pa.Table
    quarantine: pa.Table  # reelreason.parse.common.QUARANTINE_SCHEMA
    rules: dict[str, int] = field(default_factory=dict)  # rule -> rows it quarantined

    @property
    def quarantined(self) -> int:
        return self.quarantine.num_rows


def key_columns(name: str) -> tuple[str, ...]:
    """The table's declared key (`_key`), else its single-column unique field."""
    model = _model(name)
    declared = getattr(model, "_key", ())
    if declared:
        return tuple(declared)
    unique = [c for c, col in model.to_schema().columns.items() if col.unique]
    return tuple(unique[:1])


def _jsonable(value):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list) and len(value) > 16 and all(isinstance(v, float) for v in value):
        return f"<{len(value)} floats>"  # a vector: its values say nothing to a reader
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _row_json(df: pd.DataFrame, i) -> str:
    row = {c: _jsonable(v) for c, v in df.loc[i].items()}
    return json.dumps(row, ensure_ascii=False, default=str)[:RAW_CHARS]


def _key_text(df: pd.DataFrame, i, key: tuple[str, ...]) -> str:
    return ", ".join(f"{c}={_jsonable(df.at[i, c])}" for c in key if c in df)


def validate_rows(
    name: str,
    table: pa.Table,
    *,
    file: str | None = None,
    max_fraction: float = 1.0,
) -> Screened:
    """Check `table` against its pandera model, splitting its rules in two:

    - table-level invariants (column set, types, checks over the whole table) stop the write
      with `SchemaViolation`, naming the rule and the first cases;
    - row-level rules (ranges, formats, non-empty strings, list contents, text hygiene,
      the declared key) send the offending rows to quarantine with the table, key, rule and
      value, and the rest is written. Of rows sharing a key, the first (in the table's
      order: file order for staging tables) is kept and the later copies are quarantined.

    More than `max_fraction` of the rows breaking rules other than the key (and at least
    MIN_QUARANTINED_TO_FAIL) is a broken input rather than odd rows: that stops the write too.
    Duplicate keys never do.
    `file` labels the quarantine rows (the upstream file, or the table for derived ones)."""
    model = _model(name)
    wrong_types = type_mismatches(arrow_schema(name), table.schema)
    if wrong_types:  # the model decides the published type; a parser that drifts stops here
        raise SchemaViolation(
            f"Table {name} does not have its model's Arrow types; nothing was written: "
            + "; ".join(wrong_types)
        )
    df = to_pandas(table, model)
    key = key_columns(name)
    label = file or f"table:{name}"
    reasons: dict[int, list[tuple[str, str]]] = {}  # row position -> (rule, detail)
    # The declared key, and every other single-column unique field, keep their first row.
    unique = [(c,) for c, col in model.to_schema().columns.items() if col.unique]
    for columns in dict.fromkeys([key, *unique]):
        if not columns or not all(c in df for c in columns) or not len(df):
            continue
        for i in np.flatnonzero(df.duplicated(list(columns), keep="first").to_numpy()):
            reasons.setdefault(int(i), []).append(
                (
                    f"duplicate key ({', '.join(columns)})",
                    "a copy of an earlier row's key; the first is kept",
                )
            )
    # NULLs where the model allows none are row-level, but would turn a bool or float column
    # into `object` and fail the whole table's dtype: judge them first, per column.
    for column, spec in model.to_schema().columns.items():
        if column in df and not spec.nullable:
            nulls = np.flatnonzero(table.column(column).is_null().to_numpy(zero_copy_only=False))
            for i in nulls:
                reasons.setdefault(int(i), []).append((f"{column}: not_nullable", "value None"))
    checked = df
    if reasons:  # convert again without those rows, so dtypes come out right
        kept = np.setdiff1d(np.arange(table.num_rows), np.fromiter(reasons, dtype=np.int64))
        checked = to_pandas(table.take(pa.array(kept)), model)
        checked.index = pd.Index(kept)
    try:
        model.validate(checked, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        table_level = cases[cases["index"].isna()]
        if len(table_level):
            raise SchemaViolation(
                f"Table {name} broke a table-level rule of its schema; nothing was written. "
                "First cases:\n" + _first_cases(table_level)
            ) from None
        for r in cases.itertuples():
            rule = f"{r.column}: {r.check}" if r.schema_context == "Column" else str(r.check)
            if r.check == "field_uniqueness":
                continue  # already decided above: the first copy stays
            reasons.setdefault(int(r.index), []).append(
                (rule, f"value {_jsonable(r.failure_case)!r}"[:200])
            )
    if not reasons:
        return Screened(table, pa.Table.from_pylist([], schema=QUARANTINE_SCHEMA))
    bad = sorted(reasons)
    rules: dict[str, int] = {}
    rows = []
    for i in bad:
        seen = list(dict.fromkeys(rule for rule, _ in reasons[i]))
        for rule in seen:
            rules[rule] = rules.get(rule, 0) + 1
        detail = "; ".join(dict.fromkeys(f"{rule} ({d})" for rule, d in reasons[i]))
        where = _key_text(df, df.index[i], key)
        rows.append(
            {
                "file": label,
                "line": None,
                "raw": _row_json(df, df.index[i]),
                "reason": f"{name} row {where or i}: {detail}"[:2000],
                "rule": "; ".join(seen),
            }
        )
    quarantine = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
    # Duplicates are never fatal: the first copy of each key is published either way.
    broken = [i for i in bad if any(not r.startswith("duplicate key") for r, _ in reasons[i])]
    share = len(broken) / table.num_rows
    if share > max_fraction and len(broken) >= MIN_QUARANTINED_TO_FAIL:
        top = ", ".join(
            f"{rule!r} ×{n}" for rule, n in sorted(rules.items(), key=lambda kv: -kv[1])
        )
        raise SchemaViolation(
            f"Table {name}: {len(broken):,} of {table.num_rows:,} rows ({share:.2%}) broke row-level "
            f"rules, more than the {max_fraction:.2%} allowed (REELREASON_QUARANTINE_MAX_FRACTION); "
            f"nothing was written. Rules: {top}. First cases:\n"
            + "\n".join("  " + q["reason"] for q in rows[:5])
        )
    keep = np.ones(table.num_rows, dtype=bool)
    keep[bad] = False
    return Screened(table.filter(pa.array(keep)), quarantine, rules)
