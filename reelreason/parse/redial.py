"""ReDial: JSON Lines, one conversation per line (`{train,test}_data.jsonl`), plus the
optional `movies_with_mentions.csv`.

Message text names films as `@<id>`; `movieMentions` (per conversation) maps ids to
names, so every message is rendered to titles while its raw text is kept. The research
code this replaces lost these mentions. `initiatorQuestions` are the seeker's answers,
`respondentQuestions` the recommender's; either may be `[]` instead of a dict.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from reelreason.parse.common import (
    CSV_WITH_HEADER,
    LineAccount,
    Parsed,
    bounded_lines,
    check_structure,
    count_lines,
    overlong_reason,
    read_checked,
    reject,
)
from reelreason.titles import clean_mention_name

MENTION = re.compile(r"@(\d+)")

CONVERSATIONS_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("split", pa.string()),
        ("seeker_worker_id", pa.int64()),
        ("recommender_worker_id", pa.int64()),
        ("n_messages", pa.int32()),
        ("n_mentions", pa.int32()),
    ]
)
MESSAGES_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("message_id", pa.int64()),
        ("position", pa.int32()),
        ("time_offset", pa.int32()),
        ("sender_worker_id", pa.int64()),
        ("sender_role", pa.string()),
        ("text", pa.string()),
        ("text_raw", pa.string()),
        ("mentioned_movie_ids", pa.list_(pa.string())),
        ("unresolved_mentions", pa.int32()),
    ]
)
_ANSWER = pa.int8()
MOVIES_WITH_MENTIONS_SCHEMA = pa.schema(
    [
        ("redial_movie_id", pa.string()),
        ("name_raw", pa.string()),
        ("title", pa.string()),
        ("year", pa.int16()),
        ("n_mentions", pa.int32()),
    ]
)
MENTIONS_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("redial_movie_id", pa.string()),
        ("name_raw", pa.string()),
        ("title", pa.string()),
        ("year", pa.int16()),
        ("seeker_suggested", _ANSWER),
        ("seeker_seen", _ANSWER),
        ("seeker_liked", _ANSWER),
        ("recommender_suggested", _ANSWER),
        ("recommender_seen", _ANSWER),
        ("recommender_liked", _ANSWER),
    ]
)


def render_mentions(text: str, mentions: dict[str, str]) -> tuple[str, list[str], int]:
    """'I liked @111776!' -> ('I liked Super Troopers (2001)!', ['111776'], 0 unresolved)."""
    ids: list[str] = []
    unresolved = 0

    def sub(m: re.Match) -> str:
        nonlocal unresolved
        movie_id = m.group(1)
        name = mentions.get(movie_id)
        if name is None:
            unresolved += 1
            return m.group(0)
        ids.append(movie_id)
        title, year = clean_mention_name(name)
        return f"{title} ({year})" if year else (title or name.strip())

    return MENTION.sub(sub, text), ids, unresolved


def _answers(questions, movie_id: str) -> tuple[int | None, int | None, int | None]:
    if not isinstance(questions, dict):  # upstream writes [] when a side answered nothing
        return None, None, None
    a = questions.get(movie_id) or {}
    return a.get("suggested"), a.get("seen"), a.get("liked")


class _BadConversation(ValueError):
    pass


def _conversation(obj) -> dict:
    if not isinstance(obj, dict):
        raise _BadConversation("line is JSON but not an object")
    missing = [
        k
        for k in ("conversationId", "messages", "initiatorWorkerId", "respondentWorkerId")
        if k not in obj
    ]
    if missing:
        raise _BadConversation(f"missing field(s) {missing}")
    if not isinstance(obj["messages"], list):
        raise _BadConversation("messages is not a list")
    mentions = obj.get("movieMentions") or {}
    if not isinstance(mentions, dict):
        raise _BadConversation("movieMentions is not an object")
    return obj


def parse_conversations(files: dict[str, tuple[Path, str]]) -> Parsed:
    """files: split -> (path, label)."""
    conversations, messages, mention_rows, quarantine, accounts = [], [], [], [], []
    unresolved_total = 0
    first_seen: dict[str, str] = {}  # conversation id -> "file:line" where it first appeared
    for split, (path, label) in files.items():
        data_lines, blank = count_lines(path)
        account = LineAccount(label, data_lines, blank)
        with open(path, "rb") as f:
            for line_no, raw, length in bounded_lines(f):
                if raw is None:
                    reject(quarantine, account, line_no, "", overlong_reason(length))
                    continue
                if not raw.strip():
                    continue
                text = ""
                try:
                    text = raw.decode("utf-8")
                    conv = _conversation(json.loads(text))
                except RecursionError:
                    reject(
                        quarantine, account, line_no, text[:200], "JSON nested too deeply to read"
                    )
                    continue
                except UnicodeDecodeError as exc:
                    lossy = raw.decode("utf-8", "replace")
                    reject(quarantine, account, line_no, lossy, f"invalid UTF-8: {exc}")
                    continue
                except json.JSONDecodeError as exc:
                    reject(quarantine, account, line_no, text, f"malformed JSON: {exc}")
                    continue
                except _BadConversation as exc:
                    reject(quarantine, account, line_no, text, str(exc))
                    continue
                conv_id = str(conv["conversationId"])
                if conv_id in first_seen:  # the first copy is kept, every later one quarantined
                    reason = f"duplicate conversation id {conv_id} (first at {first_seen[conv_id]})"
                    reject(quarantine, account, line_no, text, reason)
                    continue
                first_seen[conv_id] = f"{label}:{line_no}"
                account.kept += 1
                seeker, recommender = conv["initiatorWorkerId"], conv["respondentWorkerId"]
                mentions = {str(k): v for k, v in (conv.get("movieMentions") or {}).items()}
                for pos, msg in enumerate(conv["messages"]):
                    raw_text = msg.get("text") or ""
                    rendered, ids, unresolved = render_mentions(raw_text, mentions)
                    unresolved_total += unresolved
                    sender = msg.get("senderWorkerId")
                    role = (
                        "seeker"
                        if sender == seeker
                        else "recommender"
                        if sender == recommender
                        else "unknown"
                    )
                    messages.append(
                        {
                            "conversation_id": conv_id,
                            "message_id": msg.get("messageId"),
                            "position": pos,
                            "time_offset": msg.get("timeOffset"),
                            "sender_worker_id": sender,
                            "sender_role": role,
                            "text": rendered,
                            "text_raw": raw_text,
                            "mentioned_movie_ids": ids,
                            "unresolved_mentions": unresolved,
                        }
                    )
                seeker_q, rec_q = conv.get("initiatorQuestions"), conv.get("respondentQuestions")
                movie_ids = list(mentions)
                for q in (seeker_q, rec_q):  # answers about films missing from movieMentions
                    if isinstance(q, dict):
                        movie_ids += [str(k) for k in q if str(k) not in mentions]
                for movie_id in dict.fromkeys(movie_ids):
                    name = mentions.get(movie_id)
                    title, year = clean_mention_name(name) if name else (None, None)
                    s_sug, s_seen, s_liked = _answers(seeker_q, movie_id)
                    r_sug, r_seen, r_liked = _answers(rec_q, movie_id)
                    mention_rows.append(
                        {
                            "conversation_id": conv_id,
                            "redial_movie_id": movie_id,
                            "name_raw": name,
                            "title": title,
                            "year": year,
                            "seeker_suggested": s_sug,
                            "seeker_seen": s_seen,
                            "seeker_liked": s_liked,
                            "recommender_suggested": r_sug,
                            "recommender_seen": r_seen,
                            "recommender_liked": r_liked,
                        }
                    )
                conversations.append(
                    {
                        "conversation_id": conv_id,
                        "split": split,
                        "seeker_worker_id": seeker,
                        "recommender_worker_id": recommender,
                        "n_messages": len(conv["messages"]),
                        "n_mentions": len(mentions),
                    }
                )
        check_structure(account, [q for q in quarantine if q["file"] == label])
        accounts.append(account)
    return Parsed(
        {
            "redial_conversations": pa.Table.from_pylist(
                conversations, schema=CONVERSATIONS_SCHEMA
            ),
            "redial_messages": pa.Table.from_pylist(messages, schema=MESSAGES_SCHEMA),
            "redial_mentions": pa.Table.from_pylist(mention_rows, schema=MENTIONS_SCHEMA),
        },
        {"redial_conversations": quarantine},
        accounts,
        {"unresolved_at_mentions": unresolved_total},
    )


def parse_movies_with_mentions(con: duckdb.DuckDBPyConnection, path: Path, label: str) -> Parsed:
    tmp, quarantine, account = read_checked(
        con,
        path,
        label,
        **CSV_WITH_HEADER,
        columns={"movieId": "VARCHAR", "movieName": "VARCHAR", "nbMentions": "INTEGER"},
        reason_sql="CASE WHEN movieId IS NULL OR NOT regexp_full_match(movieId, '[0-9]+') "
        "THEN 'movieId is not numeric' END",
    )
    rows = []
    for movie_id, name, n in con.execute(
        f"SELECT movieId, movieName, nbMentions FROM {tmp} ORDER BY rowid"
    ).fetchall():
        title, year = clean_mention_name(name or "")
        rows.append(
            {
                "redial_movie_id": movie_id,
                "name_raw": name,
                "title": title,
                "year": year,
                "n_mentions": n,
            }
        )
    table = pa.Table.from_pylist(rows, schema=MOVIES_WITH_MENTIONS_SCHEMA)
    return Parsed.one_table("redial_movies", table, quarantine, [account])
