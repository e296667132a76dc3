"""Row-level rules quarantine rows; only table-level invariants stop a table (issue: the full
profile on real files). Fixtures are our own; the real-title test reads ../shared when present."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import schemas
from reelreason.parse import inspired, movielens, movietweetings, redial
from reelreason.parse.inspired import parse_literal_dict
from reelreason.resolve import Reference, Resolver, imdb_crosswalk
from reelreason.texts import clean_title, movie_text, text_is_clean
from schemas import SchemaViolation, validate_rows
from tests.conftest import step_errors

REAL_RAW = Path(__file__).resolve().parents[2] / "shared" / "realdata-dev" / "raw"


# --- the write path ---------------------------------------------------------------------------


def _candidate_values(field: pa.Field, value):
    """Values that may break a row-level rule of this column, in the column's own type."""
    t = field.type
    if pa.types.is_string(t):
        return [None, "", "nan", "not-a-valid-value\u0000"]
    if pa.types.is_integer(t):
        info = {8: 127, 16: 32767, 32: 2**31 - 1, 64: 2**62}[t.bit_width]
        return [None, -1, 0, info]
    if pa.types.is_floating(t):
        return [None, -1.0, math.nan, 1e9]
    if pa.types.is_list(t) and pa.types.is_string(t.value_type):
        return [None, [""], ["x", "x"]]
    if pa.types.is_list(t) and pa.types.is_floating(t.value_type):
        return [None, [0.0] * max(len(value or []), 1), [1.0]]
    return [None]


