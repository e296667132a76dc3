"""Publishing a build: the moment a consistent set of table versions becomes current."""

import subprocess
from datetime import datetime, timezone

import dagster as dg

from assets.staging import STAGING_TABLES
from pipelines.resources import WarehouseResource
from pipelines.settings import PROJECT_ROOT, Settings


def code_version() -> str:
    """git commit of the code that ran (with -dirty for uncommitted changes)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
        return sha + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import version

        return f"reelreason-{version('reelreason')}"


def build_asset(settings: Settings, tables: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        name="warehouse_build",
        group_name="publish",
        kinds={"ducklake"},
        deps=tables,
        description="Records this run as a build: the snapshot of every table, row counts, code "
        "version and configuration. Readers (`reelreason sql`) see the newest build only once "
        "this has run, so a half-finished or failed run is never what they read.",
    )
    def warehouse_build(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        stats = context.instance.get_run_stats(context.run.run_id)
        started = (
            datetime.fromtimestamp(stats.start_time, timezone.utc)
            if stats.start_time
            else datetime.now(timezone.utc)
        )
        snapshot, tables, blocked = warehouse.publish_build(
            build_id=context.run.run_id,
            started_at=started,
            code_version=code_version(),
            profile=settings.profile,
            config=settings.public(),
            promote=settings.auto_promote,
            actor=f"run {context.run.run_id[:8]}",
            guarded=STAGING_TABLES,
            max_shrink=settings.max_shrink,
        )
        if blocked:  # published for inspection, never current on its own
            raise dg.Failure(
                description=f"promotion blocked: {'; '.join(blocked)} against the current "
                f"build (more than REELREASON_MAX_SHRINK={settings.max_shrink:g} of a source "
                f"table's rows gone, or all of them). Build {context.run.run_id} was published "
                "as a candidate; the current build is unchanged. Check the raw files; if the "
                f"change is intended: `reelreason promote {context.run.run_id[:8]}`."
            )
        lines = ["| table | rows | snapshot |", "|---|---|---|"]
        lines += [f"| {t.table} | {t.row_count:,} | {t.snapshot_id} |" for t in tables]
        context.log.info(
            f"build {context.run.run_id} published at snapshot {snapshot}"
            + ("" if settings.auto_promote else " (not promoted: REELREASON_AUTO_PROMOTE=0)")
        )
        return dg.MaterializeResult(
            metadata={
                "build_id": context.run.run_id,
                "snapshot_id": snapshot,
                "tables": dg.MetadataValue.md("\n".join(lines)),
                "table_count": len(tables),
                "total_rows": sum(t.row_count for t in tables),
                "promoted": settings.auto_promote,
                "read_it": dg.MetadataValue.md(
                    f'`reelreason sql --build {context.run.run_id[:8]} "SHOW TABLES"`'
                ),
            }
        )

    return warehouse_build
