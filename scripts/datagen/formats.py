"""The six upstream formats, written in one place: layout, encodings, line syntax, quoting.

Both scales of ``scripts/make_data.py`` render every file through this module: the bundled
sample (hand-curated rows, ``datagen.sample``) and the procedural full-scale copies
(``datagen.fullscale``). They differ only in the rows they produce; how a row becomes the
bytes of an upstream file (separators, quoting, encoding, line endings, header or no header,
key order, JSON layout) is decided here and nowhere else.

Standard library only: the sample generator promises that.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path

# --------------------------------------------------------------------------------------------
# Layout: each file's path under raw/ (the sample writes sample/raw/, a full-scale run OUT/raw/)
# --------------------------------------------------------------------------------------------
# (`{}` templates: ML_FILE.format("ratings"), GO_RAW.format(1), INSPIRED_FILE.format("dev"))
RAW = "raw"
ML_DIR = "movielens/ml-1m"
ML_FILE = ML_DIR + "/{}.dat"  # movies, users, ratings
ML_LINKS = "movielens/ml-latest-small/links.csv"
MT_FILE = "movietweetings/{}.dat"  # movies, users, ratings
INSPIRED_FILE = "inspired/{}.tsv"  # train, dev, test
INSPIRED_DB = "inspired/movie_database.tsv"
REDIAL_FILE = "redial/{}_data.jsonl"  # train, test
REDIAL_MENTIONS = "redial/movies_with_mentions.csv"
CCPE_DATA = "ccpe/data.json"
GO_DIR = "goemotions"
GO_RAW = GO_DIR + "/goemotions_{}.csv"  # 1, 2, 3
GO_SPLIT = GO_DIR + "/{}.tsv"  # train, dev, test


def encoding(rel: str) -> str:
    """MovieLens 1M is latin-1 bytes; every other upstream file is UTF-8."""
    return "latin-1" if f"{ML_DIR}/" in rel else "utf-8"


class Writer:
    """A file written in its upstream encoding; records what it wrote in `report`.

    `rel` is relative to `out`; the entry in `report` is (rel, records, bytes).
    """

    def __init__(self, out: Path, report: list | None, rel: str):
        self.path = out / rel
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rel, self.report, self.encoding = rel, report, encoding(rel)
        self.f = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in __exit__
        self.parts: list[str] = []
        self.size = 0
        self.records = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        self.f.write("".join(self.parts).encode(self.encoding))
        self.parts, self.size = [], 0

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.flush()
        self.f.close()
        if self.report is not None:
            self.report.append((self.rel, self.records, self.path.stat().st_size))


def write_file(out: Path, report: list | None, rel: str, text: str, records: int = 0) -> None:
    """A whole file at once."""
    with Writer(out, report, rel) as w:
        w.write(text)
        w.records = records


# --------------------------------------------------------------------------------------------
# MovieLens 1M and MovieTweetings: `::`-separated fields, LF, no header
# --------------------------------------------------------------------------------------------
ML_GENRES = [
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
    "Western",
]  # fmt: skip


def dat_line(*fields: object) -> str:
    line = "::".join(map(str, fields))
    assert "\n" not in line and "\r" not in line, line
    return line + "\n"


def dat_lines(*columns: Iterable) -> str:
    """Many `.dat` lines from parallel columns (ratings: user, movie, rating, timestamp)."""
    return "".join([dat_line(*row) for row in zip(*columns, strict=True)])


def movie_line(movie_id: object, title: str, genres: list[str]) -> str:
    """movies.dat: `id::Title (Year)::Genre|Genre` (MovieTweetings may leave genres empty)."""
    return dat_line(movie_id, title, "|".join(genres))


LINKS_HEADER = "movieId,imdbId,tmdbId\n"


def links_line(movie_id: int, imdb: int, tmdb: str) -> str:
    """ml-latest-small links.csv: the IMDb number zero-padded to 7, tmdbId may be empty."""
    return f"{movie_id},{imdb:07d},{tmdb}\n"


# --------------------------------------------------------------------------------------------
# INSPIRED: TSV, UTF-8, LF, header, no quoting; `*_dict` columns are Python literals
# --------------------------------------------------------------------------------------------
INSPIRED_COLS = [
    "dialog_id", "utt_id", "speaker", "turn_id", "text", "text_with_placeholder", "movies",
    "genres", "people_names", "movie_dict", "genre_dict", "actor_dict", "director_dict",
    "others_dict", "expert_label", "second_label", "fine_label", "coarse_label", "movie_id",
]  # fmt: skip
INSPIRED_DB_COLS = [
    "title", "year", "imdb_id", "genre", "actors", "director", "short_plot", "long_plot", "rating",
    "runtime",
]  # fmt: skip
# Utterance markup: [[m:Title (Year)|surface]] [[g:genre|surface]] [[a:Actor]] [[d:Director]]
MARK = re.compile(r"\[\[([mgad]):([^|\]]+)(?:\|([^\]]+))?\]\]")
PLACEHOLDER = {
    "m": "MOVIE_TITLE",
    "g": "MOVIE_GENRE",
    "a": "MOVIE_P_ACTOR",
    "d": "MOVIE_P_DIRECTOR",
}


def tsv_line(fields: list[str], width: int) -> str:
    assert len(fields) == width, fields
    for field in fields:
        assert "\t" not in field and "\n" not in field, field
    return "\t".join(fields) + "\n"


def tsv_header(cols: list[str]) -> str:
    return tsv_line(cols, len(cols))


def inspired_dicts(utts: list[tuple], extra_movies: Iterable[str] = ()) -> dict[str, dict]:
    """The dialog's movie/genre/actor/director dicts: value -> placeholder number."""
    dicts: dict[str, dict[str, int]] = {k: {} for k in "mgad"}
    for _, txt, _ in utts:
        for kind, val, _ in MARK.findall(txt):
            dicts[kind].setdefault(val, len(dicts[kind]))
    for extra in extra_movies:
        dicts["m"].setdefault(extra, len(dicts["m"]))
    return dicts


