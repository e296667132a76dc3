"""The lake's connection and commit layer: attaching the DuckLake catalog (SQLite or
PostgreSQL) and its Parquet data, one writer connection per process, commits serialised
and retried, table writes with their content hash and lineage, and the read-only query
surface. Builds (publish, promote, rollback) are in builds.py; retention and export in
maintenance.py; `reelreason.warehouse.Warehouse` is all three together."""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

LAKE = "lake"

# Tables the warehouse keeps about itself; not part of a build's published table set.
INTERNAL_TABLES = (
    "builds",
    "build_tables",
    "build_events",
    "current_build",
    "build_metrics",
    "quarantine",
    "raw_files",
    "tmdb_responses",
    "embedding_cache",
    "keyphrase_cache",
)

INTERNAL_DDL = {
    "quarantine": """
        CREATE TABLE IF NOT EXISTS lake.quarantine (
            source VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT,
            raw VARCHAR, reason VARCHAR, run_id VARCHAR, quarantined_at TIMESTAMPTZ,
            rule VARCHAR)""",
    "raw_files": """
        CREATE TABLE IF NOT EXISTS lake.raw_files (
            dataset VARCHAR, path VARCHAR, origin VARCHAR, url VARCHAR, bytes BIGINT,
            sha256 VARCHAR, pinned_sha256 VARCHAR, checksum_status VARCHAR,
            fetched_at TIMESTAMPTZ, run_id VARCHAR)""",
    "tmdb_responses": """
        CREATE TABLE IF NOT EXISTS lake.tmdb_responses (
            request_key VARCHAR, status VARCHAR, body VARCHAR, fetched_at TIMESTAMPTZ,
            origin VARCHAR, run_id VARCHAR)""",
    "embedding_cache": """
        CREATE TABLE IF NOT EXISTS lake.embedding_cache (
            space VARCHAR, text_sha256 VARCHAR, vector FLOAT[], created_at TIMESTAMPTZ,
            run_id VARCHAR)""",
    "keyphrase_cache": """
        CREATE TABLE IF NOT EXISTS lake.keyphrase_cache (
            model VARCHAR, prompt_version VARCHAR, text_sha256 VARCHAR, phrases VARCHAR[],
            created_at TIMESTAMPTZ, run_id VARCHAR)""",
    "builds": """
        CREATE TABLE IF NOT EXISTS lake.builds (
            build_id VARCHAR, started_at TIMESTAMPTZ,
            published_at TIMESTAMPTZ, code_version VARCHAR, profile VARCHAR, config JSON)""",
    "build_tables": """
        CREATE TABLE IF NOT EXISTS lake.build_tables (
            build_id VARCHAR, table_name VARCHAR, snapshot_id BIGINT, row_count BIGINT,
            written_by_run VARCHAR)""",
    # Which build is current: the newest event wins (publish, promote, rollback).
    "build_events": """
        CREATE TABLE IF NOT EXISTS lake.build_events (
            build_id VARCHAR, action VARCHAR, happened_at TIMESTAMPTZ, actor VARCHAR, note VARCHAR)""",
    # One row: the current build and the snapshot to read it at, rewritten by every event
    # that changes it, so a plain DuckDB client finds it with one query.
    "current_build": """
        CREATE TABLE IF NOT EXISTS lake.current_build (
            build_id VARCHAR, snapshot_id BIGINT, action VARCHAR, since TIMESTAMPTZ,
            actor VARCHAR)""",
    # A build's evaluation figures, kept beside the build so they compare across builds.
    "build_metrics": """
        CREATE TABLE IF NOT EXISTS lake.build_metrics (
            build_id VARCHAR, embedding VARCHAR, model VARCHAR, metric VARCHAR,
            segment VARCHAR, value DOUBLE, ci_low DOUBLE, ci_high DOUBLE, n BIGINT,
            protocol VARCHAR, alpha DOUBLE)""",
}


