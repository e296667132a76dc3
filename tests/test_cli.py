"""The `reelreason` command as a user runs it, and the README's DuckDB snippet."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from pipelines.cli import main
from tests import scratch

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("REELREASON_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("REELREASON_DAGSTER_DIR", str(tmp_path / "dagster_home"))
    scratch.storage_dir(tmp_path / "dagster_home")  # run history in RAM (tests/scratch.py)
    monkeypatch.delenv("REELREASON_RAW_DIR", raising=False)
    monkeypatch.delenv("REELREASON_PROFILE", raising=False)
    return tmp_path


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_then_sql_prints_csv(env, capsys):
    code, out, err = run_cli(capsys, "build")
    assert code == 0, err
    assert re.search(r"ml1m_ratings\s+1,226\s+0", out)
    code, out, _ = run_cli(
        capsys, "sql", "SELECT title, genres FROM ml1m_movies WHERE title_raw LIKE 'Seven%'"
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["title", "genres"]
    assert rows[1][0] == "Seven" and json.loads(rows[1][1]) == ["Crime", "Thriller"]
    code, out, _ = run_cli(capsys, "builds")
    assert code == 0 and out.count("\n") == 2 and out.strip().endswith("yes")


def test_build_selection_and_failures_are_reported(env, capsys):
    code, out, err = run_cli(capsys, "build", "key:nothing_like_this")
    assert code == 2 and "matches no asset" in err
    code, out, err = run_cli(capsys, "sql", "SELECT 1")
    assert code == 2 and "No warehouse at" in err
    code, out, err = run_cli(capsys, "build", "key:raw_ccpe or key:ccpe_utterances")
    assert code == 0, err
    code, out, err = run_cli(capsys, "sql", "SELECT 1")  # built, but nothing published yet
    assert code == 2 and "no published build" in err


def test_sql_errors_and_unknown_builds(env, capsys, monkeypatch, sample_build):
    # Queries only read: the shared sample build's warehouse serves (no build of its own).
    monkeypatch.setenv("REELREASON_WAREHOUSE", str(sample_build[0].warehouse_root))
    code, _, err = run_cli(capsys, "sql", "SELECT * FROM no_such_table")
    assert code == 2 and "SQL error" in err and "no_such_table" in err
    code, _, err = run_cli(capsys, "sql", "SELECT 1", "--build", "ffffffff")
    assert code == 2 and "matches 0 builds" in err


def test_bad_profile_is_one_clear_line(env, capsys, monkeypatch):
    monkeypatch.setenv("REELREASON_PROFILE", "fulll")
    code, _, err = run_cli(capsys, "build")
    assert code == 2 and "REELREASON_PROFILE='fulll' is not one of sample, full" in err
