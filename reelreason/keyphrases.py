"""LLM keyphrases per film: prompt, validation, retries, cache, and phrase-level retrieval.

Each film is described by 10-15 short phrases (mood, themes, style, audience, emotions, plot
elements, similar films) written by a chat model from the film's own text. Every phrase is
embedded on its own, so a request can be matched phrase by phrase and the match explained.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from reelreason.http_limits import (
    OPENAI_DEADLINE_S,
    OPENAI_MAX_RESPONSE_MB,
    bounded_openai_http_client,
)
from reelreason.warehouse import Warehouse

# Bump when the prompt or the validation rules change: cached answers of an older version
# are not reused (they are keyed by it).
PROMPT_VERSION = "kp-v1"
MIN_PHRASES, MAX_PHRASES = 10, 15
MIN_WORDS, MAX_WORDS = 2, 4
MAX_CHARS = 48

SYSTEM_PROMPT = (
    "You describe films for a recommender. Given a film's title, genres, plot and keywords, "
    f"write {MIN_PHRASES} to {MAX_PHRASES} keyphrases of {MIN_WORDS} to {MAX_WORDS} words "
    "each, covering mood, themes, style, audience, emotions, plot elements and similar "
    "films. Use only what the text supports. Answer with JSON only: "
    '{"keyphrases": ["...", "..."]}'
)


# Answers an endpoint gives about one request (bad input, content filter), not about itself.
_FILM_REFUSALS = (400, 404, 422)


class InvalidKeyphrases(ValueError):
    """The model's answer broke the contract; the message says how (fed back on retry)."""


def messages_for(film_text: str) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": film_text},
    ]


def _strip_fences(content: str) -> str:
    # Some local models wrap JSON in ```json fences despite being asked not to.
    match = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", content, re.DOTALL)
    return match.group(1) if match else content


def validate(content: str | None) -> list[str]:
    """The phrases of a model answer, or InvalidKeyphrases saying what is wrong."""
    if not content or not content.strip():
        raise InvalidKeyphrases("the answer was empty")
    try:
        data = json.loads(_strip_fences(content))
    except json.JSONDecodeError as exc:
        raise InvalidKeyphrases(f"the answer is not valid JSON ({exc.msg})") from None
    phrases = data.get("keyphrases") if isinstance(data, dict) else data
    if not isinstance(phrases, list):
        raise InvalidKeyphrases('the answer must be {"keyphrases": [...]}, a list of strings')
    if not all(isinstance(p, str) for p in phrases):
        raise InvalidKeyphrases("every keyphrase must be a string")
    cleaned = [" ".join(p.split()).strip(" .;,") for p in phrases]
    if not MIN_PHRASES <= len(cleaned) <= MAX_PHRASES:
        raise InvalidKeyphrases(
            f"{len(cleaned)} keyphrases given; write between {MIN_PHRASES} and {MAX_PHRASES}"
        )
    bad = [p for p in cleaned if not MIN_WORDS <= len(p.split()) <= MAX_WORDS or len(p) > MAX_CHARS]
    if bad:
        raise InvalidKeyphrases(
            f"each keyphrase must have {MIN_WORDS}-{MAX_WORDS} words and at most {MAX_CHARS} "
            f"characters; these do not: {bad[:3]}"
        )
    seen: set[str] = set()
    dupes = [p for p in cleaned if p.lower() in seen or seen.add(p.lower())]
    if dupes:
        raise InvalidKeyphrases(f"keyphrases must not repeat: {dupes[:3]}")
    return cleaned


@dataclass
class GenerationReport:
    films: int = 0
    cached: int = 0
    generated: int = 0
    failed: int = 0
    requests: int = 0
    invalid_answers: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            f"keyphrase_{k}": v
            for k, v in self.__dict__.items()
            if k != "failures" and not isinstance(v, dict)
        }


