"""INSPIRED: dialog TSVs (header, 19 tab-separated columns) and `movie_database.tsv`.

Quirks handled here: `QUOTATION_MARK` stands for `"` in `text`; the `*_dict` columns are
Python literals repeated on every row of a dialog, one of them malformed upstream
(`{'Office Space (1999): 1}`), so literals are parsed defensively and never cost an
utterance; `movies` is `;`-joined (sometimes `;  `); `fine_label` holds the string `nan`
once; `movie_id` is a YouTube trailer id, not a movie id.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

from reelreason.parse.common import (
    Parsed,
    SourceFormatError,
    header_line,
    read_checked,
)
from reelreason.titles import split_year

DIALOG_COLUMNS = (
    "dialog_id",
    "utt_id",
    "speaker",
    "turn_id",
    "text",
    "text_with_placeholder",
    "movies",
    "genres",
    "people_names",
    "movie_dict",
    "genre_dict",
    "actor_dict",
    "director_dict",
    "others_dict",
    "expert_label",
    "second_label",
    "fine_label",
    "coarse_label",
    "movie_id",
)
DICT_COLUMNS = ("movie_dict", "genre_dict", "actor_dict", "director_dict", "others_dict")

UTTERANCES_SCHEMA = pa.schema(
    [
        ("dialog_id", pa.string()),
        ("split", pa.string()),
        ("utt_id", pa.int32()),
        ("speaker", pa.string()),
        ("turn_id", pa.int32()),
        ("text", pa.string()),
        ("text_raw", pa.string()),
        ("text_with_placeholder", pa.string()),
        ("movies", pa.list_(pa.string())),
        ("genres", pa.list_(pa.string())),
        ("people_names", pa.list_(pa.string())),
        ("expert_label", pa.string()),
        ("second_label", pa.string()),
    ]
)
DIALOGS_SCHEMA = pa.schema(
    [
        ("dialog_id", pa.string()),
        ("split", pa.string()),
        ("n_utterances", pa.int32()),
        ("movies", pa.list_(pa.string())),
        ("genres", pa.list_(pa.string())),
        ("actors", pa.list_(pa.string())),
        ("directors", pa.list_(pa.string())),
        ("other_people", pa.list_(pa.string())),
        ("fine_label", pa.string()),
        ("coarse_label", pa.string()),
        ("trailer_youtube_id", pa.string()),
        ("malformed_dicts", pa.list_(pa.string())),
    ]
)


def restore_quotes(text: str | None) -> str | None:
    return None if text is None else text.replace("QUOTATION_MARK", '"')


def split_titles(value: str | None) -> list[str]:
    """'A (2001);  B (2002)' -> ['A (2001)', 'B (2002)']."""
    return [t.strip() for t in (value or "").split(";") if t.strip()]


_DICT_ITEM = re.compile(r"^\s*'?(?P<key>.*?)'?\s*:\s*(?P<value>-?\d+)\s*$", re.DOTALL)


def _order(value) -> tuple[int, float, str]:
    """Sort key of a literal's index value: numbers in order, anything else after them
    (a mixed literal such as {'A': 1, 'B': '2'} must not raise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, 0.0, str(value))
    return (0, float(value), "")


@dataclass(frozen=True)
class LiteralKeys:
    keys: tuple[str, ...]
    malformed: bool = False  # recovered item by item
    blank_keys: int = 0  # empty or whitespace keys dropped (real files have `'': 11`)


@lru_cache(maxsize=65536)
def parse_literal_dict(value: str | None) -> LiteralKeys:
    """Keys of an INSPIRED `*_dict` Python literal, ordered by their index.

    A malformed literal is recovered item by item (`'Office Space (1999): 1}` ->
    ('Office Space (1999)',)) instead of being dropped. Keys are stripped; empty or
    whitespace keys are dropped and counted, never kept as ''."""
    if value is None or not value.strip():
        return LiteralKeys(())
    items: list[tuple[object, str]] | None = None
    malformed = False
    try:
        parsed = ast.literal_eval(value)
        if isinstance(parsed, dict):
            items = [(v, str(k)) for k, v in parsed.items()]
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if items is None:
        malformed = True
        inner = value.strip().removeprefix("{").removesuffix("}")
        items = []
        for part in re.split(r",\s*(?=')", inner):
            m = _DICT_ITEM.match(part)
            if m:
                items.append((int(m.group("value")), m.group("key")))
    keys, blank = [], 0
    for _, key in sorted(items, key=lambda kv: _order(kv[0])):
        key = key.strip()
        if not key:
            blank += 1
        elif key not in keys:
            keys.append(key)
    return LiteralKeys(tuple(keys), malformed, blank)


