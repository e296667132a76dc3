"""LLM keyphrases: the client against a chat-completions server on 127.0.0.1, the cache,
the retrieval aggregation, and the assets in a sample build."""

import json

import numpy as np
import pytest

from assets.incremental import REUSE_TAG
from reelreason.keyphrases import (
    PROMPT_VERSION,
    ChatClient,
    InvalidKeyphrases,
    KeyphraseCache,
    generate_keyphrases,
    keyphrases_for,
    load_requests,
    retrieve,
    validate,
)
from reelreason.warehouse import Warehouse
from tests.fakes.chat_server import FakeChat, grounded_phrases

FILM = (
    "Title: Heat (1995). Genres: Action, Crime, Drama. Director: Michael Mann. "
    "Plot: A group of professional bank robbers start to feel the heat from police. "
    "Keywords: bank robbery, obsession, los angeles."
)
FILMS = [(f"local:{i:016x}", FILM.replace("Heat", f"Heat {i}"), f"{i:064x}") for i in range(1, 7)]


def _client(chat: FakeChat, **kw) -> ChatClient:
    return ChatClient(
        model="fake-llm", api_key=chat.api_key, base_url=chat.base_url, max_retries=4, **kw
    )


def test_valid_answer_is_grounded_and_well_formed():
    with FakeChat() as chat:
        phrases, invalid = keyphrases_for(_client(chat, temperature=0.3).complete, FILM)
    assert invalid == 0 and 10 <= len(phrases) <= 15
    assert all(2 <= len(p.split()) <= 4 for p in phrases)
    assert "crime mood" in phrases and "bank robbery theme" in phrases  # from the film's text
    (request,) = chat.requests
    assert request.model == "fake-llm" and request.temperature == 0.3
    assert request.messages[-1]["content"] == FILM


def test_invalid_json_then_valid_answer_retries_with_the_reason():
    with FakeChat(script=["invalid_json"]) as chat:
        phrases, invalid = keyphrases_for(_client(chat).complete, FILM)
    assert invalid == 1 and len(phrases) == 12
    retry = chat.requests[1].messages
    assert retry[-1]["role"] == "user" and "not valid JSON" in retry[-1]["content"]


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("too_few", "3 keyphrases given"),
        ("too_long", "2-4 words"),
        ("duplicates", "must not repeat"),
    ],
)
def test_answers_that_break_the_contract_are_rejected(bad, reason):
    with FakeChat(script=[bad, bad, bad]) as chat:
        with pytest.raises(InvalidKeyphrases, match=reason):
            keyphrases_for(_client(chat).complete, FILM, attempts=3)
    assert chat.attempts == 3


def test_rate_limits_and_server_errors_are_retried():
    with FakeChat(script=[429, 500, 429]) as chat:
        phrases, invalid = keyphrases_for(_client(chat).complete, FILM)
    assert len(phrases) == 12 and invalid == 0 and chat.attempts == 4


def test_a_refused_film_is_quarantined_and_an_endpoint_failure_keeps_paid_answers(tmp_path):
    cache = KeyphraseCache(Warehouse(tmp_path / "wh"))
    with FakeChat(script=[None, 400]) as chat:  # film 1 fine, film 2 refused (content filter)
        found, report = generate_keyphrases(
            _client(chat), FILMS[:3], cache, run_id="r1", concurrency=1, log=lambda m: None
        )
    assert report.generated == 2 and report.failed == 1
    assert "refused this film: HTTP 400" in report.failures[FILMS[1][0]]
    with FakeChat(script=[None, 401]) as chat:  # then the key is revoked mid-run
        import openai

        with pytest.raises(openai.AuthenticationError):
            generate_keyphrases(
                _client(chat), FILMS[3:], cache, run_id="r2", concurrency=1, log=lambda m: None
            )
    # The answer given before the failure was stored: a rerun does not pay for it again.
    assert len(cache.lookup("fake-llm", [f[2] for f in FILMS[3:]])) == 1