class ChatClient:
    """The edge to an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM).
    Rate limits, 5xx and timeouts are retried by the openai SDK (max_retries, backoff,
    Retry-After); invalid answers are retried here with the reason fed back."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str | None,
        temperature: float = 0.2,
        timeout: float = 60.0,
        max_retries: int = 6,
        deadline: float = OPENAI_DEADLINE_S,
        max_response_bytes: int = OPENAI_MAX_RESPONSE_MB << 20,
    ):
        import openai

        self.model = model
        self.temperature = temperature
        self._client = openai.OpenAI(
            api_key=api_key or "not-needed-for-local-servers",
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=bounded_openai_http_client(
                deadline, max_response_bytes, timeout, f"chat model {model}"
            ),
        )
        self._lock = threading.Lock()
        self.requests = 0

    def complete(self, messages: list[dict]) -> str | None:
        with self._lock:
            self.requests += 1
        response = self._client.chat.completions.create(
            model=self.model,
            messages=messages,
            temperature=self.temperature,
            response_format={"type": "json_object"},
        )
        return response.choices[0].message.content if response.choices else None


def keyphrases_for(
    complete: Callable[[list[dict]], str | None], film_text: str, *, attempts: int = 3
) -> tuple[list[str], int]:
    """Phrases for one film and how many invalid answers it took; after `attempts` invalid
    answers, InvalidKeyphrases with the last reason."""
    messages = messages_for(film_text)
    invalid = 0
    for _ in range(attempts):
        content = complete(messages)
        try:
            return validate(content), invalid
        except InvalidKeyphrases as exc:
            invalid += 1
            messages = [
                *messages_for(film_text),
                {"role": "assistant", "content": content or ""},
                {
                    "role": "user",
                    "content": f"That answer was invalid: {exc}. Answer again, JSON only.",
                },
            ]
            last = exc
    raise InvalidKeyphrases(f"{attempts} invalid answers; last: {last}")


class KeyphraseCache:
    """Phrases by (model, prompt version, film text sha256) in the internal table
    `keyphrase_cache`: a film whose text has not changed is never sent again."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse

    def lookup(self, model: str, shas: Iterable[str]) -> dict[str, list[str]]:
        shas = list(dict.fromkeys(shas))
        if not shas:
            return {}
        with self.warehouse.session() as con:
            con.register("wanted_film_shas", pa.table({"s": shas}))
            rows = con.execute(
                """SELECT text_sha256, arg_max(phrases, created_at) FROM keyphrase_cache
                   WHERE model = ? AND prompt_version = ?
                     AND text_sha256 IN (SELECT s FROM wanted_film_shas)
                   GROUP BY text_sha256""",
                [model, PROMPT_VERSION],
            ).fetchall()
            con.unregister("wanted_film_shas")
        found = {}
        for sha, phrases in rows:
            try:  # a damaged entry is asked again rather than published
                found[sha] = validate(json.dumps({"keyphrases": list(phrases or [])}))
            except InvalidKeyphrases:
                continue
        return found

    def store(self, model: str, phrases: dict[str, list[str]], *, run_id: str) -> None:
        if not phrases:
            return
        table = pa.table(
            {
                "model": [model] * len(phrases),
                "prompt_version": [PROMPT_VERSION] * len(phrases),
                "text_sha256": list(phrases),
                "phrases": pa.array(list(phrases.values()), pa.list_(pa.string())),
                "created_at": pa.array(
                    [time.time_ns() // 1000] * len(phrases), pa.timestamp("us", tz="UTC")
                ),
            }
        )
        self.warehouse.append_rows("keyphrase_cache", table, run_id=run_id)


def generate_keyphrases(
    client: ChatClient,
    films: Sequence[tuple[str, str, str]],
    cache: KeyphraseCache,
    *,
    run_id: str,
    concurrency: int = 4,
    attempts: int = 3,
    flush_every: int = 200,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, list[str]], GenerationReport]:
    """Phrases per text sha256 for films given as (movie_id, text, text_sha256): cache first,
    then the model, several requests at once; answers are committed in slices so an
    interrupted run resumes where it stopped."""
    start = time.monotonic()
    report = GenerationReport(films=len(films))
    by_sha = {sha: (movie_id, text) for movie_id, text, sha in films}
    found = cache.lookup(client.model, by_sha)
    report.cached = len(found)
    todo = [sha for sha in by_sha if sha not in found]
    pending: dict[str, list[str]] = {}

    import openai

    def one(sha: str):
        try:
            phrases, invalid = keyphrases_for(client.complete, by_sha[sha][1], attempts=attempts)
            return sha, phrases, invalid, None
        except InvalidKeyphrases as exc:
            return sha, None, attempts, str(exc)
        except openai.APIStatusError as exc:
            if exc.status_code in _FILM_REFUSALS:  # this film's request (e.g. a content filter)
                return sha, None, 0, f"the endpoint refused this film: HTTP {exc.status_code}"
            raise  # auth, rate limits past every retry, 5xx: the endpoint, not the film

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            for done, (sha, phrases, invalid, error) in enumerate(pool.map(one, todo), 1):
                report.invalid_answers += invalid
                if phrases is None:
                    report.failed += 1
                    report.failures[by_sha[sha][0]] = error
                else:
                    report.generated += 1
                    pending[sha] = phrases
                if len(pending) >= flush_every:
                    cache.store(client.model, pending, run_id=run_id)
                    found.update(pending)
                    pending = {}
                if done % 100 == 0 or done == len(todo):
                    log(f"keyphrases: {done:,}/{len(todo):,} films asked")
    finally:  # answers already paid for are kept, even when the run stops here
        cache.store(client.model, pending, run_id=run_id)
        found.update(pending)
    report.requests = client.requests
    report.seconds = round(time.monotonic() - start, 3)
    return found, report


