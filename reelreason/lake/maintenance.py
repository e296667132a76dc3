"""Maintenance: retention (expire old snapshots and files, keep the newest builds) and
export of a build as plain Parquet with a manifest. A mixin of
`reelreason.warehouse.Warehouse`."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reelreason.lake.connection import LAKE, WarehouseError, sql_string


@dataclass
class RetentionReport:
    kept_builds: list[str]
    dropped_builds: list[str]
    expired_snapshots: list[int]
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int
    dry_run: bool

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Maintenance:
    """Keeping the lake small and handing builds to plain readers."""

    def _files(self) -> tuple[int, int]:
        if "://" in self.data_location:
            return 0, 0
        files = [p for p in Path(self.data_location).rglob("*.parquet") if p.is_file()]
        return len(files), sum(p.stat().st_size for p in files)

    def retain(
        self, keep: int, *, dry_run: bool = False, compact: bool = True, grace_hours: float = 24
    ) -> RetentionReport:
        """Keep the newest `keep` builds (and the current one), forget older ones, expire the
        snapshots nothing kept needs, merge small files and delete unreferenced ones."""
        if keep < 1:
            raise WarehouseError("retention must keep at least 1 build")
        builds = self.builds()
        kept = [b for i, b in enumerate(builds) if i < keep or b["current"]]
        dropped = [b for b in builds if b not in kept]
        files_before, bytes_before = self._files()
        report = RetentionReport(
            kept_builds=[b["build_id"] for b in kept],
            dropped_builds=[b["build_id"] for b in dropped],
            expired_snapshots=[],
            files_before=files_before,
            files_after=files_before,
            bytes_before=bytes_before,
            bytes_after=bytes_before,
            dry_run=dry_run,
        )
        if not builds:
            return report
        with self.session() as con:
            kept_ids = [b["build_id"] for b in kept]
            protected = {b["snapshot_id"] for b in kept}
            protected |= {
                r[0]
                for r in con.execute(
                    f"SELECT snapshot_id FROM {LAKE}.build_tables WHERE list_contains(?, build_id)",
                    [kept_ids],
                ).fetchall()
            }
            protected |= {s for s, _ in self.latest_writes(con).values()}
            # Nothing at or after the newest build: a running build's writes live there.
            horizon = max(b["snapshot_id"] for b in builds)
            report.expired_snapshots = [
                r[0]
                for r in con.execute(
                    f"SELECT snapshot_id FROM {LAKE}.snapshots() WHERE snapshot_id < ? "
                    "ORDER BY snapshot_id",
                    [horizon],
                ).fetchall()
                if r[0] not in protected
            ]
        if dry_run:
            return report
        dropped_ids = report.dropped_builds
        if dropped_ids:

            def forget(con):
                for table in ("builds", "build_tables", "build_events", "build_metrics"):
                    con.execute(
                        f"DELETE FROM {LAKE}.{table} WHERE list_contains(?, build_id)",
                        [dropped_ids],
                    )

            self.commit(forget, message="retention", extra={"dropped_builds": dropped_ids})
        with self.session() as con, self._commit_lock():
            if report.expired_snapshots:
                con.execute(
                    f"CALL ducklake_expire_snapshots('{LAKE}', versions => ?)",
                    [report.expired_snapshots],
                )
            if compact:
                con.execute(f"CALL ducklake_merge_adjacent_files('{LAKE}')")
            # Files expired or merged away are deleted only after a grace period: a query
            # that started before retention may still be reading them.
            if grace_hours <= 0:
                con.execute(f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)")
            else:
                con.execute(
                    f"CALL ducklake_cleanup_old_files('{LAKE}', older_than => "
                    f"now() - INTERVAL '{float(grace_hours) * 3600:.0f} seconds')"
                )
        for build_id in dropped_ids:
            shutil.rmtree(self.exports_path / build_id, ignore_errors=True)
        report.files_after, report.bytes_after = self._files()
        return report

    def export_build(self, build_id: str | None = None, out: Path | None = None) -> Path:
        """Plain Parquet files of every table of a build plus a manifest.json in
        `<out or warehouse/exports>/<build_id>/`, written to a temporary folder and renamed
        into place, so a consumer never sees half an export. An existing export of the same
        build is kept; a folder of that name holding anything else is an error."""
        build = self.resolve_build(build_id)
        if out is not None:
            out = Path(out)
            if out.is_symlink() and not out.exists():
                raise WarehouseError(
                    f"--out {out} is a symbolic link to {os.readlink(out)}, which does not "
                    "exist: create that folder or choose another --out"
                )
            if out.exists() and not out.is_dir():
                raise WarehouseError(f"--out {out} exists and is not a folder")
        dest = Path(out or self.exports_path).resolve() / build["build_id"]
        manifest_path = dest / "manifest.json"
        if manifest_path.exists():
            try:
                done = json.loads(manifest_path.read_text()).get("build_id") == build["build_id"]
            except (OSError, ValueError):
                done = False
            if done:
                return dest
        if dest.exists():
            raise WarehouseError(
                f"{dest} exists and is not an export of build {build['build_id']}; "
                "remove it or export elsewhere (--out)"
            )
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            tmp.mkdir(parents=True)  # beside dest: the final rename stays on one filesystem
        except OSError as exc:
            raise WarehouseError(f"cannot create the export folder {dest.parent}: {exc}") from None
        try:
            with closing(self.connect(read_only=True, snapshot=build["snapshot_id"])) as con:
                versions = dict(
                    con.execute(
                        f"SELECT table_name, snapshot_id FROM {LAKE}.build_tables "
                        "WHERE build_id = ?",
                        [build["build_id"]],
                    ).fetchall()
                )
                earlier = self._exported_versions(dest.parent)
                tables = {}
                for table in self.data_tables(con):
                    target = tmp / f"{table}.parquet"
                    version = versions.get(table)
                    same = earlier.get((table, version)) if version is not None else None
                    if same is not None:
                        # A table version an earlier export already wrote (a reused step):
                        # copy its file instead of encoding the rows again.
                        path, rows, source_build = same
                        shutil.copyfile(path, target)
                        tables[table] = {"file": target.name, "rows": rows}
                        tables[table]["copied_from"] = source_build
                    else:
                        con.execute(
                            f"COPY (FROM {LAKE}.main.{table}) TO {sql_string(str(target))} "
                            "(FORMAT parquet, COMPRESSION zstd)"
                        )
                        rows = con.execute(f"SELECT count(*) FROM {LAKE}.main.{table}").fetchone()
                        tables[table] = {"file": target.name, "rows": int(rows[0])}
                    tables[table]["table_snapshot_id"] = version
            manifest = {
                "build_id": build["build_id"],
                # What it was when exported; `exports/CURRENT` says what is current now.
                "status": "current" if build["current"] else "candidate",
                "snapshot_id": build["snapshot_id"],
                "published_at": str(build["published_at"]),
                "code_version": build["code_version"],
                "tables": tables,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            tmp.rename(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if dest.parent == self.exports_path.resolve():
            self._after_current_changed()
        return dest

    def _after_current_changed(self) -> None:
        """`exports/CURRENT` names the export folder of the current build (one line, its
        build id), written beside and renamed over the old one; removed when the current
        build has no complete export, so it never names the wrong one."""
        folder = self.exports_path
        if not folder.is_dir():
            return
        current = next((b["build_id"] for b in self.builds() if b["current"]), None)
        pointer = folder / "CURRENT"
        if current is None or not (folder / current / "manifest.json").is_file():
            pointer.unlink(missing_ok=True)
            return
        tmp = folder / f".CURRENT.tmp-{uuid.uuid4().hex[:8]}"
        tmp.write_text(current + "\n")
        tmp.rename(pointer)

    @staticmethod
    def _exported_versions(folder: Path) -> dict[tuple[str, int], tuple[Path, int, str]]:
        """(table, table snapshot) -> (file, rows, build) over the complete exports in
        `folder` (those with a manifest; a half-written one never has one)."""
        found: dict[tuple[str, int], tuple[Path, int, str]] = {}
        for manifest_path in sorted(folder.glob("*/manifest.json")):
            try:
                manifest = json.loads(manifest_path.read_text())
                for table, info in manifest.get("tables", {}).items():
                    file = manifest_path.parent / info["file"]
                    if (
                        info.get("table_snapshot_id") is not None
                        and file.is_file()
                        and pq.read_metadata(file).num_rows == int(info["rows"])
                    ):
                        key = (table, int(info["table_snapshot_id"]))
                        found[key] = (file, int(info["rows"]), manifest["build_id"])
            except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
                continue  # not one of ours, or damaged: simply not a source to copy from
        return found
