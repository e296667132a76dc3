"""Parsers on small fixtures in the exact upstream formats, asserting exact values."""

import json

import duckdb
import pytest

from reelreason.parse import ccpe, goemotions, inspired, movielens, movietweetings, redial
from reelreason.parse.common import SourceFormatError
from reelreason.titles import clean_mention_name, parse_movielens_title, title_key


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


def write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- titles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("American President, The (1995)", ("The American President", None, 1995)),
        ("Postino, Il (The Postman) (1994)", ("Il Postino", "The Postman", 1994)),
        ("Seven (Se7en) (1995)", ("Seven", "Se7en", 1995)),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            ("The City of Lost Children", "La Cité des enfants perdus", 1995),
        ),
        ("Good, the Bad and the Ugly, The (1966)", ("The Good, the Bad and the Ugly", None, 1966)),
        ("Avventura, L' (1960)", ("L'Avventura", None, 1960)),
        ("Police Academy  (1984)", ("Police Academy", None, 1984)),
        ("2001: A Space Odyssey (1968)", ("2001: A Space Odyssey", None, 1968)),
    ],
)
def test_movielens_titles(raw, expected):
    assert parse_movielens_title(raw) == expected


def test_mention_names_decode_and_split_year():
    assert clean_mention_name("Why Him%3F (2016)") == ("Why Him?", 2016)
    assert clean_mention_name("Police Academy  (1984)") == ("Police Academy", 1984)
    assert clean_mention_name("American Pie ") == ("American Pie", None)
    assert clean_mention_name("Akira ()") == ("Akira", None)
    assert title_key("American President, The") == title_key("The American President")


# --- MovieLens ---------------------------------------------------------------------------------


def test_movielens_movies_latin1_articles_and_genres(con, tmp_path):
    path = write(
        tmp_path / "movies.dat",
        "11::American President, The (1995)::Comedy|Drama|Romance\n"
        "73::Misérables, Les (1995)::Drama|Musical\n"
        "47::Seven (Se7en) (1995)::Crime|Thriller\n"
        "2::Kids' Film (1999)::Children's|Sci-Fi|Film-Noir\n".encode("latin-1"),
    )
    parsed = movielens.parse_movies(con, path, "movies.dat")
    rows = {r["movie_id"]: r for r in parsed.tables["ml1m_movies"].to_pylist()}
    assert rows[73]["title"] == "Les Misérables"
    assert rows[73]["title_raw"] == "Misérables, Les (1995)"
    assert rows[11]["title"] == "The American President"
    assert rows[47]["alt_title"] == "Se7en"
    assert rows[2]["genres"] == ["Children's", "Sci-Fi", "Film-Noir"]
    assert parsed.accounts[0].balanced and parsed.accounts[0].kept == 4


def test_movielens_utf8_copy_is_not_turned_into_mojibake(con, tmp_path):
    path = write(tmp_path / "movies.dat", "73::Misérables, Les (1995)::Drama\n".encode("utf-8"))
    parsed = movielens.parse_movies(con, path, "movies.dat")
    assert parsed.tables["ml1m_movies"].column("title")[0].as_py() == "Les Misérables"
    assert "UTF-8" in parsed.notes["encoding_note"]


def test_movielens_ratings_quarantine_wrong_field_count_and_range(con, tmp_path):
    path = write(
        tmp_path / "ratings.dat",
        b"1::1193::5::978300760\n"
        b"1::661::3\n"  # wrong field count
        b"\n"  # blank line: not data, not lost
        b"2::914::7::978301968\n"  # rating outside 1..5
        b"2::3408::4::978300275\n",
    )
    parsed = movielens.parse_ratings(con, path, "ml-1m/ratings.dat")
    table = parsed.tables["ml1m_ratings"]
    assert table.column("movie_id").to_pylist() == [1193, 3408]
    q = parsed.quarantine["ml1m_ratings"]
    assert [(r["line"], r["raw"]) for r in q] == [(2, "1::661::3"), (4, "2::914::7::978301968")]
    assert "MISSING COLUMNS" in q[0]["reason"]
    assert q[1]["reason"] == "rating 7 outside 1..5"
    account = parsed.accounts[0]
    assert (account.data_lines, account.kept, account.quarantined, account.blank_lines) == (
        5,
        2,
        2,
        1,
    )


