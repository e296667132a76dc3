"""Analyst docs: every table the warehouse serves, with its columns, and example SQL.

Rendered from the pandera models in `schemas/` (published tables) and the DDL in
`reelreason/lake/connection.py` (the warehouse's own bookkeeping tables), never hand-copied, so
the docs cannot drift from what a build writes. `scripts/gen_analyst_docs.py` writes
`warehouse/README.md` and the generated region of `README.md`; `tests/test_analyst_docs.py`
checks both are current and runs every example against a sample build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import schemas
from reelreason.warehouse import INTERNAL_DDL, INTERNAL_TABLES

GENERATOR = "scripts/gen_analyst_docs.py"
REGENERATE = f".venv/bin/python {GENERATOR}"
WAREHOUSE_README = Path("warehouse/README.md")
README = Path("README.md")
BEGIN_MARKER = "<!-- BEGIN generated: tables"
END_MARKER = "<!-- END generated: tables -->"

# Entries of TABLE_MODELS that validate bookkeeping rows, not published tables; the tables
# themselves are documented from their DDL with the warehouse's other internal tables.
HELPER_MODELS = ("quarantine_rows", "raw_files", "build_tables")
ROW_MODELS = {
    "quarantine": "quarantine_rows",
    "raw_files": "raw_files",
    "build_tables": "build_tables",
}

# --- columns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    nullable: bool | None  # None: not declared (DDL columns)
    description: str
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableDoc:
    name: str
    group: str
    description: str
    columns: tuple[ColumnDoc, ...]
    table_checks: tuple[str, ...] = ()
    open_schema: bool = False  # more columns than these may follow (strict = False)


# pandas dtypes as pandera reports them -> the DuckDB type analysts see.
_SCALAR_TYPES = {
    "Int8": "TINYINT",
    "Int16": "SMALLINT",
    "Int32": "INTEGER",
    "Int64": "BIGINT",
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "str": "VARCHAR",
    "string": "VARCHAR",
    "string[python]": "VARCHAR",
    "string[pyarrow]": "VARCHAR",
}
# `object` columns that are not lists of strings (those are named in `_list_columns`).
# An `object` column's DuckDB type, from the Arrow type its field names (schemas/arrow.py).
_OBJECT_TYPES = {
    "list<float32>": "FLOAT[]",
    "list<int16>": "SMALLINT[]",
    "list<string>": "VARCHAR[]",
}


def duckdb_type(model: type, column: str, dtype: str) -> str:
    if dtype in _SCALAR_TYPES:
        return _SCALAR_TYPES[dtype]
    if dtype.startswith("datetime64["):
        return "TIMESTAMPTZ" if "," in dtype else "TIMESTAMP"
    if dtype == "object":
        if column in getattr(model, "_list_columns", ()):
            return "VARCHAR[]"
        named = (model.to_schema().columns[column].metadata or {}).get("arrow")
        # Unknown: the docs test compares every type with a real build and says so.
        return _OBJECT_TYPES.get(named, "LIST")
    return dtype


def _value(v) -> str:
    return f"`{v}`"


def _check_text(check) -> str | None:
    """One pandera check as a short phrase; None for checks the docs show elsewhere."""
    stats = check.statistics or {}
    name = check.name
    if name == "greater_than":
        return f"> {stats['min_value']}"
    if name == "greater_than_or_equal_to":
        return f"≥ {stats['min_value']}"
    if name == "less_than":
        return f"< {stats['max_value']}"
    if name == "less_than_or_equal_to":
        return f"≤ {stats['max_value']}"
    if name == "in_range":
        return f"{stats['min_value']} to {stats['max_value']}"
    if name == "equal_to":
        return f"= {stats['value']}"
    if name == "not_equal_to":
        return f"≠ {stats['value']}"
    if name == "isin":
        return "one of " + ", ".join(_value(v) for v in stats["allowed_values"])
    if name == "notin":
        return "none of " + ", ".join(_value(v) for v in stats["forbidden_values"])
    if name == "str_matches":
        return f"matches {_value(stats['pattern'])}"
    if name == "str_startswith":
        return f"starts with {_value(stats['string'])}"
    if name == "str_length":
        lo, hi, exact = stats.get("min_value"), stats.get("max_value"), stats.get("exact_value")
        if exact is not None:
            return f"length {exact}"
        if lo == 1 and hi is None:
            return "non-empty"
        return f"length {lo or 0} to {hi}" if hi is not None else f"length ≥ {lo}"
    # A custom check: its error message says what it rejects.
    return f'custom check: "{check.error or name}"'


def _merge_bounds(texts: list[str]) -> list[str]:
    """`≥ 1` and `≤ 5` read better as `1 to 5`."""
    lows = [t for t in texts if t.startswith("≥ ")]
    highs = [t for t in texts if t.startswith("≤ ")]
    if len(lows) == 1 and len(highs) == 1:
        merged = f"{lows[0][2:]} to {highs[0][2:]}"
        return [merged] + [t for t in texts if t not in (lows[0], highs[0])]
    return texts


KEY_COLUMNS = ("movie_id", "user_id")


def model_columns(model: type) -> tuple[ColumnDoc, ...]:
    schema = model.to_schema()
    list_columns = getattr(model, "_list_columns", ())
    # Inherited fields come first in pandera's order; the key column reads better first.
    names = sorted(schema.columns, key=lambda n: n not in KEY_COLUMNS)
    out = []
    for name in names:
        col = schema.columns[name]
        checks = [t for t in (_check_text(c) for c in col.checks) if t]
        checks = _merge_bounds(checks)
        if col.unique:
            checks.insert(0, "unique")
        if name in list_columns:
            checks.append("items non-empty")
        out.append(
            ColumnDoc(
                name=name,
                type=duckdb_type(model, name, str(col.dtype)),
                nullable=bool(col.nullable),
                description=" ".join((col.description or "").split()),
                checks=tuple(checks),
            )
        )
    return tuple(out)


def _table_checks(model: type) -> tuple[str, ...]:
    # The list-of-strings check is shown on each list column ("items non-empty").
    return tuple(
        c.error or c.name for c in model.to_schema().checks if c.name != "_lists_hold_strings"
    )


def _docstring(obj) -> str:
    # The class's own docstring (pandera models would otherwise inherit nothing useful).
    return " ".join((obj.__dict__.get("__doc__") or "").split())


# --- groups ------------------------------------------------------------------------------

_SOURCES = {
    "ml1m": "MovieLens 1M",
    "ml": "MovieLens 1M",
    "movietweetings": "MovieTweetings",
    "inspired": "INSPIRED",
    "redial": "ReDial",
    "ccpe": "CCPE-M",
    "goemotions": "GoEmotions",
}
EVALUATION_TABLES = ("eval_results", "movie_emotions", "user_emotions")


def group_of(name: str, model: type) -> str:
    module = model.__module__.rsplit(".", 1)[-1]
    if module == "staging":
        prefix = name.split("_", 1)[0]
        return f"Staging: {_SOURCES.get(prefix, prefix)}"
    if module == "movies":
        return "Movies"
    if module == "users":
        return "Evaluation" if name in EVALUATION_TABLES else "Users and embeddings"
    return "Other tables"


def published_tables(models: dict[str, type] | None = None) -> list[TableDoc]:
    """Every published table in TABLE_MODELS order (groups follow their first table)."""
    models = schemas.TABLE_MODELS if models is None else models
    docs = []
    for name, model in models.items():
        if name in HELPER_MODELS:
            continue
        config = model.to_schema()
        docs.append(
            TableDoc(
                name=name,
                group=group_of(name, model),
                description=_docstring(model) or f"The `{name}` table.",
                columns=model_columns(model),
                table_checks=_table_checks(model),
                open_schema=not config.strict,
            )
        )
    order = list(dict.fromkeys(d.group for d in docs))
    return sorted(docs, key=lambda d: order.index(d.group))


# --- the warehouse's own tables, from their DDL -------------------------------------------


def _split_top_level(body: str) -> list[str]:
    """Split a column list on commas outside parentheses (DECIMAL(10, 2), STRUCT(...))."""
    parts, depth, current = [], 0, []
    for ch in body:
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_CONSTRAINTS = re.compile(r"\s+(NOT\s+NULL|NULL|DEFAULT|PRIMARY|UNIQUE|CHECK|REFERENCES)\b", re.I)


def parse_ddl(ddl: str) -> tuple[str, list[tuple[str, str, bool]]]:
    """(table, [(column, type, not_null)]) of one `CREATE TABLE ... (...)` statement."""
    m = re.search(
        r"CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"]+)\s*\((.*)\)",
        ddl,
        re.S | re.I,
    )
    if m is None:
        raise ValueError(f"not a CREATE TABLE statement: {ddl.strip()[:80]}")
    table = m.group(1).replace('"', "").rsplit(".", 1)[-1]
    columns = []
    for part in _split_top_level(m.group(2)):
        cm = re.match(r'("(?:[^"]|"")+"|\S+)\s+(.*)$', " ".join(part.split()), re.S)
        if cm is None:
            raise ValueError(f"{table}: cannot read column definition {part!r}")
        name = cm.group(1)
        if name.startswith('"'):
            name = name[1:-1].replace('""', '"')
        rest = cm.group(2)
        cut = _CONSTRAINTS.search(" " + rest)
        col_type = (rest[: cut.start()] if cut else rest).strip().upper()
        columns.append((name, col_type, bool(re.search(r"NOT\s+NULL", rest, re.I))))
    return table, columns


# Prose for the bookkeeping tables (their columns and types come from the DDL).
INTERNAL_DESCRIPTIONS = {
    "builds": "One row per published build (one pipeline run): when it started and was "
    "published, the code version, profile and configuration (never secrets). A build's "
    "snapshot is the catalog commit tagged with its `build_id` (`reelreason builds` lists "
    "them with their snapshot ids).",
    "build_tables": "Each build's tables: the snapshot that wrote each one, its row count "
    "and the run that wrote it.",
    "build_events": "The history of which build is current: one row per publish, promote or "
    "rollback, and a `candidate` row for a build published but not made current "
    "(`REELREASON_AUTO_PROMOTE=0`, or promotion blocked by `REELREASON_MAX_SHRINK`; the note "
    "says why). The newest event that is not `candidate` names the current build.",
    "current_build": "One row: the current build and the snapshot to read it at, rewritten in "
    "the same commit as the publish, promote or rollback event that changed it. A plain "
    "DuckDB client reads it first, then attaches the lake at `snapshot_id` (README, "
    '"Reading the current build").',
    "build_metrics": "Each build's `eval_results` rows, copied at publish: metrics compare "
    "across builds without time travel.",
    "quarantine": "Rows kept out of a table, with their file, line, raw text, reason and rule: "
    "lines a parser could not read (`rule = 'parse'`) and rows that broke a row-level rule of "
    "the table's schema (the row as JSON in `raw`). A table's rows are replaced with each "
    "write of that table.",
    "raw_files": "Provenance of the upstream files the pipeline read: where each came from, "
    "its size, sha256 and checksum status.",
    "tmdb_responses": "The TMDB response cache. Append-only: the newest answer per "
    "`request_key` wins.",
    "embedding_cache": "Every vector computed, by model `space` and `text_sha256`: an "
    "unchanged text is never embedded twice.",
    "keyphrase_cache": "Every valid keyphrase answer, by chat `model`, `prompt_version` and the "
    "film text's sha256: a film whose text has not changed is never sent to the model again.",
}
INTERNAL_COLUMNS = {
    "builds": {
        "build_id": "the build (the Dagster run id)",
        "started_at": "when the run started",
        "published_at": "when the build was published",
        "code_version": "package version that built it",
        "profile": "`sample` or `full`",
        "config": "the settings it ran with (no secrets)",
    },
    "build_tables": {
        "build_id": "the build (`builds`)",
        "table_name": "a published table",
        "snapshot_id": "the snapshot of its last write",
        "row_count": "rows in that snapshot",
        "written_by_run": "the run that wrote it (an earlier one when this build reused the table: unchanged inputs or a partial build)",
    },
    "build_events": {
        "build_id": "the build (`builds`)",
        "action": "`publish`, `promote` or `rollback`",
        "happened_at": "when",
        "actor": "who or what did it",
        "note": "why",
    },
    "build_metrics": {
        "build_id": "the build (`builds`)",
        "embedding": "as in `eval_results`",
        "model": "as in `eval_results`",
        "metric": "as in `eval_results` (`hr@10`, `ndcg@10`, …)",
        "segment": "as in `eval_results`",
        "value": "the metric",
        "ci_low": "95% interval, low end",
        "ci_high": "95% interval, high end",
        "n": "users, pairs or texts measured",
        "protocol": "as in `eval_results` (`leave_last_out` for builds before the time split)",
        "alpha": "as in `eval_results`",
    },
    "quarantine": {
        "source": "dataset",
        "table_name": "the table the row was meant for",
        "file": "the upstream file",
        "line": "1-based physical line in it",
        "raw": "the raw text of the row",
        "reason": "why it was rejected (for a rule: the row's key, the rule and the value)",
        "run_id": "the run that rejected it",
        "quarantined_at": "when",
        "rule": "`parse` (the parser could not read the line) or the schema rule the row "
        "broke, `column: check` (`title: str_length(1, None)`, `duplicate key (user_id, movie_id)`)",
    },
    "raw_files": {
        "dataset": "dataset (`movielens`, `redial`, …)",
        "path": "path under the raw folder",
        "origin": "`user` (REELREASON_RAW_DIR), `cache`, `download` or `absent`",
        "url": "upstream URL",
        "bytes": "size",
        "sha256": "content hash",
        "pinned_sha256": "the pinned checksum, when there is one",
        "checksum_status": "`verified`, `recorded`, `unpinned`, `mismatch_user` or `absent`",
        "fetched_at": "when it was fetched or found",
        "run_id": "the run that recorded it",
    },
    "tmdb_responses": {
        "request_key": "path + sorted parameters (never credentials)",
        "status": "`ok` or `not_found`",
        "body": "the JSON answer",
        "fetched_at": "when",
        "origin": "`api` or `seed` (the sample's recorded answers)",
        "run_id": "the run that fetched it",
    },
    "embedding_cache": {
        "space": "model, revision, dimensions and normalisation",
        "text_sha256": "sha256 of the text embedded",
        "vector": "the vector",
        "created_at": "when",
        "run_id": "the run that computed it",
    },
    "keyphrase_cache": {
        "model": "the chat model that answered",
        "prompt_version": "prompt + validation rules version",
        "text_sha256": "sha256 of the film text sent (`movie_texts.text_sha256`)",
        "phrases": "the validated keyphrases, in order",
        "created_at": "when",
        "run_id": "the run that asked",
    },
}


def internal_tables(ddl: dict[str, str] | None = None) -> list[TableDoc]:
    """The warehouse's bookkeeping tables, in INTERNAL_TABLES order, from their DDL."""
    ddl = INTERNAL_DDL if ddl is None else ddl
    names = [t for t in INTERNAL_TABLES if t in ddl] + [t for t in ddl if t not in INTERNAL_TABLES]
    # Where a pandera model validates these rows, its checks are worth showing too.
    models = {
        table: schemas.TABLE_MODELS[model]
        for table, model in ROW_MODELS.items()
        if model in schemas.TABLE_MODELS
    }
    docs = []
    for key in names:
        table, columns = parse_ddl(ddl[key])
        checked = (
            {c.name: c.checks for c in model_columns(models[table])} if table in models else {}
        )
        prose = INTERNAL_COLUMNS.get(table, {})
        docs.append(
            TableDoc(
                name=table,
                group="Warehouse bookkeeping",
                description=INTERNAL_DESCRIPTIONS.get(table, f"The `{table}` table."),
                columns=tuple(
                    ColumnDoc(
                        name=name,
                        type=col_type,
                        nullable=None,
                        description=prose.get(name, ""),
                        checks=checked.get(name, ()),
                    )
                    for name, col_type, _ in columns
                ),
            )
        )
    return docs