def test_validation_rules():
    ok = json.dumps({"keyphrases": grounded_phrases(FILM)})
    assert validate(ok) == grounded_phrases(FILM)
    assert len(validate("```json\n" + ok + "\n```")) == 12  # fenced JSON is accepted
    for content, reason in [
        ("", "empty"),
        ('{"phrases": []}', "must be"),
        (json.dumps({"keyphrases": [1] * 12}), "string"),
        (json.dumps({"keyphrases": ["one"] + grounded_phrases(FILM)[:11]}), "2-4 words"),
        (json.dumps({"keyphrases": grounded_phrases(FILM, 16)}), "16 keyphrases"),
    ]:
        with pytest.raises(InvalidKeyphrases, match=reason):
            validate(content)


def test_generation_is_cached_and_rerun_sends_nothing(tmp_path):
    cache = KeyphraseCache(Warehouse(tmp_path / "wh"))
    with FakeChat(script=["too_few"] * 3) as chat:  # the first film asked fails 3 times
        found, report = generate_keyphrases(
            _client(chat), FILMS, cache, run_id="r1", concurrency=1, log=lambda m: None
        )
    assert report.failed == 1 and report.generated == 5 and len(found) == 5
    assert report.invalid_answers == 3 and list(report.failures) == [FILMS[0][0]]
    with FakeChat() as chat:
        found, report = generate_keyphrases(
            _client(chat), FILMS, cache, run_id="r2", concurrency=3, log=lambda m: None
        )
        assert report.cached == 5 and report.generated == 1 and chat.attempts == 1
    with FakeChat() as chat:
        found, report = generate_keyphrases(
            _client(chat), FILMS, cache, run_id="r3", log=lambda m: None
        )
        assert chat.attempts == 0 and report.cached == 6 and len(found) == 6
    # Another model or prompt version is another cache key.
    assert cache.lookup("other-model", [f[2] for f in FILMS]) == {}
    assert PROMPT_VERSION


def test_retrieval_aggregates_phrases_by_max_and_sum():
    # 2-d unit vectors at known angles make every cosine easy to check by hand.
    def unit(deg):
        return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))], np.float32)

    # A matches one aspect perfectly and the other badly; B matches both fairly well.
    phrase_films = ["A", "A", "B", "B", "C"]
    phrase_texts = ["dark mood", "musical numbers", "gloomy tone", "bank job", "space war"]
    phrase_vecs = np.stack([unit(0), unit(170), unit(20), unit(70), unit(180)])
    request = ["gloomy", "robbery"]
    request_vecs = np.stack([unit(0), unit(90)])
    cos = lambda deg: float(np.cos(np.radians(deg)))  # noqa: E731

    by_max = retrieve(request, request_vecs, phrase_films, phrase_texts, phrase_vecs, k=3)
    # max: A = max(cos0, cos80) = 1.0 beats B = max(cos20, cos20) = 0.94.
    assert [s.movie_id for s in by_max] == ["A", "B", "C"]
    assert by_max[0].score == pytest.approx(cos(0)) and by_max[1].score == pytest.approx(cos(20))
    by_sum = retrieve(
        request, request_vecs, phrase_films, phrase_texts, phrase_vecs, aggregate="sum"
    )
    # sum: B = cos20 + cos20 = 1.88 beats A = cos0 + cos80 = 1.17: it covers both aspects.
    assert [s.movie_id for s in by_sum][:2] == ["B", "A"]
    assert by_sum[0].score == pytest.approx(2 * cos(20))
    assert by_sum[1].score == pytest.approx(cos(0) + cos(80))
    # The explanation: which film phrase matched which request phrase, best first.
    assert [(m.request_phrase, m.film_phrase) for m in by_sum[0].matches] == [
        ("gloomy", "gloomy tone"),
        ("robbery", "bank job"),
    ]
    assert [m.film_phrase for m in by_sum[1].matches] == ["dark mood", "musical numbers"]
    with pytest.raises(ValueError, match="aggregate"):
        retrieve(request, request_vecs, phrase_films, phrase_texts, phrase_vecs, aggregate="avg")


