"""The whole graph on the bundled sample, into a temporary warehouse."""

import threading

import dagster as dg
import pytest

from reelreason.warehouse import Warehouse, WarehouseError
from tests.conftest import SAMPLE_COUNTS, step_errors

# The ingestion tests need raw + staging + publish only; the rest of the graph has its own.
INGEST = "group:raw or group:staging or key:warehouse_build"


def test_sample_build_materializes_everything_with_exact_counts(sample_build):
    builder, result = sample_build
    assert result.success, step_errors(result)
    with builder.lake.connect_build() as con:  # one connection for all the counts
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SAMPLE_COUNTS}
    assert counts == SAMPLE_COUNTS
    assert builder.query("SELECT count(*) FROM quarantine")[0][0] == 0
    # The build record: one build, every table with its row count and snapshot.
    (build,) = builder.lake.builds()
    assert build["build_id"] == result.run_id and build["profile"] == "sample"
    recorded = dict(
        builder.query(
            f"SELECT table_name, row_count FROM build_tables WHERE build_id = '{result.run_id}'"
        )
    )
    assert {t: recorded[t] for t in SAMPLE_COUNTS} == SAMPLE_COUNTS
    assert {"movie_xref", "movies", "movie_texts", "tmdb_movies"} <= set(recorded)
    # Raw provenance: every file with its sha256, from the user folder.
    files = builder.query("SELECT path, origin, length(sha256) FROM raw_files")
    assert len(files) == 24 and {f[1] for f in files} == {"user"} and {f[2] for f in files} == {64}
    # Materialization metadata a person reads in the UI.
    mats = {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert mats["ml1m_ratings"]["dagster/row_count"].value == 1226
    assert mats["ml1m_ratings"]["quarantined_rows"].value == 0
    preview = mats["ml1m_movies"]["preview"].value
    assert preview.startswith("| movie_id | title_raw | title |") and preview.count("\n") == 6


def test_quirks_survive_into_the_warehouse(sample_build):
    builder, result = sample_build
    assert result.success
    q = builder.query
    assert q(
        "SELECT title FROM ml1m_movies WHERE title_raw = 'American President, The (1995)'"
    ) == [("The American President",)]
    assert q("SELECT title FROM ml1m_movies WHERE title_raw LIKE 'Mis%rables, Les (1995)'") == [
        ("Les Misérables",)
    ]
    assert q(
        "SELECT imdb_id, genres FROM movietweetings_movies WHERE movietweetings_id = '25'"
    ) == [("tt0000025", [])]
    assert (
        q("SELECT count(*) FROM redial_messages WHERE regexp_matches(text, '@[0-9]+')")[0][0]
        == q("SELECT count(*) FROM redial_messages WHERE unresolved_mentions > 0")[0][0]
    )
    assert (
        q("SELECT count(*) FROM inspired_utterances WHERE text LIKE '%QUOTATION_MARK%'")[0][0] == 0
    )
    assert q("SELECT count(*) FROM inspired_dialogs WHERE malformed_dicts <> []")[0][0] == 1
    assert (
        q("SELECT count(*) FROM redial_mentions WHERE title LIKE '%\\%3F%' ESCAPE '\\'")[0][0] == 0
    )
    assert q("SELECT count(*) FROM ccpe_utterances WHERE n_segments = 0")[0][0] > 0


def test_earlier_build_stays_readable(builder, raw_copy):
    first = builder.run(INGEST, raw_dir=raw_copy)
    assert first.success
    ratings = raw_copy / "movielens/ml-1m/ratings.dat"
    ratings.write_bytes(b"".join(ratings.read_bytes().splitlines(keepends=True)[:100]))
    # a deliberate shrink (92% of the ratings): allowed past the promotion guard
    second = builder.run(INGEST, raw_dir=raw_copy, max_shrink=1.0)
    assert second.success
    assert builder.query("SELECT count(*) FROM ml1m_ratings")[0][0] == 100
    assert builder.query("SELECT count(*) FROM ml1m_ratings", build=first.run_id)[0][0] == 1226
    assert [b["build_id"] for b in builder.lake.builds()] == [second.run_id, first.run_id]


def test_failed_build_leaves_the_previous_build_current(builder, raw_copy):
    good = builder.run(INGEST, raw_dir=raw_copy)
    assert good.success
    data = raw_copy / "ccpe/data.json"
    data.write_bytes(data.read_bytes()[:5000])  # truncated JSON
    bad = builder.run(INGEST, raw_dir=raw_copy)
    assert not bad.success
    assert "ccpe/data.json: invalid JSON" in step_errors(bad)
    assert builder.lake.resolve_build()["build_id"] == good.run_id
    assert builder.query("SELECT count(*) FROM ccpe_utterances")[0][0] == 96


def test_quarantined_rows_warn_and_too_many_block_the_build(builder, raw_copy):
    ratings = raw_copy / "movielens/ml-1m/ratings.dat"
    ratings.write_bytes(ratings.read_bytes() + b"7::1::9::978300760\n7::2\n")
    result = builder.run(INGEST, raw_dir=raw_copy)
    assert result.success
    rows = builder.query("SELECT file, line, raw, reason FROM quarantine ORDER BY line")
    assert rows == [
        ("movielens/ml-1m/ratings.dat", 1227, "7::1::9::978300760", "rating 9 outside 1..5"),
        (
            "movielens/ml-1m/ratings.dat",
            1228,
            "7::2",
            "MISSING COLUMNS: Expected Number of Columns: 4 Found: 2",
        ),
    ]
    evals = {
        e.event_specific_data.asset_key.to_user_string(): e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert not evals["ml1m_ratings"].passed
    assert evals["ml1m_ratings"].severity == dg.AssetCheckSeverity.WARN
    assert evals["ml1m_movies"].passed
    # With no tolerance the check is an error and blocks publication.
    before = builder.lake.resolve_build()["build_id"]
    strict = builder.run(INGEST, raw_dir=raw_copy, quarantine_max_fraction=0.0)
    assert not strict.success
    assert builder.lake.resolve_build()["build_id"] == before


def test_missing_raw_file_offline_names_file_url_and_destination(builder, raw_copy):
    (raw_copy / "movielens/ml-1m/users.dat").unlink()
    result = builder.run("key:raw_movielens", raw_dir=raw_copy)
    message = step_errors(result)
    assert "Missing raw file movielens/ml-1m/users.dat" in message
    assert "https://files.grouplens.org/datasets/movielens/ml-1m.zip#ml-1m/users.dat" in message
    assert f"put it at {raw_copy}/movielens/ml-1m/users.dat" in message


def test_selection_builds_a_subset(builder):
    result = builder.run("key:ml1m_movies or key:raw_movielens")
    assert result.success
    mats = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert mats == {"raw_movielens", "ml1m_movies"}
    with pytest.raises(WarehouseError, match="no published build"):
        builder.lake.resolve_build()


def test_reader_sees_a_consistent_build_while_another_writes(builder, raw_copy):
    assert builder.run(INGEST, raw_dir=raw_copy).success
    ratings = raw_copy / "movielens/ml-1m/ratings.dat"
    ratings.write_bytes(b"".join(ratings.read_bytes().splitlines(keepends=True)[:10]))
    seen, errors = set(), []
    done = threading.Event()

    def read_loop():
        while not done.is_set():
            try:
                con = Warehouse(builder.warehouse_root).connect_build()
                seen.add(con.execute("SELECT count(*) FROM ml1m_ratings").fetchone()[0])
                con.close()
            except Exception as exc:  # noqa: BLE001 - any failure is what we test for
                errors.append(exc)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        assert builder.run(INGEST, raw_dir=raw_copy, max_shrink=1.0).success  # deliberate
    finally:
        done.set()
        reader.join()
    assert errors == []
    assert seen <= {1226, 10} and 1226 in seen


def test_full_profile_downloads_from_a_mirror_once(builder, httpserver):
    """The download path end to end: the sample served over HTTP as a mirror of the raw layout."""
    from pipelines.settings import SAMPLE_RAW_DIR

    for path in SAMPLE_RAW_DIR.rglob("*"):
        if path.is_file():
            rel = path.relative_to(SAMPLE_RAW_DIR).as_posix()
            httpserver.expect_request(f"/mirror/{rel}").respond_with_data(path.read_bytes())
    first = builder.run(INGEST, raw_dir=None, mirror=httpserver.url_for("/mirror"))
    assert first.success, step_errors(first)
    assert dict(builder.query("SELECT origin, count(*) FROM raw_files GROUP BY ALL")) == {
        "download": 24
    }
    assert builder.query("SELECT count(*) FROM ml1m_ratings")[0][0] == 1226
    requests_made = len(httpserver.log)
    assert requests_made == 24
    second = builder.run(INGEST, raw_dir=None, mirror=httpserver.url_for("/mirror"))
    assert second.success
    assert len(httpserver.log) == requests_made  # everything came from the verified cache
    assert dict(builder.query("SELECT origin, count(*) FROM raw_files GROUP BY ALL")) == {
        "cache": 24
    }
