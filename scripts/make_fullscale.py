#!/usr/bin/env python3
"""Same as `python scripts/make_data.py --scale full OUT_DIR [--scale F] [--seed N]`.

Kept because the manifests and TMDB catalogues it wrote name it as their generator.
"""

import sys

from make_data import main

if __name__ == "__main__":
    sys.exit(main(["--scale", "full", *sys.argv[1:]]))