def test_thirty_written_requests():
    requests = load_requests()
    assert len(requests) == 30
    assert all(r.phrases and r.genres for r in requests)


def _metadata(result, key: str) -> dict:
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == key
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_without_an_llm_endpoint_keyphrases_are_skipped_explicitly(sample_build):
    builder, result = sample_build
    assert result.success
    status = _metadata(result, "movie_keyphrases")["status"]
    assert status.startswith("skipped: no LLM endpoint configured")
    assert builder.query("SELECT count(*) FROM movie_keyphrases") == [(0,)]
    assert builder.query("SELECT count(*) FROM keyphrase_embeddings_st") == [(0,)]
    rows = builder.query("SELECT count(*) FROM eval_results WHERE segment = 'keyphrase_requests'")
    assert rows == [(0,)]


def test_keyphrase_build_against_a_local_chat_server(builder, monkeypatch):
    with FakeChat() as chat:
        monkeypatch.setenv("REELREASON_LLM_API_KEY", chat.api_key)
        first = builder.run(llm_base_url=chat.base_url, llm_model="fake-llm")
        asked = chat.attempts
    assert first.success
    films = builder.query("SELECT count(*) FROM movie_texts")[0][0]
    per_film = builder.query(
        "SELECT count(*) AS n FROM movie_keyphrases GROUP BY movie_id ORDER BY n"
    )
    assert len(per_film) == films and asked == films
    assert all(10 <= n <= 15 for (n,) in per_film)
    heat = builder.query(
        "SELECT list(phrase ORDER BY position) FROM movie_keyphrases k JOIN movies m "
        "USING (movie_id) WHERE m.title = 'Heat'"
    )[0][0]
    assert "crime mood" in heat  # grounded in the film's genres
    phrases, vectors = builder.query(
        "SELECT (SELECT count(*) FROM movie_keyphrases), count(*) FROM keyphrase_embeddings_st"
    )[0]
    assert phrases == vectors
    evals = dict(
        builder.query("SELECT model, value FROM eval_results WHERE segment = 'keyphrase_requests'")
    )
    assert {m.split(":")[0] for m in evals} == {
        "keyphrase_max",
        "keyphrase_sum",
        "single_vector",
        "baseline",
    }
    assert all(0 <= v <= 1 for v in evals.values())
    # The documented SQL runs over the published view and explains its matches.
    from reelreason.keyphrases import RETRIEVAL_SQL

    con = builder.lake.connect_build()
    con.execute(
        "CREATE TEMP TABLE request AS SELECT 'bank heist' AS request_phrase, vector "
        "FROM keyphrase_embeddings_st_vectors LIMIT 1"
    )
    top = con.execute(RETRIEVAL_SQL).fetchall()
    con.close()
    assert len(top) == 10 and top[0][1] == pytest.approx(1.0)  # the phrase itself, cosine 1
    assert top[0][3] and all(" ~ " in e for e in top[0][3])

    # Unchanged films, recomputed (not reused): every answer comes from the cache.
    with FakeChat() as chat:
        monkeypatch.setenv("REELREASON_LLM_API_KEY", chat.api_key)
        second = builder.run(
            "key:movie_keyphrases or key:warehouse_build",
            tags={REUSE_TAG: "off"},
            llm_base_url=chat.base_url,
            llm_model="fake-llm",
        )
        assert second.success and chat.attempts == 0
    assert _metadata(second, "movie_keyphrases")["keyphrase_cached"] == films


def test_an_embeddings_openai_key_alone_does_not_start_chat_calls(monkeypatch):
    from pipelines.definitions import build_definitions
    from pipelines.settings import Settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-embeddings-only")
    monkeypatch.delenv("REELREASON_LLM_API_KEY", raising=False)
    chat = build_definitions(Settings()).resources["chat_model"]
    assert chat.unavailable_reason().startswith("skipped: no LLM endpoint configured")
    monkeypatch.setenv("REELREASON_LLM_API_KEY", "sk-llm")
    chat = build_definitions(Settings()).resources["chat_model"]
    assert chat.unavailable_reason() is None
