"""Reuse of unchanged steps: a rebuild does only the work its changed inputs need, and what it
publishes equals a build from scratch on the same inputs."""

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from assets.incremental import REUSE_TAG, Step, resource_inputs
from pipelines.resources import TmdbResource, WarehouseResource
from pipelines.settings import Settings
from reelreason.warehouse import Warehouse
from tests.conftest import Builder, step_errors

# Steps that write no table (files, caches), so never "reused".
NOT_TABLES = {"warehouse_build", "parquet_export", "serving_bundle", "goemotions_encoded"}


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """asset -> whether this run reused it."""
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        name = mat.asset_key.to_user_string()
        if name not in NOT_TABLES and not name.startswith("raw_"):  # raw: files, always checked
            reused = mat.metadata.get("reused")
            out[name] = bool(reused and reused.value)
    return out


def build_tables(lake: Warehouse, build_id: str) -> dict[str, tuple]:
    with lake.session(read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, snapshot_id, row_count, written_by_run FROM build_tables "
            "WHERE build_id = ?",
            [build_id],
        ).fetchall()
    return {t: (s, n, run) for t, s, n, run in rows}


def contents(lake: Warehouse) -> dict[str, str]:
    """table -> content hash of its current version (eval_results without its run column)."""
    from reelreason.warehouse import content_sha256

    with lake.session(read_only=True) as con:
        out = {}
        for table in lake.data_tables(con):
            cols = "* EXCLUDE (build_id)" if table == "eval_results" else "*"
            data = con.execute(f"SELECT {cols} FROM {table} ORDER BY ALL").to_arrow_table()
            out[table] = content_sha256(data)
    return out


def test_no_change_rebuild_reuses_every_step_and_a_setting_recomputes_only_its_dependents(
    builder: Builder,
):
    first = builder.run()
    assert first.success, step_errors(first)
    assert not any(materialized(first).values())
    with builder.lake.session(read_only=True) as con:
        cached = con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0]

    again = builder.run()
    assert again.success, step_errors(again)
    reused = materialized(again)
    assert reused and all(reused.values()), [a for a, r in reused.items() if not r]
    (encode_ahead,) = again.asset_materializations_for_node("goemotions_encoded")
    assert encode_ahead.metadata["st_encoded"].value == 0  # every GoEmotions vector cached
    assert reused["movie_embeddings_tuned"] and reused["tuned_adapters"]  # nothing retrained
    steps = {e.step_key for e in again.all_events if e.event_type_value == "STEP_START"}
    assert not [s for s in steps if "embed_shard" in s]  # no embedding work was even planned
    # The new build is current and publishes exactly the first build's table versions.
    before, after = (
        build_tables(builder.lake, first.run_id),
        build_tables(builder.lake, again.run_id),
    )
    assert after == before
    assert {run for _, _, run in after.values()} == {first.run_id}
    assert next(b for b in builder.lake.builds() if b["current"])["build_id"] == again.run_id
    with builder.lake.session(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0] == cached
    # Its export copies the first export's files (same table versions), byte for byte.
    exports = builder.lake.exports_path
    manifest = json.loads((exports / again.run_id / "manifest.json").read_text())
    assert {i.get("copied_from") for i in manifest["tables"].values()} == {first.run_id}
    for table, info in manifest["tables"].items():
        assert (exports / again.run_id / info["file"]).read_bytes() == (
            exports / first.run_id / info["file"]
        ).read_bytes(), table
    # A reused materialization keeps the metadata a person reads (preview, row count).
    mat = next(
        e.event_specific_data.materialization
        for e in again.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key == dg.AssetKey("movies")
    )
    assert mat.metadata["reused_from_run"].value == first.run_id
    assert "preview" in mat.metadata and mat.metadata["dagster/row_count"].value == 60

    # Changing alpha changes user vectors and what is evaluated on them, nothing upstream.
    mixed = builder.run(alpha=0.4)
    assert mixed.success, step_errors(mixed)
    computed = {a for a, r in materialized(mixed).items() if not r}
    assert {"user_embeddings_st", "eval_results"} <= computed
    assert not computed & {"movie_embeddings_st", "movies", "movie_xref", "user_likes"}
    # The tuned space's step reran (its settings resource changed) but found its training:
    # the same base vectors, likes and configuration are keyed to the saved space.
    tuned = next(
        e.event_specific_data.materialization
        for e in mixed.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key == dg.AssetKey("movie_embeddings_tuned")
    )
    assert "movie_embeddings_tuned" in computed and tuned.metadata["retrained"].value is False
    # A reuse of a reuse still shows what the writing run recorded (column schema, figures).
    mat = next(
        e.event_specific_data.materialization
        for e in mixed.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key == dg.AssetKey("movies")
    )
    assert mat.metadata["reused_from_run"].value == first.run_id
    assert "dagster/column_schema" in mat.metadata and "enriched_films" in mat.metadata
    with builder.lake.session(read_only=True) as con:
        assert con.execute("SELECT DISTINCT alpha FROM user_embeddings_st").fetchall() == [(0.4,)]