@dataclass(frozen=True)
class ViewDoc:
    name: str
    table: str
    key: str


def vector_views(models: dict[str, type] | None = None) -> list[ViewDoc]:
    """`<table>_vectors` of every embedding table (assets/embeddings.py `_fixed_view`)."""
    models = schemas.TABLE_MODELS if models is None else models
    views = []
    for name in models:
        m = re.fullmatch(r"(movie|user)_embeddings_\w+", name)
        if m:
            views.append(ViewDoc(f"{name}_vectors", name, f"{m.group(1)}_id"))
    return views


# --- example SQL -------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A query to copy, run as printed (tests/test_doc_snippets.py). `kind`: `sql` runs on
    the current build (`reelreason sql`), `shell` is a command line, `duckdb` a DuckDB
    session started in the project folder."""

    key: str
    title: str
    intro: str
    code: str
    kind: str = "sql"

    def render(self) -> str:
        return self.code


SIMILAR_TITLE, SIMILAR_YEAR = "The Matrix", 1999
EXAMPLE_USER = "movielens:56"
SOURCES_TITLE, SOURCES_YEAR = "Heat", 1995

EXAMPLES = (
    Example(
        key="similar_films",
        title=f"The 10 films most similar to a title ({SIMILAR_TITLE})",
        intro="Cosine similarity of the film vectors (sentence-transformers space). The "
        "`_vectors` view serves fixed-size `FLOAT[dim]` arrays, which "
        "`array_cosine_similarity` needs. Title and year pick one film: titles repeat.",
        code=f"""\