def _with_row_replaced(table: pa.Table, row: int, column: str, value) -> pa.Table | None:
    values = table.column(column).to_pylist()
    values[row] = value
    try:
        arr = pa.array(values, type=table.schema.field(column).type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    return table.set_column(table.schema.get_field_index(column), column, arr)


def test_one_bad_row_never_fails_a_table(sample_build):
    """For every published table of the sample build, each single-row mutation that breaks a
    rule quarantines that row (with its rule) and keeps the rest; none stops the table."""
    builder, result = sample_build
    assert result.success, step_errors(result)
    con = builder.lake.connect_build()
    try:
        names = [n for (n,) in con.execute("SELECT table_name FROM build_tables").fetchall()]
        tables = {n: con.execute(f"FROM {n} LIMIT 40").to_arrow_table() for n in names}
    finally:
        con.close()
    checked = {}
    for name, table in tables.items():
        if table.num_rows < 3 or name not in schemas.TABLE_MODELS:
            continue
        assert validate_rows(name, table).quarantined == 0, name
        for field in table.schema:
            for value in _candidate_values(field, table.column(field.name)[1].as_py()):
                mutated = _with_row_replaced(table, 1, field.name, value)
                if mutated is None:
                    continue
                screened = validate_rows(name, mutated)  # must not raise
                if screened.quarantined:
                    assert screened.table.num_rows == table.num_rows - screened.quarantined
                    q = screened.quarantine.to_pylist()[0]
                    assert q["rule"] and q["reason"].startswith(f"{name} row ")
                    assert q["file"] == f"table:{name}"
                    checked.setdefault(name, set()).add(q["rule"])
    derived = {
        "movie_xref",
        "tmdb_movies",
        "movies",
        "movie_texts",
        "user_likes",
        "user_texts",
        "ccpe_preferences",
        "movie_embeddings_st",
        "user_embeddings_st",
        "eval_results",
        "movie_emotions",
        "user_emotions",
    }
    assert derived <= set(checked), f"no row-level rule exercised for {derived - set(checked)}"
    assert len(checked) >= 30


def test_duplicate_keys_keep_the_first_row():
    table = pa.table(
        {
            "user_id": pa.array([1, 1, 2], pa.int32()),
            "movie_id": pa.array([10, 10, 10], pa.int32()),
            "rating": pa.array([4, 2, 5], pa.int8()),
            "rated_at_epoch": pa.array([1, 2, 3], pa.int64()),
            "rated_at": pa.array([1, 2, 3], pa.timestamp("us")),
        }
    )
    screened = validate_rows("ml1m_ratings", table, file="movielens/ml-1m/ratings.dat")
    assert screened.table.column("rating").to_pylist() == [4, 5]
    (q,) = screened.quarantine.to_pylist()
    assert q["rule"] == "duplicate key (user_id, movie_id)"
    assert q["file"] == "movielens/ml-1m/ratings.dat"
    assert "user_id=1, movie_id=10" in q["reason"]
    assert '"rating": 2' in q["raw"]


def test_table_level_rules_and_too_many_bad_rows_stop_the_write():
    ok = pa.table({"user_id": pa.array([1], pa.int32()), "has_twitter_id": [True]})
    with pytest.raises(SchemaViolation, match="(?s)table-level rule.*column_in_schema"):
        validate_rows("movietweetings_users", ok.append_column("extra", pa.array([1])))
    with pytest.raises(SchemaViolation, match="Arrow types.*user_id: declared int32, got string"):
        validate_rows("movietweetings_users", ok.set_column(0, "user_id", pa.array(["1"])))
    bad = pa.table(
        {"user_id": pa.array(range(-20, 80), pa.int32()), "has_twitter_id": [True] * 100}
    )
    # 21 of 100 rows break `user_id > 0`: past 1% and at least 10 rows -> nothing written
    with pytest.raises(SchemaViolation, match=r"21 of 100 rows .*user_id: greater_than\(0\)"):
        validate_rows("movietweetings_users", bad, max_fraction=0.01)
    # the same share of a small table is odd rows, not a broken input
    small = bad.slice(15, 10)  # user ids -5..4: 6 bad of 10, but fewer than 10 rows
    assert validate_rows("movietweetings_users", small, max_fraction=0.01).quarantined == 6
    assert validate_rows("movietweetings_users", bad, max_fraction=0.5).table.num_rows == 79


def test_the_model_is_the_one_declaration_of_a_tables_arrow_schema(sample_build):
    schema = schemas.arrow_schema("ml1m_ratings")
    assert schema.names == ["user_id", "movie_id", "rating", "rated_at_epoch", "rated_at"]
    assert [str(t) for t in schema.types] == ["int32", "int32", "int8", "int64", "timestamp[us]"]
    assert schema.field("rating").metadata[b"description"]  # descriptions travel with it
    vectors = schemas.arrow_schema("user_embeddings_st")
    assert vectors.names[0] == "user_id" and vectors.field("vector").type == pa.list_(pa.float32())
    # A parser whose output drifts from the model is stopped before anything is written.
    drifted = pa.table({"user_id": pa.array([1], pa.int64()), "has_twitter_id": [True]})
    with pytest.raises(SchemaViolation, match="user_id: declared int32, got int64"):
        validate_rows("movietweetings_users", drifted)
    # Every table of a real build has its model's types and, where the model lists every
    # column, its model's order; its asset page shows each column's description.
    shared, result = sample_build
    metadata = {
        e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    columns = {c.name: c for c in metadata["ml1m_ratings"]["dagster/column_schema"].schema.columns}
    assert (
        columns["rating"].description
        == schemas.TABLE_MODELS["ml1m_ratings"].to_schema().columns["rating"].description
    )
    assert columns["rating"].type == "int8"
    with shared.lake.session() as con:
        for name in shared.lake.data_tables(con):
            if name not in schemas.TABLE_MODELS:
                continue
            declared = schemas.arrow_schema(name)
            published = con.execute(f"FROM lake.main.{name} LIMIT 0").to_arrow_table().schema
            assert schemas.type_mismatches(declared, published) == [], name
            if schemas.TABLE_MODELS[name].to_schema().strict:  # others add columns of their own
                assert published.names == declared.names, name


# --- the known classes ------------------------------------------------------------------------


def test_blank_literal_keys_are_dropped_and_counted():
    lit = parse_literal_dict(
        "{'Sorry to Bother You (2018)': 10, '': 11, ' ': 12, 'Heat (1995)': 13}"
    )
    assert lit.keys == ("Sorry to Bother You (2018)", "Heat (1995)")
    assert lit.blank_keys == 2 and not lit.malformed
    # mixed index types must not raise (TypeError on '<' before)
    assert parse_literal_dict("{'B': '2', 'A': 1}").keys == ("A", "B")
    # a malformed literal is recovered item by item, blank keys still dropped
    assert parse_literal_dict("{'X (1999)': 1, '  ': 2").keys == ("X (1999)",)


DOTTED_AND_ODD_TITLES = [
    ("...And Justice for All", 1979),
    ("...And the Pursuit of Happiness", None),
    (".com for Murder", 2002),
    ("#9", 2009),
    ("(500) Days of Summer", 2009),
    ("1917", 2019),
    ("9", None),
    ("?", 2011),
    ("...", None),
    ("!Women Art Revolution", 2010),
    ("Unknown", None),
    ("N/A", 2004),
    ("Cyrus: Mind of a Serial Killer", 2010),
]


@pytest.mark.parametrize("title,year", DOTTED_AND_ODD_TITLES)
def test_real_title_shapes_make_clean_texts(title, year):
    assert clean_title(title) == title
    text = movie_text(title=title, year=year, genres=["Drama"], cast=["A", "B"])
    assert text.startswith(f"Title: {title}")
    assert text_is_clean(text), text


def test_texts_still_refuse_placeholders_and_empty_labels():
    for bad in (
        "Title: X. Genres: . Plot: y.",
        "Title: X. Genres:",
        "Title: X (nan).",
        "Title: X. Cast: A, None.",
        "",
    ):
        assert not text_is_clean(bad), bad


def test_a_film_without_title_is_described_by_its_other_fields():
    assert movie_text(title=None, year=1999, genres=["Drama"]) == "Year: 1999. Genres: Drama."
    assert movie_text(title="  nan ", year=None, genres=[], overview=None) == ""


def _real_titles(raw: Path) -> list[tuple[str | None, int | None]]:
    titles: list[tuple[str | None, int | None]] = []
    with duckdb.connect() as con:
        for parse, rel in (
            (movielens.parse_movies, "movielens/ml-1m/movies.dat"),
            (movietweetings.parse_movies, "movietweetings/movies.dat"),
            (redial.parse_movies_with_mentions, "redial/movies_with_mentions.csv"),
            (inspired.parse_movie_database, "inspired/movie_database.tsv"),
        ):
            if (raw / rel).is_file():
                for t in parse(con, raw / rel, rel).tables.values():
                    if "title" in t.column_names:
                        titles += zip(
                            t.column("title").to_pylist(), t.column("year").to_pylist(), strict=True
                        )
    return titles


@pytest.mark.skipif(not REAL_RAW.is_dir(), reason=f"no real-data corpus at {REAL_RAW}")
def test_every_real_title_makes_a_clean_text():
    titles = _real_titles(REAL_RAW)
    assert len(titles) > 20000
    bad = [
        (t, y)
        for t, y in titles
        if not text_is_clean(movie_text(title=t, year=y, genres=["Drama"]) or "Genres: Drama.")
    ]
    assert not bad, bad[:10]
    lost = [t for t, _ in titles if t and t.strip() and clean_title(t) is None]
    assert all(t.strip().lower() in {"nan", "none", "null"} for t in lost), lost[:10]


# --- the offline IMDb crosswalk -----------------------------------------------------------


def test_imdb_crosswalk_resolves_without_tmdb():
    crosswalk = imdb_crosswalk(
        [("tt0113277", 949), ("tt0114709", 862), ("tt0000001", 1), ("tt0000001", 2), (None, 5)]
    )
    assert crosswalk == {"tt0113277": 949, "tt0114709": 862}  # the ambiguous id is left out

    def offline(reqs):
        return {}

    refs = [
        Reference("movietweetings", "tt0113277", "Heat", 1995, imdb_id="tt0113277"),
        Reference("movietweetings", "tt0000001", "Carmencita", 1894, imdb_id="tt0000001"),
        Reference("redial", "111", "Heat", 1995),
    ]
    matches = {m.ref.source_id: m for m in Resolver(offline, imdb_to_tmdb=crosswalk).run(refs)}
    assert matches["tt0113277"].method == "imdb_links"
    assert matches["tt0113277"].canonical_id == "tmdb:949"
    assert matches["tt0000001"].method == "unresolved"
    # a ReDial mention of the same title and year meets the crosswalked film locally
    assert matches["111"].canonical_id == "tmdb:949"


def test_duplicates_are_never_fatal():
    n = 100
    table = pa.table(
        {
            "user_id": pa.array([1] * n, pa.int32()),
            "movie_id": pa.array([10] * n, pa.int32()),
            "rating": pa.array([4] * n, pa.int8()),
            "rated_at_epoch": pa.array(range(n), pa.int64()),
            "rated_at": pa.array(range(n), pa.timestamp("us")),
        }
    )
    screened = validate_rows("ml1m_ratings", table, max_fraction=0.01)
    assert screened.table.num_rows == 1 and screened.quarantined == n - 1
    assert screened.table.column("rated_at_epoch").to_pylist() == [0]  # the first is kept


# --- end to end: real-file quirks in our own copy of the sample -------------------------------


def test_build_with_real_file_quirks_quarantines_rows_and_publishes_the_rest(builder, raw_copy):
    ml = raw_copy / "movielens/ml-1m"
    with open(ml / "movies.dat", "ab") as f:
        f.write(b"9001::...And Justice for All (1979)::Drama\n")
        f.write(b"9002::.com for Murder (2002)::Thriller\n")
    first_rating = (ml / "ratings.dat").read_bytes().splitlines(keepends=True)[0]
    with open(ml / "ratings.dat", "ab") as f:
        f.write(first_rating)  # the same user rating the same film twice
    with open(raw_copy / "movietweetings/movies.dat", "ab") as f:
        f.write(b"7654321::(2011)::Drama\n")  # a film whose title field is empty
    with open(raw_copy / "movietweetings/ratings.dat", "ab") as f:
        f.write(b"1::7654321::9::1300000000\n")
    test_tsv = raw_copy / "inspired/test.tsv"
    literal = "{'Pretty in Pink (1986)': 0}"
    assert literal in test_tsv.read_text()
    test_tsv.write_text(
        test_tsv.read_text().replace(literal, "{'Pretty in Pink (1986)': 0, '': 1, ' ': 2}")
    )

    result = builder.run(
        "group:raw or group:staging or group:movies or key:warehouse_build", raw_dir=raw_copy
    )
    assert result.success, step_errors(result)

    # the parse's notes sit on its first table's materialization
    notes = next(
        m.metadata
        for m in result.asset_materializations_for_node("inspired_dialog_tables")
        if "note_blank_dict_keys_dropped" in m.metadata
    )
    assert notes["note_blank_dict_keys_dropped"].value == 2
    assert (
        builder.query("SELECT count(*) FROM inspired_dialogs WHERE list_contains(movies, '')")[0][0]
        == 0
    )
    assert builder.query("SELECT count(*) FROM ml1m_ratings")[0][0] == 1226
    ((rule, file, raw),) = builder.query(
        "SELECT rule, file, raw FROM quarantine WHERE table_name = 'ml1m_ratings'"
    )
    assert rule == "duplicate key (user_id, movie_id)"
    assert file == "movielens/ml-1m/ratings.dat"
    texts = dict(
        builder.query(
            "SELECT coalesce(m.title, '<none>') || ' ' || coalesce(CAST(m.year AS VARCHAR), ''), "
            "t.text FROM movies m JOIN movie_texts t USING (movie_id)"
        )
    )
    assert texts["...And Justice for All 1979"].startswith("Title: ...And Justice for All (1979).")
    assert texts[".com for Murder 2002"].startswith("Title: .com for Murder (2002).")
    assert texts["<none> 2011"] == "Year: 2011. Genres: Drama."
    assert (
        builder.query("SELECT count(*) FROM movie_texts")[0][0]
        == builder.query("SELECT count(*) FROM movies")[0][0]
    )
