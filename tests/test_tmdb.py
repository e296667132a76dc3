"""The TMDB client, cache and resolver against a TMDB-speaking server on 127.0.0.1."""

import logging
import time

import pytest

from reelreason.enrich import FetchReport, ResponseCache, fetch_through_cache
from reelreason.resolve import Reference, Resolver
from reelreason.tmdb import (
    TmdbAuthError,
    TmdbClient,
    TmdbError,
    find_imdb,
    movie_details,
    search_movie,
)
from reelreason.warehouse import Warehouse
from tests.fakes.tmdb_server import FakeTmdb, Faults

KEY, TOKEN = "test-api-key-123", "test-read-token-456"


def client_for(server, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("rate_limit", 200)
    kw.setdefault("timeout", 2)
    return TmdbClient(base_url=server.base_url, **kw)


def test_bearer_token_and_api_key_auth_and_no_key_in_logs(caplog):
    caplog.set_level(logging.DEBUG)
    with FakeTmdb() as server:
        r1 = client_for(server, read_access_token=TOKEN).get(movie_details(862))
        r2 = client_for(server, api_key=KEY).get(movie_details(862))
        assert r1.status == r2.status == "ok" and r1.body["title"] == "Toy Story"
        assert server.auth_seen == {"bearer": 1, "api_key": 1}
        assert r1.key == "/movie/862?append_to_response=credits%2Ckeywords"
    assert KEY not in caplog.text and TOKEN not in caplog.text
    assert KEY not in r2.key


def test_401_fails_fast_without_leaking_the_key():
    with FakeTmdb() as server:
        client = client_for(server, api_key="wrong-key-999")
        with pytest.raises(TmdbAuthError) as err:
            client.get(movie_details(862))
        assert server.request_count == 1  # no retries on 401
    assert "wrong-key-999" not in str(err.value) and "TMDB_API_KEY" in str(err.value)


def test_404_is_not_found_and_not_retried():
    with FakeTmdb() as server:
        resp = client_for(server, api_key=KEY).get(movie_details(424242))
        assert resp.status == "not_found" and resp.body is None
        assert server.request_count == 1


def test_429_with_and_without_retry_after_then_success():
    faults = Faults(script={"/movie/862": ["429_retry_after", "429"]})
    with FakeTmdb(faults=faults) as server:
        client = client_for(server, api_key=KEY)
        start = time.monotonic()
        resp = client.get(movie_details(862))
        assert resp.status == "ok"
        assert time.monotonic() - start >= 1.0  # honoured Retry-After: 1
        assert [s for _, s in server.log] == [429, 429, 200]
        assert client.stats["throttled"] == 2


def test_500_then_success_and_a_timeout_then_success():
    faults = Faults(script={"/movie/862": ["500"], "/movie/949": ["slow"]}, slow_seconds=1.5)
    with FakeTmdb(faults=faults) as server:
        client = client_for(server, api_key=KEY, timeout=0.5)
        assert client.get(movie_details(862)).status == "ok"
        assert client.get(movie_details(949)).body["title"] == "Heat"
        assert client.stats["retries"] == 2


def test_gives_up_with_a_clear_error_after_max_attempts():
    faults = Faults(script={"/movie/862": ["503"] * 5})
    with FakeTmdb(faults=faults) as server:
        with pytest.raises(TmdbError, match=r"/movie/862.*gave up after 3 attempts \(HTTP 503\)"):
            client_for(server, api_key=KEY, max_attempts=3).get(movie_details(862))


def test_rate_limit_is_respected():
    with FakeTmdb() as server:
        client = client_for(server, api_key=KEY, rate_limit=20, max_concurrency=8)
        start = time.monotonic()
        client.get_many([movie_details(862)] * 30, lambda r: None)
        elapsed = time.monotonic() - start
    # 20-token burst, then 20/s: 30 requests need at least ~0.5 s
    assert elapsed >= 0.45 and server.request_count == 30


def test_cache_second_run_makes_zero_requests(tmp_path):
    lake = Warehouse(tmp_path / "wh")
    cache = ResponseCache(lake, ttl_days=30)
    reqs = [movie_details(862), find_imdb("tt0113277"), search_movie("Heat", 1995)]
    with FakeTmdb() as server:
        first = fetch_through_cache(
            reqs,
            cache=cache,
            client=client_for(server, api_key=KEY),
            run_id="r1",
            report=FetchReport(),
        )
        assert server.request_count == 3
        report = FetchReport()
        second = fetch_through_cache(
            reqs, cache=cache, client=client_for(server, api_key=KEY), run_id="r2", report=report
        )
        assert server.request_count == 3 and report.cache_hits == 3
    assert {k: v.body for k, v in first.items()} == {k: v.body for k, v in second.items()}
    with lake.session() as con:  # keys are cached without credentials
        keys = [r[0] for r in con.execute("SELECT request_key FROM tmdb_responses").fetchall()]
        bodies = con.execute("SELECT string_agg(body, '') FROM tmdb_responses").fetchone()[0]
    assert all(KEY not in k for k in keys) and KEY not in bodies


def test_expired_entries_are_refetched(tmp_path):
    lake = Warehouse(tmp_path / "wh")
    with FakeTmdb() as server:
        reqs = [movie_details(862)]
        fetch_through_cache(
            reqs,
            cache=ResponseCache(lake, ttl_days=30),
            client=client_for(server, api_key=KEY),
            run_id="r1",
            report=FetchReport(),
        )
        fetch_through_cache(
            reqs,
            cache=ResponseCache(lake, ttl_days=0),
            client=client_for(server, api_key=KEY),
            run_id="r2",
            report=FetchReport(),
        )
        assert server.request_count == 2


def test_interrupted_run_resumes_where_it_stopped(tmp_path):
    lake = Warehouse(tmp_path / "wh")
    cache = ResponseCache(lake, ttl_days=30)
    ids = [862, 949, 807, 680, 603, 550, 597, 13, 329, 11, 238, 278]
    reqs = [movie_details(i) for i in ids]
    # One film keeps failing: the run dies, but the answers it got are kept.
    faults = Faults(script={"/movie/238": ["503"] * 10})
    with FakeTmdb(faults=faults) as server:
        client = client_for(server, api_key=KEY, max_attempts=2, max_concurrency=1)
        with pytest.raises(TmdbError):
            fetch_through_cache(
                reqs, cache=cache, client=client, run_id="r1", report=FetchReport(), flush_every=3
            )
    stored = len(cache.lookup(r.key for r in reqs))
    assert 0 < stored < len(ids)
    with FakeTmdb() as server:
        report = FetchReport()
        answers = fetch_through_cache(
            reqs, cache=cache, client=client_for(server, api_key=KEY), run_id="r2", report=report
        )
        assert len(answers) == len(ids)
        assert server.request_count == len(ids) - stored == report.fetched


# --- resolution on hard titles -----------------------------------------------------------------


def resolve(refs, tmp_path):
    lake = Warehouse(tmp_path / "wh")
    cache = ResponseCache(lake)
    with FakeTmdb() as server:
        client = client_for(server, api_key=KEY)
        resolver = Resolver(
            fetch=lambda reqs: fetch_through_cache(
                reqs, cache=cache, client=client, run_id="r", report=FetchReport()
            )
        )
        matches = resolver.run(refs)
    return {(m.ref.source, m.ref.source_id): m for m in matches}


def test_hard_titles_resolve(tmp_path):
    from reelreason.titles import clean_mention_name, parse_movielens_title

    refs = []
    for i, raw in enumerate(
        ["American President, The (1995)", "Seven (Se7en) (1995)", "Hamlet (1990)", "Hamlet (1996)"]
    ):
        title, alt, year = parse_movielens_title(raw)
        refs.append(Reference("ml1m", str(i), title, year, alt))
    for i, raw in enumerate(["Police Academy  (1984)", "Why Him%3F (2016)"]):
        title, year = clean_mention_name(raw)
        refs.append(Reference("redial", str(i), title, year))
    refs.append(Reference("ccpe", "Zodiac", "Zodiac"))  # no year, one film of that name
    refs.append(Reference("ccpe", "Seven", "Seven"))  # no year, but known here: the 1995 one
    refs.append(Reference("ccpe", "Titanic", "Titanic"))  # no year, unknown: two on TMDB
    got = resolve(refs, tmp_path)
    assert got[("ml1m", "0")].tmdb_id == 9087
    assert got[("ml1m", "0")].method == "title_search"
    assert got[("ml1m", "1")].tmdb_id == 807  # TMDB calls it Se7en: the alternate title finds it
    assert got[("ml1m", "1")].method == "title_search_alt_title"
    assert got[("ml1m", "2")].tmdb_id == 9900001 and got[("ml1m", "3")].tmdb_id == 9900002
    assert got[("redial", "0")].tmdb_id == 9336
    assert got[("redial", "1")].tmdb_id == 356305
    assert got[("ccpe", "Zodiac")].tmdb_id == 1949
    assert got[("ccpe", "Seven")].tmdb_id == 807
    assert got[("ccpe", "Seven")].method == "title_only_unique"
    titanic = got[("ccpe", "Titanic")]
    assert titanic.tmdb_id == 597 and titanic.method == "title_search_no_year"
    assert titanic.confidence < 0.75 and "most popular of 2" in titanic.note


def test_unknown_title_stays_unresolved_with_a_stable_surrogate(tmp_path):
    refs = [
        Reference("redial", "1", "Not A Real Film", 1999),
        Reference("inspired_mention", "Not A Real Film (1999)", "Not A Real Film", 1999),
    ]
    got = resolve(refs, tmp_path)
    a, b = got[("redial", "1")], got[("inspired_mention", "Not A Real Film (1999)")]
    assert a.method == b.method == "unresolved"
    assert a.canonical_id == b.canonical_id and a.canonical_id.startswith("local:")


def test_local_match_needs_no_request(tmp_path):
    refs = [
        Reference("movietweetings", "tt0443706", "Zodiac", 2007, imdb_id="tt0443706"),
        Reference("redial", "5", "Zodiac", 2007),
    ]
    lake = Warehouse(tmp_path / "wh")
    with FakeTmdb() as server:
        client = client_for(server, api_key=KEY)
        resolver = Resolver(
            fetch=lambda reqs: fetch_through_cache(
                reqs, cache=ResponseCache(lake), client=client, run_id="r", report=FetchReport()
            )
        )
        matches = {m.ref.source: m for m in resolver.run(refs)}
        assert [p for p, _ in server.log] == ["/3/find/tt0443706?external_source=imdb_id"]
    assert matches["redial"].method == "title_year_exact" and matches["redial"].tmdb_id == 1949