def test_wrong_column_count_throughout_fails_naming_the_file(con, tmp_path):
    path = write(tmp_path / "ratings.dat", b"1,1193,5,978300760\n1,661,3,978302109\n")
    with pytest.raises(SourceFormatError, match=r"ml-1m/ratings.dat: 2 of 2 lines .*column count"):
        movielens.parse_ratings(con, path, "ml-1m/ratings.dat")


def test_users_zip_stays_text(con, tmp_path):
    path = write(tmp_path / "users.dat", b"4::M::45::7::02460\n5::F::25::20::98107-2117\n")
    table = movielens.parse_users(con, path, "users.dat").tables["ml1m_users"]
    assert table.column("zip").to_pylist() == ["02460", "98107-2117"]


# --- MovieTweetings ----------------------------------------------------------------------------


def test_movietweetings_ids_padded_and_empty_genres(con, tmp_path):
    path = write(
        tmp_path / "movies.dat",
        "25::Horse in Motion (1895)::\n"
        "0443706::Zodiac (2007)::Crime|Drama|Mystery\n"
        "12345678::Some Series (2019)::Drama\n"
        "0002844::Fantômas - À l'ombre de la guillotine (1913)::Crime|Drama\n".encode(),
    )
    rows = (
        movietweetings.parse_movies(con, path, "movies.dat")
        .tables["movietweetings_movies"]
        .to_pylist()
    )
    assert [r["imdb_id"] for r in rows] == ["tt0000025", "tt0443706", "tt12345678", "tt0002844"]
    assert rows[0]["genres"] == []
    assert rows[3]["title"] == "Fantômas - À l'ombre de la guillotine"


def test_a_rejected_latin1_row_is_quarantined_as_it_reads(con, tmp_path):
    """The raw text of a quarantined MovieLens row is decoded as latin-1, like the file:
    a reviewer sees `Montréal`, not `Montr\ufffdal`."""
    path = write(
        tmp_path / "users.dat",
        "1::F::1::10::48067\n2::X::56::16::Montréal\n".encode("latin-1"),
    )
    parsed = movielens.parse_users(con, path, "users.dat")
    (q,) = parsed.quarantine["ml1m_users"]
    assert q["line"] == 2 and q["raw"] == "2::X::56::16::Montréal"
    assert parsed.tables["ml1m_users"].num_rows == 1


def test_movietweetings_latin1_bytes_in_utf8_file_are_quarantined(con, tmp_path):
    path = write(
        tmp_path / "movies.dat",
        b"0114709::Toy Story (1995)::Animation\n"
        b"0113277::Heat (1995)::Crime\n"
        b"0113828::Les Mis\xe9rables (1995)::Drama\n",
    )
    parsed = movietweetings.parse_movies(con, path, "movietweetings/movies.dat")
    (q,) = parsed.quarantine["movietweetings_movies"]
    assert q["line"] == 3 and "INVALID ENCODING" in q["reason"]
    assert parsed.tables["movietweetings_movies"].num_rows == 2


def test_latin1_file_read_as_utf8_fails_as_wrong_encoding(con, tmp_path):
    path = write(
        tmp_path / "movies.dat",
        "1::Misérables (1995)::Drama\n2::Amélie (2001)::Comedy\n".encode("latin-1"),
    )
    with pytest.raises(SourceFormatError, match="not valid utf-8 .wrong encoding."):
        movietweetings.parse_movies(con, path, "movietweetings/movies.dat")


def test_movietweetings_ratings_normalised_and_users_without_twitter_ids(con, tmp_path):
    ratings = write(tmp_path / "ratings.dat", b"1::0114709::10::1381945744\n2::25::0::1381620027\n")
    table = movietweetings.parse_ratings(con, ratings, "r").tables["movietweetings_ratings"]
    assert table.column("rating_5").to_pylist() == [5.0, 0.0]
    assert table.column("imdb_id").to_pylist() == ["tt0114709", "tt0000025"]
    users = write(tmp_path / "users.dat", b"1::1000000000000000003\n2::177\n")
    table = movietweetings.parse_users(con, users, "u").tables["movietweetings_users"]
    assert table.column_names == ["user_id", "has_twitter_id"]
    assert "1000000000000000003" not in str(table.to_pylist())


# --- INSPIRED ----------------------------------------------------------------------------------

HEADER = "\t".join(inspired.DIALOG_COLUMNS)