def test_changed_file_recomputes_its_dependents_and_equals_a_build_from_scratch(
    tmp_path: Path, raw_copy: Path, instance
):
    incremental = Builder(tmp_path / "incremental", instance)
    assert incremental.run(raw_dir=raw_copy).success
    # One MovieLens rating changes: 5 stars become 1 (a like becomes a dislike).
    ratings = raw_copy / "movielens" / "ml-1m" / "ratings.dat"
    lines = ratings.read_text(encoding="latin-1").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.split("::")[2] == "5")
    parts = lines[at].split("::")
    lines[at] = "::".join([*parts[:2], "1", parts[3]])
    ratings.write_text("".join(lines), encoding="latin-1")

    changed = incremental.run(raw_dir=raw_copy)
    assert changed.success, step_errors(changed)
    reused = materialized(changed)
    computed = {a for a, r in reused.items() if not r}
    assert {"ml1m_ratings", "user_likes", "user_embeddings_st", "eval_results"} <= computed
    # Other files and other sources: not parsed again.
    untouched = {"ml1m_movies", "ml1m_users", "redial_messages", "ccpe_segments"}
    untouched |= {"goemotions_texts", "inspired_dialogs", "movietweetings_ratings"}
    assert untouched <= {a for a, r in reused.items() if r}

    scratch = Builder(tmp_path / "scratch", instance)
    assert scratch.run(raw_dir=raw_copy).success
    mine, theirs = contents(incremental.lake), contents(scratch.lake)
    assert mine.keys() == theirs.keys()
    assert {t for t in mine if mine[t] != theirs[t]} == set()


# --- the decision itself, on a two-asset graph ---------------------------------------------


class Factor(dg.ConfigurableResource):
    factor: int = 2
    api_key: str | None = None
    timeout_seconds: float = 10.0


CALLS: list[str] = []


def write(context, warehouse: WarehouseResource, step: Step, name: str, values: list[int]):
    # Straight to the lake: these toy tables have no pandera model in schemas/.
    table = pa.table({"n": pa.array(values, pa.int64())})
    warehouse.lake.write_table(
        name, table, run_id=context.run.run_id, source="test", lineage=step.lineage()
    )
    return dg.MaterializeResult()


@dg.asset
def numbers(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    step = Step(context, warehouse)
    if step.reusable():
        return step.reused()[0]
    CALLS.append("numbers")
    mode = context.run.tags.get("test/mode", "")
    if mode == "incomplete":
        step.mark_incomplete("the service failed 3 of 10")
    if mode == "expired":
        from datetime import datetime, timedelta, timezone

        step.expire_at(datetime.now(timezone.utc) - timedelta(seconds=1))
    return write(context, warehouse, step, "numbers", list(range(10)))


@dg.asset(deps=[numbers])
def scaled(context: dg.AssetExecutionContext, warehouse: WarehouseResource, scale: Factor):
    step = Step(context, warehouse)
    if step.reusable():
        return step.reused()[0]
    CALLS.append("scaled")
    with step.session() as con:
        values = [r[0] * scale.factor for r in con.execute("SELECT n FROM numbers").fetchall()]
    return write(context, warehouse, step, "scaled", values)


@dg.asset(deps=[numbers])
def sneaky(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    step = Step(context, warehouse)
    with step.session() as con:
        con.execute("SELECT count(*) FROM lake.main.scaled").fetchall()


@pytest.fixture
def tiny(tmp_path, instance):
    def run(selection=("numbers", "scaled"), tags=None, reuse=True, **factor):
        CALLS.clear()
        defs = dg.Definitions(
            assets=[numbers, scaled, sneaky],
            resources={
                "warehouse": WarehouseResource(
                    root=str(tmp_path / "wh"), **{**Settings().feeding("warehouse"), "reuse": reuse}
                ),
                "scale": Factor(**factor),
            },
        )
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(s) for s in selection],
            tags=tags,
            raise_on_error=False,
        )
        return result, list(CALLS)

    return run