WITH target AS (
    SELECT e.movie_id, e.vector
    FROM movie_embeddings_st_vectors e JOIN movies m USING (movie_id)
    WHERE m.title = '{SIMILAR_TITLE}' AND m.year = {SIMILAR_YEAR}
)
SELECT m.movie_id, m.title, m.year,
       round(array_cosine_similarity(e.vector, t.vector), 3) AS cosine
FROM movie_embeddings_st_vectors e
JOIN movies m USING (movie_id)
CROSS JOIN target t
WHERE e.movie_id <> t.movie_id
ORDER BY array_cosine_similarity(e.vector, t.vector) DESC, m.movie_id
LIMIT 10""",
    ),
    Example(
        key="user_nearest_films",
        title=f"A user's nearest films ({EXAMPLE_USER})",
        intro="User and film vectors share one space, so a user's taste vector ranks films "
        "directly. Films the user already liked are left out.",
        code=f"""\
WITH u AS (
    SELECT vector FROM user_embeddings_st_vectors WHERE user_id = '{EXAMPLE_USER}'
)
SELECT m.movie_id, m.title, m.year,
       round(array_cosine_similarity(e.vector, u.vector), 3) AS cosine
FROM movie_embeddings_st_vectors e
JOIN movies m USING (movie_id)
CROSS JOIN u
WHERE e.movie_id NOT IN (
    SELECT movie_id FROM user_likes WHERE user_id = '{EXAMPLE_USER}'
)
ORDER BY array_cosine_similarity(e.vector, u.vector) DESC, m.movie_id
LIMIT 10""",
    ),
    Example(
        key="metrics_across_builds",
        title="Metrics across builds",
        intro="HR@10 over all users per build, oldest first, the model next to its "
        "baselines: `build_metrics` keeps every build's evaluation rows. Other metrics: "
        "`ndcg@10`, `mrr@10`, `recall@50`, `genre_relative_gap` (segment `macro`), "
        "`emotion_macro_f1` (segment `goemotions_heldout`). Read through `reelreason sql` "
        "it shows the builds up to the one being read; attach the catalog unpinned (example "
        "5) to see every build, including any published after a rollback.",
        code="""\
