#!/usr/bin/env python3
"""Write the bundled offline SAMPLE of the six public datasets.

Deterministic (``random.Random(7)``), Python 3.11 standard library only.

    python scripts/make_data.py --scale sample     # writes sample/raw/** and sample/README.md

Every row is our own: no row is copied from the upstream files. The rows imitate the
native upstream formats byte for byte (separators, quoting, encodings, line endings,
header or no header) and carry each known quirk at least once. The same ~40 real films
recur across the sources so that a later stage can resolve them across datasets.

Real facts used: film titles, years, directors and main cast, the IMDb ids listed in
``FILMS`` (only ids we are sure of), the 18 MovieLens genre names, the GoEmotions
emotion list and its Ekman / sentiment mappings. Everything else (ratings, users,
dialogues, comments, plots, ReDial movie ids, YouTube ids, Twitter ids, worker ids,
MovieLens movie ids) is invented.

The rows are curated here; how each file renders them (separators, quoting, encodings, line
endings, headers) is datagen.formats, shared with the full-scale generator.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from pathlib import Path

from datagen import formats as fmt
from datagen.formats import B36, EMOTIONS, GO_HEADER, INSPIRED_COLS, MARK, ML_GENRES

ROOT = Path(__file__).resolve().parents[2] / "sample"
RAW = ROOT / "raw"

rng = random.Random(7)

# --------------------------------------------------------------------------------------
# Bookkeeping: written files, quirks (located by a needle after writing), row counts.
# --------------------------------------------------------------------------------------
QUIRKS: list[tuple[str, str, str, str, str]] = []  # (dataset, quirk, relpath, needle, enc)
COUNTS: dict[str, tuple[int, str, int]] = {}  # relpath -> (records, unit, physical lines)


def quirk(dataset: str, text: str, relpath: str, needle: str, enc: str = "utf-8") -> None:
    QUIRKS.append((dataset, text, relpath, needle, enc))


def write(relpath: str, text: str) -> None:
    fmt.write_file(RAW, None, relpath, text)


def count(relpath: str, records: int, unit: str) -> None:
    data = (RAW / relpath).read_bytes()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    COUNTS[relpath] = (records, unit, lines)


# --------------------------------------------------------------------------------------
# The shared films.
# key, title, year, imdb (only where sure), ML-1M title, ML genres,
# MovieTweetings id as written (or None), MT title, MT genres, ReDial name (or None)
# --------------------------------------------------------------------------------------
# fmt: off
FILMS = [
    ("toy_story", "Toy Story", 1995, "tt0114709", "Toy Story (1995)", "Animation|Children's|Comedy",
     "0114709", "Toy Story (1995)", "Animation|Adventure|Comedy|Family|Fantasy", "Toy Story  (1995)"),
    ("heat", "Heat", 1995, "tt0113277", "Heat (1995)", "Action|Crime|Thriller",
     "0113277", "Heat (1995)", "Action|Crime|Drama|Thriller", "Heat (1995)"),
    ("seven", "Se7en", 1995, "tt0114369", "Seven (Se7en) (1995)", "Crime|Thriller",
     "0114369", "Se7en (1995)", "Crime|Drama|Mystery|Thriller", "Seven  (1995)"),
    ("american_president", "The American President", 1995, "tt0112346", "American President, The (1995)",
     "Comedy|Drama|Romance", "0112346", "The American President (1995)", "Comedy|Drama|Romance",
     "The American President (1995)"),
    ("miserables", "Les Misérables", 1995, None, "Misérables, Les (1995)", "Drama|Musical",
     None, None, None, None),
    ("postino", "Il Postino", 1994, None, "Postino, Il (The Postman) (1994)", "Drama|Romance",
     None, None, None, "Il Postino: The Postman (1994)"),
    ("city_lost_children", "The City of Lost Children", 1995, None,
     "City of Lost Children, The (Cité des enfants perdus, La) (1995)", "Adventure|Sci-Fi",
     None, None, None, None),
    ("pulp_fiction", "Pulp Fiction", 1994, "tt0110912", "Pulp Fiction (1994)", "Crime|Drama",
     "0110912", "Pulp Fiction (1994)", "Crime|Drama", "Pulp Fiction (1994)"),
    ("matrix", "The Matrix", 1999, "tt0133093", "Matrix, The (1999)", "Action|Sci-Fi|Thriller",
     "133093", "The Matrix (1999)", "Action|Sci-Fi", "The Matrix (1999)"),
    ("fight_club", "Fight Club", 1999, "tt0137523", "Fight Club (1999)", "Drama",
     "0137523", "Fight Club (1999)", "Drama", "Fight Club (1999)"),
    ("titanic", "Titanic", 1997, "tt0120338", "Titanic (1997)", "Drama|Romance",
     "0120338", "Titanic (1997)", "Drama|Romance", "Titanic  (1997)"),
    ("forrest_gump", "Forrest Gump", 1994, "tt0109830", "Forrest Gump (1994)", "Comedy|Romance|War",
     "0109830", "Forrest Gump (1994)", "Drama|Romance", "Forrest Gump (1994)"),
    ("jurassic_park", "Jurassic Park", 1993, "tt0107290", "Jurassic Park (1993)", "Action|Adventure|Sci-Fi",
     "0107290", "Jurassic Park (1993)", "Adventure|Sci-Fi|Thriller", "Jurassic Park  (1993)"),
    ("star_wars", "Star Wars", 1977, "tt0076759", "Star Wars: Episode IV - A New Hope (1977)",
     "Action|Adventure|Fantasy|Sci-Fi", "0076759", "Star Wars (1977)", "Action|Adventure|Fantasy|Sci-Fi",
     "Star Wars"),
    ("godfather", "The Godfather", 1972, "tt0068646", "Godfather, The (1972)", "Action|Crime|Drama",
     "0068646", "The Godfather (1972)", "Crime|Drama", "The Godfather (1972)"),
    ("shawshank", "The Shawshank Redemption", 1994, "tt0111161", "Shawshank Redemption, The (1994)", "Drama",
     "0111161", "The Shawshank Redemption (1994)", "Drama", "The Shawshank Redemption (1994)"),
    ("full_metal_jacket", "Full Metal Jacket", 1987, "tt0093058", "Full Metal Jacket (1987)", "Action|Drama|War",
     "0093058", "Full Metal Jacket (1987)", "Drama|War", "Full Metal Jacket (1987)"),
    ("clockwork_orange", "A Clockwork Orange", 1971, "tt0066921", "Clockwork Orange, A (1971)", "Sci-Fi",
     "0066921", "A Clockwork Orange (1971)", "Crime|Drama|Sci-Fi", "A Clockwork Orange (1971)"),
    ("zodiac", "Zodiac", 2007, "tt0443706", None, None,
     "0443706", "Zodiac (2007)", "Crime|Drama|Mystery|Thriller", "Zodiac  (2007)"),
    ("super_troopers", "Super Troopers", 2001, None, None, None, None, None, None, "Super Troopers (2001)"),
    ("police_academy", "Police Academy", 1984, None, "Police Academy (1984)", "Comedy",
     None, None, None, "Police Academy  (1984)"),
    ("exorcist", "The Exorcist", 1973, "tt0070047", "Exorcist, The (1973)", "Horror",
     "0070047", "The Exorcist (1973)", "Horror", "The Exorcist  (1973)"),
    ("toy_story_2", "Toy Story 2", 1999, "tt0120363", "Toy Story 2 (1999)", "Animation|Children's|Comedy",
     "0120363", "Toy Story 2 (1999)", "Animation|Adventure|Comedy|Family|Fantasy", "Toy Story 2 (1999)"),
    ("pretty_in_pink", "Pretty in Pink", 1986, None, "Pretty in Pink (1986)", "Comedy|Drama|Romance",
     None, None, None, "Pretty in Pink (1986)"),
    ("beverly_hills_cop", "Beverly Hills Cop", 1984, None, "Beverly Hills Cop (1984)", "Action|Comedy",
     None, None, None, "Beverly Hills Cop (1984)"),
    ("lethal_weapon", "Lethal Weapon", 1987, None, "Lethal Weapon (1987)", "Action|Comedy|Crime|Drama",
     None, None, None, "Lethal Weapon (1987)"),
    ("american_pie", "American Pie", 1999, None, "American Pie (1999)", "Comedy",
     None, None, None, "American Pie  (1999)"),
    ("inception", "Inception", 2010, "tt1375666", None, None,
     "1375666", "Inception (2010)", "Action|Adventure|Sci-Fi|Thriller", "Inception (2010)"),
    ("dark_knight", "The Dark Knight", 2008, "tt0468569", None, None,
     "0468569", "The Dark Knight (2008)", "Action|Crime|Drama|Thriller", "The Dark Knight  (2008)"),
    ("why_him", "Why Him?", 2016, None, None, None, None, None, None, "Why Him%3F (2016)"),
    ("hamlet_1990", "Hamlet", 1990, None, "Hamlet (1990)", "Drama", None, None, None, "Hamlet (1990)"),
    ("hamlet_1996", "Hamlet", 1996, None, "Hamlet (1996)", "Drama", None, None, None, "Hamlet  (1996)"),
    ("good_bad_ugly", "The Good, the Bad and the Ugly", 1966, "tt0060196",
     "Good, the Bad and the Ugly, The (1966)", "Action|Western",
     "0060196", "Il buono, il brutto, il cattivo (1966)", "Western", "The Good, the Bad and the Ugly (1966)"),
    ("space_odyssey", "2001: A Space Odyssey", 1968, "tt0062622", "2001: A Space Odyssey (1968)",
     "Drama|Mystery|Sci-Fi|Thriller", "0062622", "2001: A Space Odyssey (1968)", "Adventure|Sci-Fi", None),
    ("nineteen41", "1941", 1979, None, "1941 (1979)", "Comedy|War", None, None, None, None),
    ("dune_1984", "Dune", 1984, "tt0087182", "Dune (1984)", "Fantasy|Sci-Fi",
     "0087182", "Dune (1984)", "Action|Adventure|Sci-Fi", None),
    ("dune_2021", "Dune", 2021, "tt1160419", None, None, "1160419", "Dune (2021)", "", None),
    ("maltese_falcon", "The Maltese Falcon", 1941, None, "Maltese Falcon, The (1941)", "Film-Noir|Mystery",
     None, None, None, None),
    ("hoop_dreams", "Hoop Dreams", 1994, None, "Hoop Dreams (1994)", "Documentary", None, None, None, None),
    ("casablanca", "Casablanca", 1942, "tt0034583", "Casablanca (1942)", "Drama|Romance|War",
     "0034583", "Casablanca (1942)", "Drama|Romance|War", None),
    ("alien", "Alien", 1979, "tt0078748", "Alien (1979)", "Action|Horror|Sci-Fi|Thriller",
     "0078748", "Alien (1979)", "Horror|Sci-Fi", None),
    ("back_to_the_future", "Back to the Future", 1985, "tt0088763", "Back to the Future (1985)", "Comedy|Sci-Fi",
     "0088763", "Back to the Future (1985)", "Adventure|Comedy|Sci-Fi", None),
    ("office_space", "Office Space", 1999, None, "Office Space (1999)", "Comedy|Romance",
     None, None, None, "Office Space (1999)"),
    ("akira", "Akira", 1988, "tt0094625", "Akira (1988)", "Adventure|Animation|Sci-Fi|Thriller",
     "0094625", "Akira (1988)", "Animation|Action|Drama|Sci-Fi", None),
    ("leon", "Léon: The Professional", 1994, "tt0110413",
     "Professional, The (a.k.a. Leon: The Professional) (1994)", "Crime|Drama|Romance|Thriller",
     "0110413", "Léon (1994)", "Crime|Drama|Thriller", None),
    ("shining", "The Shining", 1980, "tt0081505", "Shining, The (1980)", "Horror",
     "0081505", "The Shining (1980)", "Drama|Horror", None),
    ("goodfellas", "Goodfellas", 1990, "tt0099685", "GoodFellas (1990)", "Crime|Drama",
     "0099685", "Goodfellas (1990)", "Biography|Crime|Drama", None),
    ("amelie", "Amélie", 2001, "tt0211915", None, None,
     "0211915", "Le fabuleux destin d'Amélie Poulain (2001)", "Comedy|Romance", None),
    ("interstellar", "Interstellar", 2014, "tt0816692", None, None,
     "0816692", "Interstellar (2014)", "Adventure|Drama|Sci-Fi", None),
    ("breaking_bad", "Breaking Bad", 2008, "tt0903747", None, None,
     "0903747", "Breaking Bad (2008)", "Crime|Drama|Thriller", None),
    # The id must be written `25` (upstream has such unpadded ids). Title is a placeholder of ours.
    ("reel_25", "Actuality Reel No. 25", 1895, None, None, None, "25", "Actuality Reel No. 25 (1895)", "", None),
]
# fmt: on
F = {
    row[0]: dict(
        zip(
            (
                "key",
                "title",
                "year",
                "imdb",
                "ml_title",
                "ml_genres",
                "mt_id",
                "mt_title",
                "mt_genres",
                "redial",
            ),
            row,
            strict=True,
        )
    )
    for row in FILMS
}

# rough "quality" used only to draw plausible ratings
# fmt: off
QUALITY = {"shawshank": 4.6, "godfather": 4.5, "star_wars": 4.4, "pulp_fiction": 4.3, "matrix": 4.3,
           "seven": 4.1, "heat": 4.0, "fight_club": 4.2, "toy_story": 4.2, "good_bad_ugly": 4.2,
           "casablanca": 4.4, "goodfellas": 4.2, "alien": 4.1, "full_metal_jacket": 4.0, "akira": 3.9,
           "space_odyssey": 4.0, "clockwork_orange": 3.9, "shining": 4.0, "back_to_the_future": 4.0,
           "maltese_falcon": 4.1, "hoop_dreams": 4.0, "postino": 4.0, "forrest_gump": 4.1,
           "jurassic_park": 3.8, "titanic": 3.6, "exorcist": 3.7, "toy_story_2": 3.9, "leon": 4.0,
           "office_space": 3.9, "american_president": 3.6, "miserables": 3.7, "city_lost_children": 3.8,
           "hamlet_1990": 3.3, "hamlet_1996": 3.7, "dune_1984": 3.1, "nineteen41": 2.7,
           "police_academy": 2.6, "american_pie": 3.3, "pretty_in_pink": 3.2, "beverly_hills_cop": 3.5,
           "lethal_weapon": 3.6, "inception": 4.3, "dark_knight": 4.4, "zodiac": 3.9, "interstellar": 4.2,
           "amelie": 4.1, "breaking_bad": 4.6, "dune_2021": 3.9, "reel_25": 3.0}
# fmt: on

# ======================================================================================
# MovieLens 1M
# ======================================================================================


def make_movielens() -> None:
    films = [f for f in F.values() if f["ml_title"]]
    ids = sorted(rng.sample(range(1, 3953), len(films)))  # non-contiguous
    order = sorted(films, key=lambda f: (f["year"], f["ml_title"]))
    for mid, f in zip(ids, order, strict=True):
        f["ml_id"] = mid
    films = sorted(films, key=lambda f: f["ml_id"])
    lines = []
    for f in films:
        for g in f["ml_genres"].split("|"):
            assert g in ML_GENRES, g
        lines.append(fmt.movie_line(f["ml_id"], f["ml_title"], f["ml_genres"].split("|")))
    used = {g for f in films for g in f["ml_genres"].split("|")}
    assert used == set(ML_GENRES), set(ML_GENRES) - used
    write(fmt.ML_FILE.format("movies"), "".join(lines))
    count("movielens/ml-1m/movies.dat", len(lines), "movies")

    rel = "movielens/ml-1m/movies.dat"
    quirk("MovieLens 1M", "latin-1 byte 0xE9 in a title", rel, "Misérables, Les (1995)", "latin-1")
    quirk("MovieLens 1M", "moved article `, The`", rel, "American President, The (1995)", "latin-1")
    quirk(
        "MovieLens 1M",
        "moved article + alternate title",
        rel,
        "Postino, Il (The Postman) (1994)",
        "latin-1",
    )
    quirk(
        "MovieLens 1M",
        "alternate title in a second parenthesis",
        rel,
        "Seven (Se7en) (1995)",
        "latin-1",
    )
    quirk(
        "MovieLens 1M",
        "a.k.a. alternate title (Léon, in ASCII here)",
        rel,
        "Professional, The (a.k.a. Leon: The Professional) (1994)",
        "latin-1",
    )
    quirk(
        "MovieLens 1M",
        "comma that is NOT only the moved article",
        rel,
        "Good, the Bad and the Ugly, The (1966)",
        "latin-1",
    )
    quirk(
        "MovieLens 1M",
        "latin-1 inside an alternate title with its own moved article",
        rel,
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
        "latin-1",
    )
    quirk("MovieLens 1M", "same base title, two years (1/2)", rel, "::Hamlet (1990)::", "latin-1")
    quirk("MovieLens 1M", "same base title, two years (2/2)", rel, "::Hamlet (1996)::", "latin-1")
    quirk(
        "MovieLens 1M",
        "year-like number in the title (title is only a number)",
        rel,
        "::1941 (1979)::",
        "latin-1",
    )
    quirk(
        "MovieLens 1M",
        "year-like number in the title",
        rel,
        "::2001: A Space Odyssey (1968)::",
        "latin-1",
    )
    quirk("MovieLens 1M", "genre spelled `Children's`", rel, "Children's", "latin-1")
    quirk("MovieLens 1M", "genre spelled `Film-Noir`", rel, "Film-Noir", "latin-1")
    quirk("MovieLens 1M", "mixed-case title (`GoodFellas`)", rel, "GoodFellas (1990)", "latin-1")

    # users
    n_users = 60
    ages = [1, 18, 25, 35, 45, 50, 56]
    age_w = [4, 18, 35, 20, 9, 8, 6]
    ulines = []
    for uid in range(1, n_users + 1):
        gender = "F" if rng.random() < 0.3 else "M"
        age = rng.choices(ages, age_w)[0]
        occ = rng.randint(0, 20)
        if uid in (5, 33):
            zipc = f"0{rng.randint(1000, 9999)}"  # leading zero (New England)
        elif uid in (12, 47):
            zipc = f"{rng.randint(90000, 99499)}-{rng.randint(1000, 9999)}"  # ZIP+4
        else:
            zipc = f"{rng.randint(10000, 99999)}"
            if rng.random() < 0.1:
                zipc = "0" + zipc[1:]
        ulines.append(fmt.dat_line(uid, gender, age, occ, zipc))
    write(fmt.ML_FILE.format("users"), "".join(ulines))
    count("movielens/ml-1m/users.dat", len(ulines), "users")
    quirk(
        "MovieLens 1M",
        "zip with leading zero (keep as string)",
        "movielens/ml-1m/users.dat",
        ulines[4].rstrip("\n"),
        "latin-1",
    )
    quirk(
        "MovieLens 1M",
        "ZIP+4 zip `NNNNN-NNNN`",
        "movielens/ml-1m/users.dat",
        ulines[11].rstrip("\n"),
        "latin-1",
    )

    # ratings, sorted by user, unsorted within a user (like upstream)
    rlines = []
    for uid in range(1, n_users + 1):
        k = rng.randint(10, 30)
        picks = rng.sample(films, k)
        base = rng.randint(956703932, 1040000000)
        for f in picks:
            r = max(1, min(5, round(rng.gauss(QUALITY[f["key"]], 0.9))))
            ts = base + rng.randint(0, 86400 * rng.choice([1, 3, 30, 200]))
            rlines.append(fmt.dat_line(uid, f["ml_id"], r, ts))
    write(fmt.ML_FILE.format("ratings"), "".join(rlines))
    count("movielens/ml-1m/ratings.dat", len(rlines), "ratings")


# ======================================================================================
# MovieTweetings
# ======================================================================================


def make_movietweetings() -> None:
    films = sorted((f for f in F.values() if f["mt_id"]), key=lambda f: int(f["mt_id"]))
    lines = [fmt.movie_line(f["mt_id"], f["mt_title"], f["mt_genres"].split("|")) for f in films]
    write(fmt.MT_FILE.format("movies"), "".join(lines))
    count("movietweetings/movies.dat", len(lines), "movies")
    rel = "movietweetings/movies.dat"
    quirk(
        "MovieTweetings",
        "id written `25` (not zero-padded) -> tt0000025; empty genre",
        rel,
        "25::Actuality",
    )
    quirk(
        "MovieTweetings", "id written `133093` (6 digits) -> tt0133093", rel, "133093::The Matrix"
    )
    quirk("MovieTweetings", "7-digit zero-padded id `0443706`", rel, "0443706::Zodiac")
    quirk(
        "MovieTweetings",
        "empty genre field (line ends in `::`) (2nd row)",
        rel,
        "1160419::Dune (2021)::",
    )
    quirk("MovieTweetings", "UTF-8 non-ASCII original title", rel, "Léon (1994)")
    quirk("MovieTweetings", "UTF-8 non-ASCII original-language title", rel, "Amélie Poulain")
    quirk(
        "MovieTweetings",
        "original-language title with commas",
        rel,
        "Il buono, il brutto, il cattivo",
    )
    quirk("MovieTweetings", "same title `Dune`, two ids (1/2)", rel, "0087182::Dune (1984)")
    quirk("MovieTweetings", "same title `Dune`, two ids (2/2)", rel, "1160419::Dune (2021)")
    quirk("MovieTweetings", "TV series item", rel, "0903747::Breaking Bad (2008)")

    n_users = 24
    rlines = []
    seen_vals = set()
    forced = {3: ("reel_25", 0), 4: ("dark_knight", 10), 5: ("matrix", 9)}
    for uid in range(1, n_users + 1):
        k = rng.randint(3, 12)
        picks = [f for f in rng.sample(films, k) if uid not in forced or f["key"] != forced[uid][0]]
        base = rng.randint(1362000000, 1640000000)
        rows = []
        for f in picks:
            r = max(0, min(10, round(rng.gauss(QUALITY[f["key"]] * 2 - 0.5, 1.8))))
            rows.append((int(f["mt_id"]), f["mt_id"], r, base + rng.randint(0, 86400 * 90)))
        if uid in forced:
            f = F[forced[uid][0]]
            rows.append((int(f["mt_id"]), f["mt_id"], forced[uid][1], base + 5))
        seen = set()
        for _, mid, r, ts in sorted(rows):
            if mid in seen:
                continue
            seen.add(mid)
            seen_vals.add(r)
            rlines.append(fmt.dat_line(uid, mid, r, ts))
    assert 0 in seen_vals and 10 in seen_vals
    write(fmt.MT_FILE.format("ratings"), "".join(rlines))
    count("movietweetings/ratings.dat", len(rlines), "ratings")
    quirk("MovieTweetings", "rating 0", "movietweetings/ratings.dat", "3::25::0::")
    quirk("MovieTweetings", "rating 10", "movietweetings/ratings.dat", "::10::")
    quirk(
        "MovieTweetings",
        "unpadded id `133093` in ratings",
        "movietweetings/ratings.dat",
        "::133093::",
    )

    ulines = []
    for uid in range(1, n_users + 1):
        length = 19 if uid in (2, 17) else rng.choice([7, 8, 9, 9, 10, 10, 18, 19])
        tid = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))
        ulines.append(fmt.dat_line(uid, tid))
    write(fmt.MT_FILE.format("users"), "".join(ulines))
    count("movietweetings/users.dat", len(ulines), "users")
    quirk(
        "MovieTweetings",
        "19-digit (made-up) twitter id",
        "movietweetings/users.dat",
        ulines[1].rstrip("\n"),
    )


# ======================================================================================
# INSPIRED
# ======================================================================================
# Utterance: (speaker R|S, text with markup, expert_label[|second_label]).
# Markup: [[m:Title (Year)|surface]] [[g:genre|surface]] [[a:Actor]] [[d:Director]]
# A '"' in the text becomes QUOTATION_MARK in `text` and stays '"' in `text_with_placeholder`.
# Dialog options: fine, coarse, extra_movies (dict order), movie_dict_literal (raw override),
# sep2 (utterance index whose `movies` is joined with ';  '), nan_at (utt index with fine_label nan).
# fmt: off
DIALOGS = {
    "train": [
        dict(id="20191201-091512_301_live.pkl", fine="accept_rating_good", coarse="accept_new",
             extra_movies=["Fight Club (1999)"], utts=[
                 ("R", "Hi there! How is your day going?", "no_strategy"),
                 ("S", "Pretty good, thanks for asking.", ""),
                 ("R", "What kind of movies are you in the mood for?", "opinion_inquiry"),
                 ("S", "I really like [[g:thriller|thrillers]], especially crime ones.", ""),
                 ("R", "Nice! What is a [[g:thriller]] you loved recently?", "experience_inquiry"),
                 ("S", "I rewatched [[m:Se7en (1995)|Se7en]] last week, the ending still gets me.", ""),
                 ("S", "Anything by [[d:David Fincher]] really.", ""),
                 ("R", "Then I think you would enjoy [[m:Zodiac (2007)|Zodiac]], also directed by "
                       "[[d:David Fincher]].", "credibility|similarity"),
                 ("S", "I have heard of it but never watched it. What is it about?", ""),
                 ("R", "It follows the hunt for the Zodiac killer in San Francisco, with [[a:Jake Gyllenhaal]] "
                       "as a cartoonist who gets obsessed.", "credibility"),
                 ("S", "That sounds right up my alley.", ""),
                 ("R", "It is long but it never drags. My favorite part is the basement scene.",
                  "personal_opinion"),
                 ("S", "OK, I will watch the trailer.", ""),
                 ("R", "Great, enjoy!", "encouragement"),
             ]),
        dict(id="20191201-104233_57_live.pkl", fine="accept_rating_good", coarse="accept_new", sep2=3, utts=[
            ("R", "Hello! What movies do you usually watch?", "opinion_inquiry"),
            ("S", "Mostly [[g:sci-fi]] and big blockbusters.", ""),
            ("R", "Which ones stuck with you the most?", "experience_inquiry"),
            ("S", "[[m:Inception (2010)|Inception]] and [[m:The Dark Knight (2008)|The Dark Knight]], I love "
                  "anything by [[d:Christopher Nolan]].", ""),
            ("R", "Have you seen [[m:Interstellar (2014)|Interstellar]]?", "similarity"),
            ("S", 'Yes! The "do not go gentle" speech gave me chills.', ""),
            ("R", "Then let me suggest [[m:The Matrix (1999)|The Matrix]], it is an older one but it bends "
                  "your mind the same way.", "personal_opinion"),
            ("S", "I saw it as a kid, maybe it is time for a rewatch.", ""),
            ("R", "Definitely. [[a:Keanu Reeves]] at his best.", "personal_opinion"),
            ("S", "Sold. I accept.", ""),
            ("R", "Enjoy the trailer!", "encouragement"),
        ]),
        dict(id="20191202-140158_188_live.pkl", fine="accept_rating_mod", coarse="accept_new", utts=[
            ("R", "Hi! Who will be watching the movie with you?", "opinion_inquiry"),
            ("S", "My two kids, they are 6 and 9.", ""),
            ("R", "Fun! Do they like [[g:animation|animated]] movies?", "preference_confirmation"),
            ("S", "They watched [[m:Toy Story (1995)|Toy Story]] and [[m:Toy Story 2 (1999)|Toy Story 2]] "
                  "about a hundred times.", ""),
            ("R", "Ha, same with my nephew. [[a:Tom Hanks]] as Woody never gets old.", "personal_experience"),
            ("S", "Something new would be nice though.", ""),
            ("R", "How about [[m:Jurassic Park (1993)|Jurassic Park]]? It might be a bit scary for the 6 year "
                  "old.", "credibility"),
            ("S", "Hmm, he gets scared easily.", ""),
            ("R", "It is rated PG-13, so maybe watch the trailer first and decide.", "transparency"),
            ("S", "Fair enough, I will give it a try.", ""),
            ("R", "I hope they love the dinosaurs!", "encouragement"),
            ("S", "Thank you!", ""),
        ]),
        dict(id="20191203-113047_412_live.pkl", fine="accept_rating_good", coarse="accept_new", utts=[
            ("R", "Hey, what are you looking for today?", "opinion_inquiry"),
            ("S", "Something serious, I am in a [[g:drama]] mood.", ""),
            ("R", "Any favorites in that area?", "experience_inquiry"),
            ("S", "[[m:Schindler's List (1993)|Schindler's List]] is probably my all time favorite.", ""),
            ("R", "That is a heavy one. Do you like older films too?", "preference_confirmation"),
            ("S", "Sure, as long as the acting is good.", ""),
            ("R", "Then [[m:The Godfather (1972)|The Godfather]] is a must, [[a:Marlon Brando]] and "
                  "[[a:Al Pacino]] are incredible.", "credibility"),
            ("S", "I have actually never seen it, which is embarrassing.", ""),
            ("R", "No shame at all! I only saw it last year myself.", "personal_experience"),
            ("S", "Ok, I will check out the trailer.", ""),
        ]),
        dict(id="20191203-152210_96_live.pkl", fine="reject", coarse="reject",
             extra_movies=["Ghost in the Shell (1995)"], utts=[
                 ("R", "Hello, what genre do you enjoy?", "opinion_inquiry"),
                 ("S", "I am into [[g:anime]] lately.", ""),
                 ("R", "Have you watched [[m:Akira ()|Akira]]?", "experience_inquiry"),
                 ("S", "Yes, the motorcycle scene is iconic.", ""),
                 ("R", "What about [[m:Spirited Away (2001)|Spirited Away]]?", "similarity"),
                 ("S", "Seen it twice, I want something I have not seen.", ""),
                 ("R", "Maybe [[m:The Matrix (1999)|The Matrix]]? It borrowed a lot from anime.", "credibility"),
                 ("S", "I am not really into live action sci-fi, sorry.", ""),
                 ("R", "No problem, thanks for telling me.", "acknowledgment"),
                 ("S", "I think I will pass on this one.", ""),
             ]),
        dict(id="20191204-083355_233_live.pkl", fine="accept_uninterested", coarse="accept_new", utts=[
            ("R", "Bonjour! Do you like foreign films?", "preference_confirmation"),
            ("S", "I do, French ones especially.", ""),
            ("R", "Have you seen [[m:Amélie (2001)|Amélie]]?", "experience_inquiry"),
            ("S", "No, but my sister keeps telling me to.", ""),
            ("R", "[[a:Audrey Tautou]] is charming in it and the music is beautiful.", "personal_opinion"),
            ("S", "Is it a [[g:romance]]?", ""),
            ("R", "A quirky romance, yes, with a lot of [[g:comedy]].", "credibility"),
            ("S", "Alright, I will watch the trailer.", ""),
            ("R", "Let me know what you think!", "no_strategy"),
        ]),
    ],
    "dev": [
        dict(id="20191202-101944_518_live.pkl", fine="accept_rating_mod", coarse="accept_new",
             movie_dict_literal="{'Super Troopers (2001)': 0, 'Office Space (1999): 1}", utts=[
                 ("R", "Hi, ready to find a movie?", "no_strategy"),
                 ("S", "Yes! I need a good laugh.", ""),
                 ("R", "What [[g:comedy|comedies]] do you like?", "opinion_inquiry"),
                 ("S", "Dumb ones, like [[m:Super Troopers (2001)|Super Troopers]].", ""),
                 ("R", "Ha, classic. Have you seen [[m:Office Space (1999)|Office Space]]?", "similarity"),
                 ("S", "I don't think so, what's it about?", ""),
                 ("R", "Office workers who hate their jobs and try to scam the company. The printer scene is "
                       "legendary.", "credibility"),
                 ("S", "That sounds like my life lol.", ""),
                 ("R", "Then you will relate to it a lot!", "personal_opinion"),
                 ("S", "Ok I accept.", ""),
                 ("R", "Enjoy!", "encouragement"),
             ]),
        dict(id="20191204-131702_77_live.pkl", fine="accept_others", coarse="accept_new", utts=[
            ("R", "Hello! What are you in the mood for?", "opinion_inquiry"),
            ("S", "I'm studying Shakespeare, so maybe an adaptation?", ""),
            ("R", "There are two great versions of Hamlet: [[m:Hamlet (1990)|the 1990 one]] with "
                  "[[a:Mel Gibson]] and [[m:Hamlet (1996)|the 1996 one]] by [[d:Kenneth Branagh]].", "credibility"),
            ("S", "Which one is closer to the play?", ""),
            ("R", "The Branagh one uses the full text, it is four hours long.", "credibility"),
            ("S", "Wow, that is long.", ""),
            ("R", "The Mel Gibson one is much shorter and easier to get into.", "transparency"),
            ("S", "I'll try the shorter one first.", ""),
            ("R", "Good choice, here is the trailer.", "encouragement"),
            ("S", "I had to stop the trailer halfway, my internet was acting up.", ""),
        ]),
        dict(id="20191205-094120_640_live.pkl", fine="accept_rating_good", coarse="accept_new", utts=[
            ("R", "Hi! What kind of movies do you like?", "opinion_inquiry"),
            ("S", "[[g:action]] with some humor.", ""),
            ("R", "Like [[m:Lethal Weapon (1987)|Lethal Weapon]] or [[m:Beverly Hills Cop (1984)|Beverly Hills "
                  "Cop]]?", "preference_confirmation"),
            ("S", "Exactly! [[a:Eddie Murphy]] is hilarious.", ""),
            ("R", "Have you seen [[m:Star Wars (1977)|Star Wars]]? Lots of action and [[a:Harrison Ford]] is "
                  "funny in it.", "similarity"),
            ("S", "A long time ago, I barely remember it.", ""),
            ("R", "It holds up really well, I watched it again last month with my kids.", "personal_experience"),
            ("S", "OK let's go with that.", ""),
            ("R", "May the force be with you!", "encouragement"),
        ]),
    ],
    "test": [
        dict(id="20191202-170511_350_live.pkl", fine="accept_rating_good", coarse="accept_new", nan_at=7, utts=[
            ("R", "Hey! What do you feel like watching?", "opinion_inquiry"),
            ("S", "Something light, maybe an 80s [[g:romance]].", ""),
            ("R", "[[m:Pretty in Pink (1986)|Pretty in Pink]] is a great pick for that.", "personal_opinion"),
            ("S", "I love [[a:Molly Ringwald]]!", ""),
            ("R", "Have you seen it already?", "experience_inquiry"),
            ("S", "Only parts of it on TV.", ""),
            ("R", "Then it is worth watching the whole thing.", "encouragement"),
            ("S", "Sounds good, I accept.", ""),
            ("R", "Awesome, enjoy the trailer.", "encouragement"),
        ]),
        dict(id="20191203-200833_471_live.pkl", fine="accept_rating_good", coarse="accept_new", utts=[
            ("R", "Hi, what was the last movie that made you cry?", "experience_inquiry"),
            ("S", "[[m:Titanic (1997)|Titanic]], every single time.", ""),
            ("R", "Ha, same. Do you like movies with a big emotional payoff?", "preference_confirmation"),
            ("S", "Yes, like [[m:Forrest Gump (1994)|Forrest Gump]] and "
                  "[[m:The Shawshank Redemption (1994)|Shawshank]].", ""),
            ("R", "Then you might like [[m:The American President (1995)|The American President]], it is sweet "
                  "and smart.", "personal_opinion|encouragement"),
            ("S", "Is that the one with [[a:Michael Douglas]]?", ""),
            ("R", "Yes, and [[a:Annette Bening]]. [[d:Rob Reiner]] directed it.", "credibility"),
            ("S", "I like Rob Reiner.", ""),
            ("R", "Then you'll love it!", "encouragement"),
            ("S", "Ok, I'll watch it.", ""),
        ]),
        dict(id="20191205-211402_13_live.pkl", fine="accept_rating_mod", coarse="accept_new", utts=[
            ("R", "Good evening! What are you looking for?", "opinion_inquiry"),
            ("S", "Something [[g:crime]], a bit weird maybe.", ""),
            ("R", "Have you seen [[m:Pulp Fiction (1994)|Pulp Fiction]]?", "experience_inquiry"),
            ("S", 'Of course, "Royale with cheese" is my favorite line.', ""),
            ("R", "What about [[m:Fight Club (1999)|Fight Club]]?", "similarity"),
            ("S", 'Seen it too. I need something "different".', ""),
            ("R", "Then try [[m:Heat (1995)|Heat]], [[a:Al Pacino]] and [[a:Robert De Niro]] together.",
             "credibility"),
            ("S", "I've never seen it actually.", ""),
            ("R", "It is my favorite heist movie.", "personal_opinion"),
            ("S", "Ok, I'll take it.", ""),
        ]),
    ],
}
# fmt: on


def youtube_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(11))


def inspired_rows(d: dict) -> list[str]:
    dicts = fmt.inspired_dicts(d["utts"], d.get("extra_movies", []))
    return fmt.inspired_rows(
        d["id"],
        d["utts"],
        dicts,
        fine=d["fine"],
        coarse=d["coarse"],
        yt=youtube_id(),
        sep=lambda i, _movies: ";  " if d.get("sep2") == i else "; ",
        movie_dict=d.get("movie_dict_literal"),  # None: the dict as Python writes it
        nan_at=d.get("nan_at"),
    )


# fmt: off
DB_EXTRA = [
    # films only in the INSPIRED movie database: key, title, year, imdb
    ("silence_lambs", "The Silence of the Lambs", 1991, "tt0102926"),
    ("schindler", "Schindler's List", 1993, "tt0108052"),
    ("usual_suspects", "The Usual Suspects", 1995, "tt0114814"),
    ("memento", "Memento", 2000, "tt0209144"),
    ("prestige", "The Prestige", 2006, "tt0482571"),
    ("blade_runner", "Blade Runner", 1982, "tt0083658"),
    ("taxi_driver", "Taxi Driver", 1976, "tt0075314"),
]

# key: (db title override or None, genre, actors, director, short_plot, long_plot, rating, runtime)
DB = {
    "toy_story": (None, "Animation, Adventure, Comedy", "Tom Hanks, Tim Allen, Don Rickles", "John Lasseter",
                  "A pull-string cowboy doll feels pushed aside when a flashy space ranger toy arrives.",
                  "Woody has always been the favorite toy in Andy's room. When Buzz Lightyear shows up on a "
                  "birthday, jealousy sends both toys out of the house and they must work together to get back.",
                  "8.3", "81 min"),
    "heat": (None, "Action, Crime, Drama", "Al Pacino, Robert De Niro, Val Kilmer", "Michael Mann",
             "A driven detective closes in on a disciplined crew of professional thieves in Los Angeles.",
             "Lieutenant Vincent Hanna hunts master thief Neil McCauley across the city. The two men respect "
             "each other, and both know that only one of them can walk away from the last job.",
             "8.3", "170 min"),
    "seven": (None, "Crime, Drama, Mystery", "Morgan Freeman, Brad Pitt, Kevin Spacey", "David Fincher",
              "Two detectives chase a killer who models his murders on the seven deadly sins.",
              "A veteran detective days from retirement and his impatient new partner follow a trail of "
              "staged crime scenes through a rain-soaked city, toward an ending neither can control.",
              "8.6", "127 min"),
    "american_president": (None, "Comedy, Drama, Romance", "Michael Douglas, Annette Bening, Martin Sheen",
                           "Rob Reiner",
                           "A widowed president falls for an environmental lobbyist during a re-election year.",
                           "Andrew Shepherd has to choose between his poll numbers and Sydney Wade, a lobbyist "
                           "who is not impressed by the office. Washington politics gets in the way of a date.",
                           "6.8", "114 min"),
    "pulp_fiction": (None, "Crime, Drama", "John Travolta, Uma Thurman, Samuel L. Jackson", "Quentin Tarantino",
                     "Interlocking stories of hit men, a boxer and a gangster's wife in Los Angeles.",
                     "", "8.9", "154 min"),
    "matrix": (None, "Action, Sci-Fi", "Keanu Reeves, Laurence Fishburne, Carrie-Anne Moss",
               "Lana Wachowski, Lilly Wachowski",
               "A hacker learns that the world he lives in is a simulation.",
               "Thomas Anderson is recruited by a band of rebels who show him that humanity is kept asleep inside "
               "a machine-made reality. He starts to bend its rules.", "8.7", "136 min"),
    "fight_club": (None, "Drama", "Brad Pitt, Edward Norton, Helena Bonham Carter", "David Fincher",
                   "An insomniac office worker and a soap salesman start an underground club.",
                   "A narrator bored with his furnished life meets the reckless Tyler Durden. Their basement "
                   "fights grow into something much larger than either planned.", "8.8", "139 min"),
    "titanic": (None, "Drama, Romance", "Leonardo DiCaprio, Kate Winslet, Billy Zane", "James Cameron",
                "A poor artist and a rich young woman fall in love aboard a doomed ocean liner.",
                "In 1912, Jack and Rose meet on the maiden voyage of the Titanic. Their romance crosses class "
                "lines just as the ship hits an iceberg in the North Atlantic.", "7.9", "194 min"),
    "forrest_gump": (None, "Drama, Romance", "Tom Hanks, Robin Wright, Gary Sinise", "Robert Zemeckis",
                     "A kind man from Alabama drifts through decades of American history.",
                     "Forrest tells strangers at a bus stop about his life: football, war, shrimp boats, running "
                     "across the country, and the one girl he always loved.", "8.8", "142 min"),
    "jurassic_park": (None, "Action, Adventure, Sci-Fi", "Sam Neill, Laura Dern, Jeff Goldblum",
                      "Steven Spielberg",
                      "A theme park of cloned dinosaurs breaks down during a preview tour.",
                      "Scientists invited to an island park see living dinosaurs for the first time. When the "
                      "power fails during a storm, the animals get out.", "8.2", "127 min"),
    "star_wars": ("Star Wars: Episode IV - A New Hope", "Action, Adventure, Fantasy",
                  "Mark Hamill, Harrison Ford, Carrie Fisher", "George Lucas",
                  "A farm boy joins a rebellion to rescue a princess from an armored space station.",
                  "Luke Skywalker leaves his desert planet with an old knight, a smuggler and two droids. "
                  "They have to deliver stolen plans before the Empire strikes.", "8.6", "121 min"),
    "godfather": (None, "Crime, Drama", "Marlon Brando, Al Pacino, James Caan", "Francis Ford Coppola",
                  "The aging head of a crime family hands control to his reluctant son.",
                  "After an attempt on Vito Corleone's life, his youngest son Michael is pulled into the family "
                  "business and changes more than anyone expected.", "9.2", "175 min"),
    "shawshank": (None, "Drama", "Tim Robbins, Morgan Freeman, Bob Gunton", "Frank Darabont",
                  "Two prisoners form a friendship over two decades behind bars.",
                  "Banker Andy Dufresne is sentenced for a crime he says he did not commit. Inside, he finds "
                  "a friend in Red and a quiet way to keep hope alive.", "9.3", "142 min"),
    "full_metal_jacket": (None, "Drama, War", "Matthew Modine, R. Lee Ermey, Vincent D'Onofrio",
                          "Stanley Kubrick",
                          "Marine recruits survive boot camp and are sent to Vietnam.",
                          "A brutal drill instructor breaks down a platoon of recruits. Later, Private Joker "
                          "reports from the city of Hue during the Tet offensive.", "8.3", "116 min"),
    "clockwork_orange": (None, "Crime, Sci-Fi", "Malcolm McDowell, Patrick Magee, Michael Bates",
                         "Stanley Kubrick",
                         "A violent young gang leader undergoes an experimental cure.",
                         "In a near-future Britain, Alex and his droogs spend their nights on violence. Arrested, "
                         "he volunteers for a treatment that promises to make him good.", "8.3", "136 min"),
    "zodiac": (None, "Crime, Drama, Mystery", "Jake Gyllenhaal, Robert Downey Jr., Mark Ruffalo", "David Fincher",
               "A cartoonist becomes obsessed with identifying a serial killer.",
               "In the San Francisco Bay Area, a newspaper cartoonist, a reporter and a detective spend years "
               "following the letters and ciphers of an unidentified killer.", "7.7", "157 min"),
    "inception": (None, "Action, Adventure, Sci-Fi", "Leonardo DiCaprio, Joseph Gordon-Levitt, Elliot Page",
                  "Christopher Nolan",
                  "A thief who steals secrets from dreams is hired to plant an idea instead.",
                  "Dom Cobb assembles a team to enter a businessman's dreams, layer within layer, to plant one "
                  "thought. The deeper they go, the less certain reality becomes.", "8.8", "148 min"),
    "dark_knight": (None, "Action, Crime, Drama", "Christian Bale, Heath Ledger, Aaron Eckhart",
                    "Christopher Nolan",
                    "Batman faces a criminal mastermind who wants to watch Gotham burn.",
                    "With a new district attorney on his side, Batman sets out to dismantle organized crime, "
                    "until the Joker turns the city against itself.", "9.0", "152 min"),
    "exorcist": (None, "Horror", "Ellen Burstyn, Max von Sydow, Linda Blair", "William Friedkin",
                 "A mother seeks help from two priests when her daughter changes.",
                 "When twelve-year-old Regan starts behaving in terrifying ways, doctors run out of answers and "
                 "her mother turns to the church.", "8.1", "122 min"),
    "toy_story_2": (None, "Animation, Adventure, Comedy", "Tom Hanks, Tim Allen, Joan Cusack",
                    "John Lasseter, Ash Brannon, Lee Unkrich",
                    "Woody is stolen by a collector and the other toys set out to rescue him.",
                    "While Andy is away, Woody learns he was once a famous collectible. Buzz and the gang cross "
                    "town to bring him home before he is shipped to a museum.", "7.9", "92 min"),
    "good_bad_ugly": (None, "Adventure, Western", "Clint Eastwood, Eli Wallach, Lee Van Cleef", "Sergio Leone",
                      "Three gunmen race to find buried Confederate gold.",
                      "During the Civil War, a bounty hunter, a bandit and a hired killer form and break "
                      "alliances on their way to a cemetery full of unmarked graves.", "8.8", "178 min"),
    "space_odyssey": (None, "Adventure, Sci-Fi", "Keir Dullea, Gary Lockwood, William Sylvester",
                      "Stanley Kubrick",
                      "A mysterious black monolith guides humanity from the dawn of man to Jupiter.",
                      "A crew travels to Jupiter with the computer HAL 9000 after a strange object is found on "
                      "the Moon. The machine begins to make its own decisions.", "8.3", "149 min"),
    "dune_1984": (None, "Action, Adventure, Sci-Fi", "Kyle MacLachlan, Virginia Madsen, Francesca Annis",
                  "David Lynch",
                  "A noble heir leads a desert people against the empire that betrayed his family.",
                  "Paul Atreides follows his family to the spice planet Arrakis, where a trap awaits and the "
                  "Fremen wait for a messiah.", "6.3", "137 min"),
    "dune_2021": ("Dune", "Action, Adventure, Drama", "Timothée Chalamet, Rebecca Ferguson, Zendaya",
                  "Denis Villeneuve", "", "", "8.0", "155 min"),
    "casablanca": (None, "Drama, Romance, War", "Humphrey Bogart, Ingrid Bergman, Paul Henreid", "Michael Curtiz",
                   "A cynical nightclub owner meets the woman who left him.",
                   "In wartime Morocco, Rick Blaine holds two letters of transit. When Ilsa walks into his bar "
                   "with her husband, he has to decide who gets them.", "8.5", "102 min"),
    "alien": (None, "Horror, Sci-Fi", "Sigourney Weaver, Tom Skerritt, John Hurt", "Ridley Scott",
              "The crew of a cargo ship is hunted by a creature they brought on board.",
              "Answering a distress signal, the Nostromo picks up an unknown organism. One by one, the crew "
              "learn what it has become.", "8.5", "117 min"),
    "back_to_the_future": (None, "Adventure, Comedy, Sci-Fi", "Michael J. Fox, Christopher Lloyd, Lea Thompson",
                           "Robert Zemeckis",
                           "A teenager is sent thirty years into the past in a time-traveling car.",
                           "Marty McFly accidentally lands in 1955 and keeps his parents from meeting. He has "
                           "one week to fix it and get back home.", "8.5", "116 min"),
    "akira": (None, "Animation, Action, Drama", "Mitsuo Iwata, Nozomu Sasaki, Mami Koyama", "Katsuhiro Ôtomo",
              "A biker gang member gains dangerous psychic powers in Neo-Tokyo.",
              "After a crash, Tetsuo is taken by the military and develops powers he cannot control. His friend "
              "Kaneda tries to stop him before the city is destroyed again.", "8.0", "124 min"),
    "leon": ("Léon: The Professional", "Action, Crime, Drama", "Jean Reno, Gary Oldman, Natalie Portman",
             "Luc Besson",
             "A hitman takes in a twelve-year-old girl whose family was murdered.",
             "Léon lives a quiet life between contracts until Mathilda knocks on his door. She asks him to "
             "teach her his trade so she can take revenge on a corrupt agent.", "8.5", "110 min"),
    "shining": (None, "Drama, Horror", "Jack Nicholson, Shelley Duvall, Danny Lloyd", "Stanley Kubrick",
                "A writer takes a winter caretaker job at an isolated hotel.",
                "Jack Torrance moves his family into the empty Overlook Hotel for the winter. The hotel has "
                "other plans for him, and his son can see them.", "8.4", "146 min"),
    "goodfellas": (None, "Biography, Crime, Drama", "Robert De Niro, Ray Liotta, Joe Pesci", "Martin Scorsese",
                   "The rise and fall of a mob associate over three decades.",
                   "Henry Hill always wanted to be a gangster. He gets his wish, along with the money, the "
                   "paranoia and the friends who might kill him.", "8.7", "146 min"),
    "amelie": (None, "Comedy, Romance", "Audrey Tautou, Mathieu Kassovitz, Rufus", "Jean-Pierre Jeunet",
               "A shy waitress in Paris decides to change the lives of those around her.",
               "Amélie secretly arranges small joys for her neighbors in Montmartre, but is too timid to chase "
               "her own happiness.", "8.3", "122 min"),
    "interstellar": (None, "Adventure, Drama, Sci-Fi", "Matthew McConaughey, Anne Hathaway, Jessica Chastain",
                     "Christopher Nolan",
                     "Astronauts travel through a wormhole to find a new home for humanity.",
                     "With crops failing on Earth, a former pilot leaves his children to lead a mission beyond "
                     "our galaxy, where time moves differently.", "8.7", "169 min"),
    "silence_lambs": (None, "Crime, Drama, Thriller", "Jodie Foster, Anthony Hopkins, Scott Glenn",
                      "Jonathan Demme",
                      "An FBI trainee seeks help from an imprisoned cannibal to catch a killer.",
                      "Clarice Starling interviews Dr. Hannibal Lecter, who trades clues for pieces of her past.",
                      "8.6", "118 min"),
    "schindler": (None, "Biography, Drama, History", "Liam Neeson, Ralph Fiennes, Ben Kingsley",
                  "Steven Spielberg",
                  "A German industrialist saves more than a thousand Jewish workers during the war.",
                  "Oskar Schindler starts a factory to profit from the war and ends up spending his fortune to "
                  "protect his workers.", "9.0", "195 min"),
    "usual_suspects": (None, "Crime, Drama, Mystery", "Kevin Spacey, Gabriel Byrne, Chazz Palminteri",
                       "Bryan Singer",
                       "A survivor tells police how five criminals were brought together.",
                       "Verbal Kint recounts the story of a heist gone wrong and the legendary figure behind it.",
                       "8.5", "106 min"),
    "memento": (None, "Mystery, Thriller", "Guy Pearce, Carrie-Anne Moss, Joe Pantoliano", "Christopher Nolan",
                "A man who cannot form new memories hunts his wife's killer.",
                "Leonard uses tattoos and notes to track a killer, told in reverse order.", "8.4", "113 min"),
    "prestige": (None, "Drama, Mystery, Sci-Fi", "Christian Bale, Hugh Jackman, Scarlett Johansson",
                 "Christopher Nolan",
                 "Two rival magicians compete to create the ultimate illusion.",
                 "In Victorian London, a friendship between two magicians turns into an obsession.", "8.5",
                 "130 min"),
    "blade_runner": (None, "Action, Drama, Sci-Fi", "Harrison Ford, Rutger Hauer, Sean Young", "Ridley Scott",
                     "A detective hunts four androids in a rainy future Los Angeles.",
                     "Rick Deckard is ordered to retire replicants who came to Earth looking for more life.",
                     "8.1", "117 min"),
    "taxi_driver": (None, "Crime, Drama", "Robert De Niro, Jodie Foster, Cybill Shepherd", "Martin Scorsese",
                    "A lonely cab driver drifts toward violence in New York.",
                    "Travis Bickle works nights and cannot sleep. He decides someone has to clean up the city.",
                    "8.2", "114 min"),
}
# fmt: on


def make_inspired() -> None:
    for split in ("train", "dev", "test"):
        rows = []
        for d in DIALOGS[split]:
            rows.extend(inspired_rows(d))
        rel = fmt.INSPIRED_FILE.format(split)
        write(rel, fmt.tsv_header(INSPIRED_COLS) + "".join(rows))
        count(rel, len(rows), f"utterances ({len(DIALOGS[split])} dialogs; +1 header line)")
    quirk(
        "INSPIRED",
        '`QUOTATION_MARK` in text, real `"` in text_with_placeholder',
        "inspired/train.tsv",
        "The QUOTATION_MARKdo not go gentle",
    )
    quirk(
        "INSPIRED",
        "`movies` joined with `;  ` (two spaces)",
        "inspired/train.tsv",
        "Inception (2010);  The Dark Knight (2008)",
    )
    quirk(
        "INSPIRED",
        "`movies` joined with `; `",
        "inspired/train.tsv",
        "Toy Story (1995); Toy Story 2 (1999)",
    )
    quirk("INSPIRED", "title without usable year `Akira ()`", "inspired/train.tsv", "\tAkira ()\t")
    quirk(
        "INSPIRED",
        "movie_dict key with an apostrophe (repr uses double quotes)",
        "inspired/train.tsv",
        '{"Schindler\'s List (1993)": 0',
    )
    quirk("INSPIRED", "UTF-8 title in movies column", "inspired/train.tsv", "\tAmélie (2001)\t")
    quirk(
        "INSPIRED",
        "fine_label `reject` / coarse_label `reject`",
        "inspired/train.tsv",
        "\treject\treject\t",
    )
    quirk("INSPIRED", "second_label filled", "inspired/train.tsv", "\tcredibility\tsimilarity\t")
    quirk(
        "INSPIRED",
        "expert_label `no_strategy`, fine `accept_rating_good`, coarse `accept_new`",
        "inspired/train.tsv",
        "\tno_strategy\t\taccept_rating_good\taccept_new\t",
    )
    quirk("INSPIRED", "expert_label `opinion_inquiry`", "inspired/train.tsv", "\topinion_inquiry\t")
    quirk(
        "INSPIRED",
        "director placeholder `[MOVIE_P_DIRECTOR_0]`",
        "inspired/train.tsv",
        "[MOVIE_P_DIRECTOR_0]",
    )
    quirk(
        "INSPIRED",
        "malformed movie_dict literal (unterminated quote), on all 11 rows of the dialog",
        "inspired/dev.tsv",
        "'Office Space (1999): 1}",
    )
    quirk(
        "INSPIRED",
        "two films with the same title in one utterance",
        "inspired/dev.tsv",
        "Hamlet (1990); Hamlet (1996)",
    )
    quirk(
        "INSPIRED",
        "fine_label literal `nan` (only row; rest of its dialog is accept_rating_good)",
        "inspired/test.tsv",
        "\tnan\taccept_new\t",
    )
    quirk(
        "INSPIRED",
        "`QUOTATION_MARK` in test",
        "inspired/test.tsv",
        "QUOTATION_MARKRoyale with cheese",
    )

    meta = {k: (f["title"], f["year"], f["imdb"]) for k, f in F.items()}
    meta.update({k: (t, y, i) for k, t, y, i in DB_EXTRA})
    keys = list(DB)
    rng.shuffle(keys)
    lines = [fmt.tsv_header(fmt.INSPIRED_DB_COLS)]
    for k in keys:
        title, year, imdb = meta[k]
        over, genre, actors, director, sp, lp, rating, runtime = DB[k]
        assert imdb and re.fullmatch(r"tt\d{7}", imdb), k
        year_s = "" if k == "akira" else str(year)  # one row with the year missing
        row = [over or title, year_s, imdb, genre, actors, director, sp, lp, rating, runtime]
        lines.append(fmt.inspired_db_line(row))
    write(fmt.INSPIRED_DB, "".join(lines))
    count("inspired/movie_database.tsv", len(lines) - 1, "movies (+1 header line)")
    rel = "inspired/movie_database.tsv"
    quirk("INSPIRED", "movie_database: year missing", rel, "Akira\t\ttt0094625")
    quirk("INSPIRED", "movie_database: both plots empty", rel, "Denis Villeneuve\t\t\t8.0")
    quirk(
        "INSPIRED", "movie_database: long_plot empty only", rel, "Quentin Tarantino\tInterlocking"
    )
    quirk(
        "INSPIRED",
        "movie_database: two directors comma-joined",
        rel,
        "Lana Wachowski, Lilly Wachowski",
    )
    quirk("INSPIRED", "movie_database: comma inside title", rel, "The Good, the Bad and the Ugly\t")
    quirk("INSPIRED", "movie_database: UTF-8 title", rel, "Léon: The Professional\t")


# ======================================================================================
# ReDial
# ======================================================================================
# Messages: (who I|R, text). {key} -> @<id> listed in movieMentions; {!key} -> @<id> NOT listed.
# fmt: off
REDIAL = {
    "train": [
        dict(conv="10002", msgs=[
            ("I", "Hi! I'm looking for a funny movie tonight"),
            ("R", "Hello! Do you like older comedies like {police_academy}?"),
            ("I", "Yes I loved {police_academy}! Also {beverly_hills_cop}"),
            ("R", "Then you should watch {lethal_weapon}, it's action but really funny"),
            ("I", "I have seen it, it's great. Anything more recent?"),
            ("R", "{super_troopers} is hilarious, or {why_him}"),
            ("I", "I haven't seen {why_him}. Is it good?"),
            ("R", "It's silly but I laughed a lot"),
            ("I", "Ok I'll give it a try, thanks!"),
            ("R", "You're welcome, bye!"),
        ]),
        dict(conv="10007", initiator_q_empty=True, msgs=[
            ("R", "Hi there, what kind of movies do you like?"),
            ("I", "I like teen comedies. {american_pie} is a favorite"),
            ("R", "Have you seen {pretty_in_pink}?"),
            ("I", "No, is it like {american_pie_2}?"),
            ("R", "Not really, it's more of a romance. But it's very sweet."),
            ("I", "Sounds good to me"),
            ("R", "Also {super_troopers}!"),
            ("I", "Ha, I've seen that one a hundred times"),
            ("R", "Enjoy {pretty_in_pink}!"),
        ]),
        dict(conv="10011", msgs=[
            ("I", "hello"),
            ("R", "Hi! What are you in the mood for?"),
            ("I", "A good crime thriller, I liked {seven}."),
            ("R", "Great choice. Have you seen {heat}?"),
            ("I", "Yes, {heat}, the bank robbery scene is amazing"),
            ("R", "What about {zodiac}? Same director as {seven}"),
            ("I", "Oh I didn't know that. I'll watch it"),
            ("R", "Also {pulp_fiction}, if you haven't seen it"),
            ("I", "Seen it, love it!"),
            ("R", "Have a good night"),
            ("I", "You too, bye"),
        ]),
        dict(conv="10015", respondent_q_empty=True, msgs=[
            ("R", "Hello, what movies do you enjoy?"),
            ("I", "I love sci fi, {matrix} is my all time favorite"),
            ("R", "Then you should see {inception}!"),
            ("I", "I saw {inception}, it was confusing but cool"),
            ("R", "How about {dark_knight}? Not sci fi but same director"),
            ("I", "I don't really like superhero movies"),
            ("R", "Fair enough. Maybe {star_wars}? The original one"),
            ("I", "Never seen it actually!"),
            ("R", "You have to (@{star_wars_key}) it's a classic"),
            ("I", "Ok, thanks for the tips"),
        ]),
        dict(conv="10023", msgs=[
            ("I", "Hi, I want a movie to watch with my kids"),
            ("R", "Have you seen {toy_story}?"),
            ("I", "Yes, many times. And {toy_story_2}."),
            ("R", "How about {jurassic_park}? It's a bit scary though"),
            ("I", "My kids are 10 and 12, they can handle it"),
            ("R", "Then {jurassic_park} is perfect!"),
            ("I", "Great, thanks"),
            ("R", "Also {star_wars}, they will love it"),
            ("I", "Good idea, thanks again!"),
        ]),
        dict(conv="10031", msgs=[
            ("R", "Hey! What kind of movie are you looking for?"),
            ("I", "Something sad, I need a good cry"),
            ("R", "{titanic} always does it for me"),
            ("I", "Oh yes, {titanic}! What else?"),
            ("R", "{forrest_gump}? Or {shawshank}?"),
            ("I", "I love {forrest_gump}. I haven't seen {shawshank}"),
            ("R", "{shawshank}, trust me. It's not just sad, it's hopeful too."),
            ("I", "Adding it to my list"),
            ("R", "Enjoy!"),
        ]),
        dict(conv="10036", msgs=[
            ("I", "Hello, I'm looking for a classic"),
            ("R", "Hi! Have you seen {godfather}?"),
            ("I", "Of course, it's the best"),
            ("R", "What about westerns? {good_bad_ugly} is amazing"),
            ("I", "I've never seen a western to be honest"),
            ("R", "Start with {good_bad_ugly}, the music alone is worth it"),
            ("I", "What about something by Kubrick?"),
            ("R", "{full_metal_jacket} or {clockwork_orange}"),
            ("I", "I've seen {clockwork_orange}, too weird for me"),
            ("R", "Then {full_metal_jacket}!"),
            ("I", "Thanks!"),
        ]),
        dict(conv="10042", msgs=[
            ("R", "Hi, what genre are you in the mood for?"),
            ("I", "Something romantic but smart"),
            ("R", "{american_president} is a great one"),
            ("I", "Haven't heard of it. Who's in it?"),
            ("R", "Michael Douglas and Annette Bening"),
            ("I", "Oh nice. Anything foreign?"),
            ("R", "{postino} is beautiful, it's Italian"),
            ("I", "I love Italian movies. Thanks!"),
            ("R", "Have fun!"),
        ]),
    ],
    "test": [
        dict(conv="20003", msgs=[
            ("I", "Hi! Looking for a horror movie"),
            ("R", "Have you seen {exorcist}?"),
            ("I", "Yes, {exorcist} scared me to death!"),
            ("R", "Haha. Maybe something less scary? {zodiac} is more of a thriller"),
            ("I", "I like thrillers too. Also loved {seven}"),
            ("R", "Then {zodiac} is for you"),
            ("I", "Great, thanks!"),
        ]),
        dict(conv="20008", msgs=[
            ("R", "Hello, welcome!"),
            ("I", "Hi, I need a movie for a literature class"),
            ("R", "How about {hamlet_1996}? It's very long though"),
            ("I", "Is there a shorter version?"),
            ("R", "Yes, {hamlet_1990} with Mel Gibson"),
            ("I", "Perfect, I'll watch {hamlet_1990} first."),
            ("R", "Good luck with your class"),
            ("I", "Thank you"),
        ]),
        dict(conv="20014", msgs=[
            ("I", "I want to laugh tonight"),
            ("R", "Have you seen {office_space}?"),
            ("I", "Yes! Love it. {super_troopers} too"),
            ("R", "What about {police_academy}?"),
            ("I", "Too old for me, sorry"),
            ("R", "Ok, {why_him}? It's recent"),
            ("I", "I'll check out {why_him}, thanks"),
            ("R", "Also {!toy_story_2} is funny for all ages"),
            ("I", "Haha ok"),
        ]),
        dict(conv="20019", msgs=[
            ("R", "Hi! What did you watch recently?"),
            ("I", "{fight_club}, and I loved it"),
            ("R", "Then you'll like {matrix}!"),
            ("I", "Seen it. What else?"),
            ("R", "{pulp_fiction}?"),
            ("I", "Seen it too haha"),
            ("R", "Ok... {heat}? It's long but worth it"),
            ("I", "Haven't seen it, I'll try it"),
            ("R", "Enjoy"),
        ]),
    ],
}
# fmt: on


def make_redial() -> dict:
    # invented ReDial movie ids, non-contiguous
    keys = [k for k, f in F.items() if f["redial"]] + ["american_pie_2"]
    ids = sorted(rng.sample(range(76000, 206000), len(keys)))
    rng.shuffle(ids)
    rid = dict(zip(keys, ids, strict=True))
    names = {rid[k]: F[k]["redial"] for k in keys if k in F}
    names[rid["american_pie_2"]] = "American Pie "  # trailing space, no year; same film, second id
    mentions_count: Counter = Counter()
    msg_id = 100400
    worker = 800

    for split in ("train", "test"):
        out = []
        for c in REDIAL[split]:
            initiator, respondent = worker + 1, worker + 2
            worker += 3
            mentions: dict[str, str] = {}
            messages = []
            t = 0
            for who, text in c["msgs"]:

                def sub(m: re.Match, mentions: dict[str, str] = mentions) -> str:
                    key = m.group(2)
                    if key == "star_wars_key":
                        return str(rid["star_wars"])
                    mid = str(rid[key])
                    if not m.group(1):
                        mentions.setdefault(mid, names[int(mid)])
                    return "@" + mid

                body = re.sub(r"\{(!?)(\w+)\}", sub, text)
                msg_id += 1
                messages.append(
                    fmt.redial_message(t, body, initiator if who == "I" else respondent, msg_id)
                )
                t += rng.randint(5, 70)

            def questions(mentions: dict[str, str] = mentions) -> dict:
                q = {}
                for mid in mentions:
                    sugg = rng.choice([0, 1])
                    seen = rng.choice([0, 1, 2])
                    liked = 2 if seen == 2 and rng.random() < 0.7 else rng.choice([0, 1, 1, 2])
                    q[mid] = fmt.redial_answer(sugg, seen, liked)
                return q

            resp_q = [] if c.get("respondent_q_empty") else questions()
            init_q = (
                []
                if c.get("initiator_q_empty")
                else ({k: dict(v) for k, v in resp_q.items()} if resp_q else questions())
            )
            if isinstance(init_q, dict) and init_q and rng.random() < 0.5:
                last = list(init_q)[-1]
                init_q[last]["liked"] = 2
            for mid in mentions:
                mentions_count[int(mid)] += 1
            out.append(
                fmt.redial_conversation(
                    mentions, resp_q, messages, c["conv"], respondent, initiator, init_q
                )
            )
        rel = fmt.REDIAL_FILE.format(split)
        write(rel, "".join(fmt.redial_line(o) for o in out))
        n_msgs = sum(len(o["messages"]) for o in out)
        count(rel, len(out), f"conversations ({n_msgs} messages)")

    sw = rid["star_wars"]
    quirk(
        "ReDial",
        "initiatorQuestions is `[]`",
        "redial/train_data.jsonl",
        '"initiatorQuestions": []',
    )
    quirk(
        "ReDial",
        "respondentQuestions is `[]`",
        "redial/train_data.jsonl",
        '"respondentQuestions": []',
    )
    quirk(
        "ReDial",
        "name with double space before the year",
        "redial/train_data.jsonl",
        "Police Academy  (1984)",
    )
    quirk(
        "ReDial",
        "name with trailing space and no year (second id of American Pie)",
        "redial/train_data.jsonl",
        '"American Pie "',
    )
    quirk("ReDial", "`%3F` for `?` in a name", "redial/train_data.jsonl", "Why Him%3F (2016)")
    quirk("ReDial", "name with no year at all", "redial/train_data.jsonl", '"Star Wars"')
    quirk(
        "ReDial",
        "`@<id>` directly followed by punctuation",
        "redial/train_data.jsonl",
        f"@{rid['toy_story_2']}.",
    )
    quirk(
        "ReDial",
        "`@<id>` inside parentheses, followed by `)`",
        "redial/train_data.jsonl",
        f"(@{sw})",
    )
    quirk(
        "ReDial",
        "`@<id>` NOT in this conversation's movieMentions (id exists in the CSV)",
        "redial/test_data.jsonl",
        f"Also @{rid['toy_story_2']} is funny",
    )
    quirk(
        "ReDial", "same base title, two years, two ids", "redial/test_data.jsonl", "Hamlet  (1996)"
    )

    # movies_with_mentions.csv: every id in any movieMentions; nbMentions = number of conversations
    write(
        fmt.REDIAL_MENTIONS,
        fmt.redial_mentions_csv(
            (mid, names[mid], mentions_count[mid]) for mid in sorted(mentions_count)
        ),
    )
    count("redial/movies_with_mentions.csv", len(mentions_count), "movies (+1 header line)")
    rel = "redial/movies_with_mentions.csv"
    quirk(
        "ReDial",
        "CSV: name with a comma, double-quoted",
        rel,
        '"The Good, the Bad and the Ugly (1966)"',
    )
    quirk("ReDial", "CSV: double space before the year", rel, "The Exorcist  (1973)")
    quirk("ReDial", "CSV: trailing space, no year", rel, ",American Pie ,")
    quirk("ReDial", "CSV: `%3F`", rel, "Why Him%3F (2016)")
    quirk("ReDial", "CSV: CRLF line endings (every line)", rel, "movieId,movieName,nbMentions")
    return rid


# ======================================================================================
# CCPE-M
# ======================================================================================

# utterance: (speaker A|U, text, [(span, "NM+PM"), ...])
# fmt: off
CCPE = [
    [
        ("A", "what kind of movies do you enjoy watching", []),
        ("U", "I love crime thrillers, especially heist movies.",
         [("crime thrillers", "NG"), ("heist movies", "NG"), ("I love crime thrillers", "PG")]),
        ("A", "great, can you name one you really liked?", []),
        ("U", "Heat is probably my favorite.", [("Heat", "NM"), ("Heat is probably my favorite", "PM")]),
        ("A", "what do you like about Heat?", [("Heat", "NM")]),
        ("U", "The shootout in the streets of Los Angeles is amazing, and Al Pacino and Robert De Niro together "
              "is a dream.",
         [("Al Pacino", "NP"), ("Robert De Niro", "NP"),
          ("The shootout in the streets of Los Angeles is amazing", "DM")]),
        ("A", "any other movie you like in that genre?", []),
        ("U", "Seven, the one with Brad Pitt and the box at the end.",
         [("Seven", "NM"), ("Brad Pitt", "NP"), ("the one with Brad Pitt and the box at the end", "DM")]),
        ("A", "ok, is there a movie you did not like?", []),
        ("U", "I hate Fight Club, everyone tells me it is genius but it just annoyed me.",
         [("Fight Club", "NM"), ("I hate Fight Club", "PM"), ("it just annoyed me", "PM")]),
        ("A", "why did it annoy you?", []),
        ("U", "The narrator is so smug, I could not stand him.", [("The narrator is so smug", "DM")]),
        ("A", "got it, thanks for sharing", []),
        ("U", "no problem", []),
    ],
    [
        ("A", "what type of movies do you like", []),
        ("U", "Mostly science fiction.", [("science fiction", "NG"), ("Mostly science fiction", "PG")]),
        ("A", "what is a science fiction movie you like?", [("science fiction", "NG")]),
        ("U", "The Matrix, definitely.", [("The Matrix", "NM+PM")]),
        ("A", "what makes The Matrix stand out for you?", [("The Matrix", "NM")]),
        ("U", "The bullet time effects were like nothing I had seen before.",
         [("The bullet time effects were like nothing I had seen before", "PM")]),
        ("A", "any newer ones?", []),
        ("U", "Inception is great, I love how Christopher Nolan plays with time.",
         [("Inception", "NM"), ("Christopher Nolan", "NP"), ("Inception is great", "PM"),
          ("I love how Christopher Nolan plays with time", "PP")]),
        ("A", "have you seen Interstellar?", [("Interstellar", "NM")]),
        ("U", "Yes, but it was a bit too long for me.", [("it was a bit too long for me", "PM")]),
        ("A", "ok, anything you dislike in general?", []),
        ("U", "I don't really like horror, it gives me nightmares.",
         [("horror", "NG"), ("I don't really like horror", "PG")]),
    ],
    [
        ("A", "hi, what kind of movies do you watch?", []),
        ("U", "I watch a lot of animated movies with my kids.",
         [("animated movies", "NG"), ("I watch a lot of animated movies", "PG")]),
        ("A", "which one do you like most?", []),
        ("U", "Toy Story, the first one.", [("Toy Story", "NM")]),
        ("A", "what do you like about it?", []),
        ("U", "The friendship between Woody and Buzz is so sweet.",
         [("Woody", "OS"), ("Buzz", "OS"), ("The friendship between Woody and Buzz is so sweet", "PM")]),
        ("A", "what about the sequels?", []),
        ("U", "Toy Story 2 was almost as good, the Jessie song made me cry.",
         [("Toy Story 2", "NM"), ("Toy Story 2 was almost as good", "PM"), ("the Jessie song made me cry", "DM")]),
        ("A", "is there any animated movie you disliked?", [("animated movie", "NG")]),
        ("U", "Not really, I like most of them.", []),
        ("A", "ok great, thank you", []),
        ("U", "you're welcome", []),
    ],
    [
        ("A", "what's a director whose movies you always watch", []),
        ("U", "Stanley Kubrick, hands down.", [("Stanley Kubrick", "NP"), ("Stanley Kubrick, hands down", "PP")]),
        ("A", "which of his movies is your favorite?", []),
        ("U", "Full Metal Jacket, the first half at the boot camp is incredible.",
         [("Full Metal Jacket", "NM"), ("the first half at the boot camp is incredible", "PM")]),
        ("A", "and any of his you didn't like?", []),
        ("U", "A Clockwork Orange was too disturbing for me.",
         [("A Clockwork Orange", "NM"), ("A Clockwork Orange was too disturbing for me", "PM")]),
        ("A", "what about The Shining?", [("The Shining", "NM")]),
        ("U", "I love The Shining, Jack Nicholson is terrifying.",
         [("The Shining", "NM"), ("I love The Shining", "PM"), ("Jack Nicholson", "NP"),
          ("Jack Nicholson is terrifying", "DP")]),
        ("A", "do you like war movies in general?", [("war movies", "NG")]),
        ("U", "Only the ones that show how awful war is.", [("the ones that show how awful war is", "PG")]),
        ("A", "thanks for telling me", []),
        ("U", "sure", []),
    ],
    [
        ("A", "do you watch more movies or series?", []),
        ("U", "Lately more series, I binged Breaking Bad last month.", [("series", "NG"), ("Breaking Bad", "NM")]),
        ("A", "what did you think of Breaking Bad?", [("Breaking Bad", "NM")]),
        ("U", "It's the best show ever made, the last season is perfect.",
         [("It's the best show ever made", "PM"), ("the last season is perfect", "PM")]),
        ("A", "what kind of movies do you watch then?", []),
        ("U", "Crime dramas, like The Godfather.", [("Crime dramas", "NG"), ("The Godfather", "NM")]),
        ("A", "what do you like about The Godfather?", [("The Godfather", "NM")]),
        ("U", "The family dynamics and the music.", [("The family dynamics and the music", "PM")]),
        ("A", "do you care about where you watch it, like theater or at home?", []),
        ("U", "I prefer watching at home on my couch.",
         [("watching at home on my couch", "OS"), ("I prefer watching at home on my couch", "PS")]),
        ("A", "ok, thank you!", []),
        ("U", "bye", []),
    ],
    [
        ("A", "what's a movie you love?", []),
        ("U", "Amélie, I love the colors and the music.",
         [("Amélie", "NM"), ("I love the colors and the music", "PM")]),
        ("A", "why do you like Amélie?", [("Amélie", "NM")]),
        ("U", "It's just so whimsical and French.", [("It's just so whimsical and French", "PM")]),
        ("A", "what's a movie you didn't like?", []),
        ("U", "I hate Titanic, it's way too long and cheesy.",
         [("Titanic", "NM"), ("I hate Titanic", "PM"), ("it's way too long and cheesy", "PM")]),
        ("A", "any actor you like?", []),
        ("U", "Natalie Portman, she was amazing in Leon the Professional.",
         [("Natalie Portman", "NP"), ("Leon the Professional", "NM"),
          ("she was amazing in Leon the Professional", "PP")]),
        ("A", "what about romantic comedies?", [("romantic comedies", "NG")]),
        ("U", "Only if they are a little weird.", [("Only if they are a little weird", "PG")]),
        ("A", "thanks", []),
    ],
    [
        ("A", "what kind of movies did you grow up with?", []),
        ("U", "Big adventure movies like Jurassic Park and Star Wars.",
         [("adventure movies", "NG"), ("Jurassic Park", "NM"), ("Star Wars", "NM")]),
        ("A", "which one do you like better?", []),
        ("U", "Star Wars, the original one from the seventies.",
         [("Star Wars", "NM"), ("the original one from the seventies", "DM")]),
        ("A", "what do you like about it?", []),
        ("U", "Harrison Ford as Han Solo is the coolest character ever.",
         [("Harrison Ford", "NP"), ("Han Solo", "OS"),
          ("Harrison Ford as Han Solo is the coolest character ever", "PP")]),
        ("A", "and Jurassic Park?", [("Jurassic Park", "NM")]),
        ("U", "The dinosaurs still look real today.", [("The dinosaurs still look real today", "PM")]),
        ("A", "is there a genre you avoid?", []),
        ("U", "Musicals, I can't stand people singing.",
         [("Musicals", "NG"), ("I can't stand people singing", "PG")]),
        ("A", "ok!", []),
    ],
    [
        ("A", "do you like mystery movies?", [("mystery movies", "NG")]),
        ("U", "Yes, Zodiac is one of my favorites.", [("Zodiac", "NM"), ("Zodiac is one of my favorites", "PM")]),
        ("A", "what do you like about Zodiac?", [("Zodiac", "NM")]),
        ("U", "It feels so real, and it never gives you an easy answer.", [("It feels so real", "PM")]),
        ("A", "do you also watch older classics?", []),
        ("U", "Sometimes. I liked the Hamlet with Kenneth Branagh.",
         [("Hamlet", "NM"), ("Kenneth Branagh", "NP"), ("I liked the Hamlet with Kenneth Branagh", "PM")]),
        ("A", "what did you like about it?", []),
        ("U", "It was long, but the costumes were gorgeous.", [("the costumes were gorgeous", "PM")]),
        ("A", "any movies you really dislike?", []),
        ("U", "I hate The Exorcist, I couldn't sleep for a week.",
         [("The Exorcist", "NM"), ("I hate The Exorcist", "PM")]),
        ("A", "thank you for your answers", []),
        ("U", "happy to help", []),
    ],
]
# fmt: on


def make_ccpe() -> None:
    convs = []
    used_ids: set[str] = set()
    for spec in CCPE:
        cid = fmt.ccpe_id(rng, used_ids)
        utts = []
        for i, (spk, text, segs) in enumerate(spec):
            out = []
            for span, code in segs:
                start = text.find(span)
                assert start >= 0, (span, text)
                out.append(fmt.ccpe_segment(text, start, start + len(span), code))
            utts.append(fmt.ccpe_utterance(i, "ASSISTANT" if spk == "A" else "USER", text, out))
        convs.append((cid, utts))
    write(fmt.CCPE_DATA, fmt.ccpe_json(convs))
    n_utts = sum(len(utts) for _, utts in convs)
    count("ccpe/data.json", len(convs), f"conversations ({n_utts} utterances)")
    rel = "ccpe/data.json"
    quirk(
        "CCPE-M",
        "utterance without `segments` key",
        rel,
        '"text": "what kind of movies do you enjoy watching"',
    )
    quirk(
        "CCPE-M",
        "nested spans: name `crime thrillers` inside preference span (outer span line)",
        rel,
        '"text": "I love crime thrillers"',
    )
    quirk("CCPE-M", "segment with two annotations (NAME + PREFERENCE)", rel, '"text": "The Matrix"')
    quirk("CCPE-M", 'preference span "I hate X"', rel, '"text": "I hate Fight Club"')
    quirk("CCPE-M", 'preference span "I love X"', rel, '"text": "I love The Shining"')
    quirk(
        "CCPE-M", "MOVIE_OR_SERIES span naming a shared film, no year (Heat)", rel, '"text": "Heat"'
    )
    quirk("CCPE-M", "TV series as MOVIE_OR_SERIES", rel, '"text": "Breaking Bad"')
    quirk("CCPE-M", "non-ASCII span (indices count characters, not bytes)", rel, '"text": "Amélie"')
    quirk(
        "CCPE-M", "film named by an alternate title (Léon)", rel, '"text": "Leon the Professional"'
    )
    quirk("CCPE-M", "ENTITY_OTHER / SOMETHING_ELSE", rel, '"text": "watching at home on my couch"')
    quirk("CCPE-M", "preference about a PERSON", rel, '"text": "Stanley Kubrick, hands down"')


# ======================================================================================
# GoEmotions
# ======================================================================================
UNCLEAR = "UNCLEAR"
# fmt: off
COMMENTS = [
    ("Heat is still the best heist movie ever made.", "admiration"),
    ("I cried at the end of Toy Story 2, no shame.", "sadness"),
    ("Why does everyone pretend Titanic is boring? It's three hours of pure drama.", "confusion,disapproval"),
    ("Thanks for the recommendation, [NAME], I watched it last night!", "gratitude"),
    ("That twist in Se7en ruined my whole weekend lol", "amusement"),
    ("I love how [NAME] plays the villain in that one.", "love"),
    ("Honestly The Matrix sequels were a huge letdown.", "disappointment"),
    ("Can someone explain the ending of Inception to me?", "curiosity,confusion"),
    ("Wow, I did not expect that cameo at all.", "surprise"),
    ("This is the most overrated movie of the decade.", "disapproval"),
    ("I'm so excited for the re-release in theaters!", "excitement"),
    ("Ugh, the theater was so loud and people kept talking.", "annoyance"),
    ("Fight Club, but make it a musical. I'd watch that.", "amusement"),
    ("I watched Jurassic Park alone at night and I was terrified.", "fear"),
    ("My dad passed last year and The Godfather was our movie.", "grief,sadness"),
    ("Yes, this is exactly how I felt about the ending.", "approval"),
    ("I hope the director's cut is better.", "optimism"),
    ("Oh, so that's why the title is Se7en. Never noticed.", "realization"),
    ("Phew, the dog survives. I was so worried.", "relief"),
    ("I regret not seeing it on the big screen.", "remorse"),
    ("Full Metal Jacket's first half is incredible, the second half not so much.", "admiration,disappointment"),
    ("I got chills when the music kicked in.", "excitement"),
    ('My brother said "wow" twice during Inception and he never talks during movies', "surprise,amusement"),
    (" >Heat is overrated Hard disagree, the bank scene alone is worth it", "disapproval"),
    ("The Shawshank Redemption is a masterpiece, end of story.", "admiration"),
    ("I'm nervous to watch The Exorcist, should I?", "nervousness,curiosity"),
    ("Disgusting how they treated the animals on that set.", "disgust"),
    ("I'm embarrassed to admit I've never seen Star Wars.", "embarrassment"),
    ("Proud of my little brother for sitting through the whole thing.", "pride"),
    ("ok but the thing with the guy and the other thing", UNCLEAR),
    # ---- file 2
    ("Take care of yourself, that movie hits hard if you're going through something.", "caring"),
    ("I want that jacket from Beverly Hills Cop so bad.", "desire"),
    ("It's fine. Not great, not terrible.", "neutral"),
    ("The movie comes out on Friday. ", "neutral"),
    ("Forrest Gump makes me happy every single time.", "joy"),
    ('"Just keep swimming" gets me through every Monday.', "optimism"),
    ("What a waste of two hours, honestly.", "disappointment,annoyance"),
    ("Lol, Police Academy is so dumb but I love it", "amusement,love"),
    ("I didn't know [NAME] directed that, mind blown.", "surprise,realization"),
    ("Thank you so much for the list, saving it!", "gratitude"),
    ("Pretty in Pink is my comfort movie, I watch it every winter.", "love"),
    ("Why would they remake a perfect movie?", "confusion,annoyance"),
    ("The Dark Knight's interrogation scene gives me goosebumps.", "admiration,excitement"),
    ("That's a good point, I never thought about it that way.", "approval,realization"),
    ("American Pie aged really badly.", "disapproval"),
    ("Lethal Weapon on a Sunday afternoon is pure joy.", "joy"),
    ("I'm scared of clowns because of a movie I saw at 7.", "fear"),
    ("So sad they never made a sequel.", "sadness,disappointment"),
    ("Seriously, who thought this casting was a good idea?", "annoyance,disapproval"),
    ("Ok I'm watching it tonight, wish me luck", "excitement,nervousness"),
    ("Congrats on finally finishing the trilogy!", "admiration"),
    ("The film is okay I guess, the book was better.", "approval,neutral"),
    ("That scene where [NAME] breaks down, I felt that.", "sadness"),
    ("lmao the dog in the background the whole time", "amusement"),
    ("Hoping they bring back the original cast.", "optimism,desire"),
    ("I watched it because of your comment, and wow, thank you.", "gratitude,admiration"),
    ("The CGI looks like a video game from 2005.", "disapproval"),
    ("Man I miss video stores.", "sadness,desire"),
    ("Is this the same actor from Hamlet? The 1990 one?", "curiosity"),
    ("It's called Il Postino, you're welcome.", "neutral"),
    # ---- file 3
    ("Those subtitles were awful, half the jokes were lost.", "annoyance,disappointment"),
    ("Every time I watch Titanic, I hope the ship won't sink.", "optimism,amusement"),
    ("The soundtrack alone makes it worth it.", "admiration"),
    ("I'm sorry, but Zodiac is way too long.", "disapproval"),
    ("Glad I'm not the only one who thought so!", "relief,approval"),
    ("This made me laugh way harder than it should have \U0001F602", "amusement"),
    ("Honestly it's a 10/10 for me, no notes.", "admiration,approval"),
    ("Wait, there's a director's cut?", "surprise,curiosity"),
    ("Gross. Just gross. Who thought that scene was okay?", "disgust"),
    ("I can't wait to show my kids Toy Story.", "excitement,desire"),
    ("Hang in there, the second act picks up.", "caring,optimism"),
    ("I fell asleep twice, which says a lot.", "disappointment"),
    ("My mom made us watch Casablanca every Christmas, I miss her.", "grief,love"),
    ("Oh no, I just realized I've been saying the title wrong for years", "embarrassment,realization"),
    ("Super Troopers quotes are how my family communicates.", "amusement,love"),
    ("Weird flex but ok", "confusion"),
    ("It\u2019s the little details that make it great.", "admiration"),
    ("I'm so angry they cut that scene from the theatrical release!", "anger"),
    ("Furious that the streaming version is cropped.", "anger,annoyance"),
    ('She called it "a masterpiece" and then fell asleep, "masterpiece" indeed', "amusement"),
    ("The Good, the Bad and the Ugly has the best final standoff, period.", "admiration"),
    ("Why Him? was funnier than it had any right to be.", "amusement,surprise"),
    ("It's on Netflix now if anyone wants to watch it.", "neutral"),
    ("Dune (1984) is a glorious mess and I love it.", "love,amusement"),
    ("Remember when [NAME] was in every single movie?", "amusement"),
    ("Not sure what to make of that ending, honestly.", "confusion"),
    ("You are a good person for recommending this.", "admiration"),
    ("The way you described it, I'm sold.", "approval,excitement"),
    ("Sadly, the theater near me closed down.", "sadness"),
    ("That was a brilliant analysis, thanks for writing it up.", "admiration,gratitude"),
]
SUBREDDITS = ["movies", "MovieSuggestions", "TrueFilm", "horror", "StarWars", "pixar", "boxoffice",
              "moviescirclejerk", "criterion", "flicks"]
# fmt: on


def make_goemotions() -> None:
    assert len(COMMENTS) == 90 and len(EMOTIONS) == 28
    used = set()

    def cid() -> str:
        while True:
            c = "e" + rng.choice("cde") + "".join(rng.choice(B36) for _ in range(5))
            if c not in used:
                used.add(c)
                return c

    syll = [
        "ka",
        "lo",
        "mi",
        "ne",
        "ro",
        "ta",
        "vi",
        "zu",
        "pe",
        "dan",
        "film",
        "buff",
        "reel",
        "pop",
    ]
    comments = []  # dict(text, id, gold set or None, file)
    for n, (text, gold) in enumerate(COMMENTS):
        comments.append(
            dict(
                text=text,
                id=cid(),
                file=n // 30 + 1,
                gold=None
                if gold == UNCLEAR
                else sorted(EMOTIONS.index(g) for g in gold.split(",")),
                author="".join(rng.choice(syll) for _ in range(rng.randint(2, 3))).capitalize()
                + (str(rng.randint(1, 999)) if rng.random() < 0.5 else ""),
                subreddit=rng.choice(SUBREDDITS),
                link_id="t3_a" + "".join(rng.choice(B36) for _ in range(5)),
                utc=rng.randint(1546300800, 1548979199),
            )
        )
    for c in comments:
        c["parent_id"] = (
            c["link_id"]
            if rng.random() < 0.4
            else "t1_e" + "".join(rng.choice(B36) for _ in range(6))
        )

    rows_by_file: dict[int, list[str]] = {1: [], 2: [], 3: []}
    some_unclear = {2, 11, 40, 66}  # comment indexes that get one extra very-unclear rater
    for n, c in enumerate(comments):
        n_raters = rng.randint(3, 5)
        raters = rng.sample(range(0, 82), n_raters + 1)
        votes: list[set[int]] = [set() for _ in range(n_raters)]
        unclear_flags = [False] * n_raters
        if c["gold"] is None:
            unclear_flags = [True] * n_raters
        else:
            for g in c["gold"]:
                for r in rng.sample(range(n_raters), rng.randint(2, n_raters)):
                    votes[r].add(g)
            noise_pool = [i for i in range(28) if i not in c["gold"]]
            rng.shuffle(noise_pool)
            for r in range(n_raters):
                if not votes[r] or rng.random() < 0.25:
                    votes[r].add(noise_pool.pop())  # each noise label used by one rater only
            if n in some_unclear:
                votes.append(set())
                unclear_flags.append(True)
                c["unclear_rater"] = raters[n_raters]
        quoted = fmt.go_quote(c["text"])
        for r, (vs, unclear) in enumerate(zip(votes, unclear_flags, strict=True)):
            rows_by_file[c["file"]].append(
                fmt.go_raw_line(
                    quoted,
                    c["id"],
                    c["author"],
                    c["subreddit"],
                    c["link_id"],
                    c["parent_id"],
                    c["utc"],
                    raters[r],
                    unclear,
                    vs,
                )
            )
        # labels that at least two raters chose == gold, by construction
        tally = Counter(i for vs, u in zip(votes, unclear_flags, strict=True) if not u for i in vs)
        labels = sorted(i for i, k in tally.items() if k >= 2)
        assert (c["gold"] or []) == labels, (c["text"], labels)
        c["labels"] = labels

    for k in (1, 2, 3):
        rows = rows_by_file[k]
        rng.shuffle(rows)
        rel = fmt.GO_RAW.format(k)
        write(rel, fmt.GO_HEADER_LINE + "".join(rows))
        n_c = len({c["id"] for c in comments if c["file"] == k})
        count(rel, len(rows), f"(comment, rater) rows, {n_c} comments (+1 header line)")

    by_text = {c["text"]: c for c in comments}
    quirk(
        "GoEmotions",
        "text with a comma (quoted)",
        "goemotions/goemotions_1.csv",
        '"I cried at the end of Toy Story 2,',
    )
    quirk(
        "GoEmotions",
        'doubled quotes `""` inside a quoted text',
        "goemotions/goemotions_1.csv",
        '"My brother said ""wow"" twice',
    )
    quirk(
        "GoEmotions",
        "text starting with a space, quoted",
        "goemotions/goemotions_1.csv",
        '" >Heat is overrated',
    )
    quirk(
        "GoEmotions",
        "example_very_unclear=True, all labels 0 (comment rated unclear by every rater)",
        "goemotions/goemotions_1.csv",
        "ok but the thing with the guy",
    )
    c2 = by_text[COMMENTS[2][0]]
    quirk(
        "GoEmotions",
        "example_very_unclear=True row of an otherwise clear comment",
        "goemotions/goemotions_1.csv",
        f"{c2['id']},{c2['author']},{c2['subreddit']},{c2['link_id']},"
        f"{c2['parent_id']},{c2['utc']}.0,{c2['unclear_rater']},True,",
    )
    quirk(
        "GoEmotions",
        'text starting with a doubled quote `"""Just keep`',
        "goemotions/goemotions_2.csv",
        '"""Just keep swimming""',
    )
    quirk(
        "GoEmotions",
        "text with a trailing space (not quoted)",
        "goemotions/goemotions_2.csv",
        "The movie comes out on Friday. ,",
    )
    quirk(
        "GoEmotions", "non-ASCII: emoji (4-byte UTF-8)", "goemotions/goemotions_3.csv", "\U0001f602"
    )
    quirk(
        "GoEmotions",
        "non-ASCII: curly apostrophe",
        "goemotions/goemotions_3.csv",
        "It\u2019s the little",
    )
    quirk("GoEmotions", "`[NAME]` placeholder", "goemotions/goemotions_1.csv", "[NAME]")

    # filtered splits: 60 of the 89 clear comments; quirky ones forced in
    clear = [c for c in comments if c["labels"]]
    forced_texts = [
        COMMENTS[22][0],
        COMMENTS[23][0],
        COMMENTS[33][0],
        COMMENTS[35][0],
        COMMENTS[51][0],
        COMMENTS[79][0],
    ]
    forced = [by_text[t] for t in forced_texts]
    rest = [c for c in clear if c not in forced]
    chosen = forced + rng.sample(rest, 60 - len(forced))
    rng.shuffle(chosen)
    splits = {"train": chosen[:40], "dev": chosen[40:50], "test": chosen[50:60]}
    for split, cs in splits.items():
        rel = fmt.GO_SPLIT.format(split)
        write(rel, fmt.go_split_tsv((c["text"], c["labels"], c["id"]) for c in cs))
        count(rel, len(cs), "comments (no header)")
    where = {c["id"]: s for s, cs in splits.items() for c in cs}
    for text, what in [
        (COMMENTS[22][0], 'TSV text CSV-quoted with doubled quotes `"My brother said ""wow""...`'),
        (COMMENTS[35][0], 'TSV text starting with `"""` (quoted, doubled quotes)'),
        (COMMENTS[79][0], "TSV text with two quoted phrases"),
        (COMMENTS[51][0], "TSV multi-label `4,27`"),
        (COMMENTS[33][0], "TSV text with trailing space (unquoted)"),
        (COMMENTS[23][0], "TSV text with leading space (unquoted in TSV)"),
    ]:
        c = by_text[text]
        quirk("GoEmotions", what, f"goemotions/{where[c['id']]}.tsv", "\t" + c["id"])

    units = [
        "emotion names (no final newline)",
        "Ekman groups (JSON object keys)",
        "sentiment groups (JSON object keys)",
    ]
    for (rel, text, n), unit in zip(fmt.GO_STATIC, units, strict=True):
        write(rel, text)
        count(rel, n, unit)
    quirk(
        "GoEmotions",
        "emotions.txt: no final newline after `neutral`",
        "goemotions/emotions.txt",
        "neutral",
    )


