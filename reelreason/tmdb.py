"""A TMDB v3 client: auth, a client-side rate limit, bounded concurrency, retries.

Auth is a v3 key (`?api_key=`) or a read-access token (`Authorization: Bearer`). Credentials
never leave this module: request keys, logs and errors carry the path and the other
parameters only. 429 / 5xx / timeouts / dropped connections are retried with exponential
backoff and jitter (honouring `Retry-After`); 401 stops everything at once; 404 and empty
results are answers ("not found"), not errors.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests
import urllib3

from reelreason.http_limits import (
    ACCEPT_ENCODING,
    AnswerRefused,
    AnswerTooLarge,
    DeadlineExceeded,
    Limits,
    read_requests_body,
)
from reelreason.tmdb_requests import (  # noqa: F401 - the client's vocabulary, used from here
    Request,
    Response,
    canonical_json,
    find_imdb,
    movie_details,
    search_movie,
)

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
RETRY_STATUS = {429, 500, 502, 503, 504}
# Bounds on one request: TMDB answers are a few kB (details with credits: well under 1 MB).
DEFAULT_DEADLINE_S = 30.0
DEFAULT_MAX_RESPONSE_MB = 8


class TmdbError(RuntimeError):
    """TMDB could not answer a request after all retries."""


class TmdbAuthError(TmdbError):
    """401: the credentials are wrong or missing. Retrying cannot help."""


class _RedactSecrets(logging.Filter):
    """urllib3 logs request URLs at DEBUG level, `?api_key=` included: mask the secrets."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for s in self.secrets:
                message = message.replace(s, "***")
            record.msg, record.args = message, ()
        return True


def _guard_http_logs(secrets: list[str]) -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    for f in logger.filters:
        if isinstance(f, _RedactSecrets):
            f.secrets = list(dict.fromkeys(f.secrets + [s for s in secrets if s]))
            return
    logger.addFilter(_RedactSecrets(secrets))


class RateLimiter:
    """Token bucket shared by all worker threads: at most `rate` requests per second."""

    def __init__(self, rate: float, burst: int | None = None):
        self.rate = float(rate)
        self.capacity = float(burst or max(1, int(rate)))
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait_s = (1 - self.tokens) / self.rate
            time.sleep(wait_s)


class TmdbClient:
    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        read_access_token: str | None = None,
        rate_limit: float = 20.0,
        max_concurrency: int = 8,
        timeout: float = 10.0,
        max_attempts: int = 6,
        backoff: float = 0.5,
        deadline: float = DEFAULT_DEADLINE_S,
        max_bytes: int = DEFAULT_MAX_RESPONSE_MB << 20,
        log: Callable[[str], None] | None = None,
    ):
        if not (api_key or read_access_token):
            raise TmdbAuthError("no TMDB credentials (TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN)")
        self.base_url = base_url.rstrip("/")
        _guard_http_logs([api_key, read_access_token])
        self._api_key = api_key
        self._token = read_access_token
        self.limiter = RateLimiter(rate_limit)
        self.max_concurrency = max(1, int(max_concurrency))
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.limits = Limits(
            deadline, max_bytes, "REELREASON_TMDB_DEADLINE_S", "REELREASON_TMDB_MAX_RESPONSE_MB"
        )
        self.log = log or (lambda msg: None)
        self._local = threading.local()
        self.stats = {"requests": 0, "retries": 0, "throttled": 0}
        self._stats_lock = threading.Lock()

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
            s.headers["Accept"] = "application/json"
            s.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what our bounded reader inflates
            if self._token:
                s.headers["Authorization"] = f"Bearer {self._token}"
        return s

    def _count(self, **inc: int) -> None:
        with self._stats_lock:
            for k, v in inc.items():
                self.stats[k] += v

    def redact(self, text: str) -> str:
        for secret in (self._api_key, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text

    def get(self, request: Request) -> Response:
        params = dict(request.params)
        if self._api_key and not self._token:
            params["api_key"] = self._api_key
        url = self.base_url + request.path
        where = f"TMDB {request.key}"  # never the credentials
        problem = ""
        for attempt in range(self.max_attempts):
            self.limiter.acquire()
            self._count(requests=1)
            retry_after, message = None, ""
            started = time.monotonic()
            try:
                # Streamed and never redirected: the body is read within the deadline and the
                # size cap, and a redirect must not carry `?api_key=` to another host.
                with self._session().get(
                    url, params=params, timeout=self.timeout, stream=True, allow_redirects=False
                ) as resp:
                    status = resp.status_code
                    if status == 200:
                        body = read_requests_body(resp, where, self.limits, started)
                        return Response(request.key, "ok", json.loads(body))
                    message = self.redact(_status_message(self._error_body(resp, where, started)))
                    retry_after = resp.headers.get("Retry-After") if status == 429 else None
                    location = resp.headers.get("Location", "")
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                urllib3.exceptions.HTTPError,
            ) as exc:
                status, problem = None, type(exc).__name__  # str(exc) may hold the key
            except DeadlineExceeded as exc:
                status, problem = None, str(exc)  # slow now may be fine later: retried
            except AnswerRefused as exc:
                raise TmdbError(str(exc)) from None  # too large or undecodable: never retried
            except ValueError:
                status, problem = None, "HTTP 200 with a body that is not JSON"
            if status == 404:
                return Response(request.key, "not_found", None)
            if status == 401:
                raise TmdbAuthError(
                    f"TMDB rejected the credentials (HTTP 401: {message}). Check "
                    "TMDB_API_KEY / TMDB_READ_ACCESS_TOKEN."
                )
            if status is not None and 300 <= status < 400:
                raise TmdbError(
                    f"{where}: HTTP {status} redirect to {self.redact(location)!r}; TMDB does "
                    "not redirect its API, so it is not followed (check REELREASON_TMDB_BASE_URL)"
                )
            if status is not None:
                if status not in RETRY_STATUS:
                    raise TmdbError(f"{where}: HTTP {status} {message}")
                problem = f"HTTP {status}"
                if status == 429:
                    self._count(throttled=1)
            if attempt + 1 < self.max_attempts:
                self._count(retries=1)
                time.sleep(self._delay(attempt, retry_after))
        raise TmdbError(f"{where}: gave up after {self.max_attempts} attempts ({problem})")

    def _error_body(self, resp, where: str, started: float) -> bytes:
        """An error's body, for its message: a line of JSON, so read at most 64 KiB of it."""
        small = Limits(self.limits.deadline_s, 64 << 10, self.limits.deadline_setting)
        try:
            return read_requests_body(resp, where, small, started)
        except AnswerTooLarge:
            return b"(an error body over 64 KiB, not read)"

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 60.0)
            except ValueError:
                pass
        return min(30.0, self.backoff * 2**attempt) * (0.5 + random.random())

    def get_many(
        self, requests_: Iterable[Request], on_response: Callable[[Response], None]
    ) -> None:
        """Fetch concurrently (bounded), calling `on_response` as answers arrive (in the
        caller's thread). The first 401 or exhausted request stops the rest."""
        pending = list(requests_)
        if not pending:
            return
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            futures = [pool.submit(self.get, r) for r in pending]
            try:
                for fut in as_completed(futures):
                    on_response(fut.result())  # re-raises the worker's error
            finally:
                for fut in futures:
                    fut.cancel()


def _status_message(body: bytes) -> str:
    try:
        answer = json.loads(body)
        return f"{answer.get('status_code')}: {answer.get('status_message')}"
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")
