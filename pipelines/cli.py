"""`reelreason` command: build the warehouse, query it, manage its builds.

reelreason build [SELECTION]        materialize the graph (default: everything)
reelreason sql "SELECT ..." [--build ID]   query the current (or a named) build, CSV out
reelreason builds                   list published builds: tables, rows, metrics, current
reelreason show [BUILD]             one build's tables with row counts
reelreason promote BUILD            make a build the current one
reelreason rollback                 make the build before the current one current again
reelreason retain [--keep N]        forget older builds, expire snapshots, compact files
reelreason export [BUILD] [--out D] plain Parquet files + manifest.json of a build
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

# Keep Dagster's instance (run history, logs) inside the project unless told otherwise.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _ensure_dagster_home() -> None:
    """Use the project's dagster.yaml (and .dagster/ for run history) unless told otherwise."""
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(PROJECT_ROOT)
    os.environ.setdefault("REELREASON_DAGSTER_DIR", str(PROJECT_ROOT / ".dagster"))


def cmd_build(args) -> int:
    _ensure_dagster_home()
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.settings import Settings
    from reelreason.warehouse import build_lock

    settings = Settings.from_env()
    defs = build_definitions(settings)
    selection = (
        dg.AssetSelection.from_string(args.selection) if args.selection else dg.AssetSelection.all()
    )
    # Multi-table assets (ReDial, CCPE, ...) parse once: selecting one table selects its siblings.
    keys = selection.required_multi_asset_neighbors().resolve(defs.resolve_asset_graph())
    if not keys:
        print(f"selection {args.selection!r} matches no asset", file=sys.stderr)
        return 2
    print(
        f"profile={settings.profile} warehouse={settings.warehouse} "
        f"raw={settings.raw_dir or 'download'} assets={len(keys)}",
        file=sys.stderr,
    )
    start = time.monotonic()
    tags = {"reelreason/profile": settings.profile, "reelreason/trigger": "cli"}
    if args.recompute:  # every step runs, even where its inputs are unchanged
        tags["reelreason/reuse"] = "off"
    with build_lock(settings.warehouse):
        result = _execute(defs, settings, list(keys), args.log_level, tags)
    elapsed = time.monotonic() - start
    _print_assets(result)
    _print_failed_checks(result)
    if not result.success:
        _print_failures(result)
        outcome = _what_readers_see(settings, result.run_id)
        print(
            f"build failed after {elapsed:.1f}s (run {result.run_id}); {outcome}", file=sys.stderr
        )
        return 1
    print(f"build {result.run_id} finished in {elapsed:.1f}s", file=sys.stderr)
    return 0


def _execute(defs, settings, keys: list, log_level: str, tags: dict):
    import dagster as dg

    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    instance = dg.DagsterInstance.get()
    if settings.executor == "multiprocess":
        # Steps run in their own processes, which rebuild the job from this module.
        from pipelines import definitions

        return dg.execute_job(
            dg.reconstructable(definitions.all_assets_job),
            instance=instance,
            asset_selection=keys,
            run_config=run_config,
            tags=tags,
        )
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        asset_selection=keys,
        raise_on_error=False,
        run_config=run_config,
        tags=tags,
    )


def _print_assets(result) -> None:
    """One line per materialized asset: rows, quarantined rows, computed or reused."""
    rows = []
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        count = mat.metadata.get("dagster/row_count")
        quarantined = mat.metadata.get("quarantined_rows")
        reused = mat.metadata.get("reused")
        rows.append(
            (
                mat.asset_key.to_user_string(),
                count.value if count else "",
                quarantined.value if quarantined else "",
                "reused" if reused and reused.value else "",
            )
        )
    if not rows:
        return
    width = max(len(r[0]) for r in rows)
    print(f"{'asset':<{width}}  {'rows':>10}  {'quarantined':>11}  computed")
    for name, count, q, reused in rows:
        count_s = f"{count:,}" if isinstance(count, int) else ""
        print(f"{name:<{width}}  {count_s:>10}  {q!s:>11}  {reused or 'yes'}")
    n_reused = sum(1 for r in rows if r[3])
    if n_reused:
        print(
            f"{n_reused} of {len(rows)} assets reused: their inputs were unchanged "
            "(`reelreason build --recompute` runs everything)",
            file=sys.stderr,
        )


def _print_failed_checks(result) -> None:
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed:
                print(
                    f"check {ev.asset_key.to_user_string()}:{ev.check_name} "
                    f"{ev.severity.value}: {ev.description}",
                    file=sys.stderr,
                )


def _print_failures(result) -> None:
    for event in result.all_events:
        if event.is_failure and event.step_key:
            err = getattr(event.event_specific_data, "error", None)
            while err is not None and err.cause is not None:  # the user's error, not Dagster's
                err = err.cause
            msg = err.message.strip() if err else event.message
            print(f"FAILED {event.step_key}: {msg}", file=sys.stderr)


