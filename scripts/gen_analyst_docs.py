"""Write the generated docs: `warehouse/README.md` and the tables region of `README.md`, from
the pandera models in `schemas/` and the warehouse DDL; and the README's environment table,
from the settings' declarations in `pipelines/settings.py`.

    .venv/bin/python scripts/gen_analyst_docs.py           # rewrite both files
    .venv/bin/python scripts/gen_analyst_docs.py --check   # exit 1 if either is stale
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.settings import readme_with_environment_table  # noqa: E402
from schemas.analyst_docs import README, REGENERATE, expected_files  # noqa: E402


def expected() -> dict[Path, str]:
    files = expected_files(ROOT)
    files[ROOT / README] = readme_with_environment_table(files[ROOT / README])
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = parser.parse_args(argv)
    files = expected()
    if args.check:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text("utf-8") != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date; run `{REGENERATE}`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        else:
            print(f"{path.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