def broken_movie_dict(movies: dict[str, int]) -> str:
    """Upstream's malformed literal: `{'A (1999)': 0, 'B (2001): 1}` (the last key's quote lost)."""
    literal = repr(movies)
    if len(movies) < 2:
        return literal
    last = max(movies, key=movies.get)
    return literal.replace(f"'{last}': ", f"'{last}: ", 1)


def inspired_rows(
    dialog_id: str,
    utts: list[tuple],
    dicts: dict[str, dict],
    *,
    fine: str,
    coarse: str,
    yt: str,
    sep: Callable[[int, list[str]], str],
    movie_dict: str | None = None,
    nan_at: int | None = None,
) -> list[str]:
    """The TSV lines of one dialog; utts are (speaker R|S, markup text, expert[|second] label).

    A '"' becomes QUOTATION_MARK in `text` and stays '"' in `text_with_placeholder`; a movie
    mark without a surface shows its title without the year. `sep(i, movies)` joins the
    `movies` column of utterance i (upstream mostly writes `; `, sometimes `;  `).
    """
    tail = [
        repr(dicts["m"]) if movie_dict is None else movie_dict,
        repr(dicts["g"]),
        repr(dicts["a"]),
        repr(dicts["d"]),
        "",
    ]
    rows, turn, prev = [], 0, None
    for i, (spk, txt, label) in enumerate(utts):
        speaker = "RECOMMENDER" if spk == "R" else "SEEKER"
        if turn == 0 or (speaker == "RECOMMENDER" and prev == "SEEKER"):
            turn += 1
        prev = speaker
        found: dict[str, list[str]] = {k: [] for k in "mgad"}

        def surface(m: re.Match) -> str:
            kind, val, surf = m.group(1), m.group(2), m.group(3)
            if surf is None:
                surf = re.sub(r" \(\d*\)$", "", val) if kind == "m" else val
            return surf

        def place(m: re.Match, found=found) -> str:
            kind, val = m.group(1), m.group(2)
            if val not in found[kind]:
                found[kind].append(val)
            return f"[{PLACEHOLDER[kind]}_{dicts[kind][val]}]"

        text = MARK.sub(surface, txt).replace('"', "QUOTATION_MARK")
        with_ph = MARK.sub(place, txt)
        expert, _, second = label.partition("|")
        row = [
            dialog_id,
            str(i + 1),
            speaker,
            str(turn),
            text,
            with_ph,
            sep(i, found["m"]).join(found["m"]),
            "; ".join(found["g"]),
            "; ".join(found["a"] + found["d"]),
            *tail,
            expert,
            second,
            "nan" if nan_at == i else fine,
            coarse,
            yt,
        ]
        rows.append(tsv_line(row, len(INSPIRED_COLS)))
    return rows


