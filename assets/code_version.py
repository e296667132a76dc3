"""A step's code version: the code it can run, and nothing else.

Reuse used to hash the whole source tree, so a comment edit in the CLI recomputed every
table. Here a step's code version covers only the project modules its asset module can reach
through imports (transitively, lazy imports inside functions included), each hashed as its
syntax tree without docstrings: comments, docstrings and formatting change nothing, and
neither do modules the step cannot call (the CLI, the code location, scripts). Data files
that ship with the code (word lists, request sets) and the versions of the libraries that
shape data are included for every step.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from importlib import metadata as importlib_metadata
from pathlib import Path

PACKAGES = ("assets", "pipelines", "reelreason", "schemas")
DATA_SUFFIXES = {".tsv", ".json", ".sql", ".txt"}
# Libraries whose version can change a table's content.
LIBRARIES = (
    "dagster",
    "duckdb",
    "numpy",
    "openai",
    "pandera",
    "pyarrow",
    "scipy",
    "sentence-transformers",
    "torch",
    "transformers",
)


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(root: Path, module: str, tree: ast.AST) -> set[str]:
    """Project modules named by the imports anywhere in `tree` (`from a import b` counts as
    a.b when that is a module, else a)."""
    found = set()
    package = (
        module if _module_file(root, module).name == "__init__.py" else module.rpartition(".")[0]
    )
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if name.split(".")[0] in PACKAGES and _module_file(root, name):
                found.add(name)
    return found


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def _parsed(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# Each piece is worked out once per process: a build asks for ~40 steps' versions, and
# most steps reach the same modules (parsing them again cost ~1 s a step).
@functools.cache
def _module_imports(root: Path, name: str) -> frozenset[str]:
    return frozenset(_imports(root, name, _parsed(_module_file(root, name))))


def reachable_modules(module: str, root: Path) -> list[str]:
    """`module` and every project module it imports, transitively, sorted."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen or _module_file(root, name) is None:
            continue
        seen.add(name)
        todo += _module_imports(root, name)
    return sorted(seen)


@functools.cache
def _module_digest(root: Path, name: str) -> bytes:
    tree = _without_docstrings(ast.parse(_module_file(root, name).read_text("utf-8")))
    return f"{name}\0{ast.dump(tree)}\0".encode()


@functools.cache
def _shared_digest(root: Path) -> bytes:
    """What every step's version includes: the data files shipped with the code and the
    versions of the data-shaping libraries."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in DATA_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    for name in LIBRARIES:
        try:
            digest.update(f"{name}=={importlib_metadata.version(name)}\0".encode())
        except importlib_metadata.PackageNotFoundError:
            digest.update(f"{name} absent\0".encode())
    return digest.digest()


@functools.cache
def code_version(module: str, root: Path) -> str:
    """sha256 of what the code in `module` can do: the docstring-free syntax trees of the
    modules it reaches, the data files shipped with the code, the data-shaping libraries."""
    digest = hashlib.sha256()
    for name in reachable_modules(module, root):
        digest.update(_module_digest(root, name))
    digest.update(_shared_digest(root))
    return digest.hexdigest()


def clear_caches() -> None:
    """Forget what was read (a test that edits the code between two versions)."""
    for cached in (_parsed, _module_imports, _module_digest, _shared_digest, code_version):
        cached.cache_clear()