def _label(value: str | None) -> str | None:
    # Upstream wrote pandas' NaN out as the string 'nan' once: it means "no label".
    return None if value is None or value.strip() in ("", "nan") else value.strip()


def check_header(path: Path, expected: tuple[str, ...], label: str) -> None:
    found = tuple(header_line(path, label).split("\t"))
    if found != expected:
        raise SourceFormatError(
            f"{label}: header has {len(found)} columns {list(found)[:6]}…, expected the "
            f"{len(expected)} INSPIRED columns {list(expected)[:6]}…; is this an INSPIRED dialog file?"
        )


def parse_dialogs(con: duckdb.DuckDBPyConnection, files: dict[str, tuple[Path, str]]) -> Parsed:
    """files: split -> (path, label). Builds inspired_utterances and inspired_dialogs."""
    utterances, dialogs, quarantine, accounts = [], [], [], []
    malformed_rows = blank_keys = 0
    for split, (path, label) in files.items():
        check_header(path, DIALOG_COLUMNS, label)
        tmp, q, account = read_checked(
            con,
            path,
            label,
            delim="\t",
            header=True,
            columns={c: "VARCHAR" for c in DIALOG_COLUMNS},
            reason_sql="""CASE WHEN dialog_id IS NULL THEN 'missing dialog_id'
                WHEN TRY_CAST(utt_id AS INTEGER) IS NULL THEN 'utt_id ' || coalesce(utt_id, '') || ' is not a number'
                WHEN speaker NOT IN ('RECOMMENDER', 'SEEKER') OR speaker IS NULL
                    THEN 'speaker ' || coalesce(speaker, '') || ' is not RECOMMENDER/SEEKER' END""",
        )
        per_dialog: dict[str, list[dict]] = {}
        cur = con.execute(f"SELECT * FROM {tmp} ORDER BY rowid")
        names = [d[0] for d in cur.description]
        for values in cur.fetchall():
            r = dict(zip(names, values, strict=False))
            utt_id, turn_id = _int(r["utt_id"]), _int(r["turn_id"])
            utterances.append(
                {
                    "dialog_id": r["dialog_id"],
                    "split": split,
                    "utt_id": utt_id,
                    "speaker": r["speaker"],
                    "turn_id": turn_id,
                    "text": restore_quotes(r["text"]) or "",
                    "text_raw": r["text"] or "",
                    "text_with_placeholder": r["text_with_placeholder"],
                    "movies": split_titles(r["movies"]),
                    "genres": split_titles(r["genres"]),
                    "people_names": split_titles(r["people_names"]),
                    "expert_label": _label(r["expert_label"]),
                    "second_label": _label(r["second_label"]),
                }
            )
            per_dialog.setdefault(r["dialog_id"], []).append(r)
        quarantine += q
        accounts.append(account)
        for dialog_id, rows in per_dialog.items():
            first = rows[0]
            parsed = {c: parse_literal_dict(first[c]) for c in DICT_COLUMNS}
            malformed = [c for c, lit in parsed.items() if lit.malformed]
            malformed_rows += len(rows) if malformed else 0
            blank_keys += sum(lit.blank_keys for lit in parsed.values())
            dialogs.append(
                {
                    "dialog_id": dialog_id,
                    "split": split,
                    "n_utterances": len(rows),
                    "movies": list(parsed["movie_dict"].keys),
                    "genres": list(parsed["genre_dict"].keys),
                    "actors": list(parsed["actor_dict"].keys),
                    "directors": list(parsed["director_dict"].keys),
                    "other_people": list(parsed["others_dict"].keys),
                    "fine_label": _most_common(_label(x["fine_label"]) for x in rows),
                    "coarse_label": _most_common(_label(x["coarse_label"]) for x in rows),
                    "trailer_youtube_id": _most_common(x["movie_id"] for x in rows),
                    "malformed_dicts": malformed,
                }
            )
    return Parsed(
        {
            "inspired_utterances": pa.Table.from_pylist(utterances, schema=UTTERANCES_SCHEMA),
            "inspired_dialogs": pa.Table.from_pylist(dialogs, schema=DIALOGS_SCHEMA),
        },
        {"inspired_utterances": quarantine},
        accounts,
        {
            "utterances_with_malformed_dict_recovered": malformed_rows,
            "blank_dict_keys_dropped": blank_keys,
        },
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _most_common(values) -> str | None:
    counts = Counter(v for v in values if v is not None)
    return counts.most_common(1)[0][0] if counts else None


# movie_database.tsv: read its header, type the columns we know, keep the rest as text.
_KNOWN_TYPES = {
    "year": "int",
    "runtime": "int",
    "rating": "float",
    "imdb_rating": "float",
    "imdb_votes": "int",
    "genre": "list",
    "actors": "list",
}


# Spellings we have seen or expect for the columns later stages use; the rest stay as named.
_ALIASES = {
    "imdbid": "imdb_id",
    "imdb": "imdb_id",
    "genres": "genre",
    "directors": "director",
    "actor": "actors",
    "cast": "actors",
    "plot": "long_plot",
    "movie_title": "title",
    "name": "title",
}


def _snake(name: str) -> str:
    snake = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "column"
    return _ALIASES.get(snake, snake)


def parse_movie_database(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    header = header_line(path, label).split("\t")
    names = [_snake(h) for h in header]
    if "title" not in names:
        raise SourceFormatError(
            f"{label}: header {header[:8]} has no 'title' column; is this INSPIRED's movie_database.tsv?"
        )
    names = [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]
    # A number that does not fit its 32-bit column (an 11-digit runtime) quarantines its row
    # with the line, instead of failing the whole file when the table is typed.
    digits = """regexp_extract(replace(coalesce("{n}", ''), ',', ''), '\\d+')"""
    too_big = [
        f"""CASE WHEN {digits.format(n=n)} <> ''
                  AND TRY_CAST({digits.format(n=n)} AS INTEGER) IS NULL
             THEN '{n} ' || "{n}" || ' does not fit a 32-bit integer' END"""
        for n in names
        if _KNOWN_TYPES.get(n) == "int" and n != "year"
    ]
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        delim="\t",
        header=True,
        columns={n: "VARCHAR" for n in names},
        reason_sql=f"coalesce({', '.join(too_big)})" if too_big else None,
    )
    cur = con.execute(f"SELECT * FROM {tmp} ORDER BY rowid")
    rows = []
    for values in cur.fetchall():
        row = {}
        for n, v in zip(names, values, strict=False):
            kind = _KNOWN_TYPES.get(n)
            if kind == "int":
                # '1999', '120 min', '1,234': the first number; a year is its first 4 digits.
                m = re.search(r"\d{4}" if n == "year" else r"\d+", (v or "").replace(",", ""))
                row[n] = int(m.group()) if m else None
            elif kind == "float":
                try:
                    row[n] = float(v) if v not in (None, "", "N/A", "nan") else None
                except ValueError:
                    row[n] = None
            elif kind == "list":
                row[n] = [x.strip() for x in (v or "").split(",") if x.strip()]
            else:
                row[n] = None if v in (None, "", "N/A", "nan") else v
        title_only, title_year = split_year(row["title"])
        row["title_clean"] = title_only
        if row.get("year") is None:
            row["year"] = title_year
        rows.append(row)
    fields = []
    for n in names + ["title_clean"] + (["year"] if "year" not in names else []):
        kind = _KNOWN_TYPES.get(n)
        t = {"int": pa.int32(), "float": pa.float64(), "list": pa.list_(pa.string())}.get(
            kind, pa.string()
        )
        fields.append((n, t))
    table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    return Parsed.one_table("inspired_movies", table, quarantine, [account], {"columns": names})
