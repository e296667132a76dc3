"""The versioned warehouse: a DuckLake lake (Parquet files + a SQLite catalog).

Every table write is one DuckLake transaction, so one snapshot. A *build* is a row in
`builds` pointing at the snapshot of its publish commit; readers attach the lake at that
snapshot and so see one consistent set of tables, never a half-written build.

Layout under the warehouse root:
    catalog.sqlite   DuckLake metadata (SQLite allows readers while a build writes)
    data/            Parquet files, one folder per table
    raw/             downloaded source files (content-checked cache)
"""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

LAKE = "lake"

# Tables the warehouse keeps about itself; not part of a build's published table set.
INTERNAL_TABLES = (
    "builds",
    "build_tables",
    "quarantine",
    "raw_files",
    "tmdb_responses",
    "embedding_cache",
)

_INTERNAL_DDL = {
    "quarantine": """
        CREATE TABLE IF NOT EXISTS lake.quarantine (
            source VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT,
            raw VARCHAR, reason VARCHAR, run_id VARCHAR, quarantined_at TIMESTAMPTZ)""",
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
    "builds": """
        CREATE TABLE IF NOT EXISTS lake.builds (
            build_id VARCHAR, started_at TIMESTAMPTZ,
            published_at TIMESTAMPTZ, code_version VARCHAR, profile VARCHAR, config JSON)""",
    "build_tables": """
        CREATE TABLE IF NOT EXISTS lake.build_tables (
            build_id VARCHAR, table_name VARCHAR, snapshot_id BIGINT, row_count BIGINT,
            written_by_run VARCHAR)""",
}


_WRITERS: dict[tuple[int, Path], duckdb.DuckDBPyConnection] = {}


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


def load_lake_extensions(con: duckdb.DuckDBPyConnection) -> None:
    for module_name in ("duckdb_extension_ducklake", "duckdb_extension_sqlite_scanner"):
        con.load_extension(_extension_file(module_name))


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableWrite:
    table: str
    snapshot_id: int
    row_count: int