def inspired_db_line(fields: list[str]) -> str:
    """movie_database.tsv: title, year, imdb_id (tt + 7 digits), ..., rating, `N min`."""
    return tsv_line(fields, len(INSPIRED_DB_COLS))


# --------------------------------------------------------------------------------------------
# ReDial: JSON lines (json.dumps defaults, ASCII), one conversation a line; CRLF mentions CSV
# --------------------------------------------------------------------------------------------
def redial_message(time_offset: int, text: str, sender: int, message_id: int) -> dict:
    return {
        "timeOffset": time_offset,
        "text": text,
        "senderWorkerId": sender,
        "messageId": message_id,
    }


def redial_answer(suggested: int, seen: int, liked: int) -> dict:
    """One film of a questionnaire (initiatorQuestions / respondentQuestions)."""
    return {"suggested": suggested, "seen": seen, "liked": liked}


def redial_conversation(
    mentions: dict[str, str],
    respondent_q: dict | list,
    messages: list[dict],
    conversation_id: str,
    respondent: int,
    initiator: int,
    initiator_q: dict | list,
) -> dict:
    return {
        "movieMentions": mentions,
        "respondentQuestions": respondent_q,
        "messages": messages,
        "conversationId": conversation_id,
        "respondentWorkerId": respondent,
        "initiatorWorkerId": initiator,
        "initiatorQuestions": initiator_q,
    }


def redial_line(conversation: dict) -> str:
    return json.dumps(conversation) + "\n"


