"""A throwaway PostgreSQL server for tests: initdb in a temporary folder, on 127.0.0.1.

Uses the Debian `postgresql` package's binaries (`.ci/run` installs it). PostgreSQL refuses
to run as root, so as root the server runs as the `postgres` user the package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def unavailable_reason() -> str | None:
    if pg_bindir() is None:
        return "PostgreSQL is not installed (apt-get install postgresql; .ci/run does this)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as another user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, bindir: Path, port: int, as_user: list[str]):
        self.bindir, self.port, self.as_user = bindir, port, as_user

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=postgres"

    def create_database(self, name: str) -> str:
        """A new empty database (one per test keeps catalogs apart); returns its conninfo."""
        subprocess.run(
            [*self.as_user, str(self.bindir / "createdb"), "-h", "127.0.0.1"]
            + ["-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.conninfo(name)


@contextmanager
def postgres_server():
    """Yields a PostgresServer on a fresh cluster; stops and deletes it afterwards."""
    bindir = pg_bindir()
    as_user: list[str] = []
    # Not under pytest's tmp (mode 0700 root folders the postgres user cannot enter).
    root = Path(tempfile.mkdtemp(prefix="reelreason-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    try:
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres"]
            + ["--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w"]
            + ["-t", "60", "-o", f"-p {port} -h 127.0.0.1 -k {root} -F", "start"],
            check=True,
            capture_output=True,
            timeout=90,
        )
        yield PostgresServer(bindir, port, as_user)
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