# (table, column, statements) for bookkeeping columns added after warehouses existed.
ADDED_COLUMNS = [
    ("quarantine", "rule", [f"ALTER TABLE {LAKE}.quarantine ADD COLUMN rule VARCHAR"]),
    (
        "build_metrics",
        "protocol",
        [
            f"ALTER TABLE {LAKE}.build_metrics ADD COLUMN protocol VARCHAR",
            f"ALTER TABLE {LAKE}.build_metrics ADD COLUMN alpha DOUBLE",
            # before the time split every ranking figure was leave-last-out
            f"""UPDATE {LAKE}.build_metrics SET protocol = CASE
                WHEN starts_with(metric, 'genre_precision') THEN 'keyphrase_retrieval'
                WHEN starts_with(metric, 'genre_') THEN 'genre_separation'
                WHEN starts_with(metric, 'emotion_') THEN 'emotion_prototypes'
                ELSE 'leave_last_out' END""",
        ],
    ),
]

_WRITERS: dict[tuple[int, Path, str], duckdb.DuckDBPyConnection] = {}


class WarehouseError(RuntimeError):
    """A warehouse problem a user can act on (message says what to do)."""


def _extension_file(module_name: str) -> str:
    """Path of a DuckDB extension shipped inside a PyPI package (works offline)."""
    module = __import__(module_name)
    hits = glob.glob(
        os.path.join(os.path.dirname(module.__file__), "extensions", "*", "*.duckdb_extension")
    )
    if not hits:
        raise WarehouseError(f"{module_name} ships no .duckdb_extension file; reinstall it")
    return hits[0]


def load_lake_extensions(con: duckdb.DuckDBPyConnection, *, postgres: bool = False) -> None:
    modules = ["duckdb_extension_ducklake", "duckdb_extension_sqlite_scanner"]
    if postgres:
        modules.append("duckdb_extension_postgres_scanner")
    for module_name in modules:
        con.load_extension(_extension_file(module_name))


# Commits that lost a race to another writer are retried whole: SQLite says "database is
# locked" when a read snapshot cannot become a write, DuckLake says "conflict" when two
# transactions touched the same thing. Anything else is a real error.
_RETRYABLE = ("database is locked", "conflict", "could not serialize", "deadlock detected")
# On PostgreSQL two first-time writers can both try to create the catalog ("duplicate key",
# "already exists"): while attaching, the loser retries and finds it there.
_RETRYABLE_ATTACH = (*_RETRYABLE, "duplicate key value", "already exists")
COMMIT_ATTEMPTS = 8
# What SQLite says of a catalog file that is damaged or not a catalog at all.
_DAMAGED = ("malformed", "not a database", "file is encrypted")
DAMAGED_ADVICE = (
    "The catalog file is damaged or not a catalog: restore it from a backup, or point "
    "REELREASON_WAREHOUSE at a new folder to start a fresh warehouse"
)


def _retryable(exc: BaseException, markers: tuple[str, ...] = _RETRYABLE) -> bool:
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and any(marker in text for marker in markers)


def _s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """Credentials for an s3:// data path from the usual AWS_* variables (docs/kubernetes.md;
    httpfs must be loadable: autoloaded with internet, or LOAD a shipped file)."""
    env = os.environ
    if not env.get("AWS_ACCESS_KEY_ID"):
        return
    fields = {
        "KEY_ID": env.get("AWS_ACCESS_KEY_ID"),
        "SECRET": env.get("AWS_SECRET_ACCESS_KEY"),
        "SESSION_TOKEN": env.get("AWS_SESSION_TOKEN"),
        "REGION": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        "ENDPOINT": (env.get("AWS_ENDPOINT_URL") or "").split("://")[-1] or None,
    }
    body = ", ".join(f"{k} {sql_string(v)}" for k, v in fields.items() if v)
    endpoint = env.get("AWS_ENDPOINT_URL") or ""
    if endpoint:  # MinIO and friends: path-style URLs, plain http when the URL says so
        body += ", URL_STYLE 'path'" + (", USE_SSL false" if endpoint.startswith("http:") else "")
    con.execute(f"CREATE OR REPLACE SECRET reelreason_s3 (TYPE s3, {body})")