def inspired_row(
    dialog, utt, speaker, turn, text, movies="", movie_dict="{}", fine="accept_rating_good"
):
    placeholder = text.replace("QUOTATION_MARK", '"')
    return "\t".join(
        [
            dialog,
            str(utt),
            speaker,
            str(turn),
            text,
            placeholder,
            movies,
            "",
            "",
            movie_dict,
            "{'drama': 0}",
            "{}",
            "{}",
            "",
            "opinion_inquiry",
            "",
            fine,
            "accept_new",
            "Ks_MbPPkhm1",
        ]
    )


def test_inspired_quotes_titles_and_malformed_literal(con, tmp_path):
    bad_dict = "{'Office Space (1999): 1}"
    good_dict = "{'Zodiac (2007)': 0, 'Heat (1995)': 1}"
    lines = [
        HEADER,
        inspired_row(
            "d1.pkl",
            1,
            "SEEKER",
            1,
            "the QUOTATION_MARKfutureQUOTATION_MARK was dated",
            movie_dict=good_dict,
            fine="nan",
        ),
        inspired_row(
            "d1.pkl",
            2,
            "RECOMMENDER",
            1,
            "Try these",
            movies="Zodiac (2007);  Heat (1995)",
            movie_dict=good_dict,
            fine="nan",
        ),
        inspired_row("d2.pkl", 1, "SEEKER", 1, "I liked it", movie_dict=bad_dict),
    ]
    path = write(tmp_path / "dev.tsv", ("\n".join(lines) + "\n").encode())
    parsed = inspired.parse_dialogs(con, {"dev": (path, "inspired/dev.tsv")})
    utts = parsed.tables["inspired_utterances"].to_pylist()
    assert utts[0]["text"] == 'the "future" was dated'
    assert utts[0]["text_raw"].startswith("the QUOTATION_MARKfuture")
    assert utts[1]["movies"] == ["Zodiac (2007)", "Heat (1995)"]
    dialogs = {d["dialog_id"]: d for d in parsed.tables["inspired_dialogs"].to_pylist()}
    assert dialogs["d1.pkl"]["movies"] == ["Zodiac (2007)", "Heat (1995)"]
    assert dialogs["d1.pkl"]["fine_label"] is None  # the literal 'nan'
    assert dialogs["d2.pkl"]["movies"] == ["Office Space (1999)"]
    assert dialogs["d2.pkl"]["malformed_dicts"] == ["movie_dict"]
    assert len(utts) == 3 and parsed.quarantine["inspired_utterances"] == []


def test_inspired_wrong_header_is_a_clear_error(con, tmp_path):
    path = write(tmp_path / "dev.tsv", b"a\tb\tc\n1\t2\t3\n")
    with pytest.raises(SourceFormatError, match="inspired/dev.tsv: header has 3 columns"):
        inspired.parse_dialogs(con, {"dev": (path, "inspired/dev.tsv")})


def test_inspired_movie_database_typed_from_header(con, tmp_path):
    path = write(
        tmp_path / "movie_database.tsv",
        b"title\tyear\timdb_id\tgenre\tRuntime\n"
        b"Zodiac (2007)\t2007\ttt0443706\tCrime, Drama\t157 min\n"
        b"Akira ()\t\t\tAnimation\t\n",
    )
    table = inspired.parse_movie_database(con, path, "m").tables["inspired_movies"]
    rows = table.to_pylist()
    assert rows[0]["year"] == 2007 and rows[0]["runtime"] == 157
    assert rows[0]["genre"] == ["Crime", "Drama"]
    assert rows[1]["title_clean"] == "Akira" and rows[1]["year"] is None


# --- ReDial ------------------------------------------------------------------------------------


def redial_line(conv_id="20001", initiator_q=None, respondent_q=None, text="I liked @111776."):
    return json.dumps(
        {
            "movieMentions": {
                "111776": "Super Troopers (2001)",
                "151656": "Police Academy  (1984)",
                "204": "Why Him%3F (2016)",
                "192131": "American Pie ",
            },
            "respondentQuestions": respondent_q
            if respondent_q is not None
            else {"111776": {"suggested": 0, "seen": 1, "liked": 1}},
            "messages": [
                {"timeOffset": 0, "text": text, "senderWorkerId": 956, "messageId": 1},
                {
                    "timeOffset": 9,
                    "text": "Try @151656 or @204 or @999",
                    "senderWorkerId": 957,
                    "messageId": 2,
                },
            ],
            "conversationId": conv_id,
            "respondentWorkerId": 957,
            "initiatorWorkerId": 956,
            "initiatorQuestions": initiator_q
            if initiator_q is not None
            else {"111776": {"suggested": 0, "seen": 1, "liked": 1}},
        }
    )


