"""What we ask TMDB and what it answers, as plain values: requests (path and parameters,
never credentials; their `key` is the cache key), answers, and the three endpoints we use.
No HTTP here: the client is reelreason/tmdb.py, the cache reelreason/enrich.py."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Request:
    path: str  # e.g. "/movie/862"
    params: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """Cache key: path and sorted parameters, never credentials."""
        return self.path + ("?" + urlencode(sorted(self.params)) if self.params else "")

    @classmethod
    def of(cls, path: str, **params) -> Request:
        return cls(path, tuple(sorted((k, str(v)) for k, v in params.items() if v is not None)))


@dataclass(frozen=True)
class Response:
    key: str
    status: str  # ok | not_found
    body: dict | None


def movie_details(tmdb_id: int) -> Request:
    return Request.of(f"/movie/{int(tmdb_id)}", append_to_response="credits,keywords")


def find_imdb(imdb_id: str) -> Request:
    if not re.fullmatch(r"tt\d{7,}", imdb_id):
        raise ValueError(f"not an IMDb id: {imdb_id!r}")
    return Request.of(f"/find/{imdb_id}", external_source="imdb_id")


def search_movie(query: str, year: int | None = None) -> Request:
    return Request.of(
        "/search/movie", query=query.strip(), year=year, include_adult="false", page=1
    )


def canonical_json(body: Mapping | None) -> str | None:
    return None if body is None else json.dumps(body, sort_keys=True, ensure_ascii=False)