def redact_catalog(catalog: str) -> str:
    """A catalog string (or an error quoting one) fit for logs and build records:
    password=value, password='quoted value' and user:password@host all masked."""
    text = re.sub(
        r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", catalog, flags=re.IGNORECASE
    )
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


T = TypeVar("T")
CANDIDATE = "candidate"  # published with promote=False: readable by id, never current on its own
NO_CURRENT = ""  # events exist but none made a build current


@dataclass(frozen=True)
class TableWrite:
    table: str
    snapshot_id: int
    row_count: int
    content_sha256: str = ""


class _HashSink:
    """A write-only file object that only hashes what is written to it."""

    closed = False

    def __init__(self):
        self.digest = hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


# Columns that say which build or run wrote a row, not what the data is.
RUN_SPECIFIC_COLUMNS = frozenset({"build_id", "run_id", "written_by_run"})


def content_sha256(table: pa.Table) -> str:
    """sha256 of a table's schema and values: equal tables from different runs hash equal (so
    steps downstream of a recomputed but unchanged table are still reused), however they are
    chunked. Hashed as uncompressed Parquet streamed through the hash, because Parquet stores
    only valid values: the bytes under a null slot (garbage in some Arrow producers, DuckDB's
    among them) never reach the hash."""
    sink = _HashSink()
    pq.write_table(
        table,
        pa.PythonFile(sink, mode="w"),
        compression="none",
        use_dictionary=False,
        write_statistics=False,
        row_group_size=1 << 20,
    )
    return sink.digest.hexdigest()


