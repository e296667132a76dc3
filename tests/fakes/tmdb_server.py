"""A real HTTP server on 127.0.0.1 that speaks the TMDB v3 API over a small film catalog.

Used by the tests (with injected 429s, 5xx, resets and slow answers), by the benchmark, and
to record the sample profile's pre-seeded response cache. Responses follow TMDB's shapes:
`/movie/{id}?append_to_response=credits,keywords`, `/find/{imdb}?external_source=imdb_id`,
`/search/movie?query=&year=`, and `{status_code, status_message, success: false}` errors.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.fakes import LocalService, send_json

CATALOG = Path(__file__).resolve().parents[2] / "sample" / "tmdb" / "catalog.json"


@dataclass
class Faults:
    """What fraction of requests fail, and how. Seeded, so a test is repeatable."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "429_retry_after", "500", "503")  # also: reset, slow
    slow_seconds: float = 3.0
    seed: int = 1
    # Exact failures for given paths, consumed in order: {"/movie/862": ["500", "429"]}
    script: dict[str, list[str]] = field(default_factory=dict)


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and len(date) >= 4 and date[:4].isdigit() else None


class FakeTmdb(LocalService):
    path_prefix = "/3"

    def __init__(
        self,
        catalog: dict | None = None,
        *,
        api_key: str = "test-api-key-123",
        token: str = "test-read-token-456",
        latency: float = 0.0,
        faults: Faults | None = None,
    ):
        catalog = catalog if catalog is not None else json.loads(CATALOG.read_text())
        self.movies = {m["id"]: m for m in catalog["movies"]}
        # Folded names once, not per request: a 40k-film catalogue is searched thousands of
        # times by a full-scale build.
        self._names = [
            (m, [n for n in {_fold(m["title"]), _fold(m.get("original_title") or "")} if n])
            for m in self.movies.values()
        ]
        self._by_word: dict[str, set[int]] = {}
        for i, (_, names) in enumerate(self._names):
            for word in {w for n in names for w in n.split()}:
                self._by_word.setdefault(word, set()).add(i)
        self._by_imdb: dict[str, list[dict]] = {}
        for m in self.movies.values():
            if m.get("imdb_id"):
                self._by_imdb.setdefault(m["imdb_id"], []).append(m)
        self.tv = catalog.get("tv", [])
        self.api_key, self.token = api_key, token
        self.latency = latency
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self.log: list[tuple[str, int]] = []  # (path?query without credentials, status)
        self.auth_seen: Counter = Counter()  # "bearer" / "api_key" / "none"

    @property
    def request_count(self) -> int:
        return len(self.log)

    # --- request handling ----------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        api_key = query.pop("api_key", None)
        shown = url.path + (
            "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items())) if query else ""
        )
        bearer = h.headers.get("Authorization", "")
        if self.latency:
            time.sleep(self.latency)
        if bearer == f"Bearer {self.token}":
            self.auth_seen["bearer"] += 1
        elif api_key == self.api_key:
            self.auth_seen["api_key"] += 1
        else:
            self.auth_seen["none"] += 1
            return self._send(
                h, shown, 401, _error(7, "Invalid API key: You must be granted a valid key.")
            )
        fault = self._pick_fault(url.path)
        if fault == "reset":
            with self._lock:
                self.log.append((shown, 0))
            h.close_connection = True
            h.connection.shutdown(2)  # drop the connection without an answer
            return
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        elif fault in ("429", "429_retry_after"):
            headers = {"Retry-After": "1"} if fault == "429_retry_after" else {}
            return self._send(
                h,
                shown,
                429,
                _error(25, "Your request count (41) is over the allowed limit of 40."),
                headers,
            )
        elif fault in ("500", "502", "503", "504"):
            return self._send(
                h,
                shown,
                int(fault),
                _error(11, "Internal error: Something went wrong, contact TMDb."),
            )
        status, body = self._route(url.path.removeprefix("/3"), query)
        self._send(h, shown, status, body)

    def _pick_fault(self, path: str) -> str | None:
        with self._lock:
            scripted = self.faults.script.get(path.removeprefix("/3"))
            if scripted:
                return scripted.pop(0)
            if self.faults.rate and self._rng.random() < self.faults.rate:
                return self._rng.choice(self.faults.kinds)
        return None

    def _send(self, h, shown: str, status: int, body: dict, headers: dict | None = None) -> None:
        with self._lock:
            self.log.append((shown, status))
        send_json(h, status, body, headers)

    def _route(self, path: str, query: dict) -> tuple[int, dict]:
        if m := re.fullmatch(r"/movie/(\d+)", path):
            movie = self.movies.get(int(m.group(1)))
            if movie is None:
                return 404, _error(34, "The resource you requested could not be found.")
            return 200, self.details(movie, query.get("append_to_response", ""))
        if m := re.fullmatch(r"/find/([^/]+)", path):
            imdb = m.group(1)
            return 200, {
                "movie_results": [self.search_result(x) for x in self._by_imdb.get(imdb, [])],
                "person_results": [],
                "tv_results": [self.tv_result(x) for x in self.tv if x.get("imdb_id") == imdb],
                "tv_episode_results": [],
                "tv_season_results": [],
            }
        if path == "/search/movie":
            return 200, self.search(query)
        return 404, _error(34, "The resource you requested could not be found.")

    # --- TMDB shapes ---------------------------------------------------------------------------

    def search(self, query: dict) -> dict:
        words = _fold(query.get("query", ""))
        year = query.get("year") or query.get("primary_release_year")
        hits = []
        # Films having every whole word of the query, then TMDB-like substring matching on
        # those (a query word that is only part of a title word does not match here).
        tokens = words.split()
        ids = set.intersection(*(self._by_word.get(t, set()) for t in tokens)) if tokens else ()
        for i in sorted(ids):
            m, names = self._names[i]
            if not any(words in n for n in names):
                continue
            if year and str(_year(m.get("release_date"))) != str(year):
                continue
            hits.append(m)
        hits.sort(key=lambda m: -m.get("popularity", 0))
        results = [self.search_result(m) for m in hits[:20]]
        return {
            "page": 1,
            "results": results,
            "total_pages": 1 if results else 0,
            "total_results": len(results),
        }

    @staticmethod
    def search_result(m: dict) -> dict:
        return {
            "adult": False,
            "backdrop_path": m.get("backdrop_path"),
            "genre_ids": [g["id"] for g in m.get("genres", [])],
            "id": m["id"],
            "original_language": m.get("original_language", "en"),
            "original_title": m.get("original_title", m["title"]),
            "overview": m.get("overview", ""),
            "popularity": m.get("popularity", 0.0),
            "poster_path": m.get("poster_path"),
            "release_date": m.get("release_date", ""),
            "title": m["title"],
            "video": False,
            "vote_average": m.get("vote_average", 0.0),
            "vote_count": m.get("vote_count", 0),
        }

    @staticmethod
    def tv_result(t: dict) -> dict:
        keys = (
            "id",
            "name",
            "original_name",
            "first_air_date",
            "overview",
            "genre_ids",
            "popularity",
            "vote_average",
            "vote_count",
            "poster_path",
            "origin_country",
            "original_language",
        )
        return {"adult": False, "backdrop_path": None, **{k: t.get(k) for k in keys}}

    @staticmethod
    def details(m: dict, append: str) -> dict:
        body = {
            "adult": False,
            "backdrop_path": m.get("backdrop_path"),
            "belongs_to_collection": None,
            "budget": 0,
            "genres": m.get("genres", []),
            "homepage": "",
            "id": m["id"],
            "imdb_id": m.get("imdb_id"),
            "origin_country": ["US"],
            "original_language": m.get("original_language", "en"),
            "original_title": m.get("original_title", m["title"]),
            "overview": m.get("overview", ""),
            "popularity": m.get("popularity", 0.0),
            "poster_path": m.get("poster_path"),
            "production_companies": [],
            "production_countries": [],
            "release_date": m.get("release_date", ""),
            "revenue": 0,
            "runtime": m.get("runtime"),
            "spoken_languages": [],
            "status": "Released",
            "tagline": m.get("tagline", ""),
            "title": m["title"],
            "video": False,
            "vote_average": m.get("vote_average", 0.0),
            "vote_count": m.get("vote_count", 0),
        }
        parts = set(append.split(","))
        if "credits" in parts:
            cast = [
                {
                    "adult": False,
                    "gender": 0,
                    "id": c["id"],
                    "known_for_department": "Acting",
                    "name": c["name"],
                    "original_name": c["name"],
                    "popularity": 1.0,
                    "profile_path": None,
                    "cast_id": i + 1,
                    "character": c.get("character", ""),
                    "credit_id": f"{m['id']:x}{i:04x}c",
                    "order": i,
                }
                for i, c in enumerate(m.get("cast", []))
            ]
            crew = [
                {
                    "adult": False,
                    "gender": 0,
                    "id": d["id"],
                    "known_for_department": "Directing",
                    "name": d["name"],
                    "original_name": d["name"],
                    "popularity": 1.0,
                    "profile_path": None,
                    "credit_id": f"{m['id']:x}{i:04x}d",
                    "department": "Directing",
                    "job": "Director",
                }
                for i, d in enumerate(m.get("directors", []))
            ]
            # Real credits list cast out of billing order now and then: sort by `order`.
            body["credits"] = {"cast": list(reversed(cast)), "crew": crew}
        if "keywords" in parts:
            body["keywords"] = {"keywords": m.get("keywords", [])}
        return body


def _error(code: int, message: str) -> dict:
    return {"status_code": code, "status_message": message, "success": False}
