"""Turning a parser's output into warehouse writes and the metadata a person wants to see."""

from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

import schemas
from pipelines.resources import WarehouseResource
from reelreason.parse.common import Parsed


def markdown_preview(table: pa.Table, rows: int = 5, width: int = 48) -> str:
    """A small markdown table of the first rows (long cells cut, lists shown compactly)."""
    if table.num_rows == 0:
        return "_(no rows)_"
    head = table.slice(0, rows).to_pylist()
    cols = table.column_names

    def cell(v) -> str:
        s = "" if v is None else (", ".join(map(str, v)) if isinstance(v, list) else str(v))
        s = s.replace("|", "\\|").replace("\n", " ")
        return s if len(s) <= width else s[: width - 1] + "…"

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in head]
    return "\n".join(lines)


def column_schema(name: str, table: pa.Table) -> dg.TableSchema:
    """The table's columns and types, each with its description from the table's model (the
    UI shows them on the asset page; columns a model leaves open have none)."""
    declared = schemas.arrow_schema(name) if name in schemas.TABLE_MODELS else pa.schema([])
    described = {
        f.name: f.metadata[b"description"].decode()
        for f in declared
        if f.metadata and b"description" in f.metadata
    }
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=f.name, type=str(f.type), description=described.get(f.name))
            for f in table.schema
        ]
    )


def file_accounts_markdown(parsed: Parsed) -> str:
    lines = ["| file | data lines | kept | quarantined | blank |", "|---|---|---|---|---|"]
    for a in parsed.accounts:
        lines.append(
            f"| {a.file} | {a.data_lines} | {a.kept} | {a.quarantined} | {a.blank_lines} |"
        )
    return "\n".join(lines)


def write_parsed(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    parsed: Parsed,
    *,
    source: str,
    step=None,
) -> Iterator[dg.MaterializeResult]:
    """Write every table of `parsed` (one snapshot each) and yield its materialization.
    `step` (assets.incremental.Step) records what the tables were computed from."""
    unbalanced = [a for a in parsed.accounts if not a.balanced]
    if unbalanced:  # a parser bug: rows would vanish without a trace, so stop here
        raise RuntimeError(
            "Line accounting does not balance (kept + quarantined + blank != data lines): "
            + "; ".join(
                f"{a.file}: {a.kept}+{a.quarantined}+{a.blank_lines} != {a.data_lines}"
                for a in unbalanced
            )
        )
    quarantined_total = sum(len(v) for v in parsed.quarantine.values())
    # A one-file parse labels rule-quarantined rows with that file; derived tables name
    # themselves (`table:<name>`).
    file = parsed.accounts[0].file if len(parsed.accounts) == 1 else None
    for name, table in parsed.tables.items():
        write, screened = warehouse.write_table(
            name,
            table,
            run_id=context.run.run_id,
            source=source,
            quarantine=parsed.quarantine_table(name),
            lineage=step.lineage() if step is not None else None,
            file=file,
        )
        parse_quarantined = len(parsed.quarantine.get(name, []))
        context.log.info(
            f"{name}: {write.row_count:,} rows written (snapshot {write.snapshot_id}), "
            f"{parse_quarantined + screened.quarantined} quarantined"
        )
        for q in parsed.quarantine.get(name, [])[:5]:
            context.log.warning(f"quarantined {q['file']}:{q['line']}: {q['reason']}")
        for q in screened.quarantine.slice(0, 5).to_pylist():
            context.log.warning(f"quarantined by rule: {q['reason']}")
        metadata = {
            "dagster/row_count": write.row_count,
            "dagster/column_schema": column_schema(name, screened.table),
            "quarantined_rows": parse_quarantined + screened.quarantined,
            "quarantined_by_rules": screened.quarantined,
            "snapshot_id": write.snapshot_id,
            "preview": dg.MetadataValue.md(markdown_preview(screened.table)),
        }
        if screened.rules:
            metadata["quarantine_rules"] = dg.MetadataValue.json(screened.rules)
        if parsed.accounts and name == next(iter(parsed.tables)):  # the parse's file account
            metadata["source_files"] = dg.MetadataValue.md(file_accounts_markdown(parsed))
            metadata["quarantined_in_parse"] = quarantined_total
            for key, value in parsed.notes.items():
                metadata[f"note_{key}"] = (
                    value if isinstance(value, (int, float, str)) else dg.MetadataValue.json(value)
                )
        if step is not None:
            metadata["tables_read"] = dg.MetadataValue.json(sorted(step.tables_read))
            metadata.update(step.metadata.get(name, {}))
            if not step.complete:
                metadata["incomplete"] = step.incomplete_reason
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(name),
            metadata=metadata,
            data_version=dg.DataVersion(write.content_sha256),
        )
