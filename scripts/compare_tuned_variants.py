"""How the tuned space's method was chosen: train variants on a built warehouse's likes, with
the evaluation's own split, and score each on the same leave-last-out test users.

    .venv/bin/python scripts/acceptance.py ../shared/realdata-dev/raw --warehouse /tmp/acc
    .venv/bin/python scripts/compare_tuned_variants.py /tmp/acc [--users 5000] [--steps 600]

Prints HR@10 [95% bootstrap interval] per source for popularity, the base space (st) and each
variant (rating part only: the mean of the training likes, seen films excluded). The split,
the held-out likes and the scoring are the pipeline's (`plan_holdout`, `training_likes`,
`leave_last_out_cases`, `rank_cases`); only the training configuration differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.holdout import LIKES_SQL, SEEN_SQL  # noqa: E402
from assets.tuned import load_base  # noqa: E402
from reelreason.evaluation import (  # noqa: E402
    bootstrap_ci,
    leave_last_out_cases,
    plan_holdout,
    popularity_counts,
    rank_cases,
    training_likes,
    user_query,
)
from reelreason.tuning import TuningConfig, train_tuned_space  # noqa: E402
from reelreason.warehouse import Warehouse  # noqa: E402

# The defaults (TuningConfig) are the chosen method; each other row changes one thing.
VARIANTS = {
    "chosen: x·W + per-film b (dropped in 70% of steps)": {},
    "per-film b dropped in 30% of steps": {"id_dropout": 0.3},
    "text map only (x·W, no per-film b)": {"id_dropout": 1.0},
    "plain-mean histories in training": {"half_life": 0.0},
    "every target the latest like": {"last_share": 1.0},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--users", type=int, default=5000, help="REELREASON_EVAL_USERS")
    parser.add_argument("--min-likes", type=int, default=3, help="REELREASON_MIN_LIKES")
    parser.add_argument("--seed", type=int, default=13, help="REELREASON_EVAL_SEED")
    parser.add_argument("--steps", type=int, default=600, help="REELREASON_TUNE_MAX_STEPS")
    parser.add_argument("--only", default="", help="variants whose name contains this")
    args = parser.parse_args()
    with Warehouse(args.warehouse).session() as con:
        ids, base, model, _ = load_base(con)
        likes = con.execute(LIKES_SQL).fetchall()
        seen = con.execute(SEEN_SQL).fetchall()
    index = {m: i for i, m in enumerate(ids)}
    plan = plan_holdout(
        likes, min_likes=args.min_likes, users_per_source=args.users, seed=args.seed
    )
    train = training_likes(likes, plan)
    sequences = [[index[m] for m in ms if m in index] for ms in train.values()]
    cases = leave_last_out_cases(likes, plan, seen, index, role="test")
    popularity = popularity_counts(train, index)
    sources = sorted({c.source for c in cases})
    print(f"{len(ids):,} films, {len(cases):,} test users, base {model}\n")
    print("| method | " + " | ".join(sources) + " | train s |")
    print("|---|" + "---:|" * (len(sources) + 1))

    def report(name, score, seconds=None):
        hits = rank_cases(cases, score).ranks <= 10
        cells = []
        for source in sources:
            h = hits[[c.source == source for c in cases]].astype(float)
            lo, hi = bootstrap_ci(h, seed=args.seed)
            cells.append(f"{h.mean():.3f} [{lo:.3f}, {hi:.3f}] (n={len(h):,})")
        took = "" if seconds is None else f"{seconds:.0f}"
        print(f"| {name} | " + " | ".join(cells) + f" | {took} |", flush=True)

    def by_mean(vectors):
        return lambda c: vectors @ user_query(vectors, c, None, 1.0)

    report("baseline: popularity", lambda c: popularity)
    report(f"base space ({model})", by_mean(base))
    config = TuningConfig(max_steps=args.steps, seed=args.seed)
    for name, change in VARIANTS.items():
        if args.only not in name:
            continue
        start = time.perf_counter()
        space = train_tuned_space(base, sequences, (), replace(config, **change))
        report(name, by_mean(space.film_vectors), time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    sys.exit(main())
