"""Movie resolution: every source's reference to a film -> one canonical movie.

Order, cheapest and surest first:
  1. MovieLens `links.csv` (movieId -> tmdbId): MovieLens ids are stable across releases.
  1b. The same file as an offline IMDb crosswalk (imdbId -> tmdbId): every reference that
     carries an IMDb id (MovieTweetings, INSPIRED's database) resolves without TMDB.
  2. IMDb ids (MovieTweetings, INSPIRED's database, links without a tmdbId) -> TMDB `/find`.
  3. Local matching of titles against films already known from steps 1-2 and from every
     source's own (title, year): exact year, then +-1, then a title that is unique.
  4. TMDB `/search/movie` with the year, then year +-1, then the alternate title, then no year.
  5. What is left stays unresolved under a stable surrogate id, shared by every reference
     with the same normalised title and year, so sources still meet without TMDB.

Canonical ids: `tmdb:<id>` when resolved, else `local:<16 hex of sha256(title key|year)>`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from reelreason.titles import title_key
from reelreason.tmdb_requests import Request, Response, find_imdb, search_movie

# Confidence by method (title searches scale this by title similarity).
CONFIDENCE = {
    "movielens_links": 1.0,
    "imdb_links": 1.0,
    "imdb_find": 1.0,
    "title_year_exact": 0.95,
    "title_year_near": 0.85,
    "title_only_unique": 0.75,
    "title_search": 0.9,
    "title_search_near_year": 0.8,
    "title_search_alt_title": 0.8,
    "title_search_no_year": 0.6,
    "unresolved": 0.0,
}
MIN_SIMILARITY = 0.85


@dataclass
class Reference:
    source: str  # ml1m | movietweetings | inspired_movies | inspired_mention | redial | ccpe
    source_id: str
    title: str | None
    year: int | None = None
    alt_title: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None  # from MovieLens links
    count: int = 0  # ratings or mentions behind this reference


@dataclass
class Candidate:
    tmdb_id: int
    title: str
    original_title: str | None
    year: int | None
    popularity: float = 0.0

    @classmethod
    def from_result(cls, r: dict) -> Candidate:
        date = r.get("release_date") or ""
        return cls(
            int(r["id"]),
            r.get("title") or "",
            r.get("original_title"),
            int(date[:4]) if date[:4].isdigit() else None,
            float(r.get("popularity") or 0.0),
        )


@dataclass
class Match:
    ref: Reference
    method: str = "unresolved"
    confidence: float = 0.0
    tmdb_id: int | None = None
    candidate: Candidate | None = None
    note: str | None = None
    linked_id: str | None = None  # a surrogate this reference was matched to locally

    @property
    def canonical_id(self) -> str:
        if self.tmdb_id is not None:
            return f"tmdb:{self.tmdb_id}"
        return self.linked_id or surrogate_id(self.ref)


def surrogate_id(ref: Reference) -> str:
    key = title_key(ref.title) or f"{ref.source}:{ref.source_id}"
    digest = hashlib.sha256(f"{key}|{ref.year or ''}".encode()).hexdigest()[:16]
    return f"local:{digest}"


def imdb_crosswalk(pairs: Iterable[tuple[str | None, int | None]]) -> dict[str, int]:
    """IMDb id -> TMDB id from (imdb_id, tmdb_id) pairs. An IMDb id that maps to two TMDB
    films is ambiguous and left out (it goes on to TMDB /find or the title steps)."""
    seen: dict[str, set[int]] = defaultdict(set)
    for imdb_id, tmdb_id in pairs:
        if imdb_id and tmdb_id:
            seen[imdb_id].add(int(tmdb_id))
    return {imdb_id: ids.pop() for imdb_id, ids in seen.items() if len(ids) == 1}


def similarity(a: str | None, b: str | None) -> float:
    ka, kb = title_key(a), title_key(b)
    if not ka or not kb:
        return 0.0
    return 1.0 if ka == kb else SequenceMatcher(None, ka, kb).ratio()


@dataclass
class Resolver:
    """Runs the steps above. `fetch` answers TMDB requests (through the cache); it returns
    only what it could get, so offline runs resolve what the cache and local data allow."""

    fetch: Callable[[list[Request]], dict[str, Response]]
    # IMDb id -> TMDB id from MovieLens links.csv (see imdb_crosswalk); ambiguous ids left out
    imdb_to_tmdb: dict[str, int] = field(default_factory=dict)
    matches: dict[tuple[str, str], Match] = field(default_factory=dict)
    requests_made: list[Request] = field(default_factory=list)
    # (title key, year) -> canonical ids seen for it; title key -> ids (any year)
    _by_title_year: dict[tuple[str, int | None], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _by_title: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def _ask(self, reqs: Iterable[Request]) -> dict[str, Response]:
        reqs = list({r.key: r for r in reqs}.values())
        self.requests_made += reqs
        return self.fetch(reqs) if reqs else {}

    def _remember(self, movie_id: str, titles: Iterable[str | None], year: int | None) -> None:
        for t in titles:
            k = title_key(t)
            if k:
                if year is not None:
                    self._by_title_year[(k, year)].add(movie_id)
                self._by_title[k].add(movie_id)

    def _resolve(self, m: Match, method: str, cand: Candidate, sim: float = 1.0, note=None):
        m.method, m.tmdb_id, m.candidate = method, cand.tmdb_id, cand
        m.confidence = round(CONFIDENCE[method] * sim, 3)
        m.note = note
        self._remember(f"tmdb:{cand.tmdb_id}", (m.ref.title, m.ref.alt_title), m.ref.year)
        self._remember(f"tmdb:{cand.tmdb_id}", (cand.title, cand.original_title), cand.year)

    def run(self, refs: list[Reference]) -> list[Match]:
        for ref in refs:
            self.matches.setdefault((ref.source, ref.source_id), Match(ref))
        todo = list(self.matches.values())
        self._by_links(todo)
        self._by_crosswalk([m for m in todo if m.tmdb_id is None and m.ref.imdb_id])
        self._by_imdb([m for m in todo if m.tmdb_id is None and m.ref.imdb_id])
        self._locally([m for m in todo if m.tmdb_id is None])
        self._by_search([m for m in todo if m.tmdb_id is None and m.ref.title])
        self._locally([m for m in todo if m.tmdb_id is None])  # mentions of searched films
        # What TMDB could not place still meets across sources: a dated title that stays
        # unresolved joins the index under its surrogate, for undated mentions to match.
        for m in todo:
            if m.tmdb_id is None and m.ref.year is not None:
                self._remember(surrogate_id(m.ref), (m.ref.title, m.ref.alt_title), m.ref.year)
        self._locally([m for m in todo if m.tmdb_id is None and m.ref.year is None])
        for m in todo:
            if m.tmdb_id is None and m.note is None:
                m.note = "no TMDB match" if m.ref.title else "no title"
        return todo

    def _by_links(self, todo: list[Match]) -> None:
        for m in todo:
            if m.ref.tmdb_id:
                cand = Candidate(m.ref.tmdb_id, m.ref.title or "", m.ref.alt_title, m.ref.year)
                self._resolve(m, "movielens_links", cand)

    def _by_crosswalk(self, todo: list[Match]) -> None:
        for m in todo:
            tmdb_id = self.imdb_to_tmdb.get(m.ref.imdb_id)
            if tmdb_id is not None:
                cand = Candidate(tmdb_id, m.ref.title or "", m.ref.alt_title, m.ref.year)
                self._resolve(m, "imdb_links", cand)

    def _by_imdb(self, todo: list[Match]) -> None:
        answers = self._ask(find_imdb(m.ref.imdb_id) for m in todo)
        for m in todo:
            resp = answers.get(find_imdb(m.ref.imdb_id).key)
            if resp is None:
                m.note = "IMDb lookup not fetched (offline or no credentials)"
            elif resp.status == "ok" and resp.body.get("movie_results"):
                results = resp.body["movie_results"]
                self._resolve(m, "imdb_find", Candidate.from_result(results[0]))
            elif resp.status == "ok" and resp.body.get("tv_results"):
                m.note = f"{m.ref.imdb_id} is a TV series on TMDB, not a film"
            else:
                m.note = f"{m.ref.imdb_id} not found on TMDB"

    def _locally(self, todo: list[Match]) -> None:
        # Every source's own (title, year) of strongly identified films joins the index too.
        for m in todo:
            ref, key = m.ref, title_key(m.ref.title)
            if not key:
                continue
            exact = self._ids_for(ref, ref.year) if ref.year is not None else set()
            if len(exact) == 1:
                self._resolve_local(m, "title_year_exact", exact.pop())
                continue
            if ref.year is not None:
                near = self._ids_for(ref, ref.year - 1) | self._ids_for(ref, ref.year + 1)
                if len(near) == 1 and not exact:
                    self._resolve_local(m, "title_year_near", near.pop())
                    continue
            if ref.year is None:
                anywhere = set(self._by_title.get(key, ()))
                if len(anywhere) == 1:
                    self._resolve_local(m, "title_only_unique", anywhere.pop())
                elif len(anywhere) > 1:
                    m.note = f"title matches {len(anywhere)} known films; no year to choose"

    def _ids_for(self, ref: Reference, year: int | None) -> set[str]:
        ids: set[str] = set()
        for t in (ref.title, ref.alt_title):
            k = title_key(t)
            if k:
                ids |= self._by_title_year.get((k, year), set())
        return ids

    def _resolve_local(self, m: Match, method: str, movie_id: str) -> None:
        if movie_id.startswith("tmdb:"):
            tmdb_id = int(movie_id.removeprefix("tmdb:"))
            m.tmdb_id, m.candidate = (
                tmdb_id,
                Candidate(tmdb_id, m.ref.title or "", None, m.ref.year),
            )
        elif movie_id == surrogate_id(m.ref):
            return  # matching itself is no match
        else:
            m.linked_id = movie_id
            m.note = "matched locally to a film TMDB did not resolve"
        m.method, m.confidence = method, CONFIDENCE[method]

    def _by_search(self, todo: list[Match]) -> None:
        """Search in rounds, each round asking only for what is still unresolved."""
        rounds: list[tuple[str, Callable[[Reference], list[tuple[str, int | None]]]]] = [
            ("title_search", lambda r: [(r.title, r.year)] if r.year else []),
            (
                "title_search_near_year",
                lambda r: [(r.title, r.year - 1), (r.title, r.year + 1)] if r.year else [],
            ),
            ("title_search_alt_title", lambda r: [(r.alt_title, r.year)] if r.alt_title else []),
            # Without a year only: a dated title TMDB lacks must not grab a namesake.
            ("title_search_no_year", lambda r: [(r.title, None)] if r.year is None else []),
        ]
        for method, queries_of in rounds:
            todo = [m for m in todo if m.tmdb_id is None]
            self._locally(todo)  # an earlier round may have found this title already
            todo = [m for m in todo if m.tmdb_id is None]
            plans = {id(m): [(q, y) for q, y in queries_of(m.ref) if q] for m in todo}
            answers = self._ask(search_movie(q, y) for qs in plans.values() for q, y in qs)
            for m in todo:
                best = None
                for q, y in plans[id(m)]:
                    resp = answers.get(search_movie(q, y).key)
                    if resp is None:
                        m.note = "title search not fetched (offline or no credentials)"
                        continue
                    for r in (resp.body or {}).get("results", []) if resp.status == "ok" else []:
                        cand = Candidate.from_result(r)
                        sim = max(similarity(q, cand.title), similarity(q, cand.original_title))
                        if sim < MIN_SIMILARITY:
                            continue
                        same_year = m.ref.year is not None and cand.year == m.ref.year
                        score = (sim, same_year, cand.popularity)
                        if best is None or score > best[0]:
                            best = (score, cand, sim)
                if best is not None:
                    _, cand, sim = best
                    note = None
                    if method == "title_search_no_year":
                        n = len(
                            (answers.get(search_movie(m.ref.title, None).key).body or {}).get(
                                "results", []
                            )
                        )
                        note = f"no year: chose the most popular of {n} results" if n > 1 else None
                    self._resolve(m, method, cand, sim, note)