SELECT b.published_at, left(m.build_id, 8) AS build, m.model,
       round(m.value, 3) AS hr_at_10,
       round(m.ci_low, 3) AS ci_low, round(m.ci_high, 3) AS ci_high, m.n
FROM build_metrics m
JOIN builds b USING (build_id)
WHERE m.metric = 'hr@10' AND m.segment = 'all' AND m.embedding = 'st'
  AND m.protocol = 'leave_last_out'
ORDER BY b.published_at, m.model""",
    ),
    Example(
        key="older_build_cli",
        title="An older build, from the command line",
        intro="`reelreason builds` lists build ids and their snapshots, newest first; "
        "`--build` takes an id or a unique prefix and pins every table to that build (here "
        "the oldest one kept: the listing's last line).",
        code="""\
.venv/bin/reelreason builds
.venv/bin/reelreason sql --build "$(.venv/bin/reelreason builds | tail -1 | cut -d, -f1)" "SELECT embedding, model, round(value, 3) AS value FROM eval_results WHERE segment = 'all' AND metric = 'hr@10' AND protocol = 'leave_last_out' ORDER BY embedding, model"
""",
        kind="shell",
    ),
    Example(
        key="older_build_duckdb",
        title="An older build, from DuckDB",
        intro="Any DuckDB client (`duckdb==1.5.5`), from the project folder: the first two "
        "lines load the extensions the `duckdb-extension-ducklake` and "
        "`duckdb-extension-sqlite-scanner` packages ship (offline; with internet, `INSTALL "
        "ducklake; INSTALL sqlite;` once instead). Attach at a build's snapshot to see all "
        "its tables, or time-travel one table.",
        code="""\
