"""Reuse: a step whose inputs have not changed since it last wrote its tables does not run again.

A step's *input fingerprint* is the sha256 of
  - the code the step can run: its asset module and the project modules that module reaches
    through imports, as docstring-free syntax trees (so comments, docstrings and unrelated
    modules change nothing), and the versions of the libraries that shape data
    (assets/code_version.py);
  - the configuration of the resources it uses (secrets only as present / absent; operational
    knobs such as rate limits, timeouts, batch sizes and shard counts left out);
  - each upstream table's content hash (recorded with that table's write), or for a raw
    dataset the sha256 of each of its files.

Every table write records the fingerprint of the step that made it, the table's content hash,
whether the result is complete and, for answers served from the TMDB cache, when the oldest of
them expires. A step is reused when every table it writes was last written with the same
fingerprint, completely, and nothing it used has expired: it then parses nothing, calls no
service, embeds nothing and writes nothing, and the build publishes those table versions again
(`build_tables.written_by_run` names the run that computed them).

Steps read the warehouse through `Step.session()`, which refuses to read a data table the step
has not declared as a dependency: an undeclared read is an input the fingerprint would miss.
`reelreason build --recompute` (run tag `reelreason/reuse=off`) or REELREASON_REUSE=0 runs
every step.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import dagster as dg
import duckdb

from assets.code_version import code_version
from assets.publishing import markdown_preview
from pipelines.resources import WarehouseResource
from pipelines.settings import PROJECT_ROOT
from reelreason.parse.common import Parsed

REUSE_TAG = "reelreason/reuse"
# Resources that are where data lives, not what it is (raw file content enters as its hashes).
NOT_INPUTS = {"warehouse", "raw_files", "io_manager"}
# Resource fields that change how fast or how reliably a step runs, never what it writes.
OPERATIONAL_FIELDS = {
    "rate_limit",
    "max_concurrency",
    "timeout_seconds",
    "deadline_seconds",
    "max_response_mb",
    "max_mb",
    "max_attempts",
    "max_retries",
    "attempts",
    "backoff_seconds",
    "batch_size",
    "threads",
    "device",
    "shards",
}
SECRET_MARKERS = ("key", "token", "password", "secret")
# Where a service is reached: whether it is set decides whether the service is used at all,
# but the caches behind it (TMDB answers by request, vectors by model and text, keyphrases by
# model and text) do not depend on the address, so neither does reuse.
PRESENCE_ONLY = {"base_url"}
# Metadata that counts the work of the run that wrote a table (requests, cache hits, texts
# embedded): not carried onto a reuse, where that work did not happen.
RUN_WORK_METADATA = (
    "embed_",
    "keyphrase_",
    "tmdb_cache",
    "tmdb_requests",
    "tmdb_http",
    "tmdb_stale",
    "tmdb_not_fetched",
    "shards",
)
_READS = re.compile(r"\b(?:FROM|JOIN)\s+(?:lake\.)?(?:main\.)?([A-Za-z_]\w*)", re.IGNORECASE)


class UndeclaredInput(RuntimeError):
    """A step read a table it does not declare: its reuse decision would miss that input."""


def resource_inputs(resource) -> dict:
    """What of a resource's configuration can change a step's output."""
    if not hasattr(resource, "model_dump"):
        return {"type": type(resource).__name__}
    values = {}
    for name, value in sorted(resource.model_dump().items()):
        if name in OPERATIONAL_FIELDS or name.endswith("_env"):  # where a credential is read
            continue
        if name in PRESENCE_ONLY or any(marker in name.lower() for marker in SECRET_MARKERS):
            value = bool(value)  # whether a credential is there changes output, its value not
        values[name] = value
    if hasattr(resource, "credential_presence"):  # read from the environment when used
        values.update(resource.credential_presence())
    return values


def reuse_allowed(run_tags: dict[str, str], setting: bool = True) -> bool:
    """`setting` is REELREASON_REUSE (Settings.reuse, carried by the warehouse resource); the
    run tag turns reuse off for one run."""
    if run_tags.get(REUSE_TAG, "").lower() in {"off", "0", "false", "no"}:
        return False
    return setting


class _GuardedConnection:
    """A cursor that refuses reads of data tables outside the step's declared inputs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, step: Step, data_tables: set[str]):
        self._con, self._step, self._data_tables = con, step, data_tables

    def _check(self, sql: str) -> None:
        allowed = set(self._step.upstream_tables) | set(self._step.tables)
        read = {name for name in _READS.findall(sql) if name in self._data_tables}
        self._step.tables_read |= read & allowed
        undeclared = read - allowed
        if undeclared:
            raise UndeclaredInput(
                f"{self._step.name} reads {sorted(undeclared)} without declaring it: add it to "
                "the asset's deps (its inputs decide when the step can be reused)"
            )

    def execute(self, sql: str, *args, **kwargs):
        self._check(sql)
        return self._con.execute(sql, *args, **kwargs)

    def sql(self, sql: str, *args, **kwargs):
        self._check(sql)
        return self._con.sql(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


class Step:
    """One execution of a step that writes `tables` from `upstream` (asset keys; `raw_<dataset>`
    for raw files), configured by the resources `resource_keys`. They default to the asset's
    own keys, its declared deps and the resources it requires. `raw_paths` narrows a raw
    dataset to the files the step reads (a new ratings file leaves the users table alone)."""

    def __init__(
        self,
        context,
        warehouse: WarehouseResource,
        *,
        tables: Iterable[str] | None = None,
        upstream: Iterable[str] | None = None,
        resource_keys: Iterable[str] | None = None,
        raw_paths: Iterable[str] | None = None,
        extra: dict | None = None,
        code_module: str | None = None,
    ):
        self.context, self.warehouse = context, warehouse
        # The code this step can run: the module that made the Step (the asset's) and what it
        # imports, not the whole tree (assets/code_version.py).
        code_module = code_module or sys._getframe(1).f_globals["__name__"]
        if tables is None or upstream is None:
            assets_def = context.assets_def
            own = {key.to_user_string() for key in assets_def.keys}
            deps = {dep.to_user_string() for keys in assets_def.asset_deps.values() for dep in keys}
        self.tables = sorted(tables if tables is not None else own)
        self.upstream = sorted(upstream if upstream is not None else deps - own)
        self.name = self.tables[0] if len(self.tables) == 1 else "+".join(self.tables)
        self.upstream_tables = [u for u in self.upstream if not u.startswith("raw_")]
        self.raw_paths = set(raw_paths) if raw_paths is not None else None
        self.complete, self.incomplete_reason = True, ""
        self.expires_at: datetime | None = None
        # What the step adds to its tables' materializations, and the views to (re)create
        # over them once written (assets/write_path.py).
        self.metadata: dict[str, dict] = {}
        self.views: list[tuple[str, str]] = []
        self.tables_read: set[str] = set()  # by step.session(): shown beside the declared deps
        if resource_keys is None:
            resource_keys = context.op_def.required_resource_keys
        resources = {
            key: resource_inputs(getattr(context.resources, key))
            for key in sorted(resource_keys)
            if key not in NOT_INPUTS
        }
        with warehouse.lake.session() as con:
            self._written = warehouse.lake.latest_write_info(con)
            raw = self._raw_versions(con)
        versions = {}
        for name in self.upstream:
            if name.startswith("raw_"):
                versions[name] = raw.get(name.removeprefix("raw_"), [])
            else:
                # An upstream table not written yet is an input too ("absent"): when it appears,
                # this step computes again.
                info = self._written.get(name)
                if info is None:
                    versions[name] = "absent"
                else:
                    versions[name] = info.get("content") or f"snapshot {info['snapshot_id']}"
        self.inputs = {
            "code": code_version(code_module, PROJECT_ROOT),
            "resources": resources,
            "upstream": versions,
            "extra": extra or {},
        }
        self.fingerprint = hashlib.sha256(
            json.dumps(self.inputs, sort_keys=True, default=str).encode()
        ).hexdigest()

    def _raw_versions(self, con) -> dict[str, list]:
        datasets = [u.removeprefix("raw_") for u in self.upstream if u.startswith("raw_")]
        if not datasets:
            return {}
        rows = con.execute(
            "SELECT dataset, path, sha256, origin = 'absent' FROM lake.raw_files "
            "WHERE list_contains(?, dataset) ORDER BY dataset, path",
            [datasets],
        ).fetchall()
        versions: dict[str, list] = {}
        for dataset, path, sha, absent in rows:
            if self.raw_paths is not None and path not in self.raw_paths:
                continue
            versions.setdefault(dataset, []).append([path, None if absent else sha])
        return versions

    # --- the decision ------------------------------------------------------------------------

    def why_not_reusable(self) -> str | None:
        """None when every table can be reused, else why not (in words)."""
        if not reuse_allowed(self.context.run.tags, self.warehouse.reuse):
            return "recompute asked for (run tag reelreason/reuse=off or REELREASON_REUSE=0)"
        now = datetime.now(timezone.utc)
        for table in self.tables:
            info = self._written.get(table)
            if info is None:
                return f"{table} was never written"
            if info.get("inputs") != self.fingerprint:
                return f"inputs changed since {table} was written by run {info['run_id'][:8]}"
            if not info.get("complete", True):
                return f"{table} was incomplete ({info.get('incomplete_reason', '?')})"
            expires = info.get("expires_at")
            if expires and datetime.fromisoformat(expires) <= now:
                return f"{table} used cached TMDB answers that expired at {expires}"
        return None

    def reusable(self) -> bool:
        reason = self.why_not_reusable()
        if reason is None:
            runs = sorted({self._written[t]["run_id"][:8] for t in self.tables})
            self.context.log.info(
                f"{self.name}: inputs unchanged, reusing the version written by run "
                f"{', '.join(runs)} (fingerprint {self.fingerprint[:12]})"
            )
            return True
        self.context.log.info(f"{self.name}: computing ({reason})")
        return False

    def reused(self) -> list[dg.MaterializeResult]:
        """Materializations for reused tables: the metadata of the run that wrote them (when
        this Dagster instance has it), marked as reused."""
        results = []
        for table in self.tables:
            info = self._written[table]
            key = dg.AssetKey(table)
            event = self.context.instance.get_latest_materialization_event(key)
            metadata = {}
            # The writing run's event, or a later reuse of it (which copied that metadata).
            copied = event.asset_materialization.metadata.get("reused_from_run") if event else None
            if event is not None and info["run_id"] in (
                event.run_id,
                getattr(copied, "value", None),
            ):
                metadata = {
                    k: v
                    for k, v in event.asset_materialization.metadata.items()
                    if not k.startswith(RUN_WORK_METADATA)
                }
            else:
                metadata.update(self._basic_metadata(table))
            metadata.update(
                {
                    "reused": True,
                    "reused_from_run": info["run_id"],
                    "snapshot_id": info["snapshot_id"],
                    "input_fingerprint": self.fingerprint[:16],
                }
            )
            results.append(
                dg.MaterializeResult(
                    asset_key=key,
                    metadata=metadata,
                    data_version=dg.DataVersion(info["content"]) if info.get("content") else None,
                )
            )
        return results

    def _basic_metadata(self, table: str) -> dict:
        with self.warehouse.lake.session() as con:
            rows = con.execute(f"SELECT count(*) FROM lake.main.{table}").fetchone()[0]
            head = con.execute(f"FROM lake.main.{table} LIMIT 5").to_arrow_table()
        return {"dagster/row_count": rows, "preview": dg.MetadataValue.md(markdown_preview(head))}

    # --- what a fresh write records ------------------------------------------------------------

    def mark_incomplete(self, reason: str) -> None:
        """The result depends on an outside service that failed part of it: the next build
        computes this step again instead of reusing it."""
        self.complete, self.incomplete_reason = False, reason

    def expire_at(self, when: datetime | None) -> None:
        if when is not None and (self.expires_at is None or when < self.expires_at):
            self.expires_at = when

    def describe(self, table: str, **metadata) -> None:
        """Metadata for `table`'s materialization, next to the write path's own."""
        self.metadata.setdefault(table, {}).update(metadata)

    def add_view(self, name: str, sql: str) -> None:
        self.views.append((name, sql))

    def skip(self, table: str, schema, reason: str) -> Parsed:
        """An explicit skip: an empty table, and the reason on the asset page."""
        self.context.log.warning(reason)
        self.describe(table, status=reason)
        return Parsed({table: schema.empty_table()})

    def lineage(self) -> dict:
        record = {"inputs": self.fingerprint, "complete": self.complete}
        if not self.complete:
            record["incomplete_reason"] = self.incomplete_reason[:200]
        if self.expires_at is not None:
            record["expires_at"] = self.expires_at.isoformat()
        return record

    @contextmanager
    def session(self) -> Iterator[_GuardedConnection]:
        """A warehouse connection that reads declared inputs only."""
        with self.warehouse.lake.session() as con:
            data_tables = set(self.warehouse.lake.data_tables(con))
            yield _GuardedConnection(con, self, data_tables)
