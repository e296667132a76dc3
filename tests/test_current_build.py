"""One current build, everywhere: with auto-promotion off, two builds are candidates; after
the older one is promoted, the CLI, a plain DuckDB client running the README's recipe as
printed, and the Parquet exports all name that build."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.settings import PROJECT_ROOT
from reelreason.warehouse import Warehouse
from tests.cli_build import cli_env, run_build

README = PROJECT_ROOT / "README.md"
SECTION = "### Reading the current build from any DuckDB client"


def readme_blocks(language: str) -> list[str]:
    text = README.read_text()
    start = text.index(SECTION) + len(SECTION)
    section = text[start : start + re.search(r"\n##+ ", text[start:]).start()]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def cli(tmp_path: Path, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *argv],
        cwd=PROJECT_ROOT,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def reader_folder(tmp_path: Path) -> Path:
    """A folder laid out as the project is, for running the README's lines as printed:
    `warehouse` is the test's warehouse, `.venv` this interpreter's environment."""
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "warehouse").symlink_to(tmp_path / "warehouse")
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


def test_every_documented_path_reads_the_promoted_build(tmp_path, monkeypatch):
    for _ in range(2):
        code, _, err = run_build(tmp_path, {"REELREASON_AUTO_PROMOTE": "0"})
        assert code == 0, err[-3000:]
    lake = Warehouse(tmp_path / "warehouse")
    newer, older = lake.builds()
    exports = tmp_path / "warehouse" / "exports"
    # Before any promotion: two candidates, visibly so, and nothing names a current build.
    assert not newer["current"] and not older["current"]
    for build in (newer, older):
        manifest = json.loads((exports / build["build_id"] / "manifest.json").read_text())
        assert manifest["status"] == "candidate"
    assert not (exports / "CURRENT").exists()
    with lake.session(read_only=True) as con:
        assert con.execute("FROM current_build").fetchall() == []

    cli(tmp_path, "promote", older["build_id"][:8])

    # The CLI.
    listing = [line.split(",") for line in cli(tmp_path, "builds").splitlines()]
    current = [row for row in listing[1:] if row[-1] == "yes"]
    assert len(current) == 1 and current[0][0] == older["build_id"]
    sql = cli(tmp_path, "sql", "SELECT * FROM ducklake_current_snapshot('lake')")
    assert sql.splitlines()[1] == str(older["snapshot_id"])  # `reelreason sql` reads it
    # A plain DuckDB client, the README's lines run exactly as printed.
    monkeypatch.chdir(reader_folder(tmp_path))
    (recipe, earlier) = readme_blocks("sql")
    con = duckdb.connect()
    rows = con.execute(recipe).fetchall()
    assert len(rows) == 5 and all(len(r) == 2 for r in rows)
    assert con.execute("SELECT current_database()").fetchone() == ("lake",)
    assert con.execute("SELECT build_id, snapshot_id FROM meta.current_build").fetchone() == (
        older["build_id"],
        older["snapshot_id"],
    )
    # ... and what it reads is the promoted build's snapshot, not the newest one.
    pinned = con.execute("SELECT id FROM ducklake_current_snapshot('lake')").fetchone()
    assert pinned == (older["snapshot_id"],)
    assert con.execute(earlier).fetchone() == (1226,)
    # The exports.
    (shell,) = readme_blocks("bash")
    out = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == older["build_id"]
    assert (exports / older["build_id"] / "manifest.json").is_file()