def test_redial_renders_mentions_and_reads_both_sides(tmp_path):
    path = write(
        tmp_path / "test_data.jsonl",
        (redial_line() + "\n" + redial_line("20002", respondent_q=[]) + "\n").encode(),
    )
    parsed = redial.parse_conversations({"test": (path, "redial/test_data.jsonl")})
    msgs = parsed.tables["redial_messages"].to_pylist()
    assert msgs[0]["text"] == "I liked Super Troopers (2001)."
    assert msgs[0]["text_raw"] == "I liked @111776."
    assert msgs[0]["sender_role"] == "seeker" and msgs[1]["sender_role"] == "recommender"
    assert msgs[1]["text"] == "Try Police Academy (1984) or Why Him? (2016) or @999"
    assert msgs[1]["unresolved_mentions"] == 1
    mentions = {
        (m["conversation_id"], m["redial_movie_id"]): m
        for m in parsed.tables["redial_mentions"].to_pylist()
    }
    st = mentions[("20001", "111776")]
    assert (st["seeker_liked"], st["recommender_liked"]) == (1, 1)
    assert mentions[("20002", "111776")]["recommender_liked"] is None  # `[]` questions
    assert mentions[("20001", "204")]["title"] == "Why Him?"
    assert mentions[("20001", "192131")]["year"] is None


def test_redial_malformed_json_line_is_quarantined_with_its_line(tmp_path):
    path = write(
        tmp_path / "train_data.jsonl",
        (
            redial_line() + "\n" + redial_line("20002")[:-40] + "\n" + redial_line("20003") + "\n"
        ).encode(),
    )
    parsed = redial.parse_conversations({"train": (path, "redial/train_data.jsonl")})
    (q,) = parsed.quarantine["redial_conversations"]
    assert q["line"] == 2 and q["reason"].startswith("malformed JSON")
    assert parsed.tables["redial_conversations"].column("conversation_id").to_pylist() == [
        "20001",
        "20003",
    ]


def test_redial_movies_csv_crlf_quoted_commas(con, tmp_path):
    path = write(
        tmp_path / "m.csv",
        b"movieId,movieName,nbMentions\r\n75796,Headhunter  (2009),1\r\n"
        b'76013,"Good, the Bad (1966)",4\r\n',
    )
    rows = redial.parse_movies_with_mentions(con, path, "m").tables["redial_movies"].to_pylist()
    assert rows[1]["title"] == "Good, the Bad" and rows[0]["title"] == "Headhunter"


# --- CCPE --------------------------------------------------------------------------------------


def test_ccpe_segments_and_missing_segments(tmp_path):
    text = "I like Zodiac a lot"
    doc = [
        {
            "conversationId": "CCPE-1",
            "utterances": [
                {"index": 0, "speaker": "ASSISTANT", "text": "what do you watch"},
                {
                    "index": 1,
                    "speaker": "USER",
                    "text": text,
                    "segments": [
                        {
                            "startIndex": 7,
                            "endIndex": 13,
                            "text": "Zodiac",
                            "annotations": [
                                {"annotationType": "ENTITY_NAME", "entityType": "MOVIE_OR_SERIES"},
                                {
                                    "annotationType": "ENTITY_PREFERENCE",
                                    "entityType": "MOVIE_OR_SERIES",
                                },
                            ],
                        }
                    ],
                },
            ],
        }
    ]
    path = write(tmp_path / "data.json", json.dumps(doc, indent=2).encode())
    parsed = ccpe.parse(path, "ccpe/data.json")
    utts = parsed.tables["ccpe_utterances"].to_pylist()
    assert [u["n_segments"] for u in utts] == [0, 1]
    segs = parsed.tables["ccpe_segments"].to_pylist()
    assert [s["annotation_type"] for s in segs] == ["ENTITY_NAME", "ENTITY_PREFERENCE"]
    assert all(s["span_matches_text"] and s["text"] == "Zodiac" for s in segs)


