"""What readers get besides the rows: steps that declare exactly what they read, column
meanings in the catalog, quality as numbers the UI can chart, owners on every asset."""

from __future__ import annotations

import dagster as dg

import schemas
from pipelines.definitions import OWNER, build_definitions


def _materializations(result) -> dict[str, dict]:
    return {
        e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }


def test_each_step_declares_only_the_tables_it_reads(sample_build):
    """A declared table a step never reads tangles the graph and recomputes it for nothing;
    one it reads without declaring fails the step (assets/incremental.py). Ordering-only
    dependencies are named as such in the asset's metadata."""
    shared, result = sample_build
    graph = build_definitions(shared.settings()).resolve_asset_graph()
    with shared.lake.session(read_only=True) as con:
        tables = set(shared.lake.data_tables(con))
    checked = []
    for name, metadata in _materializations(result).items():
        if "tables_read" not in metadata or "status" in metadata:  # a skipped step reads nothing
            continue
        node = graph.get(dg.AssetKey(name))
        declared = {key.to_user_string() for key in node.parent_keys} & tables
        order_only = node.metadata.get("order_only_deps")
        order_only = set(getattr(order_only, "value", order_only) or [])
        read = set(metadata["tables_read"].value)
        assert declared - order_only - read == set(), f"{name} declares tables it never reads"
        checked.append(name)
    assert {"movie_xref", "movies", "eval_results", "user_likes"} <= set(checked)
    assert len(checked) >= 20


def test_catalog_ui_and_plots_carry_meaning(sample_build):
    shared, result = sample_build
    # Every published column's description is its catalog comment, for any DuckDB client.
    with shared.lake.session(read_only=True) as con:
        published = set(shared.lake.data_tables(con)) & set(schemas.TABLE_MODELS)
        comments = {
            (t, c): text
            for t, c, text in con.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() "
                "WHERE database_name = 'lake'"
            ).fetchall()
        }
        table_comments = dict(
            con.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = 'lake'"
            ).fetchall()
        )
    described = 0
    for table in published:
        for column, text in schemas.comments(table).items():
            if column == "":
                assert table_comments[table] == text
            else:
                assert comments[(table, column)] == text, (table, column)
                described += 1
    assert described > 250  # every declared column of 35 tables
    # Quality as numbers, so the Plots tab charts it build over build.
    evaluation = _materializations(result)["eval_results"]
    assert isinstance(evaluation["hr@10/st"].value, float)
    assert isinstance(evaluation["hr@10/st:baseline:popularity"].value, float)
    assert isinstance(evaluation["ndcg@10/st:baseline:random"].value, float)
    # Every asset names its owner and its layer.
    for spec in build_definitions(shared.settings()).resolve_all_asset_specs():
        assert spec.owners == [OWNER] and spec.tags["layer"], spec.key
