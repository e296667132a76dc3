"""Real-data acceptance: the full profile, offline, on any folder of real upstream files.

    make acceptance RAW=../shared/realdata-dev/raw
    .venv/bin/python scripts/acceptance.py RAW [--warehouse DIR] [--keep]

Builds into a temporary warehouse (kept with --keep or --warehouse) with the offline
MiniLM model and no TMDB or OpenAI calls, then prints, per published table: rows,
quarantined rows and the rules that quarantined them; film resolution rates per source and
method; and the build's time by step (from Dagster's run records). Exits non-zero when the
build fails, publishes nothing, or leaves a table empty that its inputs should fill.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import pyarrow.parquet as pq  # noqa: E402

from assets.movies import resolution_markdown  # noqa: E402
from pipelines.settings import MINILM  # noqa: E402
from reelreason.serving import (  # noqa: E402
    RECALL_TARGET,
    films_table,
    load_bundle,
    recommend,
    similar,
)
from reelreason.warehouse import Warehouse  # noqa: E402

# Tables that are legitimately empty in an offline build of real files: services that are
# off (OpenAI embeddings, LLM keyphrases), the optional raw GoEmotions rater CSVs, and a
# review list that is empty when no merge looks suspicious.
MAY_BE_EMPTY = re.compile(
    r"^(.*_openai|movie_keyphrases|keyphrase_embeddings_.*|goemotions_ratings|movie_merge_review|tmdb_movies)$"
)


def _process_tree_rss(root: int) -> tuple[int, int]:
    """(total, largest) resident memory in bytes of `root` and all its descendants (/proc)."""
    parent, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue  # the process ended while we looked
        parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), 0)
        rss[int(entry.name)] = int(kb) * 1024
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        children = [c for c, pp in parent.items() if pp == p and c not in tree]
        tree.update(children)
        frontier += children
    sizes = [rss.get(p, 0) for p in tree]
    return sum(sizes), max(sizes, default=0)


class MemorySampler(threading.Thread):
    """Peak memory of a build's whole process tree (its step workers included), sampled."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_total = self.peak_process = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            total, largest = _process_tree_rss(self.pid)
            self.peak_total = max(self.peak_total, total)
            self.peak_process = max(self.peak_process, largest)