def test_ccpe_truncated_json_names_the_file(tmp_path):
    path = write(tmp_path / "data.json", b'[{"conversationId": "CCPE-1", "utterances": [')
    with pytest.raises(SourceFormatError, match=r"ccpe/data.json: invalid JSON .*truncated"):
        ccpe.parse(path, "ccpe/data.json")


# --- GoEmotions --------------------------------------------------------------------------------

EMOTIONS = (
    "admiration amusement anger annoyance approval caring confusion curiosity desire "
    "disappointment disapproval disgust embarrassment excitement fear gratitude grief joy "
    "love nervousness optimism pride realization relief remorse sadness surprise neutral"
).split()


def test_goemotions_splits_quoted_text_and_labels(con, tmp_path):
    path = write(
        tmp_path / "dev.tsv",
        b'"He said ""wow"" twice"\t4,27\teew5j0j\nplain text, no quotes\t25\tedcu99z\n',
    )
    parsed = goemotions.parse_splits(con, {"dev": (path, "goemotions/dev.tsv")}, EMOTIONS)
    rows = parsed.tables["goemotions_texts"].to_pylist()
    assert rows[0]["text"] == 'He said "wow" twice'
    assert rows[0]["labels"] == ["approval", "neutral"]
    assert rows[0]["approval"] == 1 and rows[0]["joy"] == 0
    assert rows[1]["labels"] == ["sadness"]


def test_goemotions_raw_rows_aggregate_to_votes(con, tmp_path):
    header = ",".join(goemotions.RAW_META_COLUMNS + tuple(EMOTIONS))

    def row(text, cid, rater, unclear, on=()):
        return ",".join(
            [text, cid, "someone", "movies", "t3_x", "t1_y", "1548381039.0", str(rater), unclear]
            + ["1" if e in on else "0" for e in EMOTIONS]
        )

    body = (
        "\n".join(
            [
                header,
                row('"Loved it, truly"', "c1", 1, "False", ("love", "joy")),
                row('"Loved it, truly"', "c1", 2, "False", ("love",)),
                row('"Loved it, truly"', "c1", 3, "True"),
            ]
        )
        + "\n"
    )
    path = write(tmp_path / "goemotions_1.csv", body.encode())
    parsed = goemotions.parse_raw(con, [(path, "goemotions/goemotions_1.csv")], EMOTIONS)
    ratings = parsed.tables["goemotions_ratings"]
    assert ratings.num_rows == 3 and "author" not in ratings.column_names
    (text,) = goemotions.texts_from_ratings(con, ratings, EMOTIONS).to_pylist()
    assert text["text"] == "Loved it, truly"
    assert (text["n_raters"], text["love"], text["joy"]) == (3, 2, 1)
    assert text["labels"] == ["love"]


def test_movielens_links_pad_imdb_ids_and_keep_missing_tmdb_ids(con, tmp_path):
    path = write(
        tmp_path / "links.csv", b"movieId,imdbId,tmdbId\n1,0114709,862\n2,0113497,\n3,abc,5\n"
    )
    parsed = movielens.parse_links(con, path, "links.csv")
    assert parsed.tables["ml_links"].to_pylist() == [
        {"movie_id": 1, "imdb_id": "tt0114709", "tmdb_id": 862},
        {"movie_id": 2, "imdb_id": "tt0113497", "tmdb_id": None},
    ]
    (q,) = parsed.quarantine["ml_links"]
    assert q["line"] == 4 and q["reason"] == "imdbId abc is not numeric"


def test_goemotions_mappings_to_ekman_and_sentiment(tmp_path):
    ekman = write(tmp_path / "e.json", b'{"joy": ["joy", "admiration"], "anger": ["anger"]}')
    sentiment = write(
        tmp_path / "s.json", b'{"positive": ["joy", "admiration"], "negative": ["anger"]}'
    )
    rows = {
        r["emotion"]: r for r in goemotions.emotion_mappings(EMOTIONS, ekman, sentiment).to_pylist()
    }
    assert (rows["admiration"]["ekman"], rows["admiration"]["sentiment"]) == ("joy", "positive")
    assert rows["anger"]["label_index"] == 2 and rows["anger"]["sentiment"] == "negative"
    assert (rows["neutral"]["ekman"], rows["neutral"]["sentiment"]) == ("neutral", "neutral")
