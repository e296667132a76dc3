"""The Dagster code location: assets, checks, resources and the default job."""

from __future__ import annotations

import dagster as dg

from assets.build import build_asset
from assets.checks import quarantine_check_for
from assets.raw import raw_assets_for
from assets.staging import STAGING_TABLES, staging_assets
from pipelines.resources import RawFilesResource, WarehouseResource
from pipelines.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *raw_assets_for(settings.movietweetings_ref, settings.mirror),
            *staging_assets,
            build_asset(settings),
        ],
        asset_checks=[
            quarantine_check_for(t, settings.quarantine_max_fraction) for t in STAGING_TABLES
        ],
        resources={
            "warehouse": WarehouseResource(root=str(settings.warehouse)),
            "raw_files": RawFilesResource(
                cache_dir=str(settings.warehouse / "raw"),
                raw_dir=str(settings.raw_dir) if settings.raw_dir else None,
                offline=settings.offline,
            ),
        },
        # One writer at a time keeps DuckLake commits simple and ordered.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