# ======================================================================================
# Verification, README
# ======================================================================================


def locate() -> list[tuple[str, str, str, int]]:
    out = []
    for dataset, text, rel, needle, enc in QUIRKS:
        lines = (RAW / rel).read_bytes().decode(enc).split("\n")
        hits = [i + 1 for i, line in enumerate(lines) if needle in line]
        if not hits:
            raise SystemExit(f"quirk not found: {dataset} {text} {rel} {needle!r}")
        out.append((dataset, text, rel, hits[0]))
    return out


def verify() -> None:
    ml = RAW / "movielens/ml-1m"
    for name in ("movies", "ratings", "users"):
        b = (ml / f"{name}.dat").read_bytes()
        assert b"\r" not in b
        b.decode("latin-1")
        try:
            b.decode("utf-8")
            utf8_ok = True
        except UnicodeDecodeError:
            utf8_ok = False
        if name == "movies":
            assert b"\xe9" in b and not utf8_ok, "movies.dat must be latin-1 with 0xE9"
        for line in b.decode("latin-1").splitlines():
            assert len(line.split("::")) == {"movies": 3, "ratings": 4, "users": 5}[name], line
    ratings = [line.split("::") for line in (ml / "ratings.dat").read_text("latin-1").splitlines()]
    assert [int(r[0]) for r in ratings] == sorted(int(r[0]) for r in ratings)
    assert {int(r[2]) for r in ratings} <= {1, 2, 3, 4, 5}

    for name, n in (("movies", 3), ("ratings", 4), ("users", 2)):
        for line in (RAW / f"movietweetings/{name}.dat").read_text("utf-8").splitlines():
            assert len(line.split("::")) == n, line
    mt_ids = {
        line.split("::")[0]
        for line in (RAW / "movietweetings/movies.dat").read_text("utf-8").splitlines()
    }
    for line in (RAW / "movietweetings/ratings.dat").read_text("utf-8").splitlines():
        assert line.split("::")[1] in mt_ids and 0 <= int(line.split("::")[2]) <= 10

    for split in ("train", "dev", "test"):
        with open(RAW / f"inspired/{split}.tsv", encoding="utf-8", newline="") as fh:
            lines = fh.read().split("\n")
        assert lines[-1] == ""
        assert lines[0].split("\t") == INSPIRED_COLS
        for line in lines[1:-1]:
            assert len(line.split("\t")) == 19, line
    with open(RAW / "inspired/movie_database.tsv", encoding="utf-8", newline="") as fh:
        for line in fh.read().split("\n")[:-1]:
            assert len(line.split("\t")) == 10

    for split in ("train", "test"):
        for line in (RAW / f"redial/{split}_data.jsonl").read_text("utf-8").splitlines():
            obj = json.loads(line)
            assert isinstance(obj["conversationId"], str)
            ids = [m["messageId"] for m in obj["messages"]]
            assert ids == sorted(ids)
    raw = (RAW / "redial/movies_with_mentions.csv").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") and raw.endswith(b"\r\n")
    with open(RAW / "redial/movies_with_mentions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["movieId", "movieName", "nbMentions"] and all(len(r) == 3 for r in rows)

    convs = json.loads((RAW / "ccpe/data.json").read_text("utf-8"))
    for c in convs:
        for u in c["utterances"]:
            for s in u.get("segments", []):
                assert u["text"][s["startIndex"] : s["endIndex"]] == s["text"]

    raw_ids = set()
    for k in (1, 2, 3):
        with open(RAW / f"goemotions/goemotions_{k}.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == GO_HEADER
        for r in rows[1:]:
            assert len(r) == 37
            if r[8] == "True":
                assert set(r[9:]) == {"0"}
            raw_ids.add(r[1])
    for split in ("train", "dev", "test"):
        with open(RAW / f"goemotions/{split}.tsv", encoding="utf-8", newline="") as fh:
            for r in csv.reader(fh, delimiter="\t"):
                assert len(r) == 3 and r[2] in raw_ids
                assert all(0 <= int(x) <= 27 for x in r[1].split(","))
    assert (RAW / "goemotions/emotions.txt").read_text("utf-8").split("\n") == EMOTIONS
    json.loads((RAW / "goemotions/ekman_mapping.json").read_text("utf-8"))
    json.loads((RAW / "goemotions/sentiment_dict.json").read_text("utf-8"))

    total = sum(p.stat().st_size for p in RAW.rglob("*") if p.is_file())
    assert total < 1_000_000, total


CCPE_ALIAS = {"Seven": "seven", "Leon the Professional": "leon", "Hamlet": "hamlet_1996"}


def film_map(rid: dict) -> list[str]:
    ml_titles = {}
    for f in F.values():
        if f.get("ml_id"):
            ml_titles[f["key"]] = f"{f['ml_id']} `{f['ml_title']}`"
    extra = {
        k: {"key": k, "title": t, "year": y, "imdb": i, "mt_id": None, "redial": None}
        for k, t, y, i in DB_EXTRA
    }
    allf = {**F, **extra}
    by_title = {}
    for k, f in allf.items():
        by_title.setdefault(f["title"], []).append(k)
    # INSPIRED dialog titles (movie_dict keys)
    insp: dict[str, set] = {}
    for split, ds in DIALOGS.items():
        for d in ds:
            titles = {m[1] for _, txt, _ in d["utts"] for m in MARK.findall(txt) if m[0] == "m"}
            for t in titles | set(d.get("extra_movies", [])):
                m = re.fullmatch(r"(.*) \((\d*)\)", t)
                for k in by_title.get(m.group(1), []):
                    if not m.group(2) or int(m.group(2)) == allf[k]["year"]:
                        insp.setdefault(k, set()).add(f"`{t}` ({split})")
    ccpe: dict[str, set] = {}
    for n, spec in enumerate(CCPE):
        for _, _, segs in spec:
            for span, code in segs:
                if "NM" in code.split("+"):
                    keys = [CCPE_ALIAS[span]] if span in CCPE_ALIAS else by_title.get(span, [])
                    for k in keys:
                        ccpe.setdefault(k, set()).add(f"`{span}` (conv {n + 1})")
    rows = [
        "| film | IMDb | ML-1M id / title | MovieTweetings id as written | ReDial id / name | INSPIRED "
        "dialogs | INSPIRED movie_database | CCPE span |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, d in allf.items():
        rows.append(
            f"| {d['title']} ({d['year']}) | {d['imdb'] or ''} | {ml_titles.get(k, '')} | "
            f"{'`' + d['mt_id'] + '` ' + d['mt_title'] if d['mt_id'] else ''} | "
            f"{str(rid[k]) + ' `' + d['redial'] + '`' if d['redial'] else ''} | "
            f"{', '.join(sorted(insp.get(k, [])))} | {'yes' if k in DB else ''} | "
            f"{', '.join(sorted(ccpe.get(k, [])))} |"
        )
    rows.append(
        f"| (second ReDial id of American Pie) | | | | {rid['american_pie_2']} `American Pie ` | | | |"
    )
    rows += [
        "",
        "CCPE `Hamlet` is ambiguous by title alone; the utterance names Kenneth Branagh, so it is the 1996 "
        "film. CCPE conversation numbers count from 1 in file order.",
    ]
    return rows


def write_readme(located: list, rid: dict) -> str:
    out = [
        "# Offline sample of the six source datasets",
        "",
        "Generated by `python scripts/make_data.py --scale sample` (deterministic, `random.Random(7)`, "
        "stdlib only).",
        "Do not edit the files under `raw/` by hand: change the script and re-run it.",
        "",
        "Every row is our own (no upstream row is copied); each file keeps the upstream native format",
        "(separators, quoting, encoding, line endings, header/no header) and each known quirk appears",
        "at least once. The same real films recur across sources (see the film map below).",
        "",
        "Invented on purpose: all ratings, users, zips, dialogues, comments and plots; MovieLens movie ids;",
        "ReDial movie ids, worker ids and conversation ids; INSPIRED YouTube ids; Twitter ids; GoEmotions",
        "comment ids, authors and rater ids. Real facts: titles, years, directors, cast, genres, the IMDb",
        "ids listed in the film map, GoEmotions' emotion list and its Ekman / sentiment mappings.",
        "The MovieTweetings item written `25` is a format fixture: its title is ours, not IMDb's.",
        "",
        "## Layout",
        "",
        "```",
        "sample/raw/",
    ]
    for p in sorted(RAW.rglob("*")):
        if p.is_file():
            out.append(f"  {p.relative_to(RAW)}  ({p.stat().st_size} bytes)")
    out += [
        "```",
        "",
        "## Expected row counts",
        "",
        "`records` is what a parser should yield; `lines` is the number of physical lines",
        "(header included). Files without a final newline (`wc -l` shows one less): `ccpe/data.json`,",
        "`goemotions/emotions.txt`, `goemotions/ekman_mapping.json`, `goemotions/sentiment_dict.json`.",
        "",
        "| file | records | unit | lines |",
        "|---|---:|---|---:|",
    ]
    for rel in sorted(COUNTS):
        n, unit, lines = COUNTS[rel]
        out.append(f"| `{rel}` | {n} | {unit} | {lines} |")
    out += [
        "",
        "## Quirks: where each one is",
        "",
        "Line numbers are 1-based physical lines of the file (header counted).",
        "",
        "| dataset | quirk | file:line |",
        "|---|---|---|",
    ]
    for dataset, text, rel, line in located:
        out.append(f"| {dataset} | {text.replace('|', chr(92) + '|')} | `{rel}:{line}` |")
    out += [
        "",
        "Format notes:",
        "",
        "- MovieLens files are latin-1 bytes, `::`, LF, no header. MovieTweetings: UTF-8, `::`, LF.",
        "- INSPIRED TSVs: UTF-8, LF, header, 19 tab-separated columns, no quoting (read with QUOTE_NONE);",
        "  `*_dict` columns are Python literals repeated on every row of a dialog; `others_dict` is empty.",
        '- ReDial jsonl: `json.dumps` default (ASCII, `", "`/`": "`), one conversation per line, LF.',
        "  `nbMentions` = number of conversations (train+test) whose movieMentions list the id.",
        "- CCPE `data.json`: one JSON array, 2-space indent, sorted keys, UTF-8, no final newline.",
        "- GoEmotions raw CSV: RFC-4180 (minimal quoting), LF, 37 columns, rows shuffled within a file;",
        "  TSV labels = emotions chosen by at least 2 raters of the raw rows (all TSV ids are raw ids).",
        "",
        "## Film map (cross-source identity)",
        "",
    ]
    out += film_map(rid)
    out.append("")
    text = "\n".join(out)
    (ROOT / "README.md").write_text(text, encoding="utf-8", newline="\n")
    return text


def main() -> int:
    make_movielens()
    make_movietweetings()
    make_inspired()
    rid = make_redial()
    make_ccpe()
    make_goemotions()
    verify()
    located = locate()
    write_readme(located, rid)
    print(f"{'file':45} {'records':>8}  lines")
    for rel in sorted(COUNTS):
        n, unit, lines = COUNTS[rel]
        print(f"{rel:45} {n:>8}  {lines:>5}  {unit}")
    print()
    for dataset, text, rel, line in located:
        print(f"{dataset:15} {rel}:{line:<5} {text}")
    total = sum(p.stat().st_size for p in RAW.rglob("*") if p.is_file())
    print(f"\ntotal {total} bytes under {RAW}")
    return 0
