"""Running the warehouse: the nightly build, promotion/rollback, retention, Parquet exports.

The management jobs are thin ops over `Warehouse` methods, the same ones `reelreason
promote|rollback|retain|export` call, so the UI and the command line cannot disagree.
"""

import json

import dagster as dg
from pydantic import Field

from pipelines.resources import WarehouseResource
from pipelines.settings import Settings
from reelreason.warehouse import build_lock

NIGHTLY_JOB = "nightly_build"


def _short(build: dict) -> str:
    return f"{build['build_id'][:8]} (published {build['published_at']:%Y-%m-%d %H:%M})"


@dg.asset(
    name="parquet_export",
    group_name="publish",
    kinds={"parquet"},
    deps=["warehouse_build"],
    description="Plain Parquet files of every table of this run's build, plus manifest.json "
    "(rows, snapshot, code version), under <warehouse>/exports/<build_id>/ — for consumers that "
    "want files, not a catalog. Written to a temporary folder and renamed into place.",
)
def parquet_export(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    folder = warehouse.lake.export_build(context.run.run_id)
    files = sorted(folder.glob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    tables = json.loads((folder / "manifest.json").read_text())["tables"]
    copied = sum(1 for info in tables.values() if info.get("copied_from"))
    context.log.info(
        f"exported {len(files)} tables ({size / 1e6:.1f} MB) to {folder}; {copied} unchanged "
        "table versions copied from an earlier export"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(folder)),
            "files": len(files),
            "copied_from_earlier_export": copied,
            "megabytes": round(size / 1e6, 3),
            "manifest": dg.MetadataValue.path(str(folder / "manifest.json")),
        }
    )


class PromoteConfig(dg.Config):
    build_id: str = Field(description="build id (or a unique prefix) to make current")
    note: str = ""


@dg.op(description="Make a published build the current one.")
def promote_op(context: dg.OpExecutionContext, config: PromoteConfig, warehouse: WarehouseResource):
    build = warehouse.lake.promote(
        config.build_id, actor=f"dagster run {context.run.run_id[:8]}", note=config.note or None
    )
    context.log.info(f"current build is now {_short(build)}")
    context.add_output_metadata({"current_build": build["build_id"]})


class RollbackConfig(dg.Config):
    note: str = ""


@dg.op(description="Make the build published before the current one current again.")
def rollback_op(
    context: dg.OpExecutionContext, config: RollbackConfig, warehouse: WarehouseResource
):
    left, target = warehouse.lake.rollback(
        actor=f"dagster run {context.run.run_id[:8]}", note=config.note or None
    )
    context.log.info(f"rolled back from {_short(left)} to {_short(target)}")
    context.add_output_metadata({"current_build": target["build_id"], "left": left["build_id"]})


class RetentionConfig(dg.Config):
    keep: int = Field(default=10, description="newest builds to keep (the current one always)")
    dry_run: bool = False
    grace_hours: float = Field(
        default=24, description="delete released files only after this long (running queries)"
    )


@dg.op(description="Forget builds beyond the newest N, expire snapshots, compact, delete files.")
def retention_op(
    context: dg.OpExecutionContext, config: RetentionConfig, warehouse: WarehouseResource
):
    # Never while `reelreason build` writes (runs from the UI/schedule queue one at a time).
    with build_lock(warehouse.lake.root):
        report = warehouse.lake.retain(
            config.keep, dry_run=config.dry_run, grace_hours=config.grace_hours
        )
    context.log.info(
        f"kept {len(report.kept_builds)} builds, dropped {len(report.dropped_builds)}, expired "
        f"{len(report.expired_snapshots)} snapshots; files {report.files_before} -> "
        f"{report.files_after}, {report.bytes_before:,} -> {report.bytes_after:,} bytes"
    )
    context.add_output_metadata(
        {
            "dropped_builds": dg.MetadataValue.json(report.dropped_builds),
            "expired_snapshots": len(report.expired_snapshots),
            "files_before": report.files_before,
            "files_after": report.files_after,
            "bytes_before": report.bytes_before,
            "bytes_after": report.bytes_after,
            "dry_run": report.dry_run,
        }
    )


def operations(settings: Settings) -> dict:
    """Jobs, the nightly schedule and the after-build retention sensor for Definitions."""
    nightly = dg.define_asset_job(
        NIGHTLY_JOB,
        selection=dg.AssetSelection.all(),
        description="The whole graph. Unchanged inputs cost little: raw files, TMDB responses "
        "and embeddings come from their caches. A failed run publishes nothing, so the "
        "current build stays current.",
        tags={"reelreason/trigger": "schedule"},
    )

    @dg.job(name="promote_build", executor_def=dg.in_process_executor)
    def promote_job():
        promote_op()

    @dg.job(name="rollback_build", executor_def=dg.in_process_executor)
    def rollback_job():
        rollback_op()

    @dg.job(
        name="apply_retention",
        executor_def=dg.in_process_executor,
        config=dg.RunConfig(ops={"retention_op": RetentionConfig(keep=settings.keep_builds)}),
    )
    def retention_job():
        retention_op()

    schedule = dg.ScheduleDefinition(
        name="nightly_build_schedule",
        job=nightly,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=(
            dg.DefaultScheduleStatus.RUNNING
            if settings.schedule_enabled
            else dg.DefaultScheduleStatus.STOPPED
        ),
        description="REELREASON_SCHEDULE_CRON in REELREASON_SCHEDULE_TIMEZONE.",
    )

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[nightly],
        request_job=retention_job,
        name="retention_after_nightly_build",
        default_status=(
            dg.DefaultSensorStatus.RUNNING
            if settings.schedule_enabled
            else dg.DefaultSensorStatus.STOPPED
        ),
        description="After a successful nightly build, keep the newest REELREASON_KEEP_BUILDS "
        "builds and compact.",
    )
    def retention_after_nightly(context: dg.RunStatusSensorContext):
        if context.dagster_run.tags.get("reelreason/trigger") == "cli":
            return dg.SkipReason("a `reelreason build` run, not the nightly one")
        return dg.RunRequest(run_key=f"retention-after-{context.dagster_run.run_id}")

    return {
        "jobs": [nightly, promote_job, rollback_job, retention_job],
        "schedules": [schedule],
        "sensors": [retention_after_nightly],
    }
