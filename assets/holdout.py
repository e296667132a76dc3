"""What every step that trains or scores taste reads to agree on one split: the likes with
their times, the held-out plan, film titles (to mask a held-out film from a user's words) and
what each user has already seen (README, "Evaluation")."""

from collections import defaultdict

from pipelines.resources import EmbeddingSettings, EvaluationSettings
from reelreason.evaluation import Holdout, plan_holdout

# Every like with what the split needs: source, order and (rating sources) time.
LIKES_SQL = """
SELECT user_id, source, movie_id, position, epoch(liked_at) AS liked_at
FROM user_likes ORDER BY user_id, position, movie_id
"""
# The tables LIKES_SQL and titles() read, for the steps' declared inputs.
SPLIT_INPUTS = ["user_likes", "user_texts", "movies", "movie_xref"]

# Every film a user rated or mentioned: these are never recommended back to them.
SEEN_SQL = """
SELECT 'movielens:' || r.user_id AS user_id, x.movie_id FROM ml1m_ratings r
JOIN movie_xref x ON x.source = 'ml1m' AND x.source_id = CAST(r.movie_id AS VARCHAR)
UNION SELECT 'movietweetings:' || r.user_id, x.movie_id FROM movietweetings_ratings r
JOIN movie_xref x ON x.source = 'movietweetings' AND x.source_id = r.imdb_id
UNION SELECT 'redial:conv:' || m.conversation_id, x.movie_id FROM redial_mentions m
JOIN movie_xref x ON x.source = 'redial' AND x.source_id = m.redial_movie_id
UNION SELECT 'inspired:dialog:' || u.dialog_id, x.movie_id
FROM (SELECT dialog_id, unnest(movies) AS t FROM inspired_utterances) u
JOIN movie_xref x ON x.source = 'inspired_mention' AND x.source_id = u.t
UNION SELECT 'ccpe:conv:' || s.conversation_id, x.movie_id FROM ccpe_segments s
JOIN movie_xref x ON x.source = 'ccpe' AND x.source_id = trim(s.text)
WHERE s.entity_type = 'MOVIE_OR_SERIES'
"""
SEEN_INPUTS = [
    "ml1m_ratings",
    "movietweetings_ratings",
    "redial_mentions",
    "inspired_utterances",
    "ccpe_segments",
    "movie_xref",
]


def read_split(
    con, embedding_settings: EmbeddingSettings, evaluation_settings: EvaluationSettings
) -> tuple[list[tuple], Holdout, dict[str, str], dict[str, list[str]]]:
    """(likes, holdout, user texts, film titles): the same split wherever it is read."""
    likes = con.execute(LIKES_SQL).fetchall()
    holdout = plan_holdout(
        likes,
        min_likes=embedding_settings.min_likes,
        users_per_source=evaluation_settings.users_per_source,
        seed=evaluation_settings.seed,
    )
    texts = dict(con.execute("SELECT user_id, text FROM user_texts").fetchall())
    titles = defaultdict(list)
    for mid, t in con.execute(
        "SELECT movie_id, title FROM movies UNION SELECT movie_id, source_title FROM movie_xref"
    ).fetchall():
        titles[mid].append(t)
    return likes, holdout, texts, dict(titles)
