"""Movie resolution end to end: the sample offline, the full profile against a local TMDB."""

import math

from assets.incremental import REUSE_TAG
from reelreason.canonical import build_movies
from reelreason.genres import unify_genres
from reelreason.resolve import Match, Reference
from reelreason.texts import movie_text
from tests.conftest import step_errors
from tests.fakes.tmdb_server import FakeTmdb

MOVIE_TABLES = ("movie_xref", "tmdb_movies", "movies", "movie_texts")


def materializations(result) -> dict:
    return {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }


def check_results(result) -> dict:
    return {
        (
            e.event_specific_data.asset_key.to_user_string(),
            e.event_specific_data.check_name,
        ): e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_sample_build_is_enriched_offline_from_the_seeded_cache(sample_build):
    builder, result = sample_build
    assert result.success, step_errors(result)
    meta = materializations(result)
    # Every TMDB answer the sample needs is in sample/tmdb/responses.jsonl.
    assert meta["movie_xref"]["tmdb_not_fetched"].value == 0
    assert meta["tmdb_movies"]["tmdb_not_fetched"].value == 0
    assert meta["movie_xref"]["tmdb_requests_fetched"].value == 0
    q = builder.query
    heat = q(
        "SELECT movie_id, title, year, directors, sources, n_ratings, n_mentions "
        "FROM movies WHERE tmdb_id = 949"
    )
    assert heat == [
        (
            "tmdb:949",
            "Heat",
            1995,
            ["Michael Mann"],
            ["ml1m", "movietweetings", "inspired_movies", "redial", "inspired_mention", "ccpe"],
            heat[0][5],
            heat[0][6],
        )
    ]
    assert heat[0][5] > 0 and heat[0][6] > 0
    # The same film from six sources is one row; the decoy Heat (1986) is not merged in.
    assert q("SELECT count(*) FROM movies WHERE title = 'Heat'")[0][0] == 1
    assert (
        q("SELECT count(*) FROM movies")[0][0]
        == q("SELECT count(DISTINCT movie_id) FROM movie_xref")[0][0]
    )
    assert q("SELECT movie_id FROM movie_xref WHERE source = 'ccpe' AND source_id = 'Zodiac'") == [
        ("tmdb:1949",)
    ]
    # Texts: enriched films carry the template's fields; none has a placeholder.
    (text,) = q("SELECT text FROM movie_texts WHERE movie_id = 'tmdb:949'")[0]
    assert text.startswith("Title: Heat (1995). Genres: ") and "Director: Michael Mann." in text
    assert " Plot: " in text and " Keywords: " in text
    assert (
        q(
            "SELECT count(*) FROM movie_texts WHERE regexp_matches(text, "
            "'(^|: |, )(nan|None|null)([.,]|$)')"
        )[0][0]
        == 0
    )
    checks = check_results(result)
    assert checks[("movies", "movie_id_unique")].passed
    assert checks[("tmdb_movies", "tmdb_enrichment")].passed


# The steps that ask TMDB and the tables made from its answers; the rest adds nothing here.
THROUGH_TEXTS = '+key:"movie_texts" or key:"warehouse_build"'


def test_full_profile_enriches_through_the_api_once(builder, monkeypatch):
    with FakeTmdb() as server:
        monkeypatch.setenv("TMDB_READ_ACCESS_TOKEN", server.token)
        first = builder.run(THROUGH_TEXTS, tmdb_base_url=server.base_url, **_online_sample())
        assert first.success, step_errors(first)
        requests_first = server.request_count
        assert requests_first > 0 and server.auth_seen["bearer"] == requests_first
        # Recomputed (not reused), so resolution really goes through the cache again.
        second = builder.run(
            THROUGH_TEXTS,
            tmdb_base_url=server.base_url,
            tags={REUSE_TAG: "off"},
            **_online_sample(),
        )
        assert second.success
        assert server.request_count == requests_first  # warm cache: zero requests
    assert builder.query("SELECT count(*) FROM tmdb_movies")[0][0] > 50
    meta = materializations(second)
    assert meta["movie_xref"]["tmdb_cache_hits"].value > 0


def test_full_profile_without_credentials_completes_unenriched(builder, monkeypatch):
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("TMDB_READ_ACCESS_TOKEN", raising=False)
    result = builder.run(**_online_sample())
    assert result.success, step_errors(result)
    meta = materializations(result)
    assert meta["movie_xref"]["tmdb_status"].value.startswith("not enriched: no TMDB credentials")
    check = check_results(result)[("tmdb_movies", "tmdb_enrichment")]
    assert not check.passed and "not enriched: no TMDB credentials" in check.description
    q = builder.query
    assert q("SELECT count(*) FROM tmdb_movies")[0][0] == 0
    # Source metadata still makes a usable film: MovieLens title and year, the union of the
    # sources' genres (MovieLens, MovieTweetings, INSPIRED) in one vocabulary.
    assert q("SELECT title, year, genres, enriched FROM movies WHERE movie_id = 'tmdb:862'") == [
        ("Toy Story", 1995, ["Animation", "Family", "Comedy", "Adventure", "Fantasy"], False)
    ]
    assert builder.lake.resolve_build()["build_id"] == result.run_id


def test_wrong_credentials_fail_the_asset_clearly_and_never_show_the_key(builder, monkeypatch):
    with FakeTmdb() as server:
        monkeypatch.setenv("TMDB_API_KEY", "leaky-secret-777")
        result = builder.run(tmdb_base_url=server.base_url, **_online_sample())
    assert not result.success
    errors = step_errors(result)
    assert "movie_xref" in errors and "TMDB rejected the credentials (HTTP 401" in errors
    everything = "\n".join(str(e) for e in result.all_events)
    assert "leaky-secret-777" not in everything
    con = builder.lake.connect(read_only=True)  # latest state: no build was published
    stored = con.execute("SELECT * FROM raw_files, (SELECT count(*) FROM tmdb_responses)")
    assert "leaky-secret-777" not in str(stored.fetchall())
    con.close()


def _online_sample():
    """Sample files, but the full profile's behaviour: TMDB is called, nothing pre-seeded."""
    from pipelines.settings import SAMPLE_RAW_DIR

    return {"raw_dir": SAMPLE_RAW_DIR, "offline": False, "profile": "full"}


# --- pure pieces -------------------------------------------------------------------------------


def test_text_for_an_unmatched_film_has_no_placeholders():
    text = movie_text(
        title="Ghost in the Shell",
        year=1995,
        genres=[],
        directors=[None, "nan"],
        cast=None,
        overview=math.nan,
        keywords=["None", "", "  "],
    )
    assert text == "Title: Ghost in the Shell (1995)."
    assert (
        movie_text(title="Akira", year=None, genres=["Animation"], directors=["A", "B"])
        == "Title: Akira. Genres: Animation. Directors: A, B."
    )


def test_genres_unify_to_tmdb_vocabulary():
    assert unify_genres(
        ["Children's", "Sci-Fi", "Film-Noir", "Musical", "Short", "Drama", "Science Fiction"]
    ) == ["Family", "Science Fiction", "Crime", "Music", "Drama"]


def test_years_far_apart_under_one_tmdb_id_go_to_review():
    refs = [Reference("ml1m", "1", "Heat", 1995), Reference("redial", "9", "Heat", 1999)]
    matches = [Match(r, method="title_year_exact", tmdb_id=949) for r in refs]
    movies, review = build_movies(matches, {}, {})
    assert len(movies) == 1 and movies[0]["sources"] == ["ml1m", "redial"]
    assert review[0]["source_years"] == [1995, 1999] and review[0]["year_spread"] == 4


def test_movie_tables_are_part_of_the_build(sample_build):
    builder, result = sample_build
    assert result.success
    (build,) = builder.lake.builds()
    recorded = {
        t
        for (t,) in builder.query(
            f"SELECT table_name FROM build_tables WHERE build_id = '{build['build_id']}'"
        )
    }
    assert set(MOVIE_TABLES) | {"movie_merge_review"} <= recorded