def redial_mentions_csv(rows: Iterable[tuple[int, str, int]]) -> str:
    """movies_with_mentions.csv: movieId,movieName,nbMentions; minimal quoting, CRLF."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["movieId", "movieName", "nbMentions"])
    w.writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# CCPE-M: one JSON array, 2-space indent, sorted keys, UTF-8, no final newline
# --------------------------------------------------------------------------------------------
ANN = {"N": "ENTITY_NAME", "P": "ENTITY_PREFERENCE", "D": "ENTITY_DESCRIPTION", "O": "ENTITY_OTHER"}
ENT = {"G": "MOVIE_GENRE_OR_CATEGORY", "M": "MOVIE_OR_SERIES", "P": "PERSON", "S": "SOMETHING_ELSE"}


def ccpe_id(rnd: random.Random, taken: set[str]) -> str:
    """A new `CCPE-xxxxx` conversation id (5 hex digits)."""
    while (cid := "CCPE-" + "".join(rnd.choice("0123456789abcdef") for _ in range(5))) in taken:
        pass
    taken.add(cid)
    return cid


def ccpe_segment(text: str, start: int, end: int, codes: str) -> dict:
    """A span text[start:end]; codes like 'NM+PM' (annotation type, entity type) pairs."""
    return {
        "annotations": [
            {"annotationType": ANN[c[0]], "entityType": ENT[c[1]]} for c in codes.split("+")
        ],
        "endIndex": end,
        "startIndex": start,
        "text": text[start:end],
    }


def ccpe_utterance(index: int, speaker: str, text: str, segments: list[dict]) -> dict:
    """An utterance; one without segments has no `segments` key (as upstream)."""
    u: dict = {"index": index, "speaker": speaker, "text": text}
    if segments:
        u["segments"] = segments
    return u


def ccpe_json(conversations: list[tuple[str, list[dict]]]) -> str:
    data = [{"conversationId": cid, "utterances": utts} for cid, utts in conversations]
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# GoEmotions: raw CSVs (one row per comment and rater, RFC 4180 minimal quoting, LF),
# filtered TSVs (no header), emotions.txt and the two mapping files
# --------------------------------------------------------------------------------------------
EMOTIONS = [
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity",
    "desire", "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear",
    "gratitude", "grief", "joy", "love", "nervousness", "optimism", "pride", "realization",
    "relief", "remorse", "sadness", "surprise", "neutral",
]  # fmt: skip
EKMAN = (
    b'{\n"anger": ["anger", "annoyance", "disapproval"],\n"disgust": ["disgust"],\n'
    b'"fear": ["fear", "nervousness"],\n'
    b'"joy": ["joy", "amusement", "approval", "excitement", "gratitude",  "love", "optimism", '
    b'"relief", "pride", "admiration", "desire", "caring"],\n'
    b'"sadness": ["sadness", "disappointment", "embarrassment", "grief",  "remorse"],\n'
    b'"surprise": ["surprise", "realization", "confusion", "curiosity"]\n}'
)
SENTIMENT = (
    b'{\n"positive": ["amusement", "excitement", "joy", "love", "desire", "optimism", '
    b'"caring", "pride", "admiration", "gratitude", "relief", "approval"],\n'
    b'"negative": ["fear", "nervousness", "remorse", "embarrassment", "disappointment", '
    b'"sadness", "grief", "disgust", "anger", "annoyance", "disapproval"],\n'
    b'"ambiguous": ["realization", "surprise", "curiosity", "confusion"]\n}'
)
GO_HEADER = [
    "text", "id", "author", "subreddit", "link_id", "parent_id", "created_utc", "rater_id",
    "example_very_unclear",
] + EMOTIONS  # fmt: skip
GO_HEADER_LINE = ",".join(GO_HEADER) + "\n"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

_quote_buf = io.StringIO()
_quote = csv.writer(_quote_buf, lineterminator="\n")


def go_quote(text: str) -> str:
    """A comment text as one CSV field (quoted only when it must be, quotes doubled)."""
    _quote_buf.seek(0)
    _quote_buf.truncate()
    _quote.writerow([text])
    return _quote_buf.getvalue()[:-1]


def go_raw_line(
    quoted_text: str,
    comment_id: str,
    author: str,
    subreddit: str,
    link_id: str,
    parent_id: str,
    created_utc: int,
    rater_id: int,
    unclear: bool,
    votes: Iterable[int],
) -> str:
    """One (comment, rater) row; an example_very_unclear rater's 28 labels are all 0."""
    bits = ["0"] * len(EMOTIONS)
    if not unclear:
        for e in votes:
            bits[e] = "1"
    return (
        f"{quoted_text},{comment_id},{author},{subreddit},{link_id},{parent_id},"
        f"{created_utc}.0,{rater_id},{unclear},{','.join(bits)}\n"
    )


def go_split_tsv(rows: Iterable[tuple[str, list[int], str]]) -> str:
    """train/dev/test.tsv: text, comma-joined label numbers, comment id; CSV quoting, LF."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    for text, labels, comment_id in rows:
        w.writerow([text, ",".join(map(str, labels)), comment_id])
    return buf.getvalue()


# (file, content, records): emotions.txt has no final newline, nor have the mapping files
GO_STATIC = [
    (f"{GO_DIR}/emotions.txt", "\n".join(EMOTIONS), len(EMOTIONS)),
    (f"{GO_DIR}/ekman_mapping.json", EKMAN.decode("ascii"), 6),
    (f"{GO_DIR}/sentiment_dict.json", SENTIMENT.decode("ascii"), 3),
]
