"""Scale-out on existing engines: concurrent writers on SQLite and PostgreSQL catalogs, the
multiprocess executor, sharded embedding steps."""

import multiprocessing
import os
import subprocess
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from reelreason.warehouse import Warehouse
from tests.cli_build import run_build
from tests.conftest import SAMPLE_COUNTS
from tests.pg_server import postgres_server, unavailable_reason

PG_MISSING = unavailable_reason()
needs_postgres = pytest.mark.skipif(PG_MISSING is not None, reason=PG_MISSING or "")


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as conninfo:
        yield conninfo


def _writer(args) -> list[str]:
    """One process of a concurrent-writers test: replaces its tables and appends to a shared
    cache table, many times; returns any errors."""
    root, catalog, data_path, worker = args
    lake = Warehouse(root, catalog=catalog, data_path=data_path)
    errors = []
    for k in range(8):
        try:
            lake.write_table(
                f"w{worker}_{k % 2}",
                pa.table({"x": list(range(50)), "worker": [worker] * 50}),
                run_id=f"r{worker}",
                source="test",
                quarantine=pa.table(
                    {"file": ["f"], "line": [k + 1], "raw": ["?"], "reason": ["test"]}
                ),
            )
            lake.append_rows(
                "embedding_cache",
                pa.table(
                    {
                        "space": ["t"],
                        "text_sha256": [f"{worker}-{k}"],
                        "vector": pa.array([[1.0, 0.0]], pa.list_(pa.float32())),
                        "created_at": pa.array([None], pa.timestamp("us", tz="UTC")),
                        "run_id": ["r"],
                    }
                ),
                run_id=f"r{worker}",
            )
            lake.create_view(f"v{worker}", f"SELECT * FROM w{worker}_0", run_id="r")
        except Exception as exc:  # collected, so the test shows every failure
            errors.append(f"{type(exc).__name__}: {exc}")
    return errors


def _concurrent_writers(lake: Warehouse, workers: int = 3) -> None:
    ctx = multiprocessing.get_context("spawn")
    args = [(str(lake.root), lake.catalog, lake.data_location, w) for w in range(workers)]
    # close + join, not the context manager's terminate(): a worker SIGTERMed while holding
    # the task queue's lock leaves a sibling waiting on that lock forever (it happened once).
    pool = ctx.Pool(workers)
    try:
        errors = [e for errs in pool.map(_writer, args) for e in errs]
    finally:
        pool.close()
        pool.join()
    assert errors == []
    with lake.session(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0] == workers * 8
        # Each table's quarantine rows were replaced with its own last write, never lost.
        per_table = dict(
            con.execute("SELECT table_name, count(*) FROM quarantine GROUP BY 1").fetchall()
        )
        assert per_table == {f"w{w}_{i}": 1 for w in range(workers) for i in (0, 1)}
        for w in range(workers):
            assert con.execute(f"SELECT count(*) FROM v{w}").fetchone()[0] == 50


def test_concurrent_writers_on_a_sqlite_catalog(tmp_path):
    _concurrent_writers(Warehouse(tmp_path / "wh"))


@needs_postgres
def test_concurrent_writers_on_a_postgres_catalog(tmp_path, postgres):
    conninfo = postgres.create_database("writers")
    _concurrent_writers(Warehouse(tmp_path / "wh", catalog=f"postgres:{conninfo}"))


def _cli_build(tmp_path: Path, extra_env: dict) -> subprocess.CompletedProcess:
    code, out, err = run_build(tmp_path, extra_env)
    return subprocess.CompletedProcess([], code, out, err)


def _step_intervals(dagster_home: Path, monkeypatch) -> dict[str, tuple[float, float]]:
    monkeypatch.setenv("REELREASON_DAGSTER_DIR", str(dagster_home / "storage"))
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        (run,) = instance.get_runs()
        spans: dict[str, list[float]] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                spans.setdefault(event.step_key, [entry.timestamp, entry.timestamp])[0] = (
                    entry.timestamp
                )
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                spans.setdefault(event.step_key, [entry.timestamp, entry.timestamp])[1] = (
                    entry.timestamp
                )
        return {k: (v[0], v[1]) for k, v in spans.items()}
    finally:
        instance.dispose()


def test_sample_build_multiprocess_publishes_what_the_in_process_build_does(
    tmp_path, request, sample_build, monkeypatch
):
    """The whole sample under the multiprocess executor (2 steps at once, 3 embedding shards,
    in whatever order they finish) with the catalog in PostgreSQL (SQLite where no PostgreSQL
    server can run here): every published table has the same rows in the same order as the
    shared in-process build, bit for bit, vectors and emotion scores included."""
    lake_files = str(tmp_path / "lake_files") + os.sep
    env = {
        "REELREASON_EXECUTOR": "multiprocess",
        "REELREASON_MAX_CONCURRENT": "2",
        "REELREASON_EMBED_SHARDS": "3",
    }
    catalog = None
    if PG_MISSING is None:
        catalog = "postgres:" + request.getfixturevalue("postgres").create_database("multiprocess")
        env |= {"REELREASON_CATALOG": catalog, "REELREASON_DATA_PATH": lake_files}
    done = _cli_build(tmp_path, env)
    assert done.returncode == 0, done.stderr[-4000:]
    if catalog:
        assert not (tmp_path / "warehouse" / "catalog.sqlite").exists()
        assert any((tmp_path / "lake_files").rglob("*.parquet"))

    spans = _step_intervals(tmp_path / "dagster_home", monkeypatch)
    shard_steps = sorted(k for k in spans if "movie_embeddings_st__embed_shard[" in k)
    assert [k.rsplit("[", 1)[1] for k in shard_steps] == [f"shard_{i}]" for i in range(3)], spans
    ordered = sorted(spans.values())
    overlaps = sum(1 for a, b in zip(ordered, ordered[1:], strict=False) if b[0] < a[1])
    assert overlaps > 0, "no two steps ever ran at the same time"

    lake = (
        Warehouse(tmp_path / "warehouse", catalog=catalog, data_path=lake_files)
        if catalog
        else Warehouse(tmp_path / "warehouse")
    )
    reference, _ = sample_build
    first, second = reference.lake.content_hashes(), lake.content_hashes()
    assert first.keys() == second.keys() and len(first) > 30
    differing = sorted(t for t in first if first[t] != second[t])
    assert differing == [], f"same inputs, different content: {differing}"
    with lake.connect_build() as con:
        for table, rows in SAMPLE_COUNTS.items():
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == rows, table
        # Steps running side by side never encode the same text twice: GoEmotions texts
        # are encoded once per model (goemotions_encoded) before the steps that use them,
        # and the steps that reuse users' text windows run after the user vectors.
        twice = con.execute(
            """SELECT space, text_sha256, count(*) FROM embedding_cache
               GROUP BY ALL HAVING count(*) > 1"""
        ).fetchall()
        encoded, distinct = con.execute(
            """SELECT (SELECT count(DISTINCT e.text_sha256) FROM embedding_cache e
                       JOIN goemotions_texts g ON e.text_sha256 = sha256(g.text)),
                      (SELECT count(DISTINCT sha256(text)) FROM goemotions_texts)"""
        ).fetchone()
    assert twice == []
    assert encoded == distinct > 0