LOAD '.venv/lib/python3.11/site-packages/duckdb_extension_ducklake/extensions/v1.5.5/ducklake.duckdb_extension';
LOAD '.venv/lib/python3.11/site-packages/duckdb_extension_sqlite_scanner/extensions/v1.5.5/sqlite_scanner.duckdb_extension';
ATTACH 'ducklake:sqlite:warehouse/catalog.sqlite' AS lake (READ_ONLY);
-- every build and the snapshot that pins it, newest first
SELECT b.build_id, s.snapshot_id, b.published_at
FROM lake.builds b JOIN lake.snapshots() s
  ON json_extract_string(s.commit_extra_info, '$.build_id') = b.build_id
ORDER BY s.snapshot_id DESC;
-- the current build and its snapshot
SELECT build_id, snapshot_id, action, since FROM lake.current_build;
-- the oldest build kept, every table as it published it
SET VARIABLE oldest = (SELECT min(s.snapshot_id) FROM lake.builds b JOIN lake.snapshots() s
  ON json_extract_string(s.commit_extra_info, '$.build_id') = b.build_id);
ATTACH 'ducklake:sqlite:warehouse/catalog.sqlite' AS old (READ_ONLY, SNAPSHOT_VERSION getvariable('oldest'));
SELECT metric, model, round(value, 3) AS value
FROM old.eval_results WHERE segment = 'all' AND metric = 'hr@10' ORDER BY model;
-- or one table at that snapshot
SELECT count(*) AS films FROM lake.movies AT (VERSION => getvariable('oldest'));
""",
        kind="duckdb",
    ),
    Example(
        key="film_sources",
        title=f"Where a film comes from ({SOURCES_TITLE}, {SOURCES_YEAR})",
        intro="Every source's reference to one film, how it was matched and how sure the "
        "match is (`movie_xref`).",
        code=f"""\
