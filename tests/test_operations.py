"""Operating the warehouse: promotion, rollback, retention, exports, the nightly schedule."""

import json
from datetime import datetime, timezone

import dagster as dg
import pyarrow.parquet as pq
import pytest

from assets.incremental import REUSE_TAG
from pipelines import cli
from pipelines.definitions import build_definitions
from pipelines.settings import Settings, SettingsError
from reelreason.warehouse import WarehouseError

# A cheap build: MovieLens only, published and exported.
SMALL = "key:raw_movielens or key:ml1m_* or key:warehouse_build or key:parquet_export"


def _build(builder, **overrides) -> str:
    # Every build writes its tables anew (no reuse), so there are old files for retention.
    result = builder.run(SMALL, tags={REUSE_TAG: "off"}, **overrides)
    assert result.success
    return result.run_id


def _current(builder) -> str:
    return builder.lake.resolve_build()["build_id"]


def test_promote_rollback_retention_and_exports(builder):
    a, b, c = (_build(builder) for _ in range(3))
    lake = builder.lake
    builds = lake.builds()
    assert [x["build_id"] for x in builds] == [c, b, a]
    assert all(x["tables"] == 3 and x["total_rows"] == 41 + 1226 + 60 for x in builds)
    assert _current(builder) == c

    # Rollback walks back in publish order; promote goes anywhere; both are recorded.
    lake.rollback(note="bad ratings")
    assert _current(builder) == b
    lake.rollback()
    assert _current(builder) == a
    with pytest.raises(WarehouseError, match="No earlier build"):
        lake.rollback()
    lake.promote(c[:8], note="fixed")
    assert _current(builder) == c
    with lake.session(read_only=True) as con:  # the catalog's head, not a pinned build
        events = con.execute(
            "SELECT build_id, action, note FROM build_events ORDER BY happened_at"
        ).fetchall()
    assert [(e[0], e[1]) for e in events[-3:]] == [(b, "rollback"), (a, "rollback"), (c, "promote")]
    assert events[-1][2] == "fixed"

    # A build published without promotion waits for a person, and rollback never lands on it.
    d = _build(builder, auto_promote=False)
    assert _current(builder) == c
    assert lake.builds()[0]["build_id"] == d and not lake.builds()[0]["current"]
    lake.promote(d)
    lake.rollback()
    assert _current(builder) == c
    lake.promote(d)

    # Exports: one folder per build, a manifest that matches the files.
    exported = lake.exports_path / c
    manifest = json.loads((exported / "manifest.json").read_text())
    assert lake.export_build(c) == exported  # an existing export of the same build is kept
    assert manifest["build_id"] == c
    for info in manifest["tables"].values():
        assert pq.read_metadata(exported / info["file"]).num_rows == info["rows"]
    assert manifest["tables"]["ml1m_ratings"]["rows"] == 1226
    old_export = lake.export_build(a)
    assert (old_export / "manifest.json").exists()

    # Retention: the newest 2 (d, c) stay; a and b go, with their exports and old files.
    ratings_of = {x: builder.query("SELECT count(*) FROM ml1m_ratings", x)[0][0] for x in (c, d)}
    report = lake.retain(2, grace_hours=0)
    assert report.dropped_builds == [b, a]
    assert report.expired_snapshots and report.files_after < report.files_before
    assert [x["build_id"] for x in lake.builds()] == [d, c] and _current(builder) == d
    assert not (lake.exports_path / a).exists() and (lake.exports_path / c).exists()
    for x in (c, d):  # what is kept reads exactly as before
        assert builder.query("SELECT count(*) FROM ml1m_ratings", x)[0][0] == ratings_of[x]
    with pytest.raises(WarehouseError, match="matches 0 builds"):
        lake.resolve_build(a)
    # The warehouse keeps working after retention: a new build publishes and is current.
    e = _build(builder)
    assert _current(builder) == e
    assert builder.query(f"SELECT count(*) FROM build_tables WHERE build_id = '{e}'")[0][0] == 3


def test_unpromoted_builds_are_never_current_on_their_own(builder):
    a = _build(builder, auto_promote=False)
    assert not builder.lake.builds()[0]["current"]
    with pytest.raises(WarehouseError, match="has been made current"):
        builder.lake.resolve_build()
    assert builder.query("SELECT count(*) FROM ml1m_ratings", a[:8]) == [(1226,)]
    builder.lake.promote(a)
    assert _current(builder) == a


def test_export_never_overwrites_a_folder_it_did_not_write(builder, tmp_path):
    a = _build(builder)
    target = tmp_path / "mine"
    (target / a).mkdir(parents=True)
    (target / a / "precious.txt").write_text("keep me")
    with pytest.raises(WarehouseError, match="is not an export of build"):
        builder.lake.export_build(a, target)
    assert (target / a / "precious.txt").read_text() == "keep me"
    other = builder.lake.export_build(a, tmp_path / "elsewhere")
    assert other == (tmp_path / "elsewhere" / a).resolve()
    assert (other / "manifest.json").exists() and not list(other.parent.glob(".*tmp*"))


