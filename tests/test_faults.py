"""Reliability under faults: killed builds, flaky services, concurrent builds, corrupted
caches, a warehouse that cannot be written, hostile input. Bounded in time; all traffic to
127.0.0.1."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile

import duckdb
import numpy as np
import pytest

from pipelines.settings import PROJECT_ROOT
from reelreason.download import RawDataError, extract_member
from reelreason.embeddings import EmbeddingCache, embed_texts, sha256_text
from reelreason.parse import inspired, movielens
from reelreason.parse.ccpe import load_json_document
from reelreason.parse.common import SourceFormatError
from reelreason.parse.redial import parse_conversations
from reelreason.warehouse import Warehouse
from tests.cli_build import run_build, start_build
from tests.conftest import SAMPLE_COUNTS, step_errors
from tests.fakes.chat_server import FakeChat
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tmdb_server import FakeTmdb, Faults
from tests.test_pipeline import INGEST


def _counts(lake: Warehouse, build: str | None = None) -> dict:
    with lake.connect_build(build) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SAMPLE_COUNTS}


def _vectors(lake: Warehouse) -> dict:
    with lake.connect_build() as con:
        return dict(con.execute("SELECT movie_id, vector FROM movie_embeddings_st").fetchall())


def _snapshot_head(lake: Warehouse) -> int:
    with lake.session(read_only=True) as con:
        return con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]


def _snapshot_runs(lake: Warehouse, after: int) -> str:
    """The one run that wrote table snapshots after snapshot `after`."""
    with lake.session(read_only=True) as con:
        runs = con.execute(
            "SELECT DISTINCT json_extract_string(commit_extra_info, '$.run_id') "
            "FROM lake.snapshots() WHERE snapshot_id > ? "
            "AND json_extract_string(commit_extra_info, '$.table') IS NOT NULL",
            [after],
        ).fetchall()
    assert len(runs) == 1, runs
    return runs[0][0]


# Ingest, films and their st vectors: enough steps to kill a build half-way through, and
# an embedding cache to check the rerun never encodes again.
THROUGH_VECTORS = "group:raw or group:staging or +key:movie_embeddings_st or key:warehouse_build"


def test_killed_build_leaves_the_current_build_and_a_rerun_resumes(tmp_path):
    lake = Warehouse(tmp_path / "warehouse")
    code, _, err = run_build(tmp_path, selection=THROUGH_VECTORS)
    assert code == 0, err[-3000:]
    good = lake.resolve_build()["build_id"]
    counts, vectors = _counts(lake), _vectors(lake)
    with lake.session(read_only=True) as con:
        cached = con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0]

    # SIGKILL the whole build once it has written a good part of its tables (it recomputes
    # everything: with unchanged inputs it would otherwise reuse the first build's tables).
    head = _snapshot_head(lake)
    proc = start_build(tmp_path, {"REELREASON_REUSE": "0"}, selection=THROUGH_VECTORS)
    deadline = time.monotonic() + 120
    while _snapshot_head(lake) < head + 15 and time.monotonic() < deadline:
        assert proc.poll() is None, "the build finished before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot_head(lake) > head + 10  # it really was mid-way
    assert lake.resolve_build()["build_id"] == good  # nothing half-published
    assert len(lake.builds()) == 1 and _counts(lake) == counts

    # The rerun completes with the same tables and embeds nothing again. Its inputs are those
    # of the first build, so it computes nothing: every table is the latest version written,
    # whether by the first build or by the killed run (which finished some before it died).
    killed_run = _snapshot_runs(lake, head)
    with lake.session(read_only=True) as con:
        latest = {t: info["run_id"] for t, info in lake.latest_write_info(con).items()}
    code, _, err = run_build(tmp_path, selection=THROUGH_VECTORS)
    assert code == 0, err[-3000:]
    rerun = lake.resolve_build()["build_id"]
    assert rerun != good
    with lake.session(read_only=True) as con:
        published = dict(
            con.execute(
                "SELECT table_name, written_by_run FROM build_tables WHERE build_id = ?", [rerun]
            ).fetchall()
        )
    assert published == {t: latest[t] for t in published}
    assert killed_run in published.values()
    assert _counts(lake) == counts
    again = _vectors(lake)
    assert again.keys() == vectors.keys()
    assert all(np.allclose(again[m], vectors[m]) for m in vectors)
    with lake.session(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0] == cached


def _processes_of(marker: str) -> set[int]:
    """Live processes whose environment holds `marker` (a build's own warehouse path)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.add(int(entry))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts processes in /proc")
def test_killing_the_build_process_kills_its_step_workers(tmp_path):
    """A `kill -9` of the build's own process only (not its group, as an operator or the OOM
    killer would) while a step waits on a slow outside service: no step worker survives it,
    and a rerun then builds cleanly."""
    from tests.fakes import serve, stop

    waiting = threading.Event()

    def never_answers(h):  # an embeddings endpoint that holds every request for minutes
        waiting.set()
        time.sleep(300)

    server = serve(never_answers)
    marker = f"REELREASON_WAREHOUSE={tmp_path / 'warehouse'}"
    env = {
        "REELREASON_EXECUTOR": "multiprocess",
        "REELREASON_OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/v1",
    }
    # What the embeddings step needs, and no more: the rest of the graph adds nothing here.
    up_to_openai = "+key:movie_embeddings_openai or key:warehouse_build"
    proc = start_build(tmp_path, env, selection=up_to_openai)
    try:
        assert waiting.wait(timeout=240), "no step reached the embeddings endpoint"
        workers = _processes_of(marker) - {proc.pid}
        assert len(workers) >= 2, "no step workers were seen running"  # fork server + step
        proc.kill()  # SIGKILL to the build process alone
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _processes_of(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_of(marker) == set(), "step workers outlived the killed build"
    finally:
        for pid in _processes_of(marker):
            os.kill(pid, signal.SIGKILL)
        stop(server)
    code, _, err = run_build(tmp_path, selection=up_to_openai)
    assert code == 0, err[-3000:]


def test_two_builds_at_once_are_queued_never_interleaved(tmp_path):
    # Both compute everything (no reuse), so both really write every table.
    recompute = {"REELREASON_REUSE": "0"}
    first = start_build(tmp_path, recompute, selection=INGEST)
    second = start_build(tmp_path, recompute, selection=INGEST)
    results = [p.communicate(timeout=540) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results[1][1][-2000:]
    assert any("waiting for it" in err for _, err in results)
    lake = Warehouse(tmp_path / "warehouse")
    builds = lake.builds()
    assert len(builds) == 2
    with lake.session(read_only=True) as con:
        rows = con.execute(
            "SELECT build_id, min(snapshot_id), max(snapshot_id), "
            "bool_and(written_by_run = build_id) FROM build_tables GROUP BY build_id"
        ).fetchall()
    spans = {b: (lo, hi, own) for b, lo, hi, own in rows}
    older, newer = builds[1], builds[0]
    # Every table of each build was written by that build's own run, and the second build's
    # writes all come after the first build was published.
    assert spans[older["build_id"]][2] and spans[newer["build_id"]][2]
    assert spans[newer["build_id"]][0] > older["snapshot_id"]
    assert _counts(lake) == SAMPLE_COUNTS


def test_services_failing_30_percent_lose_nothing(builder, monkeypatch):
    """TMDB, embeddings and chat all fail about 30% of requests (429, 5xx, resets, slow
    answers); the build completes and every film is enriched or explicitly unresolved."""
    openai_failures = [429, None, None, 500, None, None, 503, None, None, None] * 200
    with (
        FakeTmdb() as clean_tmdb,
        FakeTmdb(
            faults=Faults(rate=0.3, kinds=("429", "500", "503", "reset", "slow"), slow_seconds=0.3)
        ) as tmdb,
        FakeOpenAI(failures=openai_failures) as openai,
        FakeChat(fail_every=3, slow_seconds=0.3) as chat,
    ):
        monkeypatch.setenv("TMDB_READ_ACCESS_TOKEN", tmdb.token)
        monkeypatch.setenv("OPENAI_API_KEY", openai.api_key)
        monkeypatch.setenv("REELREASON_LLM_API_KEY", chat.api_key)
        online = {"raw_dir": builder.settings().raw_dir, "offline": False, "profile": "full"}
        result = builder.run(
            "not group:evaluation",
            tmdb_base_url=tmdb.base_url,
            tmdb_rate_limit=200,
            openai_base_url=openai.base_url,
            openai_dimensions=32,
            llm_base_url=chat.base_url,
            **online,
        )
        assert result.success, step_errors(result)
        assert tmdb.request_count > 0 and openai.attempts > len(openai.requests)
        assert chat.attempts > len(chat.requests)  # failures really happened
        flaky = dict(builder.query("SELECT movie_id, tmdb_id FROM movies"))
        # The same films against a server that never fails: identical resolution.
        reference = builder.__class__(builder.warehouse_root.parent / "reference", builder.instance)
        monkeypatch.setenv("TMDB_READ_ACCESS_TOKEN", clean_tmdb.token)
        clean = reference.run(
            "key:raw_* or group:staging or group:movies or key:warehouse_build",
            tmdb_base_url=clean_tmdb.base_url,
            tmdb_rate_limit=200,
            **online,
        )
        assert clean.success, step_errors(clean)
    assert flaky == dict(reference.query("SELECT movie_id, tmdb_id FROM movies"))
    q = builder.query
    films = q("SELECT count(*) FROM movies")[0][0]
    assert q("SELECT count(*) FROM movie_embeddings_openai WHERE vector IS NOT NULL") == [(films,)]
    assert q("SELECT count(DISTINCT movie_id) FROM movie_keyphrases") == [(films,)]
    assert q("SELECT count(*) FROM quarantine WHERE table_name = 'movie_keyphrases'") == [(0,)]


@pytest.fixture(scope="module")
def minilm():
    from pipelines.resources import SentenceTransformerResource
    from pipelines.settings import MINILM, Settings

    model = Settings().feeding("sentence_model")
    assert model["model_name"] == MINILM  # the offline model every sample build uses
    return SentenceTransformerResource(**model).backend()


def test_corrupted_embedding_cache_entries_are_recomputed(tmp_path, minilm):
    lake = Warehouse(tmp_path / "wh")
    cache = EmbeddingCache(lake)
    texts = ["a heist in los angeles", "a quiet family drama", "space pirates"]
    first = embed_texts(minilm, texts, cache, run_id="r1")
    assert first.report.misses == 3
    # Damage two entries the way a bad write or a foreign tool could: wrong length, NaN.
    with lake.session() as con:
        con.execute(
            "UPDATE embedding_cache SET vector = vector[1:10] WHERE text_sha256 = ?",
            [sha256_text(texts[0])],
        )
        con.execute(
            "UPDATE embedding_cache SET vector = list_transform(vector, x -> 'nan'::FLOAT) "
            "WHERE text_sha256 = ?",
            [sha256_text(texts[1])],
        )
    second = embed_texts(minilm, texts, cache, run_id="r2")
    assert second.report.hits == 1 and second.report.misses == 2 and second.report.damaged == 2
    for t in texts:
        np.testing.assert_allclose(second.vectors[sha256_text(t)], first.vectors[sha256_text(t)])


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MB tmpfs: a real filesystem that fills up (needs root and mount rights)."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up ({done.stderr.strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_disk_full_is_a_clear_error_and_nothing_is_half_published(tmp_path, small_disk):
    env = {"REELREASON_WAREHOUSE": str(small_disk / "warehouse")}
    lake = Warehouse(small_disk / "warehouse")
    code, _, err = run_build(tmp_path, env, INGEST)
    assert code == 0, err[-2000:]
    good, counts = lake.resolve_build()["build_id"], _counts(lake)
    # Leave ~40 KB free: the next build runs out of space part-way through its writes.
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - (40 << 10)))
    code, _, err = run_build(tmp_path, {**env, "REELREASON_REUSE": "0"}, INGEST)
    assert code != 0
    assert "cannot write to the warehouse" in err or "No space left" in err, err[-3000:]
    assert "Traceback" not in err.split("FAILED")[-1]
    (small_disk / "filler").unlink()
    assert lake.resolve_build()["build_id"] == good and _counts(lake) == counts


def test_unwritable_warehouse_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the warehouse should be")
    code, _, err = run_build(tmp_path, {"REELREASON_WAREHOUSE": str(blocker / "warehouse")})
    assert code != 0
    assert "not_a_folder" in err and "Traceback" not in err, err[-3000:]


# --- hostile input ------------------------------------------------------------------------------


def _peak_rss_mb_of(code: str) -> tuple[int, str, float]:
    """Run `code` in a fresh interpreter; its exit code, output and own peak RSS in MB."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            # VmHWM, not ru_maxrss: the latter starts from the forking parent's peak (pytest's).
            code + "\nimport re, sys\n"
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print('PEAK_KB', hwm, file=sys.stderr)",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak = [line for line in proc.stderr.splitlines() if line.startswith("PEAK_KB")]
    peak_mb = int(peak[-1].split()[1]) / 1024 if peak else float("nan")
    return proc.returncode, proc.stdout + proc.stderr, peak_mb


HUGE = 300 << 20  # a 300 MB line with no newline


def _huge_line_file(path, prefix: bytes, suffix: bytes = b"") -> None:
    with open(path, "wb") as f:
        f.write(prefix)
        chunk = b"x" * (1 << 20)
        for _ in range(HUGE // len(chunk)):
            f.write(chunk)
        f.write(suffix)


_GOOD_LINE = (
    json.dumps(
        {
            "conversationId": "1",
            "initiatorWorkerId": 1,
            "respondentWorkerId": 2,
            "messages": [{"messageId": 1, "text": "hi", "senderWorkerId": 1, "timeOffset": 0}],
            "movieMentions": {},
            "initiatorQuestions": {},
            "respondentQuestions": {},
        }
    )
    + "\n"
)
# A second conversation (ids are unique: a repeated one is quarantined as a duplicate).
_OTHER_GOOD_LINE = _GOOD_LINE.replace('"conversationId": "1"', '"conversationId": "2"')


def test_a_huge_line_in_jsonl_is_quarantined_in_bounded_memory(tmp_path):
    path = tmp_path / "train_data.jsonl"
    last = _GOOD_LINE.replace('"conversationId": "1"', '"conversationId": "3"')
    _huge_line_file(path, _GOOD_LINE.encode() + b'{"conversationId": "', b'"}\n' + last.encode())
    code, output, peak_mb = _peak_rss_mb_of(
        "from pathlib import Path; from reelreason.parse.redial import parse_conversations\n"
        f"p = parse_conversations({{'train': (Path({str(path)!r}), 'train_data.jsonl')}})\n"
        "print(p.tables['redial_conversations'].num_rows, "
        "[q['reason'] for q in p.quarantine['redial_conversations']])"
    )
    assert code == 0, output[-2000:]
    assert output.startswith("2 ") and "exceeds the 16,777,216-byte limit" in output
    assert peak_mb < 250, f"peak RSS {peak_mb:.0f} MB for a {HUGE >> 20} MB line"


def test_a_huge_line_in_a_delimited_file_is_rejected_in_bounded_memory(tmp_path):
    path = tmp_path / "ratings.dat"
    _huge_line_file(path, b"1::1193::5::978300760\n1::", b"::5::978300760\n2::1193::4::978300761\n")
    code, output, peak_mb = _peak_rss_mb_of(
        "import duckdb; from pathlib import Path\n"
        "from reelreason.parse.movielens import parse_ratings\n"
        f"p = parse_ratings(duckdb.connect(), Path({str(path)!r}), 'ratings.dat')\n"
        "print(p.tables['ml1m_ratings'].num_rows, len(p.quarantine.get('ml1m_ratings', [])))"
    )
    # Either the line is quarantined and the rest kept, or the file fails with a clear error;
    # never an unbounded read.
    assert code == 0 and output.startswith("2 1"), output[-2000:]  # 2 kept, 1 quarantined
    assert peak_mb < 250, f"peak RSS {peak_mb:.0f} MB for a {HUGE >> 20} MB line"


def test_an_overlong_header_line_is_a_clear_format_error(tmp_path):
    path = tmp_path / "movie_database.tsv"
    with open(path, "wb") as f:  # a "header" of 17 MB: no columns can be read from it
        f.write(b"title\t" * ((17 << 20) // 6) + b"\nToy Story\t1995\n")
    with pytest.raises(SourceFormatError, match=r"movie_database.tsv: its header \(line 1\)"):
        inspired.parse_movie_database(duckdb.connect(), path, "inspired/movie_database.tsv")
    links = tmp_path / "links.csv"  # the same through the generic delimited reader
    with open(links, "wb") as f:
        f.write(b"movieId," * ((17 << 20) // 8) + b"\n1,0114709,862\n")
    with pytest.raises(SourceFormatError, match=r"links.csv: its header \(line 1\) is 17,"):
        movielens.parse_links(duckdb.connect(), links, "movielens/links.csv")


def test_a_json_nesting_bomb_is_rejected_clearly(tmp_path):
    bomb = "[" * 200_000 + "]" * 200_000
    data = tmp_path / "data.json"
    data.write_text(bomb)
    with pytest.raises(SourceFormatError, match="nested too deeply"):
        load_json_document(data, "data.json")
    jsonl = tmp_path / "test_data.jsonl"
    jsonl.write_text(_GOOD_LINE + '{"conversationId": ' + bomb + "}\n" + _OTHER_GOOD_LINE)
    parsed = parse_conversations({"test": (jsonl, "test_data.jsonl")})
    (row,) = parsed.quarantine["redial_conversations"]
    assert row["reason"] == "JSON nested too deeply to read" and row["line"] == 2
    assert parsed.tables["redial_conversations"].num_rows == 2


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    archive = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("ml-1m/ratings.dat", "w", force_zip64=True) as member:
            zeros = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(zeros)
    assert archive.stat().st_size < 2 << 20
    dest = tmp_path / "out" / "ratings.dat"
    with pytest.raises(RawDataError, match="zip bomb"):
        extract_member(archive, "ml-1m/ratings.dat", dest)
    assert not dest.exists()
    assert not dest.parent.exists() or not list(dest.parent.iterdir())  # no partial file


def test_invalid_utf8_in_a_utf8_source_is_quarantined_with_its_line(tmp_path):
    jsonl = tmp_path / "train_data.jsonl"
    jsonl.write_bytes(
        _GOOD_LINE.encode() + b'{"conversationId": "caf\xe9"}\n' + _OTHER_GOOD_LINE.encode()
    )
    parsed = parse_conversations({"train": (jsonl, "train_data.jsonl")})
    (row,) = parsed.quarantine["redial_conversations"]
    assert row["line"] == 2 and row["reason"].startswith("invalid UTF-8")
