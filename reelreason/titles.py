"""Film title handling shared by every source.

MovieLens writes `American President, The (1995)` and `Postino, Il (The Postman) (1994)`:
the article is moved to the end and an alternate title may follow in parentheses. ReDial
writes `Police Academy  (1984)` and `Why Him%3F (2016)`. These helpers turn all of them
into a display title, an alternate title and a year, and into a key for matching.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

_YEAR_AT_END = re.compile(r"\s*\((\d{4})\)\s*$")
_EMPTY_PARENS_AT_END = re.compile(r"\s*\(\s*\)\s*$")


def split_year(title: str | None) -> tuple[str | None, int | None]:
    """'Heat (1995)' -> ('Heat', 1995); the year is the LAST (YYYY); '(  )' years drop out."""
    if title is None:
        return None, None
    m = _YEAR_AT_END.search(title)
    if not m:
        stripped = _EMPTY_PARENS_AT_END.sub("", title).strip()
        return re.sub(r"\s+", " ", stripped) or None, None
    base = title[: m.start()]
    return re.sub(r"\s+", " ", base).strip() or None, int(m.group(1))


# Articles MovieLens moves to the end of a title (English, Romance and Germanic languages).
ARTICLES = (
    "The",
    "A",
    "An",
    "Il",
    "I",
    "Gli",
    "La",
    "Le",
    "Les",
    "L'",
    "Lo",
    "Los",
    "Las",
    "El",
    "Der",
    "Die",
    "Das",
    "Den",
    "Det",
    "De",
    "Un",
    "Une",
    "Una",
    "Uno",
    "O",
    "Os",
)
_MOVED_ARTICLE = re.compile(
    r"^(?P<rest>.+), (?P<article>" + "|".join(map(re.escape, ARTICLES)) + r")$"
)
_TRAILING_PAREN = re.compile(r"^(?P<main>.+?) \((?P<inner>[^()]+)\)$")


def restore_article(title: str) -> str:
    """'American President, The' -> 'The American President'; "Avventura, L'" -> "L'Avventura"."""
    m = _MOVED_ARTICLE.match(title.strip())
    if not m:
        return title.strip()
    article, rest = m.group("article"), m.group("rest")
    return f"{article}{rest}" if article.endswith("'") else f"{article} {rest}"


def parse_movielens_title(raw: str) -> tuple[str, str | None, int | None]:
    """(display title, alternate title, year) of a MovieLens title."""
    base, year = split_year(raw)
    base = base or raw.strip()
    alt = None
    m = _TRAILING_PAREN.match(base)
    if m:
        base, alt = m.group("main"), m.group("inner").strip()
        alt = re.sub(r"^a\.k\.a\.\s*", "", alt, flags=re.IGNORECASE)
        alt = restore_article(alt) or None
    return restore_article(base), alt, year


def clean_mention_name(raw: str) -> tuple[str | None, int | None]:
    """ReDial/INSPIRED mention names: '%3F' -> '?', doubled and trailing spaces, last (YYYY)."""
    text = unquote(raw) if "%" in raw else raw
    return split_year(text)


def title_key(title: str | None) -> str | None:
    """Lower-case ASCII key with articles and punctuation removed, for matching."""
    if not title:
        return None
    t = unicodedata.normalize("NFKD", restore_article(title))
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).lower()
    t = t.replace("&", " and ")
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    t = re.sub(r"^(the|a|an|la|le|les|l|il|el|der|die|das) ", "", t)
    return t or None