def test_retention_keeps_the_current_build_even_when_old(builder):
    a, b = _build(builder), _build(builder)
    builder.lake.promote(a)
    report = builder.lake.retain(1)
    assert report.kept_builds == [b, a] and report.dropped_builds == []
    assert _current(builder) == a
    dry = builder.lake.retain(1, dry_run=True)
    assert dry.dry_run and [x["build_id"] for x in builder.lake.builds()] == [b, a]
    with pytest.raises(WarehouseError, match="at least 1"):
        builder.lake.retain(0)


def test_build_management_jobs_run_in_dagster(builder):
    a, b = _build(builder), _build(builder)
    defs = build_definitions(builder.settings())
    rollback = defs.resolve_job_def("rollback_build").execute_in_process(
        instance=builder.instance,
        run_config={"ops": {"rollback_op": {"config": {"note": "from the UI"}}}},
    )
    assert rollback.success and _current(builder) == a
    promote = defs.resolve_job_def("promote_build").execute_in_process(
        instance=builder.instance,
        run_config={"ops": {"promote_op": {"config": {"build_id": b[:8]}}}},
    )
    assert promote.success and _current(builder) == b
    retention = defs.resolve_job_def("apply_retention").execute_in_process(
        instance=builder.instance,
        run_config={"ops": {"retention_op": {"config": {"keep": 1}}}},
    )
    assert retention.success
    assert [x["build_id"] for x in builder.lake.builds()] == [b]
    unknown = defs.resolve_job_def("promote_build").execute_in_process(
        instance=builder.instance,
        run_config={"ops": {"promote_op": {"config": {"build_id": "nope"}}}},
        raise_on_error=False,
    )
    assert not unknown.success and _current(builder) == b


def test_cli_lists_shows_promotes_and_rolls_back(builder, monkeypatch, capsys):
    monkeypatch.setenv("REELREASON_WAREHOUSE", str(builder.warehouse_root))
    a, b = _build(builder), _build(builder)
    assert cli.main(["builds"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("build_id,snapshot_id,published_at,code_version,profile,tables")
    assert lines[1].startswith(b) and lines[1].endswith(",yes") and lines[2].startswith(a)
    assert cli.main(["show", a[:8]]) == 0
    out = capsys.readouterr()
    assert "ml1m_ratings,1226," in out.out and f"build {a}" in out.err
    assert cli.main(["rollback", "--note", "test"]) == 0
    assert f"current build is now {a}" in capsys.readouterr().out
    assert cli.main(["sql", "SELECT count(*) AS n FROM ml1m_ratings"]) == 0
    assert capsys.readouterr().out == "n\n1226\n"  # reads the rolled-back-to build
    assert cli.main(["promote", "zzzz"]) == 2
    assert "matches 0 builds" in capsys.readouterr().err
    assert cli.main(["export", b[:8], "--out", str(builder.warehouse_root / "x")]) == 0
    assert (builder.warehouse_root / "x" / b / "ml1m_movies.parquet").exists()
    assert cli.main(["retain", "--keep", "1", "--dry-run"]) == 0
    # a is current after the rollback, so keeping 1 keeps b (newest) and a (current)
    assert "kept 2 builds, would drop 0" in capsys.readouterr().out


def test_nightly_schedule_follows_settings():
    settings = Settings.from_env(
        {"REELREASON_SCHEDULE_CRON": "30 2 * * *", "REELREASON_SCHEDULE_TIMEZONE": "Europe/Paris"}
    )
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def("nightly_build_schedule")
    assert schedule.cron_schedule == "30 2 * * *"
    assert schedule.execution_timezone == "Europe/Paris"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED  # sample profile
    assert schedule.job_name == "nightly_build"
    job = defs.resolve_job_def("nightly_build")
    all_assets = defs.resolve_asset_graph().get_all_asset_keys()
    assert set(job.asset_layer.selected_asset_keys) == set(all_assets)
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 21, 1, 30, tzinfo=timezone.utc)
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert len(requests) == 1

    on = Settings.from_env({"REELREASON_PROFILE": "full", "REELREASON_RAW_DIR": "sample/raw"})
    defs_on = build_definitions(on)
    assert (
        defs_on.resolve_schedule_def("nightly_build_schedule").default_status
        == dg.DefaultScheduleStatus.RUNNING
    )
    sensor = defs_on.resolve_sensor_def("retention_after_nightly_build")
    assert sensor.job_name == "apply_retention"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"REELREASON_SCHEDULE_CRON": "every night"}, "not a cron expression"),
        ({"REELREASON_SCHEDULE_TIMEZONE": "Mars/Olympus"}, "IANA time zone"),
        ({"REELREASON_CATALOG": "mysql:db"}, "'sqlite' or 'postgres:<conninfo>'"),
        ({"REELREASON_EXECUTOR": "threads"}, "not one of"),
        ({"REELREASON_AUTO_PROMOTE": "maybe"}, "yes/no"),
    ],
)
def test_bad_operations_settings_are_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "catalog",
    [
        "postgres:dbname=rr host=db password=hunter2 user=rr",
        "postgres:dbname=rr password='hunter2 x' host=db",
        "postgres:postgresql://rr:hunter2@db/rr",
    ],
)
def test_a_password_in_the_catalog_setting_is_refused(catalog):
    with pytest.raises(SettingsError, match="PGPASSWORD") as err:
        Settings.from_env({"REELREASON_CATALOG": catalog})
    assert "hunter2" not in str(err.value)


