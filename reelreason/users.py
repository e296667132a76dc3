"""Users' liked films and their own words, from every source, with namespaced user ids.

Likes
    MovieLens       rating >= 4 of 5                       user  movielens:<id>
    MovieTweetings  rating >= 8 of 10 (rating_5 >= 4)      user  movietweetings:<id>
    ReDial          the seeker liked it (liked == 1)       user  redial:conv:<conversation>
                    The seeker's own answers (initiatorQuestions) win: they are the person
                    whose taste we model. Only where the seeker said nothing (`[]`, or 2 =
                    did not say) does the recommender's answer about the seeker count.
    INSPIRED        the recommended film, in dialogs whose outcome is accept_rating_good
                    (the seeker watched the trailer and rated the film 4-5)
                                                           user  inspired:dialog:<dialog>
    CCPE-M          films inside the user's preference spans, when the polarity classifier
                    (reelreason.polarity) reads the span as positive
                                                           user  ccpe:conv:<conversation>
`position` orders a user's likes in time: rating timestamp rank, or place in the dialogue.

Texts: only the seeker's / user's own turns (ReDial initiator, INSPIRED SEEKER, CCPE USER),
film mentions already rendered to titles, one user per conversation.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

LIKES_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("source", pa.string()),
        ("movie_id", pa.string()),
        ("position", pa.int64()),
        ("liked_at", pa.timestamp("us")),
        ("rating", pa.float64()),
        ("evidence", pa.string()),
    ]
)
TEXTS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("source", pa.string()),
        ("text", pa.string()),
        ("n_turns", pa.int32()),
    ]
)

ML_MIN_RATING = 4
MT_MIN_RATING_5 = 4.0


def rating_likes(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """MovieLens and MovieTweetings likes, in DuckDB (millions of rows)."""
    return (
        con.execute(
            f"""
        WITH xref AS (SELECT source, source_id, movie_id FROM movie_xref)
        SELECT 'movielens:' || r.user_id AS user_id, 'movielens' AS source, x.movie_id,
               row_number() OVER (PARTITION BY r.user_id ORDER BY r.rated_at, r.movie_id)
                   AS position,
               r.rated_at AS liked_at, CAST(r.rating AS DOUBLE) AS rating,
               'rated ' || r.rating || '/5' AS evidence
        FROM ml1m_ratings r
        JOIN xref x ON x.source = 'ml1m' AND x.source_id = CAST(r.movie_id AS VARCHAR)
        WHERE r.rating >= {ML_MIN_RATING}
        UNION ALL
        SELECT 'movietweetings:' || r.user_id, 'movietweetings', x.movie_id,
               row_number() OVER (PARTITION BY r.user_id ORDER BY r.rated_at, r.imdb_id),
               r.rated_at, r.rating_5, 'rated ' || r.rating || '/10'
        FROM movietweetings_ratings r
        JOIN xref x ON x.source = 'movietweetings' AND x.source_id = r.imdb_id
        WHERE r.rating_5 >= {MT_MIN_RATING_5}
        """
        )
        .to_arrow_table()
        .cast(LIKES_SCHEMA)
    )


def dialogue_likes(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """ReDial and INSPIRED likes (CCPE's come with the polarity classifier)."""
    return (
        con.execute(
            """
        WITH first_mention AS (
            SELECT conversation_id, unnest(mentioned_movie_ids) AS redial_movie_id,
                   position
            FROM redial_messages
        ), first_pos AS (
            SELECT conversation_id, redial_movie_id, min(position) AS position
            FROM first_mention GROUP BY ALL
        ), redial AS (
            SELECT 'redial:conv:' || m.conversation_id AS user_id, 'redial' AS source,
                   x.movie_id, coalesce(p.position, 1000000) AS position,
                   CAST(NULL AS TIMESTAMP) AS liked_at, CAST(NULL AS DOUBLE) AS rating,
                   CASE WHEN m.seeker_liked = 1 THEN 'seeker said liked'
                        ELSE 'recommender said the seeker liked it (seeker silent)' END
                       AS evidence
            FROM redial_mentions m
            JOIN movie_xref x ON x.source = 'redial' AND x.source_id = m.redial_movie_id
            LEFT JOIN first_pos p USING (conversation_id, redial_movie_id)
            WHERE m.seeker_liked = 1
               OR (coalesce(m.seeker_liked, 2) = 2 AND m.recommender_liked = 1)
        ), inspired_recs AS (
            SELECT u.dialog_id, u.utt_id, unnest(u.movies) AS title
            FROM inspired_utterances u
            JOIN inspired_dialogs d USING (dialog_id)
            WHERE u.speaker = 'RECOMMENDER' AND d.fine_label = 'accept_rating_good'
        ), inspired AS (
            SELECT 'inspired:dialog:' || r.dialog_id, 'inspired', x.movie_id, r.utt_id,
                   CAST(NULL AS TIMESTAMP), CAST(NULL AS DOUBLE),
                   'accepted the recommendation and rated it good'
            FROM (SELECT dialog_id, arg_max(title, utt_id) AS title, max(utt_id) AS utt_id
                  FROM inspired_recs GROUP BY dialog_id) r
            JOIN movie_xref x ON x.source = 'inspired_mention' AND x.source_id = r.title
        )
        SELECT * FROM redial UNION ALL SELECT * FROM inspired
        """
        )
        .to_arrow_table()
        .cast(LIKES_SCHEMA)
    )


def ccpe_preference_spans(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """USER preference spans that contain a film name: (user, utterance, span, film)."""
    cur = con.execute(
        """
        SELECT 'ccpe:conv:' || p.conversation_id AS user_id, p.utterance_index,
               p.text AS span, trim(n.text) AS film_span, x.movie_id
        FROM ccpe_segments p
        JOIN ccpe_utterances u USING (conversation_id, utterance_index)
        JOIN ccpe_segments n
          ON n.conversation_id = p.conversation_id AND n.utterance_index = p.utterance_index
         AND n.annotation_type = 'ENTITY_NAME' AND n.entity_type = 'MOVIE_OR_SERIES'
         AND n.start_index >= p.start_index AND n.end_index <= p.end_index
        JOIN movie_xref x ON x.source = 'ccpe' AND x.source_id = trim(n.text)
        WHERE p.annotation_type = 'ENTITY_PREFERENCE' AND u.speaker = 'USER'
        ORDER BY user_id, p.utterance_index
        """
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def user_texts(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return (
        con.execute(
            """
        SELECT 'redial:conv:' || conversation_id AS user_id, 'redial' AS source,
               string_agg(text, '\n' ORDER BY position) AS text, count(*) AS n_turns
        FROM redial_messages WHERE sender_role = 'seeker' AND trim(text) <> ''
        GROUP BY conversation_id
        UNION ALL
        SELECT 'inspired:dialog:' || dialog_id, 'inspired',
               string_agg(text, '\n' ORDER BY utt_id), count(*)
        FROM inspired_utterances WHERE speaker = 'SEEKER' AND trim(text) <> ''
        GROUP BY dialog_id
        UNION ALL
        SELECT 'ccpe:conv:' || conversation_id, 'ccpe',
               string_agg(text, '\n' ORDER BY utterance_index), count(*)
        FROM ccpe_utterances WHERE speaker = 'USER' AND trim(text) <> ''
        GROUP BY conversation_id
        ORDER BY 1
        """
        )
        .to_arrow_table()
        .cast(TEXTS_SCHEMA)
    )


# The CCPE preferences as the classifier read them; one row per preference span.
PREFERENCES_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("utterance_index", pa.int32()),
        ("span", pa.string()),
        ("film_span", pa.string()),
        ("movie_id", pa.string()),
        ("p_positive", pa.float64()),
        ("liked", pa.bool_()),
    ]
)


def read_preferences(spans: list[dict], p_positive, threshold: float) -> tuple[pa.Table, pa.Table]:
    """CCPE preference spans with the classifier's P(positive) -> (ccpe_preferences rows,
    the likes they give: a span read as positive at or above `threshold`)."""
    prefs = [
        {**s, "p_positive": float(p), "liked": bool(p >= threshold)}
        for s, p in zip(spans, p_positive, strict=True)
    ]
    likes = [
        {
            "user_id": s["user_id"],
            "source": "ccpe",
            "movie_id": s["movie_id"],
            "position": s["utterance_index"],
            "liked_at": None,
            "rating": None,
            "evidence": f"preference read as positive (p={s['p_positive']:.2f}): {s['span'][:120]}",
        }
        for s in prefs
        if s["liked"]
    ]
    preferences = pa.Table.from_pylist(
        [{k: r[k] for k in PREFERENCES_SCHEMA.names} for r in prefs], schema=PREFERENCES_SCHEMA
    )
    return preferences, pa.Table.from_pylist(likes, schema=LIKES_SCHEMA)


def one_like_per_film(likes: pa.Table) -> pa.Table:
    """One like per (user, film): the earliest evidence (of equal positions, the first source
    in name order). Ordered by user, position and film: two films liked in one utterance
    have no other order, and a table's row order must not depend on the sort's threads."""
    with duckdb.connect() as con:
        con.register("all_likes", likes)
        return (
            con.execute(
                """SELECT * FROM all_likes QUALIFY row_number() OVER
                   (PARTITION BY user_id, movie_id ORDER BY position, source, evidence) = 1
                   ORDER BY user_id, position, movie_id"""
            )
            .to_arrow_table()
            .cast(LIKES_SCHEMA)
        )


def polarity_training_set(con: duckdb.DuckDBPyConnection) -> tuple[list[str], np.ndarray]:
    """GoEmotions texts with an unambiguous sentiment, to train the CCPE polarity classifier
    (reelreason/polarity.py): 1 positive, 0 negative."""
    rows = con.execute(
        """
        SELECT t.comment_id, any_value(t.text),
               list_distinct(list(e.sentiment)) AS sentiments
        FROM goemotions_texts t, unnest(t.labels) AS l(label)
        JOIN goemotions_emotions e ON e.emotion = l.label
        GROUP BY t.comment_id
        HAVING len(sentiments) = 1 AND sentiments[1] IN ('positive', 'negative')
        ORDER BY t.comment_id
        """
    ).fetchall()
    return [r[1] for r in rows], np.array([1 if r[2][0] == "positive" else 0 for r in rows])
