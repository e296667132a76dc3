"""Run `reelreason build` as a separate process, as a user or a scheduler would: its own
Dagster home, warehouse and environment (nothing inherited from the caller's REELREASON_*)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.settings import PROJECT_ROOT
from tests import scratch


def cli_env(tmp_path: Path, extra: dict | None = None) -> dict:
    home = tmp_path / "dagster_home"
    if not home.exists():
        home.mkdir(parents=True)
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
        scratch.storage_dir(home / "storage")  # run history in RAM in a test session
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REELREASON_", "DAGSTER_", "OPENAI_", "TMDB_"))
    }
    return env | {
        "DAGSTER_HOME": str(home),
        "REELREASON_DAGSTER_DIR": str(home / "storage"),
        "REELREASON_WAREHOUSE": str(tmp_path / "warehouse"),
        **(extra or {}),
    }


def start_build(
    tmp_path: Path, extra: dict | None = None, selection: str | None = None, **popen
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "build", *([selection] if selection else [])]
        + ["--log-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=cli_env(tmp_path, extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a test can kill the whole build
        **popen,
    )


def run_build(
    tmp_path: Path, extra: dict | None = None, selection: str | None = None, timeout: float = 540
):
    proc = start_build(tmp_path, extra, selection)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err
