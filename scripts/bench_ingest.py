"""Benchmark: ML-1M-sized ratings (1,000,209 generated rows) parsed, validated and landed in
the warehouse, next to a naive pandas `engine="python"` read of the same file in the same run.

    make bench            (or: .venv/bin/python scripts/bench_ingest.py [--rows N])

Prints a table; the target is < 10 s for our whole path on this machine.
"""

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import schemas  # noqa: E402
from reelreason.parse import movielens  # noqa: E402
from reelreason.warehouse import Warehouse  # noqa: E402

ML1M_RATINGS = 1_000_209


def generate(path: Path, rows: int) -> None:
    """Ratings in the exact ml-1m format: `UserID::MovieID::Rating::Timestamp`, LF, no header."""
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT (1 + i % 6040) || '::' || (1 + (i * 7919) % 3952) || '::' ||
                            (1 + (i * 31) % 5) || '::' || (956703932 + i * 37) AS line
                     FROM range({rows}) t(i))
                TO '{path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')"""
        )


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=ML1M_RATINGS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ratings.dat"
        _, t_gen = timed(lambda: generate(path, args.rows))
        size_mb = path.stat().st_size / 1e6

        lake = Warehouse(Path(tmp) / "warehouse")
        con = duckdb.connect()
        parsed, t_parse = timed(lambda: movielens.parse_ratings(con, path, "ratings.dat"))
        table = parsed.tables["ml1m_ratings"]
        _, t_validate = timed(lambda: schemas.validate("ml1m_ratings", table))
        _, t_write = timed(
            lambda: lake.write_table(
                "ml1m_ratings",
                table,
                run_id="bench",
                source="movielens",
                quarantine=parsed.quarantine_table("ml1m_ratings"),
            )
        )
        ours = t_parse + t_validate + t_write
        lake.close()
        assert table.num_rows == args.rows, (table.num_rows, args.rows)

        naive, t_naive = timed(
            lambda: pd.read_csv(
                path,
                sep="::",
                engine="python",
                header=None,
                encoding="latin-1",
                names=["user_id", "movie_id", "rating", "ts"],
            )
        )
        assert len(naive) == args.rows

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("ours: parse (DuckDB read_csv + line account)", t_parse),
        ("ours: validate (pandera model)", t_validate),
        ("ours: land in warehouse (DuckLake snapshot)", t_write),
        ("ours: total", ours),
        ("baseline: pandas read_csv(sep='::', engine='python')", t_naive),
    ]
    print(f"ML-1M-sized ratings: {args.rows:,} rows, {size_mb:.1f} MB (generated in {t_gen:.1f}s)")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, duckdb {duckdb.__version__}, pandas {pd.__version__}"
    )
    print()
    print(f"| {'step':<55} | {'seconds':>8} | {'rows/s':>12} |")
    print(f"|{'-' * 57}|{'-' * 10}|{'-' * 14}|")
    for name, secs in rows:
        print(f"| {name:<55} | {secs:>8.2f} | {args.rows / secs:>12,.0f} |")
    print()
    print(
        f"baseline parse alone / our whole path: {t_naive / ours:.1f}x slower "
        f"(our parse alone is {t_naive / t_parse:.1f}x faster)"
    )
    print(f"target < 10 s for parse + land: {'MET' if ours < 10 else 'MISSED'} ({ours:.2f} s)")
    print(f"peak RSS of this process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