class LakeConnection:
    """Connections to the lake and every write (one commit each)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        catalog: str | None = None,
        data_path: str | None = None,
    ):
        self.root = Path(root).resolve()
        # "sqlite" (root/catalog.sqlite) or "postgres:<libpq conninfo>"; passwords belong in
        # PGPASSWORD / ~/.pgpass, not here, but are masked wherever this string is shown.
        self.catalog = catalog or "sqlite"
        if self.catalog != "sqlite" and not self.catalog.startswith("postgres:"):
            raise WarehouseError(
                f"catalog {redact_catalog(self.catalog)!r} is neither 'sqlite' nor "
                "'postgres:<conninfo>' (e.g. postgres:dbname=reelreason host=db)"
            )
        self.data_location = data_path or str(self.root / "data") + os.sep

    @property
    def is_sqlite(self) -> bool:
        return self.catalog == "sqlite"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def data_path(self) -> Path:
        return Path(self.data_location)

    @property
    def raw_cache(self) -> Path:
        return self.root / "raw"

    @property
    def exports_path(self) -> Path:
        return self.root / "exports"

    def describe(self) -> str:
        where = self.catalog_path if self.is_sqlite else redact_catalog(self.catalog)
        return f"{where} (data {self.data_location})"

    def exists(self) -> bool:
        return self.catalog_path.exists() if self.is_sqlite else True

    def _attach_uri(self) -> str:
        if self.is_sqlite:
            return "ducklake:sqlite:" + str(self.catalog_path)
        return "ducklake:" + self.catalog

    def _ensure_wal(self) -> None:
        """SQLite in WAL mode lets analysts read while a build commits (the default rollback
        journal makes a reader's shared lock fail the writer with 'database is locked')."""
        try:
            with closing(sqlite3.connect(self.catalog_path, timeout=30)) as db:
                if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise WarehouseError(
                f"Cannot open the warehouse catalog {self.catalog_path}: {exc}. {DAMAGED_ADVICE}"
            ) from None

    @contextmanager
    def _commit_lock(self):
        """On one machine (SQLite), writers take turns at commit time: cheaper and fairer than
        losing races to SQLite's lock. PostgreSQL arbitrates itself; conflicts are retried."""
        if not self.is_sqlite:
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".commit.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- connections -------------------------------------------------------------------------

    def connect(
        self, *, read_only: bool = False, snapshot: int | None = None
    ) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the lake attached as `lake` and selected as default."""
        if read_only and not self.exists():
            raise WarehouseError(
                f"No warehouse at {self.root} (missing {self.catalog_path.name}). "
                "Run `reelreason build` first, or set REELREASON_WAREHOUSE to an existing one."
            )
        if not read_only and self.is_sqlite:
            self.root.mkdir(parents=True, exist_ok=True)
            self._ensure_wal()
        if not read_only and "://" not in self.data_location:
            Path(self.data_location).mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        load_lake_extensions(con, postgres=not self.is_sqlite)
        if self.data_location.startswith("s3://"):
            _s3_secret(con)
        options = [f"DATA_PATH {sql_string(self.data_location)}"]
        if self.is_sqlite:
            options += ["META_JOURNAL_MODE 'WAL'", "META_BUSY_TIMEOUT 60000"]
        if read_only:
            options.append("READ_ONLY")
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        attach = f"ATTACH {sql_string(self._attach_uri())} AS {LAKE} ({', '.join(options)})"
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                # A writer's first ATTACH may create the catalog: one process at a time.
                with self._commit_lock() if not read_only else nullcontext():
                    con.execute(attach)
                break
            except duckdb.Error as exc:
                if _retryable(exc, _RETRYABLE_ATTACH) and attempt < COMMIT_ATTEMPTS:
                    time.sleep(0.1 * attempt * (0.5 + random.random()))
                    continue
                con.close()
                message = redact_catalog(str(exc)).splitlines()[0]
                damaged = any(m in message for m in _DAMAGED)
                raise WarehouseError(
                    f"Cannot open the warehouse catalog {self.describe()}: {message}"
                    + (f". {DAMAGED_ADVICE}" if damaged else "")
                ) from None
        con.execute(f"USE {LAKE}")
        if not read_only:
            self._ensure_internal_tables(con)
        return con

    def _ensure_internal_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        have = set(self._tables(con))
        missing = [ddl for name, ddl in INTERNAL_DDL.items() if name not in have]
        if missing:
            self._retrying(con, lambda c: [c.execute(ddl) for ddl in missing], "create tables", {})
        # Warehouses from before a column existed gain it once (older rows: the SQL fills).
        for table, column, sql in ADDED_COLUMNS:
            columns = con.execute(
                "SELECT column_name FROM duckdb_columns() "
                f"WHERE database_name = '{LAKE}' AND table_name = '{table}'"
            ).fetchall()
            if (column,) not in columns:
                self._retrying(
                    con,
                    lambda c, sql=sql: [c.execute(part) for part in sql],
                    f"add {table}.{column}",
                    {},
                )

    @contextmanager
    def session(self, **kwargs) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work. Writable sessions are cursors on one attached
        connection per process (loading and verifying the extensions costs ~150 ms)."""
        if kwargs:
            con = self.connect(**kwargs)
        else:
            key = (os.getpid(), self.root, self.catalog)
            base = _WRITERS.get(key)
            if base is None:
                base = _WRITERS[key] = self.connect()
            con = base.cursor()
            con.execute(f"USE {LAKE}")
        try:
            yield con
        finally:
            con.close()

    def close(self) -> None:
        base = _WRITERS.pop((os.getpid(), self.root, self.catalog), None)
        if base is not None:
            base.close()

    # --- commits -----------------------------------------------------------------------------

    def commit(
        self, work: Callable[[duckdb.DuckDBPyConnection], T], *, message: str, extra: dict
    ) -> tuple[T, int]:
        """Run `work` as one DuckLake commit (= one snapshot), tagged so it can be found
        again; retried whole when it loses a race with another writer. Returns work's result
        and the snapshot id."""
        with self.session() as con:
            return self._retrying(con, work, message, extra)

    def _retrying(self, con, work, message: str, extra: dict):
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            write_id = uuid.uuid4().hex
            with self._commit_lock():
                con.execute("BEGIN TRANSACTION")
                try:
                    result = work(con)
                    con.execute(
                        f"CALL {LAKE}.set_commit_message('reelreason', ?, extra_info => ?)",
                        [message, json.dumps({**extra, "write_id": write_id})],
                    )
                    con.execute("COMMIT")
                except BaseException as exc:
                    try:
                        con.execute("ROLLBACK")
                    except duckdb.Error:
                        pass  # a failed COMMIT has already ended the transaction
                    text = str(exc).lower()
                    if isinstance(exc, (duckdb.IOException, OSError)) or any(
                        m in text for m in ("disk is full", "no space left", "read-only file")
                    ):
                        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc
                        raise WarehouseError(
                            f"{message}: cannot write to the warehouse {self.describe()}: "
                            f"{redact_catalog(str(first))}. Check free space and permissions. "
                            "Nothing of this "
                            "write was committed; the current build is unchanged."
                        ) from exc
                    if not _retryable(exc):
                        raise
                    if attempt == COMMIT_ATTEMPTS:
                        raise WarehouseError(
                            f"{message}: gave up after {attempt} attempts, other writers kept "
                            f"winning ({redact_catalog(str(exc).splitlines()[-1])}). Is a stuck "
                            "process "
                            f"holding {self.describe()}?"
                        ) from exc
                else:  # committed: never run `work` again, whatever happens next
                    return result, self.snapshot_of(con, write_id)
            # Outside the lock, with jitter, so the winners can finish.
            time.sleep(min(4.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    @staticmethod
    def snapshot_of(con: duckdb.DuckDBPyConnection, write_id: str) -> int:
        row = con.execute(
            f"SELECT snapshot_id FROM {LAKE}.snapshots() "
            "WHERE json_extract_string(commit_extra_info, '$.write_id') = ?",
            [write_id],
        ).fetchone()
        if row is None:  # a transaction that changed nothing makes no snapshot
            row = con.execute(f"SELECT max(snapshot_id) FROM {LAKE}.snapshots()").fetchone()
        return int(row[0])

    # --- writes ------------------------------------------------------------------------------

    def write_table(
        self,
        name: str,
        data: pa.Table,
        *,
        run_id: str,
        source: str,
        quarantine: pa.Table | None = None,
        lineage: dict | None = None,
        comments: dict[str, str] | None = None,
    ) -> TableWrite:
        """Replace table `name` and its quarantine rows in one snapshot. The commit records
        the table's content hash and `lineage` (what the step that wrote it was given), which
        decide whether a later run may reuse this version (assets/incremental.py).
        `comments` (column -> text, "" for the table) become the catalog's COMMENT ON, so any
        DuckDB client sees what a column means (`duckdb_columns().comment`)."""
        content = content_sha256(data)
        # One chunk: DuckDB writes the chunks of a multi-chunk Arrow table in whatever order its
        # threads finish (18 of 20 three-chunk writes came back reordered), so readers would
        # see the same rows in a different order from build to build.
        data = data.combine_chunks()

        def work(con):
            con.register("incoming_rows", data)
            con.execute(f"CREATE OR REPLACE TABLE {LAKE}.main.{name} AS FROM incoming_rows")
            con.unregister("incoming_rows")
            for column, text in (comments or {}).items():
                if column == "":
                    con.execute(f"COMMENT ON TABLE {LAKE}.main.{name} IS {sql_string(text)}")
                elif column in data.column_names:
                    con.execute(
                        f'COMMENT ON COLUMN {LAKE}.main.{name}."{column}" IS {sql_string(text)}'
                    )
            con.execute(f"DELETE FROM {LAKE}.quarantine WHERE table_name = ?", [name])
            if quarantine is not None and quarantine.num_rows:
                con.register("incoming_quarantine", quarantine)
                # a parser's rows name no rule (or carry no `rule` column at all)
                rule = "coalesce(rule, 'parse')" if "rule" in quarantine.column_names else "'parse'"
                con.execute(
                    f"INSERT INTO {LAKE}.quarantine "
                    f"SELECT ?, ?, file, line, raw, reason, ?, now(), {rule} "
                    "FROM incoming_quarantine",
                    [source, name, run_id],
                )
                con.unregister("incoming_quarantine")

        _, snapshot = self.commit(
            work,
            message=f"write {name}",
            extra={**(lineage or {}), "table": name, "run_id": run_id, "content": content},
        )
        return TableWrite(name, snapshot, data.num_rows, content)

    def create_view(self, name: str, select_sql: str, *, run_id: str) -> None:
        self.commit(
            lambda con: con.execute(f"CREATE OR REPLACE VIEW {LAKE}.main.{name} AS {select_sql}"),
            message=f"view {name}",
            extra={"view": name, "run_id": run_id},
        )

    def append_rows(self, name: str, rows: pa.Table, *, run_id: str) -> None:
        """Append to an internal table (caches) in one commit."""
        if name not in INTERNAL_TABLES:
            raise WarehouseError(f"append_rows is for internal tables, not {name}")

        def work(con):
            con.register("incoming_append", rows)
            con.execute(f"INSERT INTO {LAKE}.main.{name} BY NAME FROM incoming_append")
            con.unregister("incoming_append")

        self.commit(work, message=f"append {name}", extra={"run_id": run_id})

    def record_raw_files(self, dataset: str, rows: pa.Table, *, run_id: str) -> None:
        """Replace the provenance rows of one dataset's raw files."""

        def work(con):
            con.execute(f"DELETE FROM {LAKE}.raw_files WHERE dataset = ?", [dataset])
            con.register("incoming_raw_files", rows)
            con.execute(
                f"INSERT INTO {LAKE}.raw_files BY NAME "
                "SELECT *, ? AS run_id FROM incoming_raw_files",
                [run_id],
            )
            con.unregister("incoming_raw_files")

        self.commit(
            work, message=f"raw files {dataset}", extra={"dataset": dataset, "run_id": run_id}
        )

    # --- builds ------------------------------------------------------------------------------

    @staticmethod
    def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND schema_name = 'main' ORDER BY table_name",
            [LAKE],
        ).fetchall()
        return [r[0] for r in rows]

    def data_tables(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        return [t for t in self._tables(con) if t not in INTERNAL_TABLES]

    def latest_writes(self, con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
        """table -> (snapshot id, run id) of its most recent write."""
        return {
            t: (i["snapshot_id"], i.get("run_id")) for t, i in self.latest_write_info(con).items()
        }

    def latest_write_info(self, con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
        """table -> what its most recent write recorded: snapshot_id, run_id, content (sha256
        of the rows), inputs (the writing step's input fingerprint), complete, expires_at."""
        rows = con.execute(
            f"""SELECT json_extract_string(commit_extra_info, '$.table') AS t,
                       max(snapshot_id), arg_max(commit_extra_info, snapshot_id)
                FROM {LAKE}.snapshots() WHERE t IS NOT NULL GROUP BY t"""
        ).fetchall()
        return {t: {**json.loads(extra), "snapshot_id": int(s)} for t, s, extra in rows}


READ_STATEMENTS = {"SELECT", "EXPLAIN"}  # SHOW, DESCRIBE, PRAGMA and FROM-first parse as SELECT


class ReadOnlyQueryError(WarehouseError):
    """A statement that is not a query was sent to the read-only SQL surface."""


def run_read_query(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """Run `sql` (one or more statements; the last one's result is returned) only if every
    statement is a query: COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, CALL, CREATE, DROP, ...
    are refused before anything runs."""
    statements = duckdb.extract_statements(sql)
    refused = [s for s in statements if s.type.name not in READ_STATEMENTS]
    if refused:
        kinds = ", ".join(sorted({s.type.name for s in refused}))
        raise ReadOnlyQueryError(
            f"refused: {kinds} statement(s); `reelreason sql` runs queries only (SELECT, FROM, "
            "WITH, DESCRIBE, SHOW, EXPLAIN). To write files, use `reelreason export` or your "
            "own DuckDB session."
        )
    if not statements:
        raise ReadOnlyQueryError("no statement to run")
    cur = con
    for statement in statements:
        cur = con.execute(statement)
    return cur