SELECT x.source, x.source_id, x.source_title, x.source_year,
       x.match_method, x.confidence, x.reference_count
FROM movies m
JOIN movie_xref x USING (movie_id)
WHERE m.title = '{SOURCES_TITLE}' AND m.year = {SOURCES_YEAR}
ORDER BY x.confidence DESC, x.source""",
    ),
    Example(
        key="quarantine_per_table",
        title="Quarantined rows per table",
        intro="Rows kept and rows rejected per table of the build being read, with one "
        "reason (the full rows are in `quarantine`).",
        code="""\
SELECT t.table_name, t.row_count, count(q.table_name) AS quarantined,
       round(count(q.table_name) / nullif(t.row_count + count(q.table_name), 0), 4) AS share,
       min(q.reason) AS a_reason
FROM build_tables t
LEFT JOIN quarantine q USING (table_name)
WHERE t.build_id = (SELECT build_id FROM builds ORDER BY published_at DESC LIMIT 1)
GROUP BY t.table_name, t.row_count
ORDER BY quarantined DESC, t.table_name""",
    ),
)


# --- markdown ----------------------------------------------------------------------------


def _cell(text: str) -> str:
    # A `|` ends a cell even inside backticks in GitHub tables.
    return " ".join(str(text).split()).replace("|", "\\|")


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.:])(\s|$)", text)
    return (m.group(1) if m else text).rstrip(":.") + "."


def _slug(title: str) -> str:
    """GitHub's heading anchor."""
    slug = re.sub(r"[^\w\- ]", "", title.lower().strip())
    return slug.replace(" ", "-")