def test_catalog_strings_are_redacted_wherever_they_are_shown():
    from reelreason.warehouse import Warehouse, redact_catalog

    for catalog in [
        "postgres:dbname=rr host=db password=hunter2 user=rr",
        "postgres:dbname=rr password='hunter2 x' host=db",
        "postgres:postgresql://rr:hunter2@db/rr",
    ]:
        assert "hunter2" not in redact_catalog(catalog)
    lake = Warehouse("/tmp/nowhere", catalog="postgres:dbname=rr host=db. password=hunter2")
    with pytest.raises(WarehouseError) as err:
        lake.connect(read_only=True)
    assert "hunter2" not in str(err.value) and "password=***" in str(err.value)


def test_every_setting_is_declared_once_and_documented_from_that_declaration():
    """The README's environment table is generated from the declarations, and every
    REELREASON_* variable the code mentions is one of them (or a documented outside one)."""
    import re
    from dataclasses import fields

    from pipelines.settings import (
        OUTSIDE_SETTINGS,
        PROJECT_ROOT,
        TABLE_BEGIN,
        TABLE_END,
        Settings,
        environment_table,
    )

    readme = (PROJECT_ROOT / "README.md").read_text()
    region = readme[readme.index(TABLE_BEGIN) + len(TABLE_BEGIN) : readme.index(TABLE_END)]
    assert region.strip() == environment_table().strip()
    declared = [f.metadata["env"] for f in fields(Settings)]
    assert len(declared) == len(set(declared))
    outside = " ".join(env for env, _, _ in OUTSIDE_SETTINGS)
    mentioned = set()
    for package in ("pipelines", "assets", "schemas", "reelreason"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            mentioned |= set(re.findall(r"REELREASON_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    undeclared = {m for m in mentioned if m not in declared and m not in outside}
    assert undeclared == set(), f"declare these in pipelines/settings.py: {sorted(undeclared)}"


def test_resources_take_each_setting_from_its_one_declaration():
    """A resource field a setting configures has no default or bounds of its own (they would
    be a second declaration that could disagree), and the code location fills every such
    field from the setting: a changed value reaches the resource without another edit."""
    from dataclasses import fields, replace

    from pipelines.definitions import build_definitions
    from pipelines.settings import Settings

    targets = [t for f in fields(Settings) for t in f.metadata["to"]]
    assert len(targets) == len(set(targets))
    settings = replace(Settings(), tmdb_rate_limit=3.5, alpha=0.25, st_batch_size=7)
    resources = build_definitions(settings).resources
    for target in targets:
        key, name = target.split(".")
        field = type(resources[key]).model_fields[name]
        assert field.is_required(), f"{target} declares a default: remove it (settings owns it)"
    assert resources["tmdb"].rate_limit == 3.5
    assert resources["embedding_settings"].alpha == 0.25
    assert resources["sentence_model"].batch_size == 7


def test_credentials_are_read_when_used_not_when_the_code_location_loads(monkeypatch):
    from assets.incremental import resource_inputs
    from pipelines.definitions import build_definitions
    from pipelines.settings import Settings

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    embeddings = build_definitions(Settings()).resources["openai_embeddings"]
    assert embeddings.unavailable_reason().startswith("skipped: no OPENAI_API_KEY")
    assert resource_inputs(embeddings)["api_key"] is False
    monkeypatch.setenv("OPENAI_API_KEY", "sk-exported-later")  # after the location loaded
    assert embeddings.unavailable_reason() is None
    assert resource_inputs(embeddings)["api_key"] is True  # its presence is a step input
    # ... and its value is in neither the resource's configuration nor the fingerprint.
    assert "sk-exported-later" not in str(embeddings.model_dump())
    assert "sk-exported-later" not in str(resource_inputs(embeddings))
