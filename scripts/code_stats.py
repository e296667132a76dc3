"""Size of the product code at a git revision: lines of non-test, non-script Python, and the
longest functions. For before/after figures of a restructuring:

    .venv/bin/python scripts/code_stats.py 179b2f1 HEAD
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assets/", "pipelines/", "schemas/", "reelreason/")


def files_at(rev: str) -> dict[str, str]:
    names = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    return {
        n: subprocess.run(
            ["git", "show", f"{rev}:{n}"], cwd=ROOT, capture_output=True
        ).stdout.decode()
        for n in names
        if n.endswith(".py") and n.startswith(PACKAGES)
    }


def functions(path: str, source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"


def main(revs: list[str]) -> int:
    for rev in revs:
        files = files_at(rev)
        lines = sum(len(s.splitlines()) for s in files.values())
        longest = sorted((f for p, s in files.items() for f in functions(p, s)), reverse=True)
        print(f"## {rev}: {len(files)} files, {lines:,} lines of product code\n")
        print("| lines | function |\n|---:|---|")
        for n, where in longest[:10]:
            print(f"| {n} | `{where}` |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["HEAD"]))