def render_table(doc: TableDoc, level: str = "####") -> str:
    lines = [f"{level} `{doc.name}`", "", doc.description, ""]
    declared = any(c.nullable is not None for c in doc.columns)
    if declared:
        lines += [
            "| column | type | nullable | description | checks |",
            "|---|---|---|---|---|",
        ]
    else:
        lines += ["| column | type | description | checks |", "|---|---|---|---|"]
    for c in doc.columns:
        cells = [f"`{c.name}`", c.type]
        if declared:
            cells.append("yes" if c.nullable else "no")
        cells += [c.description, "; ".join(c.checks)]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if doc.open_schema:
        lines += ["", "Further columns may follow (the schema is open; see above)."]
    if doc.table_checks:
        lines += ["", "Table checks: " + "; ".join(doc.table_checks) + "."]
    return "\n".join(lines)


def render_examples(level: str = "###") -> str:
    parts = []
    for i, ex in enumerate(EXAMPLES, start=1):
        lang = {"sql": "sql", "duckdb": "sql", "shell": "bash"}[ex.kind]
        run = (
            'Run it with `.venv/bin/reelreason sql "..."` (or any client reading the '
            "current build)."
            if ex.kind == "sql"
            else ""
        )
        body = [f"{level} {i}. {ex.title}", "", ex.intro, "", f"```{lang}", ex.render().rstrip()]
        body += ["```"]
        if run:
            body += ["", run]
        parts.append("\n".join(body))
    return "\n\n".join(parts)


def render_views(level: str = "###") -> str:
    lines = [
        f"{level} Vector views",
        "",
        "DuckLake stores lists, not fixed-size arrays; each embedding table has a view that "
        "casts `vector` to `FLOAT[dim]` for DuckDB's `array_cosine_similarity` / "
        "`array_inner_product`. A view exists once its backend has run (the `_openai` ones "
        "only where an OpenAI-compatible endpoint is configured).",
        "",
        "| view | over | columns |",
        "|---|---|---|",
    ]
    for v in vector_views():
        cols = f"`{v.key}` VARCHAR, `model` VARCHAR, `vector` FLOAT[dim]"
        lines.append(f"| `{v.name}` | `{v.table}` | {cols} |")
    return "\n".join(lines)


_FOLDER = """\
# warehouse/

Where builds land (`REELREASON_WAREHOUSE`, default `./warehouse`). Everything here except
this file is ignored by git.

| path | what |
|---|---|
| `catalog.sqlite` (+ `-wal`, `-shm`) | the DuckLake catalog: tables, snapshots, builds. SQLite in WAL mode: read it while a build writes. |
| `data/main/<table>/*.parquet` | the table data, one folder per table; files of old snapshots stay until retention expires them. |
| `raw/` | downloaded upstream files (`<dataset>/...` with a `.meta.json` sidecar each), `_archives/` (zips), `recorded_checksums.json`. |
| `exports/<build_id>/` | plain Parquet files of a build + `manifest.json` (`parquet_export`, `reelreason export`). |
| `plots/<build_id>/` | the evaluation plots of a build. |
| `.build.lock` | held by `reelreason build` and retention while they write. |
| `.commit.lock` | writers on this machine take turns at commit time (SQLite catalog). |

Read it through a pinned build (README, "Versioned warehouse"): `reelreason sql`,
`Warehouse(root).connect_build()`, or `ATTACH 'ducklake:sqlite:catalog.sqlite' ... (SNAPSHOT_VERSION n)`.
Do not edit files here by hand: a table is only what its catalog snapshot says it is."""


