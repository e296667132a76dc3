"""Write the analyst docs: `warehouse/README.md` and the generated tables region of
`README.md`, from the pandera models in `schemas/` and the warehouse DDL.

    .venv/bin/python scripts/gen_analyst_docs.py           # rewrite both files
    .venv/bin/python scripts/gen_analyst_docs.py --check   # exit 1 if either is stale
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemas.analyst_docs import REGENERATE, expected_files, stale_files  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(ROOT)
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date; run `{REGENERATE}`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in expected_files(ROOT).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        else:
            print(f"{path.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
