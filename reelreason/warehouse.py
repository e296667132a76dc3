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

from reelreason.lake.builds import Builds, build_lock, shrunk_tables
from reelreason.lake.connection import (
    CANDIDATE,
    INTERNAL_DDL,
    INTERNAL_TABLES,
    LAKE,
    NO_CURRENT,
    RUN_SPECIFIC_COLUMNS,
    LakeConnection,
    ReadOnlyQueryError,
    TableWrite,
    WarehouseError,
    content_sha256,
    load_lake_extensions,
    redact_catalog,
    run_read_query,
)
from reelreason.lake.maintenance import Maintenance, RetentionReport

__all__ = [
    "CANDIDATE",
    "INTERNAL_DDL",
    "INTERNAL_TABLES",
    "LAKE",
    "NO_CURRENT",
    "RUN_SPECIFIC_COLUMNS",
    "ReadOnlyQueryError",
    "RetentionReport",
    "TableWrite",
    "Warehouse",
    "WarehouseError",
    "build_lock",
    "content_sha256",
    "load_lake_extensions",
    "redact_catalog",
    "run_read_query",
    "shrunk_tables",
]


class Warehouse(Maintenance, Builds, LakeConnection):
    """The lake: a catalog (SQLite file by default, or PostgreSQL for many machines) plus
    Parquet data files under `data_path` (a local folder, or object storage)."""