def _what_readers_see(settings, run_id: str) -> str:
    """After a failed run: is its build current, a candidate, or absent?"""
    from reelreason.warehouse import WarehouseError

    try:
        builds = settings.lake().builds()
    except WarehouseError as exc:
        return f"and the warehouse cannot be read, so no build is current: {exc}"
    mine = next((b for b in builds if b["build_id"] == run_id), None)
    if mine is None:
        return "nothing was published: the previous build is still the current one"
    if mine["current"]:
        return "it was published before the failing step, so it is current"
    return (
        "it was published as a candidate, not made current: the previous build is "
        "still the current one"
    )


def _lake():
    from pipelines.settings import Settings

    return Settings.from_env().lake()


def cmd_sql(args) -> int:
    import duckdb

    from reelreason.warehouse import ReadOnlyQueryError, run_read_query

    try:
        con = _lake().connect_reader(args.build)
        cur = run_read_query(con, args.query)
    except ReadOnlyQueryError as exc:
        print(f"SQL {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"SQL error: {exc}", file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if cur.description is None:
        return 0
    writer.writerow([d[0] for d in cur.description])
    while batch := cur.fetchmany(10_000):
        writer.writerows([_csv_cell(v) for v in row] for row in batch)
    return 0


def _csv_cell(value):
    # Lists and structs as JSON, so `["Drama", "Crime"]` reads back in any language.
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def cmd_builds(args) -> int:
    builds = _lake().builds()
    metric_keys = sorted({k for b in builds for k in b["metrics"]})
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(
        ["build_id", "snapshot_id", "published_at", "code_version", "profile", "tables"]
        + ["total_rows", *metric_keys, "current"]
    )
    for b in builds:
        writer.writerow(
            [
                b["build_id"],
                b["snapshot_id"],
                b["published_at"],
                b["code_version"],
                b["profile"],
                b["tables"],
                b["total_rows"],
                *[_round(b["metrics"].get(k)) for k in metric_keys],
                "yes" if b["current"] else "",
            ]
        )
    return 0


def _round(value):
    return "" if value is None else f"{value:.4f}"


def cmd_show(args) -> int:
    lake = _lake()
    build = lake.resolve_build(args.build)
    with lake.session(read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, row_count, snapshot_id, written_by_run FROM build_tables "
            "WHERE build_id = ? ORDER BY table_name",
            [build["build_id"]],
        ).fetchall()
    print(
        f"build {build['build_id']}{' (current)' if build['current'] else ''}: snapshot "
        f"{build['snapshot_id']}, published {build['published_at']}, code "
        f"{build['code_version']}, profile {build['profile']}",
        file=sys.stderr,
    )
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["table", "rows", "snapshot_id", "written_by_run"])
    writer.writerows(rows)
    return 0


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


def cmd_promote(args) -> int:
    build = _lake().promote(args.build, actor=_actor(), note=args.note)
    print(f"current build is now {build['build_id']} (snapshot {build['snapshot_id']})")
    return 0


def cmd_rollback(args) -> int:
    left, target = _lake().rollback(actor=_actor(), note=args.note)
    print(
        f"rolled back: current build is now {target['build_id']} "
        f"(was {left['build_id']}); `reelreason promote {left['build_id'][:8]}` undoes this"
    )
    return 0


def cmd_retain(args) -> int:
    from pipelines.settings import Settings
    from reelreason.warehouse import build_lock

    settings = Settings.from_env()
    keep = settings.keep_builds if args.keep is None else args.keep
    # Retention rewrites files: never while a build writes.
    with build_lock(settings.warehouse):
        report = settings.lake().retain(
            keep, dry_run=args.dry_run, compact=not args.no_compact, grace_hours=args.grace_hours
        )
    verb = "would drop" if report.dry_run else "dropped"
    print(
        f"kept {len(report.kept_builds)} builds, {verb} {len(report.dropped_builds)}"
        f"{': ' + ', '.join(b[:8] for b in report.dropped_builds) if report.dropped_builds else ''}"
        f"; {'would expire' if report.dry_run else 'expired'} "
        f"{len(report.expired_snapshots)} snapshots; data files {report.files_before} -> "
        f"{report.files_after} ({report.bytes_before / 1e6:.2f} -> "
        f"{report.bytes_after / 1e6:.2f} MB)"
    )
    return 0


def cmd_export(args) -> int:
    folder = _lake().export_build(args.build, Path(args.out) if args.out else None)
    print(folder)
    return 0


