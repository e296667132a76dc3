"""Running the docs' snippets exactly as printed, as a reader would: from a folder laid out
as the project is (`warehouse/` the build under test, `.venv` this interpreter's
environment), with none of the caller's REELREASON_* settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.settings import PROJECT_ROOT

DOCS = (PROJECT_ROOT / "README.md", PROJECT_ROOT / "warehouse" / "README.md")
# The set-up commands themselves (`make run`, `make test`, `make acceptance`): CI runs them
# as printed (.ci/run), so the snippet test does not run them inside itself.
SETUP = re.compile(r"^\s*make\s", re.MULTILINE)
_BLOCK = re.compile(r"^```(sql|bash|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    file: str
    line: int
    language: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append(Snippet(path.relative_to(PROJECT_ROOT).as_posix(), line, *m.groups()))
    return found


def reader_folder(base: Path, warehouse: Path) -> Path:
    folder = base / "reader"
    folder.mkdir(exist_ok=True)
    for name, target in (("warehouse", warehouse), (".venv", Path(sys.prefix))):
        if not (folder / name).exists():
            (folder / name).symlink_to(target)
    return folder


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("REELREASON_")}


_SESSION = re.compile(r"\s*(--[^\n]*\n\s*)*(LOAD|ATTACH|SET|USE)\b")


def run_snippet(snippet: Snippet, folder: Path, sessions: dict | None = None) -> str:
    """Run one snippet in `folder`; its output, or an AssertionError saying where it broke.
    SQL that loads, attaches, sets or uses runs in a plain DuckDB session, which the next
    such snippet of the same document continues (as a reader's would, given `sessions`);
    other SQL is a query for `reelreason sql` (how the docs say to run it)."""
    code = snippet.code
    if snippet.language == "sql" and _SESSION.match(code):
        sessions = {} if sessions is None else sessions
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            con = sessions.setdefault(snippet.file, duckdb.connect())
            return str(con.execute(code).fetchall())
        except duckdb.Error as exc:
            raise AssertionError(f"{snippet.where}: {exc}") from None
        finally:
            os.chdir(cwd)
    if snippet.language == "sql":
        argv = [str(folder / ".venv" / "bin" / "reelreason"), "sql", code]
    elif snippet.language == "bash":
        argv = ["bash", "-e", "-o", "pipefail", "-c", code]
    else:
        argv = [str(folder / ".venv" / "bin" / "python"), "-c", code]
    done = subprocess.run(argv, cwd=folder, env=_env(), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"{snippet.where} exited {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout
