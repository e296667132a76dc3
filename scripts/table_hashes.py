"""The content hash of every table of a warehouse's current build, for checking that a change
(a refactor, a dependency bump) leaves what a build publishes bit-for-bit the same.

    .venv/bin/python scripts/table_hashes.py                     # build the sample, print JSON
    .venv/bin/python scripts/table_hashes.py --warehouse W       # hash an existing warehouse
    .venv/bin/python scripts/table_hashes.py --compare before.json   # exit 1 on any difference

Without --warehouse it builds the bundled sample with `reelreason build` into a temporary
warehouse first. Hashes leave out the columns that name the writing build or run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reelreason.warehouse import Warehouse  # noqa: E402
from tests.cli_build import run_build  # noqa: E402


def build_sample(into: Path) -> Path:
    code, _, err = run_build(into)  # `reelreason build`, its own Dagster home and environment
    if code != 0:
        raise SystemExit(f"the sample build failed:\n{err[-3000:]}")
    return into / "warehouse"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, help="hash this warehouse instead of building")
    ap.add_argument("--compare", type=Path, help="a JSON file from an earlier run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelreason-hashes-") as tmp:
        root = args.warehouse or build_sample(Path(tmp))
        hashes = Warehouse(root).content_hashes()
    print(json.dumps(hashes, indent=1, sort_keys=True))
    if args.compare is None:
        return 0
    before = json.loads(args.compare.read_text())
    differing = sorted(t for t in before.keys() | hashes.keys() if before.get(t) != hashes.get(t))
    print(
        f"{len(hashes)} tables; {len(differing)} differ from {args.compare}"
        + (f": {', '.join(differing)}" if differing else ""),
        file=sys.stderr,
    )
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
