"""GoEmotions: filtered splits (`{train,dev,test}.tsv`, no header, `text<TAB>label ids<TAB>id`,
texts CSV-quoted with doubled quotes) and/or raw per-rater CSVs (`goemotions_{1,2,3}.csv`,
RFC-4180, 37 columns, one row per (comment, rater)); `emotions.txt` names the 28 labels.

`goemotions_texts` has one row per comment with one column per emotion: 0/1 from the
splits, or the number of raters who chose it when only raw CSVs are given (a label then
counts when at least two raters agree, as in the filtered release).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa

from reelreason.parse.common import (
    CSV_WITH_HEADER,
    RFC4180_QUOTING,
    Parsed,
    SourceFormatError,
    header_line,
    read_checked,
)

RAW_META_COLUMNS = (
    "text",
    "id",
    "author",
    "subreddit",
    "link_id",
    "parent_id",
    "created_utc",
    "rater_id",
    "example_very_unclear",
)
MIN_AGREEING_RATERS = 2


def read_emotions(path: Path, label: str) -> list[str]:
    names = [n.strip() for n in path.read_text(encoding="utf-8").splitlines() if n.strip()]
    if len(names) != 28 or names[-1] != "neutral":
        raise SourceFormatError(
            f"{label}: expected 28 emotion names ending in 'neutral', got {len(names)}"
        )
    return names


def emotion_mappings(emotions: list[str], ekman: Path, sentiment: Path) -> pa.Table:
    def invert(path: Path) -> dict[str, str]:
        groups = json.loads(path.read_text(encoding="utf-8"))
        return {e: g for g, members in groups.items() for e in members}

    to_ekman, to_sentiment = invert(ekman), invert(sentiment)
    return pa.Table.from_pylist(
        [
            {
                "emotion": e,
                "label_index": i,
                "ekman": "neutral" if e == "neutral" else to_ekman.get(e),
                "sentiment": "neutral" if e == "neutral" else to_sentiment.get(e),
            }
            for i, e in enumerate(emotions)
        ],
        schema=pa.schema(
            [
                ("emotion", pa.string()),
                ("label_index", pa.int8()),
                ("ekman", pa.string()),
                ("sentiment", pa.string()),
            ]
        ),
    )


def parse_splits(
    con: duckdb.DuckDBPyConnection, files: dict[str, tuple[Path, str]], emotions: list[str]
) -> Parsed:
    parts, quarantine, accounts = [], [], []
    n = len(emotions)
    for split, (path, label) in files.items():
        tmp, q, account = read_checked(
            con,
            path,
            label,
            delim="\t",
            **RFC4180_QUOTING,
            columns={"text": "VARCHAR", "label_ids": "VARCHAR", "comment_id": "VARCHAR"},
            reason_sql=f"""CASE WHEN comment_id IS NULL THEN 'missing comment id'
                WHEN label_ids IS NULL OR NOT regexp_full_match(label_ids, '[0-9]+(,[0-9]+)*')
                    THEN 'labels ' || coalesce(label_ids, '') || ' are not comma-separated ids'
                WHEN list_max(list_transform(string_split(label_ids, ','),
                     lambda x: coalesce(TRY_CAST(x AS INTEGER), {n}))) >= {n}
                    THEN 'label id outside 0..{n - 1}' END""",
        )
        parts.append(
            con.execute(
                f"""SELECT comment_id, text, '{split}' AS split,
                        list_transform(string_split(label_ids, ','),
                                       lambda x: CAST(x AS INTEGER)) AS ids
                    FROM {tmp} ORDER BY rowid"""
            ).to_arrow_table()
        )
        quarantine += q
        accounts.append(account)
    con.register("goemotions_split_rows", pa.concat_tables(parts))
    names = ", ".join(f"'{e}'" for e in emotions)
    votes = ", ".join(
        f"CAST(list_contains(ids, {i}) AS SMALLINT) AS {e}" for i, e in enumerate(emotions)
    )
    texts = con.execute(
        f"""SELECT comment_id, text, split,
                   list_transform(ids, lambda i: [{names}][i + 1]) AS labels,
                   CAST(NULL AS SMALLINT) AS n_raters, {votes}
            FROM goemotions_split_rows"""
    ).to_arrow_table()
    con.unregister("goemotions_split_rows")
    return Parsed.one_table(
        "goemotions_texts", texts, quarantine, accounts, {"label_source": "filtered splits"}
    )


def parse_raw(
    con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str]], emotions: list[str] | None
) -> Parsed:
    """Raw rater rows -> goemotions_ratings (kept as published, minus author names)."""
    header = header_line(files[0][0], files[0][1]).split(",")
    if tuple(header[: len(RAW_META_COLUMNS)]) != RAW_META_COLUMNS or len(header) != 37:
        raise SourceFormatError(
            f"{files[0][1]}: header {header[:9]}… ({len(header)} columns) is not the GoEmotions "
            "raw layout (37 columns starting text,id,author,…)"
        )
    header_emotions = header[len(RAW_META_COLUMNS) :]
    if emotions and header_emotions != emotions:
        raise SourceFormatError(f"{files[0][1]}: emotion columns differ from emotions.txt")
    types = {
        "text": "VARCHAR",
        "id": "VARCHAR",
        "author": "VARCHAR",
        "subreddit": "VARCHAR",
        "link_id": "VARCHAR",
        "parent_id": "VARCHAR",
        "created_utc": "DOUBLE",
        "rater_id": "INTEGER",
        "example_very_unclear": "BOOLEAN",
    }
    types.update({e: "SMALLINT" for e in header_emotions})
    parts, quarantine, accounts = [], [], []
    for path, label in files:
        checks = " OR ".join(f"{e} NOT IN (0, 1)" for e in header_emotions)
        tmp, q, account = read_checked(
            con,
            path,
            label,
            **CSV_WITH_HEADER,
            columns=types,
            reason_sql=f"""CASE WHEN id IS NULL THEN 'missing comment id'
                                WHEN {checks} THEN 'emotion value not 0/1' END""",
        )
        cols = ", ".join(f"{e}" for e in header_emotions)
        # Author names are Reddit user names: personal data we have no use for.
        parts.append(
            con.execute(
                f"""SELECT id AS comment_id, text, subreddit, link_id, parent_id,
                       make_timestamp(CAST(created_utc * 1000000 AS BIGINT)) AS created_at,
                       rater_id, example_very_unclear, {cols}
                FROM {tmp} ORDER BY rowid"""
            ).to_arrow_table()
        )
        quarantine += q
        accounts.append(account)
    ratings = pa.concat_tables(parts)
    return Parsed.one_table(
        "goemotions_ratings", ratings, quarantine, accounts, {"emotions": header_emotions}
    )


def texts_from_ratings(
    con: duckdb.DuckDBPyConnection, ratings: pa.Table, emotions: list[str]
) -> pa.Table:
    """One row per comment from rater rows: vote counts, labels with >= 2 agreeing raters."""
    con.register("goemotions_rating_rows", ratings)
    sums = ", ".join(f"CAST(sum({e}) AS SMALLINT) AS {e}" for e in emotions)
    label_list = ", ".join(
        f"CASE WHEN sum({e}) >= {MIN_AGREEING_RATERS} THEN '{e}' END" for e in emotions
    )
    texts = con.execute(
        f"""SELECT comment_id, any_value(text) AS text, CAST(NULL AS VARCHAR) AS split,
                   list_filter([{label_list}], lambda x: x IS NOT NULL) AS labels,
                   CAST(count(*) AS SMALLINT) AS n_raters, {sums}
            FROM goemotions_rating_rows GROUP BY comment_id ORDER BY comment_id"""
    ).to_arrow_table()
    con.unregister("goemotions_rating_rows")
    return texts


def empty_ratings(emotions: list[str]) -> pa.Table:
    """goemotions_ratings with no rows, for builds that use only the filtered splits."""
    fields = [
        ("comment_id", pa.string()),
        ("text", pa.string()),
        ("subreddit", pa.string()),
        ("link_id", pa.string()),
        ("parent_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("rater_id", pa.int32()),
        ("example_very_unclear", pa.bool_()),
    ]
    return pa.schema(fields + [(e, pa.int16()) for e in emotions]).empty_table()
