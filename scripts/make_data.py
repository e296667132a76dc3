#!/usr/bin/env python3
"""Write the six upstream datasets in their native formats, at sample or full scale.

    python scripts/make_data.py --scale sample                   # sample/raw/** + sample/README.md
    python scripts/make_data.py --scale full OUT_DIR [--seed 1]  # the real upstream sizes
    python scripts/make_data.py --scale 0.1 OUT_DIR [--seed 1]   # a fraction (0.001 to 4) of them

`--scale sample` rewrites the bundled offline sample: hand-curated rows (the films, dialogues
and quirks the tests rely on; deterministic, `random.Random(7)`, standard library only), then
checks the files it wrote and regenerates sample/README.md. See scripts/datagen/sample.py.

`--scale full` or a number writes synthetic copies at that size for the full-scale benchmark
(scripts/bench_full.py): OUT_DIR/raw/**, OUT_DIR/tmdb_catalog.json and OUT_DIR/manifest.json,
deterministic for a given (--seed, --scale); needs numpy. See scripts/datagen/fullscale.py.

Both scales write every file through scripts/datagen/formats.py, the one place that knows each
upstream format (layout, encoding, separators, quoting, headers, line endings).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SAMPLE, FULL = "sample", "full"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", nargs="?", type=Path, help="where a full-scale run writes")
    ap.add_argument(
        "--scale",
        required=True,
        help="`sample` (the bundled sample), `full` (= 1.0, the real upstream sizes) or a number",
    )
    ap.add_argument("--seed", type=int, default=None, help="full scale only (default 1)")
    args = ap.parse_args(argv)

    if args.scale == SAMPLE:
        if args.out_dir is not None or args.seed is not None:
            ap.error(
                "--scale sample writes sample/ with its fixed seed: it takes no OUT_DIR, no --seed"
            )
        from datagen import sample

        return sample.main()

    from datagen import fullscale

    try:
        scale = 1.0 if args.scale == FULL else float(args.scale)
    except ValueError:
        ap.error(f"--scale must be `{SAMPLE}`, `{FULL}` or a number, not {args.scale!r}")
    if not fullscale.MIN_SCALE <= scale <= fullscale.MAX_SCALE:
        ap.error(f"--scale must lie in [{fullscale.MIN_SCALE}, {fullscale.MAX_SCALE:g}]")
    if args.out_dir is None:
        ap.error("a full-scale run needs OUT_DIR")
    return fullscale.generate(args.out_dir, scale, 1 if args.seed is None else args.seed)


if __name__ == "__main__":
    sys.exit(main())
