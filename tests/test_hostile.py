"""Hostile inputs and operator mistakes: each class has tests of its own (issue: hostile
inputs and faults). Fixtures are our own."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from pipelines.cli import main
from reelreason.parse import movielens, movietweetings
from tests import scratch
from tests.conftest import step_errors

HOSTILE_SQL = [
    ("COPY (SELECT 1) TO '{tmp}/out.csv'", "COPY"),
    ("COPY (SELECT 1) TO '{data}/evil.parquet'", "COPY"),  # inside the lake's own folder
    ("COPY (SELECT 1) TO '{catalog}'", "COPY"),  # onto the catalog itself
    ("EXPORT DATABASE '{tmp}/dump'", "EXPORT"),
    ("ATTACH 'ducklake:sqlite:{catalog}' AS rw (DATA_PATH '{data}')", "ATTACH"),
    ("ATTACH '{tmp}/other.duckdb'", "ATTACH"),
    ("INSTALL httpfs", "LOAD"),  # DuckDB parses INSTALL as a LOAD statement
    ("LOAD '{tmp}/evil.duckdb_extension'", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("DROP TABLE movies", "DROP"),
    ("CALL ducklake_expire_snapshots('lake', older_than => now())", "CALL"),
    ("SELECT 1; COPY (SELECT 1) TO '{tmp}/second.csv'", "COPY"),
]


@pytest.fixture
def reader_env(sample_build, monkeypatch, tmp_path):
    builder, result = sample_build
    assert result.success, step_errors(result)
    monkeypatch.setenv("REELREASON_WAREHOUSE", str(builder.warehouse_root))
    monkeypatch.delenv("REELREASON_RAW_DIR", raising=False)
    monkeypatch.delenv("REELREASON_PROFILE", raising=False)
    return builder, tmp_path


def _sql(capsys, query: str) -> tuple[int, str, str]:
    code = main(["sql", query])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("template,kind", HOSTILE_SQL)
def test_sql_surface_refuses_anything_but_queries(reader_env, capsys, template, kind):
    builder, tmp = reader_env
    lake = builder.lake
    before_files = sorted(p for p in builder.warehouse_root.rglob("*") if p.is_file())
    before_builds = [b["build_id"] for b in lake.builds()]
    query = template.format(tmp=tmp, data=lake.data_location.rstrip("/"), catalog=lake.catalog_path)
    code, out, err = _sql(capsys, query)
    assert code == 2 and out == ""
    assert f"refused: {kind}" in err and "runs queries only" in err
    assert sorted(p for p in builder.warehouse_root.rglob("*") if p.is_file()) == before_files
    assert not list(tmp.iterdir())  # nothing written outside either
    assert [b["build_id"] for b in lake.builds()] == before_builds
    code, out, _ = _sql(capsys, "SELECT count(*) AS n FROM movies")
    assert code == 0 and out.splitlines()[1] != "0"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('{secret}')",
        "SELECT * FROM glob('/etc/*')",
    ],
)
def test_sql_queries_cannot_read_outside_the_lake(reader_env, capsys, query):
    _, tmp = reader_env
    secret = tmp / "secret.txt"
    secret.write_text("not for analysts")
    code, out, err = _sql(capsys, query.format(secret=secret))
    assert code == 2 and out == ""
    assert "disabled by configuration" in err


def test_sql_surface_still_answers_queries(reader_env, capsys):
    code, out, _ = _sql(
        capsys,
        "WITH t AS (SELECT title FROM movies ORDER BY title LIMIT 2) SELECT count(*) AS n FROM t",
    )
    assert (code, out) == (0, "n\n2\n")
    code, out, _ = _sql(capsys, "DESCRIBE movies")
    assert code == 0 and "movie_id" in out
    code, out, _ = _sql(capsys, "SELECT 1 AS a; SELECT 2 AS b")  # the last result is printed
    assert (code, out) == (0, "b\n2\n")


# --- the raw folder is a boundary -------------------------------------------------------------

INGEST = "group:raw or group:staging or key:warehouse_build"


def test_a_raw_file_that_links_outside_the_folder_is_refused(builder, raw_copy, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    users = raw_copy / "movielens/ml-1m/users.dat"
    secret = outside / "users.dat"
    original = users.read_bytes()
    secret.write_bytes(original + b"SECRET-LINE-FROM-OUTSIDE\n")
    users.unlink()
    users.symlink_to(secret)

    result = builder.run(INGEST, raw_dir=raw_copy)
    assert not result.success
    errors = step_errors(result)
    assert f"resolves to {secret}" in errors and "outside the raw folder" in errors
    assert "REELREASON_RAW_ALLOW_LINKS=1" in errors
    assert not builder.lake.exists() or not builder.lake.builds()  # nothing was published
    if builder.lake.exists():
        con = builder.lake.connect()
        try:
            hits = con.execute(
                "SELECT count(*) FROM quarantine WHERE raw LIKE '%SECRET-LINE%'"
            ).fetchone()[0]
        finally:
            con.close()
        assert hits == 0

    # a deliberate link is followed when asked to
    secret.write_bytes(original)
    allowed = builder.run(INGEST, raw_dir=raw_copy, raw_allow_links=True)
    assert allowed.success, step_errors(allowed)
    assert builder.query("SELECT count(*) FROM ml1m_users")[0][0] == 60


def test_links_that_stay_inside_the_raw_folder_are_fine(builder, raw_copy):
    ratings = raw_copy / "movielens/ml-1m/ratings.dat"
    kept = raw_copy / "movielens/ratings-original.dat"
    ratings.rename(kept)
    ratings.symlink_to(kept)
    result = builder.run(INGEST, raw_dir=raw_copy)
    assert result.success, step_errors(result)
    assert builder.query("SELECT count(*) FROM ml1m_ratings")[0][0] == 1226


# --- a bad answer never poisons the embedding cache ------------------------------------------


def _answer(vectors, indices=None):
    indices = list(range(len(vectors))) if indices is None else indices
    body = {
        "object": "list",
        "model": "m",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
        "data": [
            {"object": "embedding", "index": i, "embedding": v}
            for i, v in zip(indices, vectors, strict=True)
        ],
    }
    return json.dumps(body, allow_nan=True)  # what a broken server sends: NaN literals


@pytest.mark.parametrize(
    "vectors,indices,message",
    [
        ([[float("nan")] * 4, [1.0, 0, 0, 0]], None, "hold NaN or infinite values (inputs [0])"),
        ([[1.0, 0, 0, 0], [0.0, 1, 0, 0]], [0, 0], "are not 0..1 once each"),
        ([[1.0, 0, 0, 0], [0.0] * 4], None, "are all zeros (inputs [1])"),
        ([[1.0, 0, 0], [0.0, 1, 0]], None, "expected 2 vectors of 4 values"),
        ([[1.0, 0, 0, 0]], None, "are not 0..1 once each"),
    ],
)
def test_bad_embedding_answers_are_refused_and_never_cached(
    httpserver, tmp_path, vectors, indices, message
):
    from reelreason.embeddings import (
        BadEmbeddingAnswer,
        EmbeddingCache,
        OpenAIBackend,
        embed_texts,
    )
    from reelreason.warehouse import Warehouse

    httpserver.expect_request("/v1/embeddings", method="POST").respond_with_data(
        _answer(vectors, indices), content_type="application/json"
    )
    backend = OpenAIBackend(
        api_key="test", base_url=httpserver.url_for("/v1"), model="m", dimensions=4, max_retries=0
    )
    lake = Warehouse(tmp_path / "wh")
    with pytest.raises(BadEmbeddingAnswer, match=re.escape(message)):
        embed_texts(backend, ["first text", "second text"], EmbeddingCache(lake), run_id="r")
    con = lake.connect()
    try:
        assert con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0] == 0
    finally:
        con.close()


# --- a source that shrinks to nothing never becomes the current build --------------------------


def _current(builder) -> str:
    return next(b["build_id"] for b in builder.lake.builds() if b["current"])


def test_an_emptied_or_shrunk_source_blocks_promotion(builder, raw_copy):
    first = builder.run(INGEST, raw_dir=raw_copy)
    assert first.success, step_errors(first)
    ratings = raw_copy / "movielens/ml-1m/ratings.dat"
    lines = ratings.read_bytes().splitlines(keepends=True)

    ratings.write_bytes(b"")  # an empty upstream file
    emptied = builder.run(INGEST, raw_dir=raw_copy)
    assert not emptied.success
    errors = step_errors(emptied)
    assert "promotion blocked: ml1m_ratings 1,226 → 0 rows" in errors
    assert f"reelreason promote {emptied.run_id[:8]}" in errors
    assert _current(builder) == first.run_id  # readers still get the good build
    assert builder.query("SELECT count(*) FROM ml1m_ratings")[0][0] == 1226
    candidate = next(b for b in builder.lake.builds() if b["build_id"] == emptied.run_id)
    assert not candidate["current"] and not candidate["approved"]
    con = builder.lake.connect(read_only=True)
    try:
        (note,) = con.execute(
            "SELECT note FROM build_events WHERE build_id = ?", [emptied.run_id]
        ).fetchone()
    finally:
        con.close()
    assert note == "promotion blocked: ml1m_ratings 1,226 → 0 rows"

    ratings.write_bytes(b"".join(lines[:400]))  # 67% of the ratings gone
    shrunk = builder.run(INGEST, raw_dir=raw_copy)
    assert "ml1m_ratings 1,226 → 400 rows" in step_errors(shrunk)
    assert _current(builder) == first.run_id

    ratings.write_bytes(b"".join(lines[:1000]))  # 18% gone: within REELREASON_MAX_SHRINK
    smaller = builder.run(INGEST, raw_dir=raw_copy)
    assert smaller.success, step_errors(smaller)
    assert _current(builder) == smaller.run_id

    ratings.write_bytes(b"")  # a deliberate shrink is allowed by the setting
    allowed = builder.run(INGEST, raw_dir=raw_copy, max_shrink=1.0)
    assert "ml1m_ratings 1,000 → 0 rows" in step_errors(allowed)  # to nothing: always blocked


# --- operator mistakes get one clear line --------------------------------------------------------


@pytest.fixture
def cli_env(builder, monkeypatch, tmp_path):
    home = scratch.storage_dir(tmp_path / "dagster_home")
    monkeypatch.setenv("REELREASON_WAREHOUSE", str(builder.warehouse_root))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("REELREASON_DAGSTER_DIR", str(home))
    monkeypatch.delenv("REELREASON_RAW_DIR", raising=False)
    monkeypatch.delenv("REELREASON_PROFILE", raising=False)
    return builder


def test_export_out_on_a_dangling_link_or_a_file_is_a_clear_error(cli_env, capsys, tmp_path):
    assert cli_env.run(INGEST).success
    missing = tmp_path / "nowhere" / "exports"
    link = tmp_path / "exports-link"
    link.symlink_to(missing)
    code, out, err = _cli(capsys, "export", "--out", str(link))
    assert code == 2 and out == ""
    assert err.startswith(f"error: --out {link} is a symbolic link to {missing}")
    assert not (tmp_path / "nowhere").exists()  # nothing created through the link
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code, _, err = _cli(capsys, "export", "--out", str(a_file))
    assert code == 2 and err == f"error: --out {a_file} exists and is not a folder\n"


def test_a_damaged_catalog_is_named_and_never_called_current(cli_env, capsys):
    assert cli_env.run(INGEST).success
    catalog = cli_env.lake.catalog_path
    with open(catalog, "r+b") as f:
        f.truncate(catalog.stat().st_size // 2)
    for argv in (["builds"], ["sql", "SELECT 1"]):
        code, out, err = _cli(capsys, *argv)
        assert code == 2 and out == "", argv
        assert f"Cannot open the warehouse catalog {catalog}" in err and "Traceback" not in err
    code, _, err = _cli(capsys, "build", "key:ml1m_users")
    assert code == 1
    assert f"Cannot open the warehouse catalog {catalog}" in err
    assert "restore it from a backup" in err
    assert "the warehouse cannot be read, so no build is current" in err
    assert "previous build is still the current one" not in err


def _cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()  # what came before (a build's log) is not this command's output
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- one odd value never crashes a source ---------------------------------------------------------


@pytest.mark.parametrize(
    "parse,rel,good,line_of",
    [
        (
            movielens.parse_ratings,
            "movielens/ml-1m/ratings.dat",
            b"1::2195::5::978033103\n",
            lambda ts: f"1::287::4::{ts}",
        ),
        (
            movietweetings.parse_ratings,
            "movietweetings/ratings.dat",
            b"1::0114709::10::1381945744\n",
            lambda ts: f"2::0114709::8::{ts}",
        ),
    ],
)
def test_rating_times_that_overflow_or_were_cut_off_are_quarantined(
    tmp_path, parse, rel, good, line_of
):
    path = tmp_path / "ratings.dat"
    overflow, cut = line_of(97803310312345), line_of(9703)
    # the cut-off line is the last one, without its final newline
    path.write_bytes(good + overflow.encode() + b"\n" + good + cut.encode())
    with duckdb.connect() as con:
        parsed = parse(con, path, rel)  # must not raise
    (table,) = parsed.tables.values()
    assert table.num_rows == 2
    q = {
        r["line"]: (r["raw"], r["reason"], r["file"])
        for r in next(iter(parsed.quarantine.values()))
    }
    assert q[2][:2] == (
        overflow,
        "timestamp 97803310312345 is after 2100: not a rating time (an overflow)",
    )
    assert q[4][0] == cut
    assert q[4][1] == (
        "truncated final line (no newline at the end of the file): timestamp 9703 is before "
        "1995: not a rating time (a line cut off mid-number?)"
    )
    assert q[4][2] == rel
    assert all(a.balanced for a in parsed.accounts)


def test_numbers_too_big_for_their_column_are_quarantined_with_their_line(tmp_path):
    from pipelines.settings import SAMPLE_RAW_DIR
    from reelreason.parse import goemotions, inspired

    db = (SAMPLE_RAW_DIR / "inspired/movie_database.tsv").read_text(encoding="utf-8").split("\n")
    runtime = db[0].split("\t").index("runtime")
    fields = db[3].split("\t")
    fields[runtime] = "12345678901 min"  # 11 digits: no 32-bit runtime
    db[3] = "\t".join(fields)
    (tmp_path / "movie_database.tsv").write_text("\n".join(db), encoding="utf-8")
    (tmp_path / "dev.tsv").write_text("fine\t0\tc1\nhuge id\t12345678901\tc2\nalso fine\t3,4\tc3\n")
    emotions = (SAMPLE_RAW_DIR / "goemotions/emotions.txt").read_text().split()
    with duckdb.connect() as con:
        movies = inspired.parse_movie_database(
            con, tmp_path / "movie_database.tsv", "inspired/movie_database.tsv"
        )
        texts = goemotions.parse_splits(
            con, {"dev": (tmp_path / "dev.tsv", "goemotions/dev.tsv")}, emotions
        )
    (q,) = movies.quarantine["inspired_movies"]
    assert (q["file"], q["line"]) == ("inspired/movie_database.tsv", 4)
    assert q["reason"] == "runtime 12345678901 min does not fit a 32-bit integer"
    assert movies.tables["inspired_movies"].num_rows == len([r for r in db[1:] if r]) - 1
    (q,) = texts.quarantine["goemotions_texts"]
    assert (q["line"], q["reason"]) == (2, "label id outside 0..27")
    assert texts.tables["goemotions_texts"].num_rows == 2
    assert all(a.balanced for a in movies.accounts + texts.accounts)


def test_a_ccpe_span_outside_its_text_quarantines_its_utterance(tmp_path):
    from pipelines.settings import SAMPLE_RAW_DIR
    from reelreason.parse import ccpe

    doc = json.loads((SAMPLE_RAW_DIR / "ccpe/data.json").read_text())
    with_spans = [u for c in doc for u in c["utterances"] if u.get("segments")]
    with_spans[0]["segments"][0]["endIndex"] = len(with_spans[0]["text"]) + 5
    with_spans[1]["segments"][0]["startIndex"] = 99_999_999_999  # does not fit the column
    with_spans[2]["index"] = 2**40
    (tmp_path / "data.json").write_text(json.dumps(doc))
    parsed = ccpe.parse(tmp_path / "data.json", "ccpe/data.json")  # must not raise
    reasons = [q["reason"] for q in parsed.quarantine["ccpe_utterances"]]
    assert len(reasons) == 3
    assert "segment #0 span" in reasons[0] and "lies outside the text's" in reasons[0]
    assert "[99999999999," in reasons[1]
    assert f"index {2**40} outside" in reasons[2]
    assert parsed.tables["ccpe_utterances"].num_rows == 96 - 3
    assert all(a.balanced for a in parsed.accounts)


def test_a_duplicate_redial_conversation_is_quarantined_with_its_line(tmp_path):
    from pipelines.settings import SAMPLE_RAW_DIR
    from reelreason.parse import redial

    train = (SAMPLE_RAW_DIR / "redial/train_data.jsonl").read_text().splitlines()
    test = (SAMPLE_RAW_DIR / "redial/test_data.jsonl").read_text().splitlines()
    (tmp_path / "train.jsonl").write_text("\n".join(train) + "\n")
    (tmp_path / "test.jsonl").write_text("\n".join([*test, train[0]]) + "\n")  # again, elsewhere
    parsed = redial.parse_conversations(
        {
            "train": (tmp_path / "train.jsonl", "redial/train_data.jsonl"),
            "test": (tmp_path / "test.jsonl", "redial/test_data.jsonl"),
        }
    )
    (q,) = parsed.quarantine["redial_conversations"]
    conv_id = json.loads(train[0])["conversationId"]
    assert (q["file"], q["line"]) == ("redial/test_data.jsonl", len(test) + 1)
    assert (
        q["reason"] == f"duplicate conversation id {conv_id} (first at redial/train_data.jsonl:1)"
    )
    conversations = parsed.tables["redial_conversations"]
    assert conversations.num_rows == len(train) + len(test)
    assert conversations.column("conversation_id").to_pylist().count(str(conv_id)) == 1
    assert all(a.balanced for a in parsed.accounts)


@pytest.mark.parametrize(
    "parse,rel,content,expected",
    [
        (
            movielens.parse_ratings,
            "movielens/ml-1m/ratings.dat",
            b"1::2195::5::978033103\n1::::4::978033103\n::287::4::978033103\n",
            [(2, "empty movie_id"), (3, "empty user_id")],
        ),
        (
            movielens.parse_users,
            "movielens/ml-1m/users.dat",
            b"1::M::1::10::48067\n2::::1::10::48067\n",
            [(2, "empty gender")],
        ),
        (
            movietweetings.parse_ratings,
            "movietweetings/ratings.dat",
            b"1::0114709::10::1381945744\n::0114709::9::1381945744\n3::0114709::8::\n",
            [(2, "empty user_id"), (3, "empty timestamp")],
        ),
    ],
)
def test_an_empty_required_field_quarantines_its_line(tmp_path, parse, rel, content, expected):
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    with duckdb.connect() as con:
        parsed = parse(con, path, rel)
    (table,) = parsed.tables.values()
    (quarantine,) = parsed.quarantine.values()
    assert [(q["line"], q["reason"]) for q in quarantine] == expected
    assert all(q["file"] == rel for q in quarantine)
    assert table.num_rows == content.count(b"\n") - len(expected)
    assert all(a.balanced for a in parsed.accounts)


# --- the same inputs give the same content, whichever executor ran the steps -----------------
# (the multiprocess build against the shared in-process one: tests/test_scaleout.py)


def test_a_table_written_in_chunks_reads_back_in_its_order(tmp_path):
    """DuckDB wrote the chunks of a multi-chunk Arrow table in the order its threads
    finished: the same rows, a different order, build to build."""
    import pyarrow as pa

    from reelreason.warehouse import Warehouse

    lake = Warehouse(tmp_path / "wh")
    expected = list(range(3000))
    table = pa.concat_tables(
        [pa.table({"movie_id": pa.array(expected[i : i + 500])}) for i in range(0, 3000, 500)]
    )
    for attempt in range(8):
        lake.write_table("probe_order", table, run_id=f"r{attempt}", source="test")
        with lake.session(read_only=True) as con:
            got = [
                r[0] for r in con.execute("SELECT movie_id FROM lake.main.probe_order").fetchall()
            ]
        assert got == expected, f"write {attempt} came back reordered"