# --- retrieval --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhraseMatch:
    request_phrase: str
    film_phrase: str
    similarity: float


@dataclass(frozen=True)
class Scored:
    movie_id: str
    score: float
    matches: tuple[PhraseMatch, ...]


def retrieve(
    request_phrases: Sequence[str],
    request_vectors: np.ndarray,
    phrase_movie_ids: Sequence[str],
    phrase_texts: Sequence[str],
    phrase_vectors: np.ndarray,
    *,
    aggregate: str = "max",
    k: int = 10,
) -> list[Scored]:
    """Films for a request given as keyphrases. For each request phrase q and film f,
    s(q, f) = the best cosine between q and any of f's phrases. A film scores max_q s(q, f)
    ("max": its single best-matching aspect) or sum_q s(q, f) ("sum": how many aspects it
    covers). The explanation is, per request phrase, the film phrase that matched it.
    Vectors are expected L2-normalised (cosine = dot product)."""
    if aggregate not in ("max", "sum"):
        raise ValueError(f"aggregate must be 'max' or 'sum', not {aggregate!r}")
    if len(request_phrases) == 0 or len(phrase_texts) == 0:
        return []
    sims = np.asarray(request_vectors, np.float32) @ np.asarray(phrase_vectors, np.float32).T
    films = sorted(set(phrase_movie_ids))
    index = {m: i for i, m in enumerate(films)}
    owner = np.array([index[m] for m in phrase_movie_ids])
    best = np.full((len(request_phrases), len(films)), -np.inf, np.float32)
    best_phrase = np.zeros((len(request_phrases), len(films)), np.int64)
    for j in range(sims.shape[1]):  # one pass over phrases: per film, the best per request
        f = owner[j]
        better = sims[:, j] > best[:, f]
        best[better, f] = sims[better, j]
        best_phrase[better, f] = j
    scores = best.max(axis=0) if aggregate == "max" else best.sum(axis=0)
    top = np.argsort(-scores, kind="stable")[:k]
    return [
        Scored(
            movie_id=films[f],
            score=float(scores[f]),
            matches=tuple(
                PhraseMatch(request_phrases[q], phrase_texts[best_phrase[q, f]], float(best[q, f]))
                for q in np.argsort(-best[:, f], kind="stable")
            ),
        )
        for f in top
    ]


# The same retrieval in SQL, over `keyphrase_embeddings_st_vectors` and a `request` table of
# (request_phrase, vector FLOAT[dim]) — README "Keyphrases" shows it in use.
RETRIEVAL_SQL = """
WITH per_aspect AS (  -- each film's best phrase for each request phrase
    SELECT k.movie_id, r.request_phrase,
           max(array_cosine_similarity(r.vector, k.vector)) AS similarity,
           arg_max(k.phrase, array_cosine_similarity(r.vector, k.vector)) AS matched_phrase
    FROM request r CROSS JOIN keyphrase_embeddings_st_vectors k
    GROUP BY k.movie_id, r.request_phrase
)
SELECT movie_id,
       max(similarity) AS score_max,
       sum(similarity) AS score_sum,
       list(request_phrase || ' ~ ' || matched_phrase ORDER BY similarity DESC) AS explanation
FROM per_aspect
GROUP BY movie_id
ORDER BY score_max DESC
LIMIT 10
"""


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    text: str
    phrases: tuple[str, ...]
    genres: frozenset[str]


def load_requests() -> list[Request]:
    """30 hand-written requests with their keyphrases and the genres a good answer has
    (reelreason/data/keyphrase_requests.tsv)."""
    from importlib import resources

    lines = (
        resources.files("reelreason")
        .joinpath("data/keyphrase_requests.tsv")
        .read_text(encoding="utf-8")
    )
    out = []
    for line in lines.splitlines()[1:]:
        if line.strip():
            text, phrases, genres = line.split("\t")
            out.append(Request(text, tuple(phrases.split("|")), frozenset(genres.split("|"))))
    return out


def genre_precision(top: Sequence[str], genres_of: dict[str, Sequence[str]], wanted) -> float:
    """Share of the returned films that have at least one of the wanted genres."""
    if not top:
        return 0.0
    return sum(1 for m in top if wanted & set(genres_of.get(m) or ())) / len(top)