def run_build(
    raw: Path, warehouse: Path, dagster_dir: Path
) -> tuple[int, float, str, MemorySampler]:
    env = {
        **os.environ,
        "REELREASON_PROFILE": "full",
        "REELREASON_OFFLINE": "1",
        "REELREASON_RAW_DIR": str(raw),
        "REELREASON_WAREHOUSE": str(warehouse),
        "REELREASON_ST_MODEL": os.environ.get("REELREASON_ST_MODEL", MINILM),
        "REELREASON_KEYPHRASES": "0",
        "HF_HUB_OFFLINE": "1",
        "DAGSTER_HOME": str(PROJECT_ROOT),
        "REELREASON_DAGSTER_DIR": str(dagster_dir),
    }
    for secret in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN", "OPENAI_API_KEY"):
        env.pop(secret, None)  # an acceptance run never calls out
    cli = Path(sys.executable).with_name("reelreason")
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([str(cli), "build"], env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = MemorySampler(proc.pid)
        sampler.start()
        code = proc.wait()
        sampler.stopped.set()
        out.seek(0)
        log = out.read()
    return code, time.monotonic() - start, log, sampler


def step_times(dagster_dir: Path) -> list[tuple[str, float]]:
    """(step, seconds) of the newest run, longest first, from Dagster's own records."""
    os.environ["DAGSTER_HOME"] = str(PROJECT_ROOT)
    os.environ["REELREASON_DAGSTER_DIR"] = str(dagster_dir)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        stats = instance.get_run_step_stats(runs[0].run_id)
    times = [
        (s.step_key, (s.end_time or s.start_time) - s.start_time) for s in stats if s.start_time
    ]
    return sorted(times, key=lambda t: -t[1])


def table_report(lake: Warehouse) -> tuple[list[tuple], dict[str, list[tuple]], str, str]:
    """(rows per published table, quarantine rules per table, current build id, resolution
    per source and method as markdown)."""
    build = lake.resolve_build()
    con = lake.connect(read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name, row_count FROM build_tables WHERE build_id = ? ORDER BY 1",
            [build["build_id"]],
        ).fetchall()
        rules: dict[str, list[tuple]] = {}
        for table, rule, n in con.execute(
            "SELECT table_name, rule, count(*) FROM quarantine GROUP BY ALL ORDER BY 1, 3 DESC"
        ).fetchall():
            rules.setdefault(table, []).append((rule, n))
        # the same figures as movie_xref's metadata: resolved means a TMDB id, not any match
        xref = con.execute(
            """SELECT source, match_method, count(*), count(tmdb_id) FROM movie_xref
               GROUP BY ALL ORDER BY 1, 3 DESC"""
        ).fetchall()
    finally:
        con.close()
    rates: dict[str, dict] = {}
    for source, method, n, to_tmdb in xref:
        r = rates.setdefault(source, {"references": 0, "resolved": 0, "methods": {}})
        r["references"] += n
        r["resolved"] += to_tmdb
        r["methods"][method] = n
    for r in rates.values():
        r["resolved_share"] = r["resolved"] / r["references"]
    return tables, rules, build["build_id"], resolution_markdown(rates)


def serving_report(lake: Warehouse) -> str | None:
    """The current build's serving bundle, loaded in one call and asked once: None, or what
    is wrong with it."""
    pointer = lake.exports_path / "CURRENT"
    if not pointer.is_file():
        return "no exports/CURRENT"
    folder = lake.exports_path / pointer.read_text().strip() / "serving" / "st"
    start = time.perf_counter()
    bundle = load_bundle(folder)
    load_ms = (time.perf_counter() - start) * 1000
    quality = bundle.metadata["index"]
    films = films_table(bundle).select(["movie_id", "title", "year"]).to_pylist()
    probe = next((i for i, f in enumerate(films) if f["movie_id"] == "tmdb:603"), 0)
    near = similar(bundle, films[probe]["movie_id"], 5)
    print(f"\n## Serving bundle ({folder})\n")
    print(
        f"{len(bundle.ids):,} films x {bundle.matrix.shape[1]} dims, "
        f"{bundle.metadata['users']:,} users; loaded in {load_ms:.0f} ms; index recall@10 vs "
        f"exact {quality['recall@10']} ({quality['index_ms_per_query']} ms/query vs "
        f"{quality['exact_ms_per_query']} ms brute force)"
    )
    print(
        f"nearest {films[probe]['title']} ({films[probe]['year']}): "
        + "; ".join(f"{films[r]['title']} ({films[r]['year']}) {score:.3f}" for r, score in near)
    )
    user = pq.read_table(folder / "users.parquet", columns=["user_id"]).column(0)[0].as_py()
    picks = recommend(bundle, user, 5, exclude_seen=True)
    print(
        f"for {user}, not seen: "
        + "; ".join(f"{films[r]['title']} ({films[r]['year']}) {score:.3f}" for r, score in picks)
    )
    if quality["recall@10"] < RECALL_TARGET:
        return f"the index's recall@10 {quality['recall@10']} is below {RECALL_TARGET}"
    return None


# The evaluation table printed (and pasted into the README): leave-last-out per segment.
EVAL_SEGMENTS = ("movietweetings", "redial", "rating_users", "dialogue_users", "cold_films", "all")
EVAL_METHODS = (
    "baseline:random",
    "baseline:popularity",
    "st",
    "baseline:popularity_blend",
    "tuned",
)


def evaluation_report(lake: Warehouse) -> list[str]:
    """Print HR@10 [95% interval] per segment and method, both protocols, and the chosen α;
    return the done-criteria of the tuned space that do not hold."""
    con = lake.connect(read_only=True)
    try:
        rows = con.execute(
            """SELECT protocol, segment, embedding, model, metric, value, ci_low, ci_high, n
               FROM eval_results WHERE protocol IN ('leave_last_out', 'time_split')
               AND metric IN ('hr@10', 'ndcg@10', 'coverage@10', 'popularity_bias@10')"""
        ).fetchall()
        alphas = con.execute(
            "SELECT embedding, value, n FROM eval_results WHERE metric = 'chosen_alpha' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    cell: dict[tuple, tuple] = {}
    for protocol, seg, emb, model, metric, value, lo, hi, n in rows:
        # the space's own rows under its name; baselines as measured beside the tuned space
        if not model.startswith("baseline:"):
            cell[(protocol, seg, emb, metric)] = (value, lo, hi, n)
        elif emb == "tuned":
            cell[(protocol, seg, model, metric)] = (value, lo, hi, n)

    def show(key):
        v = cell.get(key)
        return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" if v else "–"

    for protocol in ("leave_last_out", "time_split"):
        print(f"\n## Evaluation: {protocol}, HR@10 [95% interval]\n")
        print("| segment | n | " + " | ".join(EVAL_METHODS) + " |")
        print("|---|---:|" + "---:|" * len(EVAL_METHODS))
        for seg in EVAL_SEGMENTS:
            n = cell.get((protocol, seg, "tuned", "hr@10"), (0, 0, 0, 0))[3]
            if n:
                print(
                    f"| {seg} | {n:,} | "
                    + " | ".join(show((protocol, seg, m, "hr@10")) for m in EVAL_METHODS)
                    + " |"
                )
        print("\n| all users | " + " | ".join(EVAL_METHODS) + " |")
        print("|---|" + "---:|" * len(EVAL_METHODS))
        for metric in ("ndcg@10", "coverage@10", "popularity_bias@10"):
            print(
                f"| {metric} | "
                + " | ".join(show((protocol, "all", m, metric)) for m in EVAL_METHODS)
                + " |"
            )
    print("\nα chosen on validation users: " + ", ".join(f"{e} {v} (n={n})" for e, v, n in alphas))
    misses = []
    for seg in ("movietweetings", "redial"):
        tuned = cell.get(("leave_last_out", seg, "tuned", "hr@10"))
        pop = cell.get(("leave_last_out", seg, "baseline:popularity", "hr@10"))
        if tuned and pop and not tuned[1] > pop[2]:
            misses.append(f"tuned vs popularity on {seg}: the 95% intervals overlap")
    tuned = cell.get(("leave_last_out", "rating_users", "tuned", "hr@10"))
    base = cell.get(("leave_last_out", "rating_users", "st", "hr@10"))
    if tuned and base and not tuned[0] >= 5 * base[0]:
        misses.append(f"tuned {tuned[0]:.3f} < 5 x st {base[0]:.3f} on rating users")
    tuned = cell.get(("leave_last_out", "cold_films", "tuned", "hr@10"))
    base = cell.get(("leave_last_out", "cold_films", "st", "hr@10"))
    if tuned and base and tuned[0] < base[0]:
        misses.append(f"cold films: tuned {tuned[0]:.3f} below st {base[0]:.3f}")
    for miss in misses:
        print(f"tuned space, not met: {miss}")
    if not misses:
        print("tuned space: every done-criterion of the evaluation holds")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="folder of real upstream files (raw layout)")
    parser.add_argument("--warehouse", type=Path, help="build here (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary warehouse")
    args = parser.parse_args()
    raw = args.raw.expanduser().resolve()
    if not raw.is_dir():
        print(f"acceptance: {raw} is not a folder of raw files", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="reelreason-acceptance-"))
    warehouse = args.warehouse.resolve() if args.warehouse else work / "warehouse"
    dagster_dir = work / "dagster"
    print(f"acceptance: full profile, offline, raw={raw}, warehouse={warehouse}", flush=True)
    try:
        code, elapsed, log, memory = run_build(raw, warehouse, dagster_dir)
        summary = log[log.rfind("\nasset ") + 1 :] if "\nasset " in log else log[-6000:]
        print(re.sub(r"(?m)^.* - dagster - (DEBUG|INFO) - .*\n", "", summary))
        if code != 0:
            print(log[-8000:], file=sys.stderr)
            print(f"acceptance: FAILED, the build exited {code} after {elapsed:.0f}s")
            return 1
        tables, rules, build_id, resolution = table_report(Warehouse(warehouse))
        print(f"\n## Published build {build_id}: {len(tables)} tables\n")
        print("| table | rows | quarantined | rules that quarantined them |")
        print("|---|---:|---:|---|")
        empty = []
        for table, rows in tables:
            quarantined = sum(n for _, n in rules.get(table, []))
            named = ", ".join(f"{r} ×{n:,}" for r, n in rules.get(table, []))
            print(f"| {table} | {rows:,} | {quarantined:,} | {named} |")
            if rows == 0 and not MAY_BE_EMPTY.match(table):
                empty.append(table)
        print("\n## Film resolution (offline: MovieLens links and local matching only)\n")
        print(resolution)
        print(
            f"\n## Time by step (wall {elapsed:.0f}s; peak memory of the build's processes "
            f"together {memory.peak_total / 2**20:,.0f} MB, of one process "
            f"{memory.peak_process / 2**20:,.0f} MB, sampled every 0.5 s)\n"
        )
        print("| step | seconds |\n|---|---:|")
        for step, seconds in step_times(dagster_dir)[:15]:
            print(f"| {step} | {seconds:.1f} |")
        serving_problem = serving_report(Warehouse(warehouse))
        evaluation_report(Warehouse(warehouse))
        if empty:
            print(f"\nacceptance: FAILED, empty tables whose inputs are not: {', '.join(empty)}")
            return 1
        if serving_problem:
            print(f"\nacceptance: FAILED, {serving_problem}")
            return 1
        print(f"\nacceptance: OK in {elapsed:.0f}s")
        return 0
    finally:
        if args.keep or args.warehouse:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
