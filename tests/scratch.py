"""RAM-backed folders for the tests' throwaway Dagster instances (run and event storage).

Dagster's SQLite storage commits, so syncs to disk, about twice per event, and a sample build
logs about a thousand events: on the 2-core CI machine's disk that is ~15 s of waiting per
build, a quarter of it (measured: 57 s -> 41 s in process, 220 s -> 160 s under the
multiprocess executor). A test's instance is thrown away with the test (as the throwaway
PostgreSQL server runs with fsync off), so under pytest its storage lives on /dev/shm, where
a sync returns at once. Only that: warehouses, raw files and everything else a test checks
stay in its tmp_path, on disk. Outside a test session (scripts/ use tests.cli_build) nothing
changes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RAM = Path("/dev/shm")
_root: Path | None = None


def start() -> None:
    """Called once per test process (conftest.py): a private folder on /dev/shm, if any."""
    global _root
    if _root is None and RAM.is_dir() and os.access(RAM, os.W_OK | os.X_OK):
        _root = Path(tempfile.mkdtemp(prefix="reelreason-tests-", dir=RAM))


def stop() -> None:
    global _root
    if _root is not None:
        shutil.rmtree(_root, ignore_errors=True)
        _root = None


def storage_dir(path: Path) -> Path:
    """Make `path` a new folder for a Dagster instance's storage: a link to a fresh folder in
    RAM during a test session that has one, else a plain folder. Returns `path`; the RAM
    folder goes when the session ends."""
    if _root is None:
        path.mkdir(parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(tempfile.mkdtemp(prefix=f"{path.name.lstrip('.')}-", dir=_root))
    return path


@contextmanager
def instance_dir() -> Iterator[str | None]:
    """A folder for `dg.instance_for_test(temp_dir=...)`, removed on exit; None (the
    instance makes its own temporary folder) outside a session with RAM."""
    if _root is None:
        yield None
        return
    with tempfile.TemporaryDirectory(dir=_root, ignore_cleanup_errors=True) as folder:
        yield folder
