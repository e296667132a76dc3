"""Raw layer: one asset per dataset that makes its upstream files present and verified."""

import dagster as dg

from pipelines.resources import RawFilesResource, WarehouseResource
from reelreason.sources import Dataset, datasets


def _files_markdown(records) -> str:
    lines = ["| file | origin | bytes | sha256 | checksum |", "|---|---|---|---|---|"]
    for r in records:
        lines.append(
            f"| {r.path} | {r.origin} | {r.bytes:,} | `{r.sha256[:12]}` | {r.checksum_status} |"
        )
    return "\n".join(lines)


def raw_asset_for(dataset: Dataset) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{dataset.name}",
        group_name="raw",
        kinds={"file"},
        description=(
            f"{dataset.title} upstream files ({dataset.licence}): taken from REELREASON_RAW_DIR "
            "when present, else downloaded (streamed, retried, checksum-verified, cached)."
        ),
        tags={"dataset": dataset.name},
    )
    def _raw(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        raw_files: RawFilesResource,
    ) -> dg.MaterializeResult:
        records, warnings = raw_files.fetch(dataset, log=context.log)
        for w in warnings:
            context.log.warning(w)
        warehouse.record_raw_files(dataset.name, records, run_id=context.run.run_id)
        present = [r for r in records if r.origin != "absent"]
        return dg.MaterializeResult(
            metadata={
                "files": dg.MetadataValue.md(_files_markdown(records)),
                "total_bytes": sum(r.bytes for r in present),
                "origins": dg.MetadataValue.json(
                    {
                        o: sum(1 for r in present if r.origin == o)
                        for o in ("user", "cache", "download")
                    }
                ),
                "absent_optional_files": [r.path for r in records if r.origin == "absent"],
                "checksum_warnings": len(warnings),
            }
        )

    return _raw


def raw_assets_for(movietweetings_ref: str, mirror: str | None) -> list[dg.AssetsDefinition]:
    return [raw_asset_for(ds) for ds in datasets(movietweetings_ref, mirror).values()]
