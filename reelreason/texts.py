"""Rich movie descriptions for embedding: one text per film, absent fields left out.

    Title: Heat (1995). Genres: Action, Crime, Drama. Director: Michael Mann.
    Cast: Al Pacino, Robert De Niro, ... Plot: ... Keywords: ...

The research code this replaces printed "nan" and "None" into its texts; here every value
passes `clean()` and a field with nothing real in it is not written at all.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable

TEMPLATE_VERSION = "movie-text-v1"
TOP_CAST = 5
TOP_KEYWORDS = 15
_PLACEHOLDERS = {"", "nan", "none", "null", "n/a", "na", "unknown", "[]", "{}"}


def clean(value) -> str | None:
    """A real, non-placeholder string, or None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return None if text.lower() in _PLACEHOLDERS else text


def clean_list(values: Iterable | None, limit: int | None = None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        c = clean(v)
        if c and c not in out:
            out.append(c)
    return out[:limit] if limit else out


def movie_text(
    *,
    title: str | None,
    year: int | None = None,
    genres: Iterable[str] | None = None,
    directors: Iterable[str] | None = None,
    cast: Iterable[str] | None = None,
    overview: str | None = None,
    keywords: Iterable[str] | None = None,
) -> str:
    parts = []
    t = clean(title)
    if t:
        parts.append(f"Title: {t} ({year})." if year else f"Title: {t}.")
    for label, values in (
        ("Genres", clean_list(genres)),
        ("Director" if len(clean_list(directors)) == 1 else "Directors", clean_list(directors)),
        ("Cast", clean_list(cast, TOP_CAST)),
    ):
        if values:
            parts.append(f"{label}: {', '.join(values)}.")
    plot = clean(overview)
    if plot:
        parts.append(f"Plot: {plot if plot.endswith(('.', '!', '?')) else plot + '.'}")
    kw = clean_list(keywords, TOP_KEYWORDS)
    if kw:
        parts.append(f"Keywords: {', '.join(kw)}.")
    return " ".join(parts)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def estimate_tokens(text: str) -> int:
    """Rough BPE token estimate (about 4 characters or 0.75 words per token in English),
    taking the larger of the two; the embedding stage counts exactly where it matters."""
    words = len(text.split())
    return max(math.ceil(len(text) / 4), math.ceil(words * 4 / 3)) if text else 0