def _bundle(args):
    """The serving bundle named by --bundle, else the current build's (exports/CURRENT)."""
    from reelreason.serving import load_bundle

    if args.bundle:
        folder = Path(args.bundle)
    else:
        exports = _lake().exports_path
        pointer = exports / "CURRENT"
        if not pointer.is_file():
            print(
                f"no current export in {exports} (exports/CURRENT): run `reelreason build`, or "
                "name a bundle folder with --bundle",
                file=sys.stderr,
            )
            return None
        folder = exports / pointer.read_text().strip() / "serving" / args.space
    if not (folder / "manifest.json").is_file():
        print(f"no serving bundle at {folder}", file=sys.stderr)
        return None
    return load_bundle(folder)


def _print_films(bundle, found: list[tuple[int, float]]) -> None:
    from reelreason.serving import films_table

    films = films_table(bundle).select(["movie_id", "title", "year"]).to_pylist()
    out = csv.writer(sys.stdout)
    out.writerow(["rank", "movie_id", "title", "year", "score"])
    for rank, (row, score) in enumerate(found, 1):
        film = films[row]
        out.writerow([rank, film["movie_id"], film["title"], film["year"], f"{score:.4f}"])


def cmd_similar(args) -> int:
    from reelreason.serving import similar

    bundle = _bundle(args)
    if bundle is None:
        return 2
    try:
        found = similar(bundle, args.movie_id, args.k)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    _print_films(bundle, found)
    return 0


def cmd_recommend(args) -> int:
    from reelreason.serving import recommend

    bundle = _bundle(args)
    if bundle is None:
        return 2
    try:
        found = recommend(bundle, args.user_id, args.k, exclude_seen=args.exclude_seen)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    _print_films(bundle, found)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reelreason", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="materialize assets (default: all)")
    p.add_argument(
        "selection",
        nargs="?",
        default=None,
        help="Dagster asset selection, e.g. 'group:staging' or 'key:ml1m_*'",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="console log level of the run (default INFO)",
    )
    p.add_argument(
        "--recompute",
        action="store_true",
        help="run every step even where its inputs are unchanged (default: reuse those)",
    )
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("sql", help="run a query on the current build, print CSV")
    p.add_argument("query")
    p.add_argument("--build", default=None, help="build id (or unique prefix) to read instead")
    p.set_defaults(func=cmd_sql)
    p = sub.add_parser("builds", help="list published builds, newest first")
    p.set_defaults(func=cmd_builds)
    p = sub.add_parser("show", help="one build's tables and row counts (default: current)")
    p.add_argument("build", nargs="?", default=None)
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("promote", help="make a published build the current one")
    p.add_argument("build", help="build id or unique prefix")
    p.add_argument("--note", default=None, help="why (recorded in build_events)")
    p.set_defaults(func=cmd_promote)
    p = sub.add_parser("rollback", help="make the build before the current one current again")
    p.add_argument("--note", default=None, help="why (recorded in build_events)")
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser("retain", help="keep the newest N builds; expire, compact, clean up")
    p.add_argument("--keep", type=int, default=None, help="default REELREASON_KEEP_BUILDS (10)")
    p.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    p.add_argument("--no-compact", action="store_true", help="skip merging small files")
    p.add_argument(
        "--grace-hours",
        type=float,
        default=24,
        help="delete unreferenced files only this long after they were released (default 24: "
        "queries that started earlier may still read them; 0 = now)",
    )
    p.set_defaults(func=cmd_retain)
    p = sub.add_parser("export", help="write a build's tables as plain Parquet files")
    p.add_argument("build", nargs="?", default=None)
    p.add_argument(
        "--out",
        default=None,
        help="parent folder (default <warehouse>/exports); the export goes into <out>/<build_id>/",
    )
    p.set_defaults(func=cmd_export)
    for verb, about, key in (
        ("similar", "the films nearest a film, from the serving bundle", "movie_id"),
        ("recommend", "the films nearest a user's taste, from the serving bundle", "user_id"),
    ):
        p = sub.add_parser(verb, help=about)
        p.add_argument(key, help="e.g. tmdb:603" if key == "movie_id" else "e.g. movielens:1")
        p.add_argument("-k", type=int, default=10, help="how many films (default 10)")
        p.add_argument("--space", default="st", help="embedding space: st, openai or tuned")
        p.add_argument("--bundle", default=None, help="a bundle folder (default: current)")
        if verb == "recommend":
            p.add_argument(
                "--exclude-seen", action="store_true", help="leave out films the user rated"
            )
        p.set_defaults(func=cmd_similar if verb == "similar" else cmd_recommend)
    args = parser.parse_args(argv)
    from pipelines.settings import SettingsError
    from reelreason.warehouse import WarehouseError

    try:
        return args.func(args)
    except (SettingsError, WarehouseError) as exc:  # one clear line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
