"""Builds: publishing a consistent set of table versions, and which build is current
(publish, promote, rollback, the build lock). A mixin of `reelreason.warehouse.Warehouse`:
it uses the connection layer's methods (connection.py)."""

from __future__ import annotations

import fcntl
import json
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from reelreason.lake.connection import (
    CANDIDATE,
    LAKE,
    NO_CURRENT,
    RUN_SPECIFIC_COLUMNS,
    TableWrite,
    WarehouseError,
    content_sha256,
)

# eval_results' columns kept per build in build_metrics (with the build's id).
METRIC_COLUMNS = "protocol, embedding, model, alpha, metric, segment, value, ci_low, ci_high, n"

_BUILD_TABLES_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("snapshot_id", pa.int64()),
        ("row_count", pa.int64()),
        ("written_by_run", pa.string()),
    ]
)


class Builds:
    """Publishing builds and choosing the current one."""

    def publish_build(
        self,
        *,
        build_id: str,
        started_at,
        code_version: str,
        profile: str,
        config: dict,
        validate: Callable[[str, pa.Table], None] | None = None,
        promote: bool = True,
        actor: str = "pipeline",
        guarded: Iterable[str] = (),
        max_shrink: float = 1.0,
    ) -> tuple[int, list[TableWrite], list[str]]:
        """Record a build: the current version of every data table, its evaluation figures
        and (unless promote=False) the event that makes it current, in one commit.

        A `guarded` table (a source) that is empty now but had rows in the current build, or
        lost more than `max_shrink` of them, blocks promotion: the build is published as a
        candidate with the reasons as its event note, and the reasons are returned."""
        blocked: list[str] = []

        def work(con):
            tables = self.data_tables(con)
            writes = self.latest_writes(con)
            missing = [t for t in tables if t not in writes]
            if missing:
                raise WarehouseError(f"tables {missing} have no recorded write; cannot publish")
            counts = {
                t: con.execute(f"SELECT count(*) FROM {LAKE}.main.{t}").fetchone()[0]
                for t in tables
            }
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
                schema=_BUILD_TABLES_SCHEMA,
            )
            if validate is not None:
                validate("build_tables", rows)
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
            if "eval_results" in tables:
                con.execute(
                    f"INSERT INTO {LAKE}.build_metrics (build_id, {METRIC_COLUMNS}) "
                    f"SELECT ?, {METRIC_COLUMNS} FROM eval_results",
                    [build_id],
                )
            have = set(self._tables(con))
            current = self._current_build_id(con, have) if "build_tables" in have else None
            before = dict(
                con.execute(
                    f"SELECT table_name, row_count FROM {LAKE}.build_tables WHERE build_id = ?",
                    [current],
                ).fetchall()
                if current
                else []
            )
            blocked[:] = shrunk_tables(before, counts, guarded, max_shrink)
            if blocked or not promote:
                note = "promotion blocked: " + "; ".join(blocked) if blocked else None
                self._insert_event(con, build_id, CANDIDATE, actor, note)
            return [TableWrite(t, writes[t][0], counts[t]) for t in tables]

        written, snapshot = self.commit(
            work, message=f"publish build {build_id}", extra={"build_id": build_id}
        )
        if promote and not blocked:
            # A second commit: `current_build` names the snapshot of the first. A crash in
            # between leaves the build published but never current, like a candidate.
            self.promote(build_id, actor=actor, action="publish")
        return snapshot, written, blocked

    @staticmethod
    def _insert_event(
        con, build_id: str, action: str, actor: str, note: str | None, snapshot_id=None
    ) -> None:
        """Record an event; one that makes a build current also rewrites `current_build`,
        in the same commit, so the two never disagree."""
        con.execute(
            f"INSERT INTO {LAKE}.build_events VALUES (?, ?, now(), ?, ?)",
            [build_id, action, actor, note],
        )
        if action != CANDIDATE:
            con.execute(f"DELETE FROM {LAKE}.current_build")
            con.execute(
                f"INSERT INTO {LAKE}.current_build VALUES (?, ?, ?, now(), ?)",
                [build_id, snapshot_id, action, actor],
            )

    def builds(self) -> list[dict]:
        """Published builds, newest first, with table/row counts, headline metrics and which
        one is current."""
        with self.session(read_only=True) as con:
            # One transaction: every read below sees the same snapshot, so a publish landing
            # in between cannot name a current build missing from the list.
            con.execute("BEGIN TRANSACTION")
            have = set(self._tables(con))
            # A build's snapshot is its publish commit, found by the tag on that commit.
            cur = con.execute(
                f"""SELECT b.build_id, s.snapshot_id, b.started_at, b.published_at,
                           b.code_version, b.profile,
                           (SELECT count(*) FROM {LAKE}.build_tables t
                             WHERE t.build_id = b.build_id) AS tables,
                           (SELECT sum(row_count) FROM {LAKE}.build_tables t
                             WHERE t.build_id = b.build_id) AS total_rows
                    FROM {LAKE}.builds b JOIN {LAKE}.snapshots() s
                      ON json_extract_string(s.commit_extra_info, '$.build_id') = b.build_id
                    ORDER BY s.snapshot_id DESC"""
            )
            cols = [d[0] for d in cur.description]
            builds = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            metrics: dict[str, dict] = {}
            if "build_metrics" in have:
                for build_id, key, value in con.execute(
                    f"""SELECT build_id, embedding || ':' || metric, value
                        FROM {LAKE}.build_metrics
                        WHERE segment = 'all' AND NOT starts_with(model, 'baseline:')
                          AND protocol = 'leave_last_out'
                          AND metric IN ('hr@10', 'ndcg@10')
                        ORDER BY embedding, metric"""
                ).fetchall():
                    metrics.setdefault(build_id, {})[key] = value
            current = self._current_build_id(con, have)
            approved = {b for b, action in self._events(con, have) if action != CANDIDATE}
            con.execute("ROLLBACK")
        if current is None and builds:  # no events at all: the newest build is current
            current = builds[0]["build_id"]
            approved = {b["build_id"] for b in builds}
        for b in builds:
            b["total_rows"] = int(b["total_rows"] or 0)
            b["metrics"] = metrics.get(b["build_id"], {})
            b["current"] = b["build_id"] == current
            b["approved"] = b["build_id"] in approved
        return builds

    def _ensure_internal_tables(self, con) -> None:
        """A warehouse from before `current_build` gains it filled in, once."""
        had_it = "current_build" in set(self._tables(con))
        super()._ensure_internal_tables(con)
        if had_it:
            return
        have = set(self._tables(con))
        current = self._current_build_id(con, have)
        if current is None:  # no events: the newest build is current
            row = con.execute(f"SELECT build_id FROM {LAKE}.builds ORDER BY published_at DESC")
            current = (row.fetchone() or [None])[0]
        if current:
            (snapshot,) = con.execute(
                f"""SELECT s.snapshot_id FROM {LAKE}.snapshots() s
                    WHERE json_extract_string(s.commit_extra_info, '$.build_id') = ?""",
                [current],
            ).fetchone()
            self._retrying(
                con,
                lambda c: c.execute(
                    f"INSERT INTO {LAKE}.current_build VALUES (?, ?, 'backfill', now(), ?)",
                    [current, snapshot, "upgrade"],
                ),
                "fill current_build",
                {},
            )

    @staticmethod
    def _events(con, have: set[str]) -> list[tuple[str, str]]:
        """(build_id, action) of every event on a kept build, newest first."""
        if "build_events" not in have:
            return []
        return con.execute(
            f"""SELECT e.build_id, e.action FROM {LAKE}.build_events e
                JOIN {LAKE}.builds b USING (build_id) ORDER BY e.happened_at DESC"""
        ).fetchall()

    @classmethod
    def _current_build_id(cls, con, have: set[str]) -> str | None:
        """The build named by the newest publish/promote/rollback event. A build published
        with promote=False is only a candidate. No events at all: a warehouse from before
        promotion existed, whose newest build is current (returns None)."""
        events = cls._events(con, have)
        current = next((b for b, action in events if action != CANDIDATE), None)
        return current if current or not events else NO_CURRENT

    def resolve_build(self, build_id: str | None = None) -> dict:
        """The current build, or the one named (a unique id prefix is enough)."""
        builds = self.builds()
        if not builds:
            raise WarehouseError(
                f"The warehouse at {self.root} has no published build yet. Run `reelreason build`."
            )
        if build_id is None:
            current = next((b for b in builds if b["current"]), None)
            if current is None:
                raise WarehouseError(
                    f"No build of {self.root} has been made current yet (builds are published "
                    "with REELREASON_AUTO_PROMOTE=0): `reelreason promote <build>`, or read one "
                    "by id with --build."
                )
            return current
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

    def content_hashes(self, build_id: str | None = None) -> dict[str, str]:
        """table -> sha256 of its rows in one build (the current one by default), leaving out
        the columns that only say which build or run wrote a row (RUN_SPECIFIC_COLUMNS). Two
        builds of the same inputs give equal hashes: the reproducibility test and
        `scripts/table_hashes.py` (before/after a refactor) compare these."""
        build = self.resolve_build(build_id)
        out = {}
        with self.connect(read_only=True, snapshot=build["snapshot_id"]) as con:
            tables = con.execute(
                "SELECT table_name FROM build_tables WHERE build_id = ? ORDER BY table_name",
                [build["build_id"]],
            ).fetchall()
            for (table,) in tables:
                columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
                kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_SPECIFIC_COLUMNS)
                rows = con.execute(f"SELECT {kept} FROM {table}").to_arrow_table()
                out[table] = content_sha256(rows)
        return out

    def connect_reader(self, build_id: str | None = None) -> duckdb.DuckDBPyConnection:
        """A connection for untrusted queries (`reelreason sql`): pinned to one build, the lake
        attached read-only, and then no file outside the lake's data folder reachable, no
        extension installed or loaded, no other database attached, and those settings
        locked. Run its queries through `run_read_query`, which also refuses statements that
        are not queries (a COPY could still write inside the data folder)."""
        con = self.connect_build(build_id)
        remote = "://" in self.data_location
        data = self.data_location if remote else str(Path(self.data_location).resolve())
        con.execute("SET allowed_directories = ?", [[data]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def promote(
        self, build_id: str, *, actor: str = "cli", note: str | None = None, action="promote"
    ) -> dict:
        """Make a published build the current one (readers switch at their next connect)."""
        build = self.resolve_build(build_id)
        self.commit(
            lambda con: self._insert_event(
                con, build["build_id"], action, actor, note, build["snapshot_id"]
            ),
            message=f"{action} build {build['build_id']}",
            extra={"event": action, "target_build": build["build_id"]},
        )
        self._after_current_changed()
        return build

    def _after_current_changed(self) -> None:
        """A hook for what follows the current build outside the catalog (exports/CURRENT,
        maintenance.py)."""

    def rollback(self, *, actor: str = "cli", note: str | None = None) -> tuple[dict, dict]:
        """Make the build published just before the current one current again."""
        builds = self.builds()
        current = next((i for i, b in enumerate(builds) if b["current"]), None)
        # Back to the newest build published before the current one that was ever current:
        # never to a candidate nobody approved.
        earlier = [b for b in builds[current + 1 :] if b["approved"]] if current is not None else []
        if not earlier:
            raise WarehouseError(
                "No earlier build to roll back to"
                + (f" (current: {builds[current]['build_id'][:8]})" if current is not None else "")
                + "; `reelreason builds` lists what is kept."
            )
        target = earlier[0]
        self.promote(target["build_id"], actor=actor, note=note, action="rollback")
        return builds[current], target

    # --- retention and exports ---------------------------------------------------------------


def shrunk_tables(
    before: dict[str, int], after: dict[str, int], guarded: Iterable[str], max_shrink: float
) -> list[str]:
    """Why a build must not become current: each guarded table that is empty now but was
    not in the current build, or lost more than `max_shrink` of its rows, as
    `table rows_before → rows_after`."""
    reasons = []
    for table in guarded:
        old, new = before.get(table, 0), after.get(table, 0)
        if old and (new == 0 or (old - new) / old > max_shrink):
            reasons.append(f"{table} {old:,} → {new:,} rows")
    return reasons


@contextmanager
def build_lock(warehouse_root: Path):
    """One build at a time per warehouse, whoever starts it (queued, never interleaved)."""
    try:
        warehouse_root.mkdir(parents=True, exist_ok=True)
        handle = open(warehouse_root / ".build.lock", "a+")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise WarehouseError(
            f"cannot write the warehouse folder {warehouse_root}: {exc.strerror}. Set "
            "REELREASON_WAREHOUSE to a folder this user can write."
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another build is writing {warehouse_root}; waiting for it…", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
