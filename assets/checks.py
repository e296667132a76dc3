"""Asset checks beside the staging tables: quarantined rows warn; too many fail and block."""

import dagster as dg

from pipelines.resources import TmdbResource, WarehouseResource


def quarantine_check_for(table: str, max_fraction: float) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table,
        name="quarantine_fraction",
        blocking=True,  # a failing source must not be published in a build
        description=f"WARN when any row of {table}'s source was quarantined; ERROR (blocks the "
        f"build) when more than {max_fraction:.2%} of them were "
        "(REELREASON_QUARANTINE_MAX_FRACTION).",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        rows, quarantined = warehouse.quarantine_stats(table)
        fraction = quarantined / (rows + quarantined) if rows + quarantined else 0.0
        passed = fraction <= max_fraction and quarantined == 0
        severity = (
            dg.AssetCheckSeverity.ERROR if fraction > max_fraction else dg.AssetCheckSeverity.WARN
        )
        return dg.AssetCheckResult(
            passed=passed,
            severity=severity,
            description=(
                f"{quarantined} quarantined of {rows + quarantined} source rows ({fraction:.3%}); "
                f"see `SELECT * FROM quarantine WHERE table_name = '{table}'`"
            ),
            metadata={
                "quarantined": quarantined,
                "rows": rows,
                "fraction": fraction,
                "max_fraction": max_fraction,
            },
        )

    return _check


@dg.asset_check(
    asset="movies",
    name="movie_id_unique",
    blocking=True,
    description="Every canonical movie id appears exactly once in `movies`.",
)
def movie_id_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.lake.session() as con:
        dupes = con.execute(
            "SELECT movie_id, count(*) n FROM movies GROUP BY ALL HAVING n > 1 LIMIT 10"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not dupes,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"duplicated_ids": dg.MetadataValue.json([d[0] for d in dupes])},
    )


@dg.asset_check(
    asset="movie_merge_review",
    name="no_suspicious_merges",
    description="WARN when one TMDB id gathers sources whose years differ by > 1.",
)
def no_suspicious_merges(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.lake.session() as con:
        rows = con.execute("SELECT title, source_years FROM movie_merge_review").fetchall()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(rows)} merge(s) to review: `SELECT * FROM movie_merge_review`",
        metadata={"to_review": len(rows)},
    )


@dg.asset_check(
    asset="tmdb_movies",
    name="tmdb_enrichment",
    description="WARN when films could not be enriched (no credentials, offline "
    "with an incomplete cache, or TMDB missing them).",
)
def tmdb_enrichment(warehouse: WarehouseResource, tmdb: TmdbResource) -> dg.AssetCheckResult:
    with warehouse.lake.session() as con:
        resolved, enriched = con.execute(
            """SELECT (SELECT count(DISTINCT tmdb_id) FROM movie_xref WHERE tmdb_id IS NOT NULL),
                      (SELECT count(*) FROM tmdb_movies)"""
        ).fetchone()
    reason = tmdb.unavailable_reason()
    missing = resolved - enriched
    text = f"{enriched} of {resolved} resolved films enriched"
    if reason and missing:
        text = f"{reason}; {text}"
    return dg.AssetCheckResult(
        passed=missing == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=text,
        metadata={"resolved": resolved, "enriched": enriched, "status": reason or "api"},
    )


movie_checks = [movie_id_unique, no_suspicious_merges, tmdb_enrichment]


@dg.asset_check(
    asset="eval_results",
    name="beats_popularity",
    description="WARN when an embedding model ranks held-out films no better "
    "(HR@10, all users) than the popularity baseline on the same split and protocol.",
)
def beats_popularity(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.lake.session() as con:
        rows = con.execute(
            """SELECT m.protocol, m.embedding, m.model, m.value, p.value FROM eval_results m
               JOIN eval_results p ON p.embedding = m.embedding AND p.metric = m.metric
                AND p.segment = m.segment AND p.protocol = m.protocol
                AND p.model = 'baseline:popularity'
               WHERE m.metric = 'hr@10' AND m.segment = 'all' AND NOT m.model LIKE 'baseline:%'
               ORDER BY ALL"""
        ).fetchall()
    losing = [
        f"{protocol} {e} {model}: HR@10 {v:.3f} vs popularity {p:.3f}"
        for protocol, e, model, v, p in rows
        if v <= p
    ]
    return dg.AssetCheckResult(
        passed=not losing,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(losing) or "every model beats the popularity baseline",
        metadata={"models": len(rows), "not_better": len(losing)},
    )


@dg.asset_check(
    asset="eval_results",
    name="genre_gap_positive",
    description="WARN when same-genre films are not nearer than other films "
    "(macro genre gap <= 0) in an embedding space.",
)
def genre_gap_positive(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.lake.session() as con:
        rows = con.execute(
            "SELECT embedding, model, value FROM eval_results "
            "WHERE metric = 'genre_gap' AND segment = 'macro'"
        ).fetchall()
    bad = [f"{e} {m}: macro gap {v:.3f}" for e, m, v in rows if not v > 0]
    return dg.AssetCheckResult(
        passed=bool(rows) and not bad,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(bad) or ", ".join(f"{e}: {v:.3f}" for e, _, v in rows),
    )


evaluation_checks = [beats_popularity, genre_gap_positive]
