"""One genre vocabulary for every source: TMDB's 19 movie genres.

MovieLens spells `Children's`, `Film-Noir`, `Sci-Fi`; MovieTweetings and INSPIRED use IMDb's
names (`Biography`, `Sport`, `Short`, ...). Each maps to TMDB's name or to nothing when TMDB
has no such genre (a short film is not a genre of its story).
"""

from __future__ import annotations

from collections.abc import Iterable

TMDB_GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Music",
    "Mystery",
    "Romance",
    "Science Fiction",
    "TV Movie",
    "Thriller",
    "War",
    "Western",
)

_ALIASES = {
    "children's": "Family",
    "childrens": "Family",
    "kids": "Family",
    "film-noir": "Crime",
    "film noir": "Crime",
    "noir": "Crime",
    "sci-fi": "Science Fiction",
    "scifi": "Science Fiction",
    "science-fiction": "Science Fiction",
    "musical": "Music",
    "biography": "History",
    "news": "Documentary",
    "sport": None,
    "short": None,
    "reality-tv": None,
    "talk-show": None,
    "game-show": None,
    "adult": None,
}
_CANONICAL = {g.lower(): g for g in TMDB_GENRES}


def unify_genre(name: str | None) -> str | None:
    if not name or not name.strip():
        return None
    key = name.strip().lower()
    if key in _CANONICAL:
        return _CANONICAL[key]
    return _ALIASES.get(key)


def unify_genres(names: Iterable[str | None]) -> list[str]:
    """Mapped, de-duplicated, in first-seen order."""
    out: list[str] = []
    for n in names:
        g = unify_genre(n)
        if g and g not in out:
            out.append(g)
    return out