def test_reuse_decision(tiny):
    assert tiny()[1] == ["numbers", "scaled"]
    assert tiny()[1] == []
    assert tiny(tags={REUSE_TAG: "off"})[1] == ["numbers", "scaled"]
    # REELREASON_REUSE=0 reaches the steps as the warehouse resource's setting, not os.environ
    assert tiny(reuse=False)[1] == ["numbers", "scaled"]
    assert tiny()[1] == []
    # A setting of `scale` recomputes `scaled` only; a new timeout or a different key do not.
    assert tiny(factor=3)[1] == ["scaled"]
    assert tiny(factor=3, timeout_seconds=99)[1] == []
    assert tiny(factor=3, api_key="k1")[1] == ["scaled"]  # a credential appeared
    assert tiny(factor=3, api_key="k2")[1] == []  # its value is not an input
    # Incomplete or expired results are computed again next time; then reused.
    # (scaled is reused after them: the recomputed numbers are the same rows.)
    same = {"factor": 3, "api_key": "k2"}
    for mode in ("incomplete", "expired"):
        forced = tiny(tags={REUSE_TAG: "off", "test/mode": mode}, **same)[1]
        assert forced == ["numbers", "scaled"]
        assert tiny(**same)[1] == ["numbers"]
        assert tiny(**same)[1] == []


def test_recomputed_identical_table_lets_its_dependents_be_reused(tiny):
    tiny()
    # numbers recomputes (forced) but writes the same rows: scaled's inputs did not change.
    result, calls = tiny(selection=("numbers",), tags={REUSE_TAG: "off"})
    assert calls == ["numbers"] and result.success
    assert tiny()[1] == []


def test_reading_an_undeclared_table_fails_the_step(tiny):
    tiny()
    result, _ = tiny(selection=("sneaky",))
    assert not result.success
    assert "sneaky reads ['scaled'] without declaring it" in step_errors(result)


def test_fingerprint_leaves_out_secret_values_and_operational_knobs():
    configured = {**Settings().feeding("tmdb"), "rate_limit": 3.0, "offline": True}
    inputs = resource_inputs(TmdbResource(api_key="s3cr3t", **configured))
    assert inputs["api_key"] is True and "s3cr3t" not in str(inputs)
    assert "rate_limit" not in inputs and "max_concurrency" not in inputs
    assert inputs["offline"] is True and inputs["base_url"] is True  # set, wherever it points


def test_a_steps_code_version_covers_the_code_it_can_run_and_nothing_else(tmp_path):
    """Comments, docstrings and modules a step cannot reach (the CLI) leave its code version
    alone; a change of behaviour in a module it imports changes it."""
    import shutil

    from assets.code_version import clear_caches, code_version
    from pipelines.settings import PROJECT_ROOT

    for package in ("assets", "pipelines", "reelreason", "schemas"):
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )

    def version() -> str:
        clear_caches()
        return code_version("assets.staging", tmp_path)

    before = version()
    titles = tmp_path / "reelreason" / "titles.py"
    text = titles.read_text()
    titles.write_text(
        text.replace('"""', '"""Reworded docstring. ', 1) + "\n# a comment at the end\n"
    )
    cli = tmp_path / "pipelines" / "cli.py"
    cli.write_text(cli.read_text() + "\nUNRELATED = 1\n")
    assert version() == before
    titles.write_text(titles.read_text() + "\nEXTRA_ARTICLE = 'Der'\n")
    assert version() != before
