"""Asset checks beside the staging tables: quarantined rows warn; too many fail and block."""

import dagster as dg

from pipelines.resources import WarehouseResource


def quarantine_check_for(table: str, max_fraction: float) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table,
        name="quarantine_fraction",
        blocking=True,  # a failing source must not be published in a build
        description=f"WARN when any row of {table}'s source was quarantined; ERROR (blocks the "
        f"build) when more than {max_fraction:.2%} of them were "
        "(REELREASON_QUARANTINE_MAX_FRACTION).",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        rows, quarantined = warehouse.quarantine_stats(table)
        fraction = quarantined / (rows + quarantined) if rows + quarantined else 0.0
        passed = fraction <= max_fraction and quarantined == 0
        severity = (
            dg.AssetCheckSeverity.ERROR if fraction > max_fraction else dg.AssetCheckSeverity.WARN
        )
        return dg.AssetCheckResult(
            passed=passed,
            severity=severity,
            description=(
                f"{quarantined} quarantined of {rows + quarantined} source rows ({fraction:.3%}); "
                f"see `SELECT * FROM quarantine WHERE table_name = '{table}'`"
            ),
            metadata={
                "quarantined": quarantined,
                "rows": rows,
                "fraction": fraction,
                "max_fraction": max_fraction,
            },
        )

    return _check