def render_warehouse_readme() -> str:
    published = published_tables()
    internal = internal_tables()
    groups = list(dict.fromkeys(d.group for d in published))
    toc = ["- [Example queries](#example-queries)"]
    toc += [
        f"  - [{i}. {ex.title}](#{_slug(f'{i}. {ex.title}')})" for i, ex in enumerate(EXAMPLES, 1)
    ]
    toc += ["- [Published tables](#published-tables)"]
    toc += [f"  - [{g}](#{_slug(g)})" for g in groups]
    toc += ["  - [Vector views](#vector-views)"]
    toc += ["- [Warehouse bookkeeping](#warehouse-bookkeeping)"]
    out = [
        _FOLDER,
        "",
        "<!-- Generated from schemas/ and reelreason/lake/connection.py by "
        f"{GENERATOR}: edit those (or schemas/analyst_docs.py), then run "
        f"`{REGENERATE}`. -->",
        "",
        "## Contents",
        "",
        "\n".join(toc),
        "",
        "## Example queries",
        "",
        'Each runs on the current build as it is (`.venv/bin/reelreason sql "..."`), except '
        "where it says otherwise; the tests run them all on the sample build.",
        "",
        render_examples(),
        "",
        "## Published tables",
        "",
        "Every table a build publishes, grouped as the pipeline builds them. Types are "
        "DuckDB's; `nullable` and the checks come from the pandera model in `schemas/` that "
        "every write is validated against (a table that breaks them is not written). A build "
        "pins one snapshot of each (`build_tables`).",
    ]
    for group in groups:
        out += ["", f"### {group}"]
        for doc in published:
            if doc.group == group:
                out += ["", render_table(doc)]
    out += ["", render_views()]
    out += [
        "",
        "## Warehouse bookkeeping",
        "",
        "Tables the warehouse keeps about itself (`INTERNAL_TABLES` in "
        "`reelreason/lake/connection.py`; columns and types from its DDL). They are readable like "
        "any table, at any build.",
    ]
    for doc in internal:
        out += ["", render_table(doc, level="###")]
    return "\n".join(out) + "\n"


def render_readme_region() -> str:
    """The short index for README.md: tables, one line each, and where the rest is."""
    published = published_tables()
    lines = [
        "Generated from the pandera models in `schemas/` by "
        f"`{GENERATOR}` (`--check` says whether it is current). Types, nullability, checks, "
        "the bookkeeping tables and example SQL — the films most similar to a title, a "
        "user's nearest films, metrics across builds, reading an older build — are in "
        "[warehouse/README.md](warehouse/README.md).",
        "",
        "| group | table | what | columns |",
        "|---|---|---|---|",
    ]
    previous = None
    for doc in published:
        cols = ", ".join(f"`{c.name}`" for c in doc.columns) + (", …" if doc.open_schema else "")
        group = doc.group if doc.group != previous else ""
        previous = doc.group
        cells = [group, f"`{doc.name}`", _first_sentence(doc.description), cols]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    views = ", ".join(f"`{v.name}`" for v in vector_views())
    internal = ", ".join(f"`{d.name}`" for d in internal_tables())
    lines += [
        "",
        f"Views serving `FLOAT[dim]` vectors: {views}. Bookkeeping: {internal}.",
    ]
    return "\n".join(lines)


def replace_region(text: str, region: str) -> str:
    """`text` with the lines strictly between the generated-tables markers replaced."""
    lines = text.split("\n")
    begin = [i for i, line in enumerate(lines) if line.startswith(BEGIN_MARKER)]
    end = [i for i, line in enumerate(lines) if line.strip() == END_MARKER]
    if len(begin) != 1 or len(end) != 1 or end[0] < begin[0]:
        raise ValueError(
            f"README.md needs exactly one '{BEGIN_MARKER} ... -->' line followed by one "
            f"'{END_MARKER}' line"
        )
    return "\n".join(lines[: begin[0] + 1] + [region] + lines[end[0] :])


def expected_files(root: Path) -> dict[Path, str]:
    """Every generated file under `root` with the content it should have now."""
    readme = (root / README).read_text(encoding="utf-8")
    return {
        root / WAREHOUSE_README: render_warehouse_readme(),
        root / README: replace_region(readme, render_readme_region()),
    }


def stale_files(root: Path) -> list[Path]:
    """Generated files whose content differs from what the generator would write."""
    return [
        path
        for path, text in expected_files(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
