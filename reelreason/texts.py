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
# Titles are judged more narrowly: "Unknown" (2011), "N/A" or "9" are films. Only what a
# program writes for a missing value (or nothing but whitespace) is no title.
_TITLE_PLACEHOLDERS = {"", "nan", "none", "null", "[]", "{}"}


def clean(value, placeholders: set[str] = _PLACEHOLDERS) -> str | None:
    """A real, non-placeholder string, or None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return None if text.lower() in placeholders else text


def clean_title(value) -> str | None:
    """A usable title: any real title, whatever characters it is made of (`...And Justice
    for All`, `.com for Murder`, `#9`, `(500) Days of Summer`, `1917`, `?`), or None."""
    return clean(value, _TITLE_PLACEHOLDERS)


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
    t = clean_title(title)
    if t:
        parts.append(f"Title: {t} ({year})." if year else f"Title: {t}.")
    elif year:  # a film with no usable title is described by its other fields
        parts.append(f"Year: {year}.")
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


# Hygiene of a finished text. A placeholder standing where a value goes (prose may say "an
# unknown organism"; a title may be "Unknown"), or a label with nothing after it before the
# next label (`Genres: . Plot:`). Titles are never judged as placeholders: they come first,
# after `Title: `, and may begin with dots or be made only of digits or punctuation.
_PLACEHOLDER_WORDS = "|".join(w for w in sorted(_PLACEHOLDERS) if w.isalpha()) + "|n/a"
PLACEHOLDER_IN_TEXT = re.compile(
    rf"(?:(?<!^Title): |, |\()(?:{_PLACEHOLDER_WORDS})(?=[.,)]|$)", re.IGNORECASE
)
EMPTY_LABEL_IN_TEXT = re.compile(r"(?:^|\. )[A-Z][a-z]+:(?: ?[.,](?= [A-Z][a-z]+: |$)| ?$)")


def text_is_clean(text: str) -> bool:
    return bool(text.strip()) and not (
        PLACEHOLDER_IN_TEXT.search(text) or EMPTY_LABEL_IN_TEXT.search(text)
    )


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def estimate_tokens(text: str) -> int:
    """Rough BPE token estimate (about 4 characters or 0.75 words per token in English),
    taking the larger of the two; the embedding stage counts exactly where it matters."""
    words = len(text.split())
    return max(math.ceil(len(text) / 4), math.ceil(words * 4 / 3)) if text else 0