class Warehouse:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def data_path(self) -> Path:
        return self.root / "data"

    @property
    def raw_cache(self) -> Path:
        return self.root / "raw"

    def exists(self) -> bool:
        return self.catalog_path.exists()

    def _ensure_wal(self) -> None:
        """SQLite in WAL mode lets analysts read while a build commits (the default rollback
        journal makes a reader's shared lock fail the writer with 'database is locked')."""
        with closing(sqlite3.connect(self.catalog_path, timeout=30)) as db:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")

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
        if not read_only:
            self.data_path.mkdir(parents=True, exist_ok=True)
            self._ensure_wal()
        con = duckdb.connect()
        load_lake_extensions(con)
        options = [f"DATA_PATH {_sql_str(str(self.data_path) + os.sep)}"]
        if read_only:
            options.append("READ_ONLY")
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        con.execute(
            f"ATTACH {_sql_str('ducklake:sqlite:' + str(self.catalog_path))} AS {LAKE} "
            f"({', '.join(options)})"
        )
        con.execute(f"USE {LAKE}")
        if not read_only:
            for ddl in _INTERNAL_DDL.values():
                con.execute(ddl)
        return con

    @contextmanager
    def session(self, **kwargs) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work. Writable sessions are cursors on one attached
        connection per process (loading and verifying the extensions costs ~150 ms)."""
        if kwargs:
            con = self.connect(**kwargs)
        else:
            key = (os.getpid(), self.root)
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
        base = _WRITERS.pop((os.getpid(), self.root), None)
        if base is not None:
            base.close()

    @contextmanager
    def transaction(
        self, con: duckdb.DuckDBPyConnection, *, message: str, extra: dict
    ) -> Iterator[str]:
        """One DuckLake commit (= one snapshot), tagged so it can be found again."""
        write_id = uuid.uuid4().hex
        con.execute("BEGIN TRANSACTION")
        try:
            yield write_id
            con.execute(
                f"CALL {LAKE}.set_commit_message('reelreason', ?, extra_info => ?)",
                [message, json.dumps({**extra, "write_id": write_id})],
            )
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # a failed COMMIT has already ended the transaction
            raise

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
    ) -> TableWrite:
        """Replace table `name` and its quarantine rows in one snapshot."""
        with self.session() as con:
            with self.transaction(
                con, message=f"write {name}", extra={"table": name, "run_id": run_id}
            ) as write_id:
                con.register("incoming_rows", data)
                con.execute(f"CREATE OR REPLACE TABLE {LAKE}.main.{name} AS FROM incoming_rows")
                con.unregister("incoming_rows")
                con.execute(f"DELETE FROM {LAKE}.quarantine WHERE table_name = ?", [name])
                if quarantine is not None and quarantine.num_rows:
                    con.register("incoming_quarantine", quarantine)
                    con.execute(
                        f"INSERT INTO {LAKE}.quarantine "
                        "SELECT ?, ?, file, line, raw, reason, ?, now() FROM incoming_quarantine",
                        [source, name, run_id],
                    )
                    con.unregister("incoming_quarantine")
            return TableWrite(name, self.snapshot_of(con, write_id), data.num_rows)

    def append_rows(self, name: str, rows: pa.Table, *, run_id: str) -> None:
        """Append to an internal table (caches) in one commit."""
        if name not in INTERNAL_TABLES:
            raise WarehouseError(f"append_rows is for internal tables, not {name}")
        with self.session() as con:
            with self.transaction(con, message=f"append {name}", extra={"run_id": run_id}):
                con.register("incoming_append", rows)
                con.execute(f"INSERT INTO {LAKE}.main.{name} BY NAME FROM incoming_append")
                con.unregister("incoming_append")

    def record_raw_files(self, dataset: str, rows: pa.Table, *, run_id: str) -> None:
        """Replace the provenance rows of one dataset's raw files."""
        with self.session() as con:
            with self.transaction(
                con, message=f"raw files {dataset}", extra={"dataset": dataset, "run_id": run_id}
            ):
                con.execute(f"DELETE FROM {LAKE}.raw_files WHERE dataset = ?", [dataset])
                con.register("incoming_raw_files", rows)
                con.execute(
                    f"INSERT INTO {LAKE}.raw_files BY NAME "
                    "SELECT *, ? AS run_id FROM incoming_raw_files",
                    [run_id],
                )
                con.unregister("incoming_raw_files")

    # --- builds ------------------------------------------------------------------------------

    def data_tables(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND schema_name = 'main' ORDER BY table_name",
            [LAKE],
        ).fetchall()
        return [r[0] for r in rows if r[0] not in INTERNAL_TABLES]

    def latest_writes(self, con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
        """table -> (snapshot id, run id) of its most recent write."""
        rows = con.execute(
            f"""SELECT json_extract_string(commit_extra_info, '$.table') AS t,
                       max(snapshot_id) AS s,
                       arg_max(json_extract_string(commit_extra_info, '$.run_id'), snapshot_id)
                FROM {LAKE}.snapshots() WHERE t IS NOT NULL GROUP BY t"""
        ).fetchall()
        return {t: (int(s), run) for t, s, run in rows}

    def publish_build(
        self,
        *,
        build_id: str,
        started_at,
        code_version: str,
        profile: str,
        config: dict,
        validate: Callable[[str, pa.Table], None] | None = None,
    ) -> tuple[int, list[TableWrite]]:
        """Record a build: the current version of every data table, in one commit."""
        with self.session() as con:
            tables = self.data_tables(con)
            writes = self.latest_writes(con)
            counts = {
                t: con.execute(f"SELECT count(*) FROM {LAKE}.main.{t}").fetchone()[0]
                for t in tables
            }
            missing = [t for t in tables if t not in writes]
            if missing:
                raise WarehouseError(f"tables {missing} have no recorded write; cannot publish")
            rows = pa.Table.from_pylist(
                [
                    {
                        "table_name": t,
                        "snapshot_id": writes[t][0],
                        "row_count": counts[t],
                        "written_by_run": writes[t][1],
                    }
                    for t in tables
                ],
                schema=pa.schema(
                    [
                        ("table_name", pa.string()),
                        ("snapshot_id", pa.int64()),
                        ("row_count", pa.int64()),
                        ("written_by_run", pa.string()),
                    ]
                ),
            )
            if validate is not None:
                validate("build_tables", rows)
            with self.transaction(
                con, message=f"publish build {build_id}", extra={"build_id": build_id}
            ) as write_id:
                con.execute(
                    f"INSERT INTO {LAKE}.builds VALUES (?, ?, now(), ?, ?, ?)",
                    [build_id, started_at, code_version, profile, json.dumps(config)],
                )
                con.register("incoming_build_tables", rows)
                con.execute(
                    f"INSERT INTO {LAKE}.build_tables SELECT ?, table_name, snapshot_id, "
                    "row_count, written_by_run FROM incoming_build_tables",
                    [build_id],
                )
                con.unregister("incoming_build_tables")
            snapshot = self.snapshot_of(con, write_id)
            return snapshot, [TableWrite(t, writes[t][0], counts[t]) for t in tables]

    def builds(self) -> list[dict]:
        with self.session(read_only=True) as con:
            # A build's snapshot is its publish commit, found by the tag on that commit.
            cur = con.execute(
                f"""SELECT b.build_id, s.snapshot_id, b.started_at, b.published_at,
                           b.code_version, b.profile
                    FROM {LAKE}.builds b JOIN {LAKE}.snapshots() s
                      ON json_extract_string(s.commit_extra_info, '$.build_id') = b.build_id
                    ORDER BY s.snapshot_id DESC"""
            )
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=False)) for row in cur.fetchall()]

    def resolve_build(self, build_id: str | None = None) -> dict:
        """The current (latest published) build, or the one named."""
        builds = self.builds()
        if not builds:
            raise WarehouseError(
                f"The warehouse at {self.root} has no published build yet. Run `reelreason build`."
            )
        if build_id is None:
            return builds[0]
        matches = [b for b in builds if b["build_id"].startswith(build_id)]
        if len(matches) != 1:
            known = ", ".join(b["build_id"][:8] for b in builds[:10])
            raise WarehouseError(
                f"Build {build_id!r} matches {len(matches)} builds; known builds: {known}"
            )
        return matches[0]

    def connect_build(self, build_id: str | None = None) -> duckdb.DuckDBPyConnection:
        """Read-only connection pinned to one build's snapshot."""
        build = self.resolve_build(build_id)
        return self.connect(read_only=True, snapshot=build["snapshot_id"])
