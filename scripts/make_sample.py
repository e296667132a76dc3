#!/usr/bin/env python3
"""Same as `python scripts/make_data.py --scale sample` (kept for old habits and links)."""

import sys

from make_data import main

if __name__ == "__main__":
    sys.exit(main(["--scale", "sample", *sys.argv[1:]]))
