"""Analyst docs: generated from schemas/ (never hand-copied), current, complete, and every
example query runs on a real sample build and returns what its title promises."""

import csv
import io
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

import schemas
from reelreason.warehouse import INTERNAL_DDL
from schemas import analyst_docs as docs
from tests.conftest import SAMPLE_COUNTS
from tests.doc_runner import Snippet, reader_folder, run_snippet

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = {n: m for n, m in schemas.TABLE_MODELS.items() if n not in docs.HELPER_MODELS}


def _section(text: str, heading: str) -> str:
    """The markdown from `heading` to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    nxt = re.compile(rf"^#{{1,{len(level)}}} ", re.M).search(text, start + len(heading))
    return text[start : nxt.start() if nxt else len(text)]


def _readme_region() -> str:
    text = (ROOT / docs.README).read_text(encoding="utf-8")
    return text[text.index(docs.BEGIN_MARKER) : text.index(docs.END_MARKER)]


# --- the files -----------------------------------------------------------------------------


def test_committed_docs_equal_what_the_generator_writes_now():
    stale = docs.stale_files(ROOT)
    assert not stale, (
        f"{[str(p.relative_to(ROOT)) for p in stale]} out of date with schemas/ or "
        f"reelreason/lake/connection.py: run `{docs.REGENERATE}`"
    )


def test_check_mode_sees_a_hand_edit_and_regeneration_touches_only_the_region(tmp_path):
    for rel in (docs.README, docs.WAREHOUSE_README):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    readme = tmp_path / docs.README
    original = readme.read_text(encoding="utf-8")
    assert docs.stale_files(tmp_path) == []
    at = original.index(docs.BEGIN_MARKER)
    edited = original[:at] + original[at:].replace("`ml1m_movies`", "`ml1m_movies_by_hand`", 1)
    readme.write_text(edited.replace("## Performance", "## Performance (hand-edited)"))
    assert docs.stale_files(tmp_path) == [readme]
    fixed = docs.expected_files(tmp_path)[readme]
    # The hand edit outside the markers survives; the one inside is undone.
    assert "## Performance (hand-edited)" in fixed and "ml1m_movies_by_hand" not in fixed
    assert fixed.replace("## Performance (hand-edited)", "## Performance") == original
    with pytest.raises(ValueError, match="BEGIN generated"):
        docs.replace_region("no markers here\n", "x")


def test_every_published_table_appears_with_all_its_columns():
    reference = (ROOT / docs.WAREHOUSE_README).read_text(encoding="utf-8")
    region = _readme_region()
    assert PUBLISHED and not set(docs.HELPER_MODELS) & {d.name for d in docs.published_tables()}
    for name, model in PUBLISHED.items():
        section = _section(reference, f"#### `{name}`")
        row = next(line for line in region.splitlines() if f"| `{name}` |" in line)
        for column, col in model.to_schema().columns.items():
            assert f"| `{column}` |" in section, f"{name}.{column} missing in warehouse/README.md"
            assert f"`{column}`" in row, f"{name}.{column} missing in README.md"
            # A new column needs a word for analysts: pa.Field(..., description="...").
            assert col.description, f"{name}.{column} has no description in schemas/"


def test_bookkeeping_tables_and_views_come_from_the_ddl():
    reference = (ROOT / docs.WAREHOUSE_README).read_text(encoding="utf-8")
    for ddl in INTERNAL_DDL.values():
        table, columns = docs.parse_ddl(ddl)
        section = _section(reference, f"### `{table}`")
        assert table in docs.INTERNAL_DESCRIPTIONS, f"describe {table} in analyst_docs.py"
        for column, col_type, _ in columns:
            assert f"| `{column}` | {col_type} |" in section
        # Prose for a column the DDL no longer has would be a stale doc.
        stale = set(docs.INTERNAL_COLUMNS.get(table, {})) - {c for c, _, _ in columns}
        assert not stale, f"{table}: INTERNAL_COLUMNS describes {stale}, not in the DDL"
    assert {"build_events", "build_metrics"} <= {
        docs.parse_ddl(d)[0] for d in INTERNAL_DDL.values()
    }
    for view in ("movie_embeddings_st_vectors", "user_embeddings_st_vectors"):
        assert f"| `{view}` |" in reference and f"`{view}`" in _readme_region()


def test_parse_ddl_reads_quoted_names_nested_types_and_constraints():
    table, columns = docs.parse_ddl(
        'CREATE TABLE IF NOT EXISTS lake.t (\n  "at" TIMESTAMPTZ NOT NULL, price DECIMAL(10, 2),'
        "\n  tags VARCHAR[], s STRUCT(a INTEGER, b VARCHAR) DEFAULT NULL)"
    )
    assert table == "t"
    assert columns == [
        ("at", "TIMESTAMPTZ", True),
        ("price", "DECIMAL(10, 2)", False),
        ("tags", "VARCHAR[]", False),
        ("s", "STRUCT(A INTEGER, B VARCHAR)", False),
    ]


# --- against a real build ------------------------------------------------------------------


def _normalise(duckdb_type: str) -> str:
    return duckdb_type.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")


def test_documented_types_and_tables_match_a_sample_build(sample_build):
    builder, _ = sample_build
    found: dict[str, dict[str, str]] = {}
    kinds: dict[str, str] = {}
    for table, kind, column, data_type in builder.query(
        """SELECT t.table_name, t.table_type, c.column_name, c.data_type
           FROM information_schema.tables t JOIN information_schema.columns c
             USING (table_catalog, table_schema, table_name)
           WHERE t.table_catalog = 'lake' AND t.table_schema = 'main'"""
    ):
        found.setdefault(table, {})[column] = _normalise(data_type)
        kinds[table] = kind
    documented = docs.published_tables() + docs.internal_tables()
    for doc in documented:
        assert doc.name in found, f"{doc.name} is documented but the sample build has no such table"
        for col in doc.columns:
            assert found[doc.name].get(col.name) == col.type, (
                f"{doc.name}.{col.name}: documented {col.type}, the build has "
                f"{found[doc.name].get(col.name)} (see _OBJECT_TYPES in analyst_docs.py)"
            )
    tables = {t for t, k in kinds.items() if k == "BASE TABLE"}
    assert tables == {d.name for d in documented}, "a table the build writes is undocumented"
    views = {t for t, k in kinds.items() if k == "VIEW"}
    assert views <= {v.name for v in docs.vector_views()}
    assert {"movie_embeddings_st_vectors", "user_embeddings_st_vectors"} <= views


def _run(builder, sql: str) -> tuple[list[str], list[tuple]]:
    con = builder.lake.connect_build()
    try:
        cur = con.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def _example(key: str) -> docs.Example:
    return next(e for e in docs.EXAMPLES if e.key == key)


def check_similar_films(builder, example):
    cols, rows = _run(builder, example.render())
    assert cols == ["movie_id", "title", "year", "cosine"] and len(rows) == 10
    (target,) = builder.query(
        f"SELECT movie_id FROM movies WHERE title = '{docs.SIMILAR_TITLE}' "
        f"AND year = {docs.SIMILAR_YEAR}"
    )
    assert target[0] not in {r[0] for r in rows}  # the film itself is left out
    cosines = [r[3] for r in rows]
    assert cosines == sorted(cosines, reverse=True) and all(-1 <= c <= 1 for c in cosines)
    assert all(r[1] for r in rows)
    # The same query without the exclusion ranks the film itself first, at cosine 1.
    (self_row, *_) = _run(builder, example.render().replace("WHERE e.movie_id <> t.movie_id", ""))[
        1
    ]
    assert self_row[0] == target[0] and self_row[3] == pytest.approx(1.0, abs=1e-3)


def check_user_nearest_films(builder, example):
    cols, rows = _run(builder, example.render())
    assert cols == ["movie_id", "title", "year", "cosine"] and len(rows) == 10
    liked = {
        r[0]
        for r in builder.query(
            f"SELECT movie_id FROM user_likes WHERE user_id = '{docs.EXAMPLE_USER}'"
        )
    }
    assert liked, "pick an example user with likes, so the exclusion is exercised"
    assert not liked & {r[0] for r in rows}
    cosines = [r[3] for r in rows]
    assert cosines == sorted(cosines, reverse=True)


def check_metrics_across_builds(builder, example):
    # build_metrics is being added (publish copies eval_results into it); until that lands
    # this only proves the query runs and has the right shape. To tighten: one row per model
    # for the sample build, models = eval_results' for hr@10 / all / st.
    cols, rows = _run(builder, example.render())
    assert cols == ["published_at", "build", "model", "hr_at_10", "ci_low", "ci_high", "n"]
    build_id = builder.lake.resolve_build()["build_id"]
    for row in rows:
        assert build_id.startswith(row[1]) and 0 <= row[3] <= 1


def _as_printed(builder, example, tmp_path):
    """Run an example exactly as the docs print it, from a folder laid out as the project."""
    language = "bash" if example.kind == "shell" else "sql"
    snippet = Snippet("warehouse/README.md", 0, language, example.render())
    return run_snippet(snippet, reader_folder(tmp_path, builder.warehouse_root))


def check_older_build_cli(builder, example, tmp_path):
    build_id = builder.lake.resolve_build()["build_id"]
    out = _as_printed(builder, example, tmp_path)
    assert build_id in out  # `reelreason builds`
    rows = list(csv.reader(io.StringIO(out[out.index("embedding,model,value") :])))
    assert rows[0] == ["embedding", "model", "value"]
    models = {r[1] for r in rows[1:]}
    assert "baseline:popularity" in models and len(models) >= 2
    assert {r[0] for r in rows[1:]} == {"st", "tuned"}  # one row per space and method


def check_older_build_duckdb(builder, example, tmp_path):
    build = builder.lake.resolve_build()
    folder = reader_folder(tmp_path, builder.warehouse_root)
    os.chdir(folder)
    con = duckdb.connect()
    statements = [s for s in duckdb.extract_statements(example.render())]
    results = [con.execute(s).fetchall() for s in statements]
    # LOAD x2, ATTACH, builds, current build, SET oldest, ATTACH pinned, eval_results, travel
    assert len(results) == 9
    assert (build["build_id"], build["snapshot_id"]) in [r[:2] for r in results[3]]
    assert results[4][0][:2] == (build["build_id"], build["snapshot_id"])
    assert {r[1] for r in results[7]} >= {"baseline:popularity"}
    assert results[8] == builder.query("SELECT count(*) FROM movies")


def check_film_sources(builder, example):
    cols, rows = _run(builder, example.render())
    assert cols[:2] == ["source", "source_id"]
    sources = {r[0] for r in rows}
    assert len(sources) >= 3 and "ml1m" in sources  # merged from several sources
    assert all(0 <= r[5] <= 1 for r in rows)


def check_quarantine_per_table(builder, example):
    cols, rows = _run(builder, example.render())
    assert cols == ["table_name", "row_count", "quarantined", "share", "a_reason"]
    kept = {r[0]: r[1] for r in rows}
    build_id = builder.lake.resolve_build()["build_id"]
    (n_tables,) = builder.query(f"SELECT count(*) FROM build_tables WHERE build_id = '{build_id}'")[
        0
    ]
    assert len(rows) == n_tables
    assert {t: kept[t] for t in SAMPLE_COUNTS} == SAMPLE_COUNTS
    (quarantined,) = builder.query("SELECT count(*) FROM quarantine")[0]
    assert sum(r[2] for r in rows) == quarantined


CHECKS = {
    "similar_films": check_similar_films,
    "user_nearest_films": check_user_nearest_films,
    "metrics_across_builds": check_metrics_across_builds,
    "older_build_cli": check_older_build_cli,
    "older_build_duckdb": check_older_build_duckdb,
    "film_sources": check_film_sources,
    "quarantine_per_table": check_quarantine_per_table,
}


def test_every_example_has_a_check():
    assert [e.key for e in docs.EXAMPLES] == list(CHECKS)


@pytest.mark.parametrize("key", list(CHECKS))
def test_example_runs_on_the_sample_build(key, sample_build, monkeypatch, tmp_path):
    builder, _ = sample_build
    example = _example(key)
    check = CHECKS[key]
    if key.startswith("older_build"):
        monkeypatch.chdir(tmp_path)  # the DuckDB session's working folder is set by the check
        check(builder, example, tmp_path)
    else:
        check(builder, example)
