#!/usr/bin/env python3
"""Write SYNTHETIC copies of the six source datasets at their real size, for a full-scale run.

    .venv/bin/python scripts/make_data.py --scale full OUT_DIR [--seed 1]
    .venv/bin/python scripts/make_data.py --scale 0.1 OUT_DIR [--seed 1]     # a fraction of it

Every row is invented here: film titles are built from word lists, people from name lists,
ratings, dialogues, comments and plots from templates and a seeded random generator. No row
of an upstream file is copied. What is kept from upstream is the *format*, byte for byte as
the project's parsers read it (see `sample/raw/` and `../shared/formats/README.md`):

    OUT_DIR/raw/movielens/ml-1m/{movies,ratings,users}.dat   latin-1, `::`, LF, no header
    OUT_DIR/raw/movielens/ml-latest-small/links.csv          movieId,imdbId,tmdbId
    OUT_DIR/raw/movietweetings/{movies,ratings,users}.dat    UTF-8, `::`, ids not always padded
    OUT_DIR/raw/inspired/{train,dev,test}.tsv                19 columns, Python-literal dicts
    OUT_DIR/raw/inspired/movie_database.tsv
    OUT_DIR/raw/redial/{train,test}_data.jsonl               `@id` mentions, questionnaires
    OUT_DIR/raw/redial/movies_with_mentions.csv              CRLF
    OUT_DIR/raw/ccpe/data.json                               one JSON array, nested spans
    OUT_DIR/raw/goemotions/goemotions_{1,2,3}.csv            one row per (comment, rater)
    OUT_DIR/raw/goemotions/{train,dev,test}.tsv, emotions.txt, ekman_mapping.json,
                                                 sentiment_dict.json
    OUT_DIR/tmdb_catalog.json      {"notes", "movies", "tv"} for tests.fakes.tmdb_server
    OUT_DIR/manifest.json          seed, scale, and records/bytes of every file

At --scale 1.0 the row counts are the upstream ones (ML-1M 1,000,209 ratings / 3,883 films /
6,040 users; MovieTweetings 921,398 ratings / 38,018 films / 71,707 users; ReDial 11,348
conversations / 206,102 messages; INSPIRED 1,001 dialogs / 35,811 utterances; CCPE-M 502
conversations / 11,971 utterances; GoEmotions 211,225 rater rows / 58,011 comments). Row counts
scale linearly with --scale; film catalogues scale with sqrt(scale), so a small run keeps a
realistic number of ratings per film.

One pool of synthetic films feeds every source, so cross-source resolution has real work:
MovieLens and MovieTweetings share ~2,600 films (same title and year; MovieTweetings and
links.csv carry the same IMDb ids), ReDial / INSPIRED / CCPE / GoEmotions mention films of the
pool (ReDial with its name quirks, CCPE without a year), foreign films carry an original title
(MovieTweetings, TMDB `original_title`) next to an English one (MovieLens, ReDial), and the
TMDB catalogue covers about 90% of the films (plus namesake decoys, missing IMDb ids, shifted
years and TV series), so the rest stays unresolved.

Deterministic for a given (--seed, --scale); needs only the standard library and numpy. Every
file is rendered by datagen.formats, the format writers the bundled sample uses too.
"""

from __future__ import annotations

import json
import math
import random
import time
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

import numpy as np

from datagen import formats as fmt

# --------------------------------------------------------------------------------------------
# Real upstream sizes (scale 1.0)
# --------------------------------------------------------------------------------------------
ML_RATINGS, ML_FILMS, ML_USERS = 1_000_209, 3_883, 6_040
MT_RATINGS, MT_FILMS, MT_USERS = 921_398, 38_018, 71_707
ML_MT_SHARED = 2_600  # MovieLens films that MovieTweetings also lists
EXTRA_FILMS = 3_500  # films known only to the dialogue datasets
LINKS_ROWS = 9_742  # ml-latest-small
INSPIRED_DB = 17_869
INSPIRED_DIALOGS = {"train": 803, "dev": 99, "test": 99}
INSPIRED_UTTS = {"train": 28_835, "dev": 3_538, "test": 3_438}
REDIAL_CONVS = {"train": 10_006, "test": 1_342}
REDIAL_MSGS = {"train": 182_150, "test": 23_952}
REDIAL_FILMS = 6_924
CCPE_CONVS, CCPE_UTTS = 502, 11_971
GO_ROWS, GO_COMMENTS = 211_225, 58_011
GO_SPLITS = {"train": 43_410, "dev": 5_426, "test": 5_427}
GO_FILE_ROWS = (70_000, 70_000)  # goemotions_1, _2; _3 holds the rest
TMDB_COVERAGE = {"ml": 0.97, "mt": 0.90, "extra": 0.75}

# --------------------------------------------------------------------------------------------
# Vocabularies (all titles, people and texts are built from these)
# --------------------------------------------------------------------------------------------
# fmt: off
ADJ = """Silent Broken Golden Last Hidden Crimson Midnight Wild Lost Frozen Burning Dark Bright
Secret Endless Hollow Iron Paper Glass Velvet Electric Lonely Savage Quiet Restless Scarlet
Silver Bitter Sweet Distant Final First Falling Rising Sleeping Dancing Running Stolen
Forgotten Fading Shattered Crooked Gentle Brave Cold Blue Black White Red Green Grey Long Deep
High Little Big Great Young Old New Northern Southern Eastern Western Lucky Perfect Strange
Wicked Holy Empty Open Narrow Bloody Fierce Tender Hungry Lazy Crazy Mad Happy Proud Rotten
Naked Twisted Invisible Eternal Infinite Blind Wandering Raging Whispering Howling Weeping
Shining Drifting Sinking Flying Rolling Seventh Second Third Lonesome Hard Bad Good Dead Living
Sacred Cursed Emerald Copper Marble Concrete Neon Atomic Lunar Solar Arctic Tropical Desert
Summer Winter Autumn Morning Evening Lovely Bold Desperate Reckless Dangerous Fatal Mortal
Gilded Rusty Dusty Misty Stormy Secondhand Borrowed Painted Sunken Wooden""".split()
NOUN = """River Garden Empire Harbor Witness Stranger Kingdom Highway Mirror Orchard Ballad
Frontier Signal Shadow Promise Island Country City Horizon Tide Storm Fire Heart Night Day Road
Bridge House Room Door Window Letter Song Dance Game Hunt Heist Job Deal Affair Secret Lie Truth
Dream Memory Ghost Angel Devil Saint Sinner King Queen Prince Princess Soldier Sailor Hunter
Thief Killer Lover Doctor Teacher Detective Drifter Gambler Outlaw Sheriff Preacher Widow Bride
Son Daughter Brother Sister Father Mother Family Friend Enemy Rival Partner Target Mission
Escape Return Journey Voyage Passage Crossing Station Train Ship Machine Engine Planet Star
Moon Sun Sky Sea Lake Valley Mountain Forest Desert Canyon Field Farm Ranch Town Village Street
Avenue Alley Corner Hotel Motel Diner Club Circus Carnival Theater Museum Library School
Hospital Prison Palace Castle Tower Temple Church Chapel Cemetery Crown Sword Gun Knife Bullet
Key Lock Chain Ring Mask Map Clock Bell Rose Lily Orchid Tiger Wolf Fox Bear Eagle Raven Hawk
Serpent Dragon Horse Dog Bird Butterfly Spider Shark Whale Harvest Rain Snow Wind Thunder
Lightning Flood Fever Silence Echo Whisper Scream Laughter Tears Blood Bone Stone Gold Diamond
Pearl Smoke Ash Dust Salt Sugar Honey Wine Whiskey Coffee Bread Paradise Inferno Eden Exile
Legacy Reckoning Redemption Vendetta Revenge Rebellion Revolution Conspiracy Masquerade Requiem
Lullaby Serenade Symphony Overture Encore Verdict Alibi Ransom Bargain Wager Gamble Jackpot
Fortune Destiny Fate Chance Miracle Mystery Riddle Puzzle Labyrinth Maze Spiral Circle Edge
Border Zone Code Protocol Project Experiment Formula Paradox Anomaly Frequency Transmission
Broadcast Network Colony Outpost Orbit Comet Galaxy Nebula Meteor Volcano Glacier Tundra
Lighthouse Carousel Jukebox Typewriter Telegram Postcard Suitcase Umbrella Lantern Compass
Anchor Harpoon Saddle Wagon Caravan Convoy Parade Festival Wedding Funeral Reunion Homecoming
Holiday Weekend Vacation Summit Ceremony Confession Testament Prophecy Oracle Omen""".split()
FIRST = """James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty
Mark Margaret Donald Sandra Steven Ashley Paul Kimberly Andrew Emily Joshua Donna Kenneth
Michelle Kevin Dorothy Brian Carol George Amanda Edward Melissa Ronald Deborah Timothy Stephanie
Jason Rebecca Jeffrey Laura Ryan Sharon Jacob Cynthia Gary Kathleen Nicholas Amy Eric Shirley
Jonathan Angela Stephen Helen Larry Anna Justin Brenda Scott Pamela Brandon Nicole Frank
Samantha Benjamin Katherine Gregory Emma Samuel Ruth Raymond Christine Patrick Catherine
Alexander Debra Jack Rachel Dennis Carolyn Jerry Janet Tyler Virginia Aaron Maria Henry Heather
Douglas Diane Peter Julie Adam Joyce Nathan Victoria Zachary Kelly Walter Christina Kyle Joan
Harold Evelyn Carl Lauren Arthur Judith Gerald Olivia Roger Martha Keith Cheryl Lawrence Megan
Terry Andrea Sean Hannah Albert Jacqueline Christian Jean Austin Alice Jesse Gloria Ethan Teresa
Bruce Sara Ralph Julia Roy Marie Jordan Madison Eugene Grace Wayne Judy Louis Theresa Dylan
Beverly Vincent Denise Russell Amber Philip Danielle Johnny Rose Logan Diana Harry Abigail
Howard Natalie Gabriel Jane Noah Lori Oscar Ingrid Felix Greta Hugo Ines Marco Sofia Luca
Elena Mateo Lucia Pablo Clara Viktor Nadia François Amélie Chloé Jérôme Hélène José Inés Jürgen
Søren Björn Zoë Renée André Agnès Ramón Lucía""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White
Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen
Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham
Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar
Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy
Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter
Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black
Robertson Boyd Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols
Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen
Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley
Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Richards Willis Carpenter
Lawrence Sandoval Dubois Lefèvre Moreau Rossi Bianchi Ferrari Müller Schröder Weiß Nielsen
Lindqvist Ødegaard García Núñez Ibáñez Costa Tanaka Sato Novak Kowalski Nowak Okafor Mensah
Haddad Farouk Petrov Ivanova Horvat Kovacs Jansen Visser""".split()
PLACES = """Paris Lisbon Tokyo Cairo Havana Berlin Vienna Prague Istanbul Marrakesh Shanghai Memphis
Chicago Brooklyn Harlem Dallas Reno Tucson Yukon Alaska Nevada Montana Dakota Texas Manhattan
Hollywood Malibu Sonora Tangier Venice Naples Sicily Athens Oslo Dublin Glasgow Madrid Seville
Saigon Macau Detroit Boston Baltimore Savannah Louisiana Avalon Atlantis Eldorado Babylon
Sparta Troy Carthage Zanzibar Timbuktu Kingston Marseille Monaco Geneva Zurich Bavaria Tuscany
Provence Normandy Brighton Liverpool Belfast Sydney Perth Auckland Patagonia Siberia Mongolia
Bangkok Manila Mojave Arizona Oregon Maine Vermont Kentucky Mississippi Jericho Alcatraz
Nantucket Galveston Tijuana Bombay Calcutta Kyoto Osaka Seoul Lagos Nairobi""".split()
VERBING = """Chasing Leaving Finding Becoming Remembering Saving Loving Hunting Missing Meeting
Driving Escaping Crossing Raising Breaking Losing Forgetting Following Waking Defending Burying
Rescuing Catching Keeping Healing Haunting Robbing Kissing Trusting""".split()
PREPS = "Over Under Beyond Before After Between Against Without Through Across Behind".split()
NUMBER_WORDS = "Two Three Four Five Seven Nine Ten Twelve Thirteen Forty Hundred Thousand".split()

# Foreign titles per language: articles by gender ("v": before a vowel), nouns as (word, gender,
# English), adjectives as (masculine, feminine, English), and whether the adjective follows.
FOREIGN = {
    "fr": dict(
        art={"m": "Le", "f": "La", "v": "L'"},
        nouns=[
            ("Jardin", "m", "Garden"), ("Mémoire", "f", "Memory"), ("Nuit", "f", "Night"),
            ("Été", "m", "Summer"), ("Rivière", "f", "River"), ("Château", "m", "Castle"),
            ("Fenêtre", "f", "Window"), ("Voyage", "m", "Journey"), ("Silence", "m", "Silence"),
            ("Forêt", "f", "Forest"), ("Chanson", "f", "Song"), ("Étranger", "m", "Stranger"),
            ("Mer", "f", "Sea"), ("Lumière", "f", "Light"), ("Hiver", "m", "Winter"),
            ("Fille", "f", "Girl"), ("Enfant", "m", "Child"), ("Rêve", "m", "Dream"),
            ("Île", "f", "Island"), ("Colère", "f", "Anger"), ("Témoin", "m", "Witness"),
        ],
        adjs=[
            ("perdu", "perdue", "Lost"), ("noir", "noire", "Black"),
            ("dernier", "dernière", "Last"), ("secret", "secrète", "Secret"),
            ("blanc", "blanche", "White"), ("éternel", "éternelle", "Eternal"),
            ("doux", "douce", "Sweet"), ("froid", "froide", "Cold"), ("brûlé", "brûlée", "Burnt"),
            ("caché", "cachée", "Hidden"),
        ],
        adj_after=True,
    ),
    "it": dict(
        art={"m": "Il", "f": "La", "v": "L'"},
        nouns=[
            ("Giardino", "m", "Garden"), ("Notte", "f", "Night"), ("Estate", "f", "Summer"),
            ("Fiume", "m", "River"), ("Castello", "m", "Castle"), ("Viaggio", "m", "Journey"),
            ("Silenzio", "m", "Silence"), ("Mare", "m", "Sea"), ("Luce", "f", "Light"),
            ("Inverno", "m", "Winter"), ("Ragazza", "f", "Girl"), ("Strada", "f", "Road"),
            ("Sogno", "m", "Dream"), ("Città", "f", "City"), ("Postino", "m", "Postman"),
            ("Amico", "m", "Friend"), ("Isola", "f", "Island"), ("Avventura", "f", "Adventure"),
        ],
        adjs=[
            ("perduto", "perduta", "Lost"), ("nero", "nera", "Black"), ("ultimo", "ultima", "Last"),
            ("segreto", "segreta", "Secret"), ("bianco", "bianca", "White"),
            ("dolce", "dolce", "Sweet"), ("freddo", "fredda", "Cold"), ("lungo", "lunga", "Long"),
        ],
        adj_after=True,
    ),
    "es": dict(
        art={"m": "El", "f": "La", "v": None},
        nouns=[
            ("Jardín", "m", "Garden"), ("Noche", "f", "Night"), ("Verano", "m", "Summer"),
            ("Río", "m", "River"), ("Castillo", "m", "Castle"), ("Viaje", "m", "Journey"),
            ("Silencio", "m", "Silence"), ("Mar", "m", "Sea"), ("Luz", "f", "Light"),
            ("Invierno", "m", "Winter"), ("Niña", "f", "Girl"), ("Camino", "m", "Road"),
            ("Sueño", "m", "Dream"), ("Ciudad", "f", "City"), ("Corazón", "m", "Heart"),
            ("Espejo", "m", "Mirror"), ("Isla", "f", "Island"), ("Lluvia", "f", "Rain"),
        ],
        adjs=[
            ("perdido", "perdida", "Lost"), ("negro", "negra", "Black"),
            ("último", "última", "Last"), ("secreto", "secreta", "Secret"),
            ("blanco", "blanca", "White"), ("dulce", "dulce", "Sweet"), ("frío", "fría", "Cold"),
            ("largo", "larga", "Long"),
        ],
        adj_after=True,
    ),
    "de": dict(
        art={"m": "Der", "f": "Die", "n": "Das", "v": None},
        nouns=[
            ("Garten", "m", "Garden"), ("Nacht", "f", "Night"), ("Sommer", "m", "Summer"),
            ("Fluss", "m", "River"), ("Schloss", "n", "Castle"), ("Reise", "f", "Journey"),
            ("Schweigen", "n", "Silence"), ("Meer", "n", "Sea"), ("Licht", "n", "Light"),
            ("Winter", "m", "Winter"), ("Mädchen", "n", "Girl"), ("Straße", "f", "Road"),
            ("Traum", "m", "Dream"), ("Stadt", "f", "City"), ("Herz", "n", "Heart"),
            ("Spiegel", "m", "Mirror"), ("Insel", "f", "Island"), ("Zeuge", "m", "Witness"),
        ],
        adjs=[
            ("verlorene", "verlorene", "Lost"), ("schwarze", "schwarze", "Black"),
            ("letzte", "letzte", "Last"), ("geheime", "geheime", "Secret"),
            ("weiße", "weiße", "White"), ("süße", "süße", "Sweet"), ("kalte", "kalte", "Cold"),
            ("lange", "lange", "Long"),
        ],
        adj_after=False,
    ),
    # Polish: characters outside latin-1 (ł, ś, ż), so only MovieTweetings (UTF-8) lists these.
    "pl": dict(
        art={},
        nouns=[
            ("Noc", "f", "Night"), ("Ogród", "m", "Garden"), ("Rzeka", "f", "River"),
            ("Miłość", "f", "Love"), ("Zima", "f", "Winter"), ("Droga", "f", "Road"),
            ("Cisza", "f", "Silence"), ("Wyspa", "f", "Island"), ("Sen", "m", "Dream"),
            ("Świadek", "m", "Witness"), ("Żona", "f", "Wife"), ("Miasto", "n", "City"),
        ],
        adjs=[
            ("Ostatni", "Ostatnia", "Last"), ("Czarny", "Czarna", "Black"),
            ("Zimny", "Zimna", "Cold"), ("Długi", "Długa", "Long"), ("Biały", "Biała", "White"),
        ],
        adj_after=False,
    ),
}

FOREIGN_OF = {"fr": "de", "it": "di", "es": "de", "de": "von", "pl": "z"}

TMDB_GENRE_IDS = {
    "Action": 28, "Adventure": 12, "Animation": 16, "Comedy": 35, "Crime": 80, "Documentary": 99,
    "Drama": 18, "Family": 10751, "Fantasy": 14, "History": 36, "Horror": 27, "Music": 10402,
    "Mystery": 9648, "Romance": 10749, "Science Fiction": 878, "TV Movie": 10770,
    "Thriller": 53, "War": 10752, "Western": 37,
}  # fmt: skip
GENRE_WEIGHTS = {
    "Drama": 40, "Comedy": 30, "Thriller": 18, "Action": 16, "Romance": 14, "Crime": 12,
    "Horror": 9, "Adventure": 9, "Mystery": 6, "Science Fiction": 6, "Fantasy": 5, "Family": 5,
    "Documentary": 4, "Animation": 3, "History": 3, "War": 3, "Music": 3, "Western": 2,
    "TV Movie": 1,
}  # fmt: skip
TV_GENRE_IDS = {
    "Drama": 18, "Comedy": 35, "Crime": 80, "Mystery": 9648, "Animation": 16, "Documentary": 99,
    "Family": 10751, "Western": 37, "Action": 10759, "Adventure": 10759, "Science Fiction": 10765,
    "Fantasy": 10765, "War": 10768,
}
TO_ML = {
    "Family": "Children's", "Music": "Musical", "Science Fiction": "Sci-Fi", "History": "Drama",
    "TV Movie": "Drama",
}
TO_IMDB = {"Science Fiction": "Sci-Fi", "TV Movie": "Drama"}
# genre words people use in dialogues ("I like ___ movies") -> TMDB genre
GENRE_WORDS = {
    "drama": "Drama", "comedy": "Comedy", "thriller": "Thriller", "action": "Action",
    "romance": "Romance", "romantic comedy": "Romance", "crime": "Crime", "horror": "Horror",
    "adventure": "Adventure", "mystery": "Mystery", "sci-fi": "Science Fiction",
    "science fiction": "Science Fiction", "fantasy": "Fantasy", "family": "Family",
    "documentary": "Documentary", "animated": "Animation", "war": "War", "western": "Western",
    "musical": "Music", "historical": "History", "superhero": "Action", "indie": "Drama",
}  # fmt: skip
GENRE_PLURAL = {
    "drama": "dramas", "comedy": "comedies", "thriller": "thrillers", "mystery": "mysteries",
    "documentary": "documentaries", "western": "westerns", "musical": "musicals",
    "romantic comedy": "romantic comedies",
}
PLURAL_IRREGULAR = {
    "Wolf": "Wolves", "Knife": "Knives", "Thief": "Thieves", "Sheriff": "Sheriffs", "Fish": "Fish",
    "Ash": "Ashes", "Child": "Children",
}


OCCUPATIONS = [
    "detective", "nurse", "schoolteacher", "boxer", "pilot", "journalist", "lawyer", "chef",
    "thief", "con artist", "mechanic", "painter", "musician", "farmer", "soldier", "priest",
    "astronaut", "scientist", "waitress", "cab driver", "bank clerk", "fisherman", "photographer",
    "novelist", "archaeologist", "hacker", "surgeon", "rancher", "sheriff", "singer", "dancer",
    "student", "widow", "retired cop", "hitman", "smuggler", "architect", "librarian", "translator",
    "diplomat", "lighthouse keeper", "nanny", "magician",
]
PERSON_ADJ = """young aging reclusive ambitious stubborn grieving disgraced lonely restless
brilliant washed-up naive cynical idealistic shy reckless retired penniless""".split()
PLOT = {
    "Drama": [
        "must care for {p} estranged father", "returns to {p} hometown after twenty years",
        "struggles to keep the family farm", "tries to rebuild {p} life after prison",
        "takes in a runaway teenager",
    ],
    "Comedy": [
        "accidentally books two weddings on the same day",
        "pretends to be a {occ} to impress the new neighbors", "inherits a failing bowling alley",
        "swaps lives with {p} identical cousin", "has one weekend to throw the perfect party",
    ],
    "Thriller": [
        "uncovers a conspiracy inside {p} own company", "is stalked by someone who knows {p} past",
        "witnesses a murder from a train", "receives a phone call from a dead friend",
    ],
    "Action": [
        "is forced into one last job", "must rescue a kidnapped daughter",
        "fights {p} way out of a locked-down tower", "races across {place} with a stolen drive",
    ],
    "Romance": [
        "falls for a {occ} during a summer in {place}",
        "meets the same stranger every year on the same night",
        "writes letters to a pen pal who turns out to live next door",
    ],
    "Crime": [
        "plans a heist on the biggest casino in {place}", "investigates a string of robberies",
        "launders money for a small-town mob", "tries to pay off a debt to the wrong people",
    ],
    "Horror": [
        "moves into an old house with a terrible history", "hears voices in the walls",
        "wakes up in a town where nobody sleeps", "finds a videotape that should not exist",
    ],
    "Adventure": [
        "sets out to find a lost city in {place}", "sails around the world on a bet",
        "follows an old map into the mountains",
    ],
    "Mystery": [
        "investigates the disappearance of a {occ}", "finds a body in the hotel pool",
        "tries to solve a riddle left in a will",
    ],
    "Science Fiction": [
        "wakes up aboard a ship drifting between stars", "discovers a signal from a distant planet",
        "builds a machine that can replay yesterday",
    ],
    "Fantasy": [
        "finds a door to a hidden kingdom", "is cursed to tell only the truth",
        "bargains with a spirit of the forest",
    ],
    "Family": [
        "adopts a stray dog with a talent for trouble", "enters the school science fair",
        "spends the summer with {p} eccentric grandmother",
    ],
    "Animation": ["a small fox", "a lost robot", "a brave little tugboat"],
    "Documentary": [
        "the life of a {occ}", "a year inside a small-town newspaper",
        "the rise and fall of a famous racehorse",
    ],
    "History": [
        "leads a strike at a shipyard", "smuggles refugees across the border",
        "negotiates a fragile peace",
    ],
    "War": ["is stranded behind enemy lines", "leads a platoon through a long winter"],
    "Western": ["rides into a lawless town", "hunts the gang that burned {p} ranch"],
    "Music": ["dreams of playing the big stage", "reunites {p} old band for one last tour"],
    "TV Movie": ["plans a surprise holiday for {p} family"],
}
EVENTS = [
    "an old friend shows up with a proposal", "a letter arrives from the past",
    "the money goes missing", "a storm cuts the town off", "a stranger knocks on the door",
    "the police start asking questions", "a secret comes out at dinner",
    "an accident changes everything",
]
GOALS = [
    "decide who to trust", "face the truth about {p} family", "find a way out", "make things right",
    "choose between love and duty", "protect the people {p} loves",
]
DEADLINES = [
    "it is too late", "the sun comes up", "winter sets in", "the police close in", "the wedding",
    "the money runs out", "the last train leaves",
]
KEYWORD_SEEDS = {
    "Drama": ["family relationships", "grief", "coming of age", "small town", "redemption"],
    "Comedy": ["buddy comedy", "road trip", "mistaken identity", "wedding", "slapstick"],
    "Thriller": ["conspiracy", "stalker", "double cross", "paranoia", "cat and mouse"],
    "Action": ["shootout", "car chase", "martial arts", "one last job", "explosion"],
    "Romance": ["love at first sight", "love triangle", "summer romance", "second chance"],
    "Crime": ["heist", "organized crime", "police detective", "money laundering", "gangster"],
    "Horror": ["haunted house", "possession", "slasher", "supernatural", "cabin in the woods"],
    "Adventure": ["treasure hunt", "lost city", "expedition", "shipwreck", "jungle"],
    "Mystery": ["whodunit", "disappearance", "amateur sleuth", "murder investigation"],
    "Science Fiction": ["space travel", "time travel", "artificial intelligence", "alien contact"],
    "Fantasy": ["magic", "curse", "dragon", "fairy tale", "parallel world"],
    "Family": ["dog", "friendship", "summer vacation", "school", "grandmother"],
    "Animation": ["talking animals", "computer animation", "anthropomorphism"],
    "Documentary": ["biography", "interview", "archive footage", "true story"],
    "History": ["based on true story", "period drama", "19th century", "labor strike"],
    "War": ["world war ii", "soldier", "battlefield", "prisoner of war"],
    "Western": ["gunslinger", "frontier", "cattle drive", "outlaw", "saloon"],
    "Music": ["band", "musician", "concert", "jazz", "rock and roll"],
    "TV Movie": ["holiday", "christmas", "made for tv"],
}
TAGLINES = [
    "Some secrets never stay buried.", "One night. One chance.", "Nobody walks away.",
    "The past is never far behind.", "Love is the longest road.", "Every family has a story.",
    "Trust no one.", "It all ends here.", "Some doors should stay closed.",
    "Home is where the trouble starts.",
]
SUBREDDITS = """movies MovieSuggestions TrueFilm horror StarWars pixar boxoffice criterion flicks
AskReddit television netflix marvelstudios DC_Cinematic scifi Documentaries moviescirclejerk
OldSchoolCool CasualConversation nba soccer gaming pics funny todayilearned anime
TwoXChromosomes relationship_advice unpopularopinion Music books""".split()
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
YOUTUBE = B62 + "-_"
EMOTION_FREQ = [
    10, 5, 3, 5, 7, 2.5, 3, 5, 1.5, 3, 5, 2, 0.6, 2, 1.5, 6, 0.2, 3, 4, 0.4, 4, 0.3, 3, 0.3, 1, 3,
    2, 33,
]
# fmt: on


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
def plural(noun: str) -> str:
    if noun in PLURAL_IRREGULAR:
        return PLURAL_IRREGULAR[noun]
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh", "z")):
        return noun + "es"
    return noun + "s"


def genre_phrase(word: str, rnd: random.Random) -> str:
    """How people name a genre: 'comedies', 'horror movies', 'sci-fi films'."""
    if word in GENRE_PLURAL and rnd.random() < 0.5:
        return GENRE_PLURAL[word]
    return f"{word} {'films' if rnd.random() < 0.2 else 'movies'}"


class Picker:
    """Weighted draws from a fixed list (bisect on cumulative weights: O(log n) per draw)."""

    def __init__(self, items, weights, rnd: random.Random):
        self.items = list(items)
        self.cum = list(accumulate(float(w) for w in weights))
        self.total = self.cum[-1]
        self.rnd = rnd

    def __len__(self) -> int:
        return len(self.items)

    def pick(self):
        return self.items[bisect_right(self.cum, self.rnd.random() * self.total)]

    def distinct(self, k: int) -> list:
        out = {}
        for _ in range(k * 6):
            out.setdefault(self.pick(), None)
            if len(out) == k:
                break
        return list(out)


def split_total(rng, total: int, n: int, minimum: int, sigma: float, cap: int) -> np.ndarray:
    """n integers in [minimum, cap], heavy-tailed (lognormal), summing exactly to total."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    minimum = min(minimum, total // n)
    cap = max(cap, -(-total // n))
    w = rng.lognormal(0.0, sigma, n)
    extra = total - minimum * n
    x = np.minimum(np.floor(w / w.sum() * extra).astype(np.int64), cap - minimum)
    rem = extra - int(x.sum())
    while rem > 0:
        room = np.flatnonzero(x < cap - minimum)
        pick = rng.choice(room, size=min(rem, len(room)), replace=False)
        x[pick] += 1
        rem -= len(pick)
    return x + minimum


def distinct_pairs(rng, counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each user u, counts[u] distinct items drawn by weight (vectorised: draw with
    replacement, then redraw the duplicates, by weight first and uniformly later)."""
    n_items = len(weights)
    cdf = np.cumsum(weights, dtype=np.float64)
    cdf /= cdf[-1]
    users = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    items = np.searchsorted(cdf, rng.random(len(users)), side="right").astype(np.int64)
    idx = np.arange(len(users))
    for rnd in range(10_000):
        key = users[idx] * n_items + items[idx]
        order = np.argsort(key, kind="stable")
        sk = key[order]
        dup = order[np.flatnonzero(sk[1:] == sk[:-1]) + 1]
        if len(dup) == 0:
            return users, items
        pos = idx[dup]
        if rnd < 4:
            items[pos] = np.searchsorted(cdf, rng.random(len(pos)), side="right")
        else:
            items[pos] = rng.integers(0, n_items, len(pos))
        idx = np.flatnonzero(np.isin(users, np.unique(users[pos])))
    raise RuntimeError("could not draw distinct items")


def topk_weighted(rng, idx: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct members of idx, drawn without replacement by weight (Gumbel top-k)."""
    k = min(k, len(idx))
    keys = np.log(weights) + rng.gumbel(size=len(idx))
    return idx[np.argsort(-keys, kind="stable")[:k]]


def random_strings(rng, n: int, length: int, alphabet: str) -> list[str]:
    table = np.frombuffer(alphabet.encode("ascii"), dtype="S1")
    return [
        b.decode("ascii")
        for b in table[rng.integers(0, len(alphabet), (n, length))].view(f"S{length}").ravel()
    ]


def moved_article(title: str, articles: tuple[str, ...]) -> str:
    """MovieLens style: 'The American President' -> 'American President, The'."""
    for art in articles:
        if art.endswith("'") and title.startswith(art) and len(title) > len(art):
            return f"{title[len(art) :]}, {art}"
        if title.startswith(art + " ") and ":" not in title:
            return f"{title[len(art) + 1 :]}, {art}"
    return title


def tmdb_genres(names: list[str]) -> list[dict]:
    return [{"id": TMDB_GENRE_IDS[g], "name": g} for g in names]


def raw(rel: str) -> str:
    """An upstream file's path under OUT_DIR (datagen.formats names them under raw/)."""
    return f"{fmt.RAW}/{rel}"


# --------------------------------------------------------------------------------------------
# The film pool
# --------------------------------------------------------------------------------------------
class Film:
    """One synthetic film (or TV series, kind == "tv") of the pool."""

    __slots__ = tuple(
        "i title orig lang year kind imdb genres fame quality directors cast overview tagline "
        "runtime keywords segment tmdb tmdb_year tmdb_imdb".split()
    )

    def __init__(self, i: int):
        self.i = i
        self.tmdb: int | None = None  # TMDB id when the catalogue has the film

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})"


class Pool:
    """Every synthetic film and person, with the membership of each source."""

    def __init__(self, scale: float, seed: int):
        self.scale = scale
        self.rnd = random.Random(seed * 7919 + 1)
        self.np = np.random.default_rng([seed, 1])
        fs = math.sqrt(scale)
        self.n_ml = max(60, round(ML_FILMS * fs))
        self.n_mt = max(200, round(MT_FILMS * fs))
        self.n_shared = min(self.n_ml - 10, round(ML_MT_SHARED * fs))
        self.n_extra = max(40, round(EXTRA_FILMS * fs))
        self.n_people = max(400, round(24_000 * fs))
        self.films: list[Film] = []
        self._people()
        self._films()
        self._titles()
        self._details()

    # --- people --------------------------------------------------------------------------
    def _people(self) -> None:
        rnd = self.rnd
        pairs = self.np.choice(len(FIRST) * len(LAST), self.n_people, replace=False)
        self.people = [f"{FIRST[p // len(LAST)]} {LAST[p % len(LAST)]}" for p in pairs.tolist()]
        self.person_ids = sorted(rnd.sample(range(10_000, 5_000_000), self.n_people))
        rnd.shuffle(self.person_ids)
        fame = [1.0 / (r + 8) ** 0.9 for r in range(self.n_people)]
        n_dir = max(100, self.n_people // 4)
        self.directors = Picker(range(n_dir), fame[:n_dir], rnd)
        self.actors = Picker(
            range(n_dir // 2, self.n_people), fame[: self.n_people - n_dir // 2], rnd
        )

    # --- films: segments, years, kinds, fame, ids --------------------------------------
    def _films(self) -> None:
        g, rnd = self.np, self.rnd
        n_mt_only = self.n_mt - self.n_shared
        segs = ["ml"] * self.n_ml + ["mt"] * n_mt_only + ["extra"] * self.n_extra
        n = len(segs)
        fame = g.lognormal(0.0, 1.3, n)
        fame[: self.n_ml] *= 3.0  # MovieLens films are the classics people talk about
        years = np.empty(n, dtype=np.int64)

        def years_from(k, spans):
            spans_w = np.array([w for _, _, w in spans], dtype=float)
            which = g.choice(len(spans), size=k, p=spans_w / spans_w.sum())
            lo = np.array([a for a, _, _ in spans])[which]
            hi = np.array([b for _, b, _ in spans])[which]
            return lo + (g.random(k) * (hi - lo + 1)).astype(np.int64)

        years[: self.n_ml] = years_from(
            self.n_ml,
            [
                (1919, 1959, 8),
                (1960, 1979, 12),
                (1980, 1989, 15),
                (1990, 1994, 20),
                (1995, 2000, 45),
            ],
        )
        years[self.n_ml : self.n_ml + n_mt_only] = years_from(
            n_mt_only,
            [(1915, 1989, 8), (1990, 2009, 22), (2010, 2015, 25), (2016, 2023, 45)],
        )
        years[self.n_ml + n_mt_only :] = years_from(
            self.n_extra, [(1930, 1979, 15), (1980, 1999, 35), (2000, 2017, 50)]
        )
        quality = np.clip(g.normal(3.45, 0.45, n) + 0.08 * np.log(fame), 1.6, 4.7)
        for i in range(n):
            f = Film(i)
            f.segment, f.year = segs[i], int(years[i])
            f.fame, f.quality = float(fame[i]), float(quality[i])
            f.kind = "tv" if segs[i] == "mt" and rnd.random() < 0.03 and f.year >= 1985 else "movie"
            self.films.append(f)
        # ML films that MovieTweetings also lists: the famous ones, mostly
        ml_idx = np.arange(self.n_ml)
        shared = topk_weighted(g, ml_idx, fame[: self.n_ml], self.n_shared)
        self.shared = set(shared.tolist())
        # IMDb ids grow with the year (tt0000001 in 1894 ... tt1xxxxxxx after 2019)
        knots_y = [1890, 1930, 1960, 1980, 1990, 2000, 2005, 2010, 2015, 2018, 2024]
        knots_i = [1, 21_000, 55_000, 80_000, 99_000, 250_000, 480_000, 1_600_000, 4_800_000,
                   8_500_000, 15_000_000]  # fmt: skip
        imdb = np.interp(years + g.random(n), knots_y, knots_i).astype(np.int64)
        imdb += g.integers(0, 400, n)
        while True:  # make unique, keeping the year order
            uniq, first = np.unique(imdb, return_index=True)
            if len(uniq) == n:
                break
            dup = np.setdiff1d(np.arange(n), first)
            imdb[dup] += g.integers(1, 5_000, len(dup))
        for f, v in zip(self.films, imdb.tolist(), strict=True):
            f.imdb = v

    # --- titles ---------------------------------------------------------------------------
    def _english(self) -> str:
        r = self.rnd
        a, nn, n2 = r.choice(ADJ), r.choice(NOUN), r.choice(NOUN)
        first, place = r.choice(FIRST), r.choice(PLACES)
        x = r.random() * 100
        if x < 15:
            return f"The {a} {nn}"
        if x < 29:
            return f"{a} {nn}"
        if x < 35:
            return f"The {nn} of {place}" if r.random() < 0.5 else f"{nn} of {place}"
        if x < 43:
            return f"{nn} of the {n2}" if r.random() < 0.6 else f"The {nn} of the {a} {n2}"
        if x < 49:
            return f"{first}'s {nn}"
        if x < 55:
            return f"{r.choice(VERBING)} {first if r.random() < 0.5 else place}"
        if x < 60:
            return f"A {nn} in {place}" if r.random() < 0.5 else f"A {a} {nn}"
        if x < 64:
            return f"{first} {'&' if r.random() < 0.3 else 'and'} {r.choice(FIRST)}"
        if x < 69:
            return f"The {plural(nn)}" if r.random() < 0.4 else f"{a} {plural(nn)}"
        if x < 74:
            return f"{nn} {r.choice(PREPS)} {place if r.random() < 0.4 else 'the ' + n2}"
        if x < 79:
            return f"{a} {nn}: The {r.choice(ADJ)} {n2}"
        if x < 80:
            return r.choice(
                [
                    f"Who Killed {first} {r.choice(LAST)}?",
                    f"What Happened to {first}?",
                    f"Where Is the {nn}?",
                    f"Why Not {first}?",
                ]
            )
        if x < 82:
            return r.choice(
                [f"Goodbye, {first}", f"{nn}, {n2} and {r.choice(NOUN)}", f"Hello, {place}"]
            )
        if x < 83:
            return (
                f"{r.choice(NUMBER_WORDS)} {plural(nn)}"
                if r.random() < 0.7
                else str(r.randint(1901, 1999))
            )
        if x < 86:
            return f"{first} {r.choice(LAST)}"
        if x < 91:
            return nn if r.random() < 0.5 else f"The {nn}"  # short: remade under the same title
        return f"{a} {nn} {r.choice(['Blues', 'Story', 'Road', 'Nights', 'Days', 'Rules'])}"

    def _foreign(self, lang: str, wide: bool) -> tuple[str, str]:
        """(original title, English title); `wide` adds a place name for more variety."""
        r, spec = self.rnd, FOREIGN[lang]
        noun, gender, en = r.choice(spec["nouns"])
        adj = r.choice(spec["adjs"]) if r.random() < 0.6 else None
        word = noun
        if adj:
            a = adj[1] if gender == "f" else adj[0]
            word = f"{noun} {a}" if spec["adj_after"] else f"{a} {noun}"
            en = f"{adj[2]} {en}"
        arts = spec["art"]
        if not arts:
            orig = word
        elif arts.get("v") and spec["adj_after"] and noun[0] in "AEIOUÉÈÎH":
            orig = f"{arts['v']}{word}"
        else:
            orig = f"{arts.get(gender, arts['m'])} {word}"
        en = f"The {en}"
        if wide:
            place = r.choice(PLACES)
            orig, en = f"{orig} {FOREIGN_OF[lang]} {place}", f"{en} of {place}"
        return orig, en

    def _titles(self) -> None:
        r = self.rnd
        used: dict[str, list[int]] = {}

        def free(title: str, year: int) -> bool:
            years = used.get(title.lower())
            return years is None or all(abs(y - year) >= 3 for y in years)

        order = sorted(self.films, key=lambda f: (f.year, f.i))
        for f in order:
            lang = "en"
            if r.random() < 0.10:
                lang = r.choice(["fr", "it", "es", "de"] + (["pl"] if f.segment == "mt" else []))
            for attempt in range(200):
                if lang != "en" and attempt < 60:
                    orig, title = self._foreign(lang, wide=attempt >= 10)
                else:
                    lang = "en"
                    title = orig = self._english()
                    if attempt > 150:
                        title = orig = f"{title} {r.choice(['II', 'Reborn', 'Returns'])}"
                # a remake shares its title; otherwise titles are new
                new = title.lower() not in used and orig.lower() not in used
                if free(title, f.year) and free(orig, f.year) and (new or r.random() < 0.3):
                    break
            else:
                raise RuntimeError("title space exhausted")
            f.title, f.orig, f.lang = title, orig, lang
            used.setdefault(title.lower(), []).append(f.year)
            if orig != title:
                used.setdefault(orig.lower(), []).append(f.year)
        # sequels of earlier English films
        by_year = sorted(
            (f for f in self.films if f.lang == "en" and f.kind == "movie"),
            key=lambda f: (f.year, f.i),
        )
        for pos, f in enumerate(by_year):
            if pos == 0 or f.year < 1975 or r.random() >= 0.025:
                continue
            base = by_year[r.randrange(pos)]
            if base.year >= f.year or ":" in base.title or base.title[-1] == "?":
                continue
            title = r.choice(
                [
                    f"{base.title} 2",
                    f"{base.title} II",
                    f"{base.title}: Part Two",
                    f"Return to {base.title}",
                ]
            )
            if title.lower() not in used:
                used[f.title.lower()].remove(f.year)
                f.title = f.orig = title
                used.setdefault(title.lower(), []).append(f.year)

    # --- genres, credits, plot, runtime, keywords ---------------------------------------------
    def _details(self) -> None:
        r = self.rnd
        genre_picker = Picker(GENRE_WEIGHTS, GENRE_WEIGHTS.values(), r)
        kw_generic = sorted({f"{a.lower()} {n.lower()}" for a in ADJ[:40] for n in NOUN[:30]})
        for f in self.films:
            k = r.choices((1, 2, 3), (35, 40, 25))[0]
            f.genres = genre_picker.distinct(k)
            if f.kind == "tv":
                f.genres = [g for g in f.genres if g in TV_GENRE_IDS] or ["Drama"]
            nd = r.choices((0, 1, 2), (2, 93, 5))[0]
            f.directors = self.directors.distinct(nd) if nd else []
            f.cast = self.actors.distinct(r.randint(4, 10))
            f.runtime = max(62, min(220, int(r.gauss(106, 18))))
            kws = [s for g in f.genres for s in KEYWORD_SEEDS[g]]
            f.keywords = list(
                dict.fromkeys(
                    r.sample(kws, min(len(kws), r.randint(2, 6)))
                    + r.sample(kw_generic, r.randint(1, 6))
                )
            )
            f.overview, f.tagline = self._plot(f), r.choice(TAGLINES)
        self.kw_ids = {}
        for kw in sorted({k for f in self.films for k in f.keywords}):
            self.kw_ids[kw] = 1000 + len(self.kw_ids) * 37

    def _plot(self, f: Film) -> str:
        r = self.rnd
        g = f.genres[0]
        p = r.choice(["his", "her", "their"])
        place, occ = r.choice(PLACES), r.choice(OCCUPATIONS)
        act = r.choice(PLOT[g]).format(p=p, occ=r.choice(OCCUPATIONS), place=place)
        if g == "Documentary":
            first = f"A documentary about {act}, filmed over {r.randint(2, 9)} years in {place}."
        elif g == "Animation":
            first = f"In this animated tale, {act} leaves home to find {p} way back to {place}."
        else:
            who = (
                f"A {r.choice(PERSON_ADJ)} {occ}"
                if r.random() < 0.6
                else f"{r.choice(FIRST)} {r.choice(LAST)}, a {occ},"
            )
            first = f"{who} {act}" + (f" in {place}." if r.random() < 0.4 else ".")
        subject = {"his": "he", "her": "she", "their": "they"}[p]
        second = (
            f"When {r.choice(EVENTS)}, {subject} must {r.choice(GOALS).format(p=p)} "
            f"before {r.choice(DEADLINES)}."
        )
        return f"{first} {second}"

    # --- membership used by several sources ------------------------------------------------
    def assign_sources(self) -> None:
        g = self.np
        fame = np.array([f.fame for f in self.films])
        movies = np.array([i for i, f in enumerate(self.films) if f.kind == "movie"])
        extra = np.array([i for i, f in enumerate(self.films) if f.segment == "extra"])
        year = np.array([f.year for f in self.films])
        role = g.random(len(extra))
        self.extra_redial = extra[role >= 0.6]
        self.extra_insp = extra[(role < 0.6) | (role >= 0.85)]
        # INSPIRED movie database: its extra films, then famous films from the rest
        n_db = max(100, round(INSPIRED_DB * math.sqrt(self.scale)))
        rest = np.setdiff1d(movies, extra)
        rest = rest[year[rest] <= 2019]  # INSPIRED was collected in 2019
        db = np.concatenate(
            [
                self.extra_insp,
                topk_weighted(g, rest, fame[rest] ** 0.7, n_db - len(self.extra_insp)),
            ]
        )
        self.insp_db = db
        n_redial = max(80, round(REDIAL_FILMS * math.sqrt(self.scale)))
        rest = rest[year[rest] <= 2017]  # ReDial: 2018
        self.redial_films = np.concatenate(
            [
                self.extra_redial,
                topk_weighted(g, rest, fame[rest], n_redial - len(self.extra_redial)),
            ]
        )
        # TMDB coverage
        for f in self.films:
            if self.rnd.random() < TMDB_COVERAGE[f.segment]:
                f.tmdb = 0  # id assigned below
        tm = [f for f in self.films if f.tmdb is not None]
        ids = self.rnd.sample(range(2, 1_200_000), len(tm))
        for f, tid in zip(tm, ids, strict=True):
            f.tmdb = tid
            f.tmdb_year = f.year + (self.rnd.choice((-1, 1)) if self.rnd.random() < 0.02 else 0)
            f.tmdb_imdb = None if self.rnd.random() < 0.03 else f"tt{f.imdb:07d}"


# --------------------------------------------------------------------------------------------
# MovieLens 1M (+ ml-latest-small links.csv)
# --------------------------------------------------------------------------------------------
def ml_genres(f: Film, rnd: random.Random) -> list[str]:
    out = {TO_ML.get(g, g) for g in f.genres}
    if f.year < 1960 and out & {"Crime", "Mystery", "Thriller"} and rnd.random() < 0.5:
        out.add("Film-Noir")
    return sorted(out)


def ml_title(f: Film, rnd: random.Random) -> str:
    en = moved_article(f.title, ("The", "A", "An"))
    if f.lang != "en":
        arts = tuple(a for a in FOREIGN[f.lang]["art"].values() if a)
        orig = moved_article(f.orig, arts)
        text = f"{en} ({orig})" if rnd.random() < 0.5 else f"{orig} ({en})"
    elif rnd.random() < 0.004:
        text = f"{en} (a.k.a. {rnd.choice(ADJ)} {rnd.choice(NOUN)})"
    else:
        text = en
    return f"{text} ({f.year})"


def make_movielens(pool: Pool, out: Path, scale: float, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 2])
    rnd = random.Random(seed * 31 + 2)
    films = [f for f in pool.films if f.segment == "ml"]
    # ids 1..3952, not contiguous; films of 1998-2000 were added last (higher ids)
    n_ids = max(len(films) + 10, round(3952 * len(films) / ML_FILMS))
    ids = sorted(rnd.sample(range(1, n_ids + 1), len(films)))
    order = sorted(films, key=lambda f: (f.year >= 1998, rnd.random()))
    ml_id = {f.i: mid for f, mid in zip(order, ids, strict=True)}
    lines, genres_of = [], {}
    for f in sorted(films, key=lambda f: ml_id[f.i]):
        genres_of[f.i] = ml_genres(f, rnd)
    missing = [gname for gname in fmt.ML_GENRES if not any(gname in v for v in genres_of.values())]
    for gname in missing:  # every MovieLens genre appears, as upstream
        f = rnd.choice(films)
        genres_of[f.i] = sorted(set(genres_of[f.i]) | {gname})
    with fmt.Writer(out, report, raw(fmt.ML_FILE.format("movies"))) as w:
        for f in sorted(films, key=lambda f: ml_id[f.i]):
            title = ml_title(f, rnd)
            title.encode("latin-1")  # MovieLens is latin-1: every title must be encodable
            lines.append(fmt.movie_line(ml_id[f.i], title, genres_of[f.i]))
        w.write("".join(lines))
        w.records = len(lines)

    # users
    n_users = max(30, round(ML_USERS * scale))
    ages = np.array([1, 18, 25, 35, 45, 50, 56])
    age = ages[g.choice(7, n_users, p=np.array([4, 18, 35, 20, 9, 8, 6]) / 100)]
    gender = np.where(g.random(n_users) < 0.28, "F", "M")
    occ = g.integers(0, 21, n_users)
    zips = g.integers(1000, 99999, n_users)
    plus4 = g.random(n_users) < 0.012
    with fmt.Writer(out, report, raw(fmt.ML_FILE.format("users"))) as w:
        for u in range(n_users):
            z = f"{zips[u]:05d}" + (f"-{g.integers(1000, 9999)}" if plus4[u] else "")
            w.write(fmt.dat_line(u + 1, gender[u], age[u], occ[u], z))
        w.records = n_users

    # ratings: >= 20 per user, heavy-tailed, grouped by user (unsorted within a user)
    total = max(n_users * 20, round(ML_RATINGS * scale))
    cap = int(len(films) * 0.6)
    counts = split_total(g, total, n_users, 20, 1.0, cap)
    fame = np.array([f.fame for f in films])
    users, items = distinct_pairs(g, counts, fame**0.9)
    quality = np.array([f.quality for f in films])
    bias = g.normal(0.0, 0.35, n_users)
    stars = np.clip(np.rint(quality[items] + bias[users] + g.normal(0.0, 1.0, len(items))), 1, 5)
    start = np.where(
        g.random(n_users) < 0.7,
        g.integers(956_703_932, 978_307_200, n_users),
        g.integers(978_307_200, 1_040_000_000, n_users),
    )
    end = 1_046_454_590  # the last ML-1M timestamp
    room = np.minimum(end - start[users], np.where(g.random(len(items)) < 0.8, 2, 400) * 86_400)
    ts = start[users] + (g.random(len(items)) * room).astype(np.int64)
    mids = np.array([ml_id[f.i] for f in films])[items]
    with fmt.Writer(out, report, raw(fmt.ML_FILE.format("ratings"))) as w:
        step = 200_000
        for a in range(0, len(items), step):
            w.write(
                fmt.dat_lines(
                    (users[a : a + step] + 1).tolist(),
                    mids[a : a + step].tolist(),
                    stars[a : a + step].astype(np.int64).tolist(),
                    ts[a : a + step].tolist(),
                )
            )
        w.records = len(items)

    # links.csv of a later MovieLens release: most ML-1M films plus newer ids
    n_links = max(50, round(LINKS_ROWS * math.sqrt(scale)))
    ml_in = topk_weighted(g, np.arange(len(films)), fame, int(len(films) * 0.8))
    linked = [(ml_id[films[i].i], films[i]) for i in sorted(ml_in.tolist())]
    others = [f for f in pool.films if f.segment != "ml" and f.kind == "movie"]
    n_new = max(0, n_links - len(linked))
    new_ids = sorted(rnd.sample(range(3953, 193_610), n_new))
    picks = rnd.sample(others, min(n_new, len(others)))
    picks.sort(key=lambda f: (f.year, f.i))
    linked += list(zip(new_ids, picks, strict=False))
    linked.sort(key=lambda t: t[0])
    with fmt.Writer(out, report, raw(fmt.ML_LINKS)) as w:
        w.write(fmt.LINKS_HEADER)
        for mid, f in linked:
            tmdb = "" if f.tmdb is None or rnd.random() < 0.005 else str(f.tmdb)
            w.write(fmt.links_line(mid, f.imdb, tmdb))
        w.records = len(linked)


# --------------------------------------------------------------------------------------------
# MovieTweetings
# --------------------------------------------------------------------------------------------
def make_movietweetings(pool: Pool, out: Path, scale: float, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 3])
    rnd = random.Random(seed * 31 + 3)
    films = [f for f in pool.films if f.segment == "mt" or f.i in pool.shared]
    films.sort(key=lambda f: f.imdb)
    written = []
    for f in films:
        x = rnd.random()
        if f.imdb < 1000 and x < 0.5:
            written.append(str(f.imdb))  # `25`
        elif x < 0.01:
            written.append(str(f.imdb))  # `133093`
        elif x < 0.012 and f.imdb < 1_000_000:
            written.append(f"{f.imdb:07d}"[1:])  # `0443`-like partial padding
        else:
            written.append(f"{f.imdb:07d}")
    with fmt.Writer(out, report, raw(fmt.MT_FILE.format("movies"))) as w:
        for f, wid in zip(films, written, strict=True):
            genres = sorted({TO_IMDB.get(gn, gn) for gn in f.genres})
            if rnd.random() < 0.01:
                genres.append("Short")
            if rnd.random() < 0.012:
                genres = []  # the line ends in `::`
            title = f.orig if f.lang != "en" else f.title
            w.write(fmt.movie_line(wid, f"{title} ({f.year})", genres))
        w.records = len(films)

    n_users = max(50, round(MT_USERS * scale))
    total = max(n_users, round(MT_RATINGS * scale))
    counts = split_total(g, total, n_users, 1, 1.6, min(3000, len(films) // 2))
    years = np.array([f.year for f in films])
    fame = np.array([f.fame for f in films]) * np.where(years >= 2012, 3.0, 1.0)
    users, items = distinct_pairs(g, counts, fame)
    order = np.lexsort((items, users))  # by user, then by film id (as upstream)
    users, items = users[order], items[order]
    quality = np.array([f.quality for f in films])
    bias = g.normal(0.0, 0.6, n_users)
    score = np.rint(2 * quality[items] + 0.6 + bias[users] + g.normal(0.0, 1.4, len(items)))
    score = np.where(g.random(len(items)) < 0.003, 0, np.clip(score, 0, 10)).astype(np.int64)
    start = g.integers(1_362_000_000, 1_640_000_000, n_users)
    ts = start[users] + (g.exponential(60.0, len(items)) * 86_400).astype(np.int64)
    released = (years[items] - 1970) * 31_556_952 + 86_400 * 30
    ts = np.minimum(np.maximum(ts, released), 1_650_000_000)
    with fmt.Writer(out, report, raw(fmt.MT_FILE.format("ratings"))) as w:
        step = 200_000
        for a in range(0, len(items), step):
            w.write(
                fmt.dat_lines(
                    (users[a : a + step] + 1).tolist(),
                    [written[i] for i in items[a : a + step].tolist()],
                    score[a : a + step].tolist(),
                    ts[a : a + step].tolist(),
                )
            )
        w.records = len(items)

    lengths = g.choice([8, 9, 9, 10, 10, 10, 18, 19, 19], n_users)
    with fmt.Writer(out, report, raw(fmt.MT_FILE.format("users"))) as w:
        for u in range(n_users):
            n = int(lengths[u])
            tid = str(int(g.integers(1, 10))) + "".join(map(str, g.integers(0, 10, n - 1).tolist()))
            w.write(fmt.dat_line(u + 1, tid))
        w.records = n_users


# --------------------------------------------------------------------------------------------
# INSPIRED
# --------------------------------------------------------------------------------------------
# (speaker, text, expert_label[|second_label]); {M}/{R} = seeker's / recommended film markup,
# {Mt}/{Rt} = their surface title, {G} genre, {A}/{A2} actors, {D} director.
# fmt: off
INSP_OPEN = [
    [
        ("R", "Hi there! How are you doing today?", "no_strategy"),
        ("S", "I'm doing well, thanks. How about you?", ""),
        ("R", "I'm great, thanks for asking! Are you looking for a movie to watch?", "offer_help"),
    ],
    [
        ("R", "Hello! How's it going?", "no_strategy"), ("S", "Pretty good, thanks.", ""),
        ("R", "Good to hear. What kind of movie are you in the mood for?", "opinion_inquiry"),
    ],
    [("R", "Hey, how are you?", "no_strategy"), ("S", "Hi! I'm good.", "")],
    [
        ("R", "Hello, how are you today?", "no_strategy"), ("S", "I'm fine, a little tired.", ""),
        ("R", "A good movie might help with that!", "encouragement"),
    ],
]
# (speaker, markup, label); {M}/{Mt} the seeker's film and its surface title, {R}/{Rt} the
# recommended film, {G}/{G2}/{G3} genre words, {A}/{A2} actors, {D} a director.
INSP_GENRE = [
    [
        ("R", "What kind of movies do you usually watch?", "opinion_inquiry"),
        ("S", "I really like [[g:{G}]] movies.", ""),
    ],
    [
        ("R", "What genres do you enjoy the most?", "opinion_inquiry"),
        ("S", "Mostly [[g:{G}]], and some [[g:{G2}]] too.", ""),
    ],
    [
        ("R", "Are you in the mood for anything in particular?", "opinion_inquiry"),
        ("S", "Maybe something [[g:{G}]]? I haven't watched one in a while.", ""),
    ],
    [
        ("R", "What type of movies do you like to watch on a weekend?", "opinion_inquiry"),
        ("S", "I usually go for [[g:{G}]] or [[g:{G2}]].", ""),
    ],
]
INSP_SEEKER_FILM = [
    [
        ("R", "What's a [[g:{G}]] movie you enjoyed recently?", "experience_inquiry"),
        ("S", "I watched [[m:{M}|{Mt}]] last week and loved it.", ""),
    ],
    [
        ("R", "What was the last movie you watched?", "experience_inquiry"),
        ("S", "[[m:{M}|{Mt}]], it's one of my favorites.", ""),
    ],
    [
        ("R", "Is there a movie you've seen more than once?", "experience_inquiry"),
        ("S", "I really liked [[m:{M}|{Mt}]], especially [[a:{A}]].", ""),
    ],
    [
        ("R", "What's your all time favorite movie?", "experience_inquiry"),
        ("S", "Probably [[m:{M}|{Mt}]]. I've seen it so many times.", ""),
    ],
]
INSP_TALK = [
    [
        ("R", "What did you like most about it?", "experience_inquiry"),
        ("S", "The story was {adj} and the ending surprised me.", ""),
    ],
    [
        ("R", "Oh, I love that one too! [[a:{A}]] was great in it.", "personal_opinion"),
        ("S", 'My friend called it "a masterpiece" and I have to agree.', ""),
    ],
    [
        ("R", "Did you like the acting in it?", "experience_inquiry"),
        ("S", "Yes, [[a:{A}]] was fantastic.", ""),
    ],
    [
        ("R", "What did you think of the ending?", "experience_inquiry"),
        ("S", "It was {adj}, I didn't see it coming.", ""),
    ],
    [
        ("R", "Would you watch it again?", "experience_inquiry"),
        ("S", "Definitely, it's a comfort movie for me.", ""),
    ],
    [
        ("R", "Do you prefer newer movies or older ones?", "preference_confirmation"),
        ("S", "Newer ones mostly, but I don't mind a classic.", ""),
    ],
    [
        ("R", "Who do you usually watch movies with?", "opinion_inquiry"),
        ("S", "Usually with my {relation}.", ""),
    ],
    [
        ("R", "Do you have a favorite director?", "opinion_inquiry"),
        ("S", "I like anything by [[d:{D}]].", ""),
    ],
    [
        ("R", "Do you like movies that make you think?", "opinion_inquiry"),
        ("S", "Yes, as long as they are not too slow.", ""),
    ],
    [
        ("R", "Is there a genre you don't like?", "opinion_inquiry"),
        ("S", "I'm not really into [[g:{G3}]].", ""),
    ],
    [
        ("R", "Do you watch movies at home or in the theater?", "opinion_inquiry"),
        ("S", "Mostly at home, it's cheaper.", ""),
    ],
    [
        ("R", "Do you like a happy ending?", "preference_confirmation"),
        ("S", "Not always, I like it when a movie is a little {adj}.", ""),
    ],
    [
        ("R", "What else do you look for in a movie?", "opinion_inquiry"),
        ("S", "Good acting and a story that keeps me guessing.", ""),
        ("R", "Same here.", "acknowledgment"),
    ],
    [
        ("S", "Do you watch a lot of movies?", ""),
        ("R", "I do, probably two or three a week.", "self_modeling"),
    ],
    [
        (
            "R", "I watched one with my {relation} last night and we loved it.",
            "personal_experience",
        ),
        ("S", "Nice!", ""),
    ],
    [("R", "Sorry, my internet is a bit slow today.", "no_strategy"), ("S", "No worries.", "")],
    [
        ("S", "Have you seen [[m:{M}|{Mt}]]?", ""),
        ("R", "Yes! It's one of my favorites too.", "personal_experience"),
    ],
]
INSP_RECOMMEND = [
    [
        ("R", "Have you seen [[m:{R}|{Rt}]]?", "experience_inquiry"),
        ("S", "No, I haven't. What is it about?", ""), ("R", "{plot}", "credibility"),
    ],
    [
        ("R", "I think you would enjoy [[m:{R}|{Rt}]].", "personal_opinion"),
        ("S", "I've heard of it but never watched it.", ""),
        ("R", "It stars [[a:{A}]] and [[a:{A2}]], and they are amazing together.", "credibility"),
    ],
    [
        ("R", "If you liked [[m:{M}|{Mt}]], you might like [[m:{R}|{Rt}]].", "similarity"),
        ("S", "Is it similar?", ""),
        ("R", "It has the same {adj} feel, and it's also a [[g:{G}]] movie.", "similarity"),
    ],
    [
        ("R", "How about [[m:{R}|{Rt}]], directed by [[d:{D}]]?", "credibility"),
        ("S", "Hmm, I'm not sure that's my thing.", ""),
        ("R", "It's one of my favorites, I've watched it three times.", "personal_experience"),
    ],
    [
        ("R", "You should check out [[m:{R}|{Rt}]].", "encouragement"),
        ("S", "Is it very long?", ""),
        ("R", "It's about two hours, but it goes by fast.", "transparency"),
    ],
    [
        ("R", "There's a movie called [[m:{R}|{Rt}]] that I think you'd like.", "personal_opinion"),
        ("S", "What's it about?", ""), ("R", "{plot}", "credibility"),
    ],
    [
        ("R", "Have you heard of [[m:{R}|{Rt}]]? It's a [[g:{G}]] movie too.", "similarity"),
        ("S", "I don't think so.", ""),
        ("R", "It's directed by [[d:{D}]], and [[a:{A}]] plays the lead.", "credibility"),
    ],
    [
        ("R", "My personal favorite is [[m:{R}|{Rt}]].", "personal_opinion"),
        ("S", "Why do you like it so much?", ""),
        (
            "R", "It's {adj} and the cast is great, especially [[a:{A}]].",
            "personal_opinion|credibility",
        ),
    ],
    [
        ("R", "You might enjoy [[m:{R}|{Rt}]], it came out in {year}.", "similarity"),
        ("S", "Oh, I don't know that one.", ""),
        ("R", "It holds up really well, trust me.", "personal_opinion"),
    ],
]
INSP_REACT = [
    [
        ("S", "That sounds interesting.", ""),
        ("R", "Trust me, you won't regret it.", "encouragement|personal_opinion"),
    ],
    [("S", "Hmm, is it scary?", ""), ("R", "A little, but nothing too bad.", "transparency")],
    [
        ("S", "I think I've seen the poster for it.", ""),
        ("R", "The trailer is great too, you should check it out.", "encouragement"),
    ],
    [
        ("S", "Who else is in it?", ""),
        ("R", "[[a:{A2}]] has a small part, and [[a:{A}]] is great.", "credibility"),
    ],
    [
        ("S", "I'm not sure, I've seen a lot of movies like that.", ""),
        ("R", "This one is different, it's really {adj}.", "personal_opinion"),
    ],
]
INSP_CLOSE = {
    "accept": [
        [
            ("S", "Okay, I'll watch the trailer.", ""),
            ("R", "Great, enjoy the movie!", "encouragement"), ("S", "Thanks, bye!", ""),
        ],
        [
            ("S", "Sounds good, I'll give it a try.", ""),
            ("R", "Awesome, let me know what you think!", "encouragement"), ("S", "Will do!", ""),
        ],
        [("S", "I accept.", ""), ("R", "Perfect, enjoy the trailer.", "encouragement")],
    ],
    "reject": [
        [
            ("S", "I think I'll pass on this one, sorry.", ""),
            ("R", "No problem, thanks for chatting!", "acknowledgment"), ("S", "Thank you.", ""),
        ],
        [
            ("S", "I don't think it's for me.", ""),
            ("R", "That's okay, maybe another time.", "acknowledgment"),
        ],
    ],
}
FINE_LABELS = [
    ("accept_rating_good", "accept_new", 48), ("accept_rating_mod", "accept_new", 16),
    ("accept_rating_bad", "accept_new", 4), ("accept_uninterested", "accept_new", 8),
    ("accept_others", "accept_others", 8), ("reject", "reject", 16),
]
RELATIONS = [
    "wife", "husband", "kids", "girlfriend", "boyfriend", "roommate", "parents", "friends",
    "sister", "brother",
]
DESC_ADJ = [
    "intense", "funny", "dark", "beautiful", "weird", "clever", "heartwarming", "slow",
    "suspenseful", "emotional", "creepy", "exciting",
]
# fmt: on


class Deck:
    """Blocks drawn without repetition until the deck runs out (then it is reshuffled)."""

    def __init__(self, blocks: list, rnd: random.Random):
        self.blocks, self.rnd, self.left = blocks, rnd, []

    def draw(self):
        if not self.left:
            self.left = list(self.blocks)
            self.rnd.shuffle(self.left)
        return self.left.pop()


def inspired_dialog(
    rnd: random.Random, pool: Pool, n_utts: int, ctx: dict
) -> tuple[list[tuple], str, str]:
    """The utterances (speaker, markup text, label) of one dialog, exactly n_utts long."""
    db_pick, any_pick, by_genre = ctx["db"], ctx["any"], ctx["by_genre"]
    gword, g2, g3 = rnd.sample(list(GENRE_WORDS), 3)
    gname = GENRE_WORDS[gword]

    def film() -> Film:
        if rnd.random() < 0.08:
            return any_pick.pick()
        if rnd.random() < 0.7 and by_genre.get(gname):
            return by_genre[gname].pick()
        return db_pick.pick()

    seeker_film = film()
    recs = [f for f in dict.fromkeys(film() for _ in range(6)) if f is not seeker_film]

    def label(f: Film) -> str:
        return f"{f.title} ()" if rnd.random() < 0.004 else f.label

    def people(f: Film) -> tuple[str, str, str]:
        cast = [pool.people[p] for p in f.cast]
        dirs = [pool.people[p] for p in f.directors] or [pool.people[pool.directors.pick()]]
        return cast[0], cast[min(1, len(cast) - 1)], dirs[0]

    seeker_people = people(seeker_film)
    vals = dict(
        G=gword,
        G2=g2,
        G3=g3,
        M=label(seeker_film),
        Mt=seeker_film.title,
        relation=rnd.choice(RELATIONS),
    )
    rec_now: list[Film | None] = [None]

    def fill(block) -> list[tuple]:
        v = dict(vals, adj=rnd.choice(DESC_ADJ))
        recf = rec_now[0]
        a, a2, d = people(recf) if recf else seeker_people
        v.update(A=a, A2=a2, D=d)
        if recf:
            plot = recf.overview.split(". ")[0].rstrip(".") + "."
            v.update(R=label(recf), Rt=recf.title, plot=plot, year=recf.year)
        return [(s, t.format(**v), lab) for s, t, lab in block]

    fine, coarse, _ = rnd.choices(FINE_LABELS, [w for *_, w in FINE_LABELS])[0]
    opening = fill(rnd.choice(INSP_OPEN))
    closing = fill(rnd.choice(INSP_CLOSE["reject" if fine == "reject" else "accept"]))
    middle = fill(rnd.choice(INSP_GENRE)) + fill(rnd.choice(INSP_SEEKER_FILM))
    talk, recommend, react = (
        Deck(INSP_TALK, rnd),
        Deck(INSP_RECOMMEND, rnd),
        Deck(INSP_REACT, rnd),
    )
    middle += fill(talk.draw())
    budget = n_utts - len(opening) - len(closing)
    while len(middle) < budget:
        if recs and (rec_now[0] is None or rnd.random() < 0.35):
            rec_now[0] = recs.pop(0)
            middle += fill(recommend.draw())
            if rnd.random() < 0.5:
                middle += fill(react.draw())
        else:
            middle += fill(talk.draw() if rnd.random() < 0.7 else react.draw())
    utts = (opening + middle[: max(0, budget)] + closing)[:n_utts]
    return utts, fine, coarse


def inspired_rows(
    dialog_id: str,
    utts: list[tuple],
    fine: str,
    coarse: str,
    yt: str,
    rnd: random.Random,
    malformed: bool,
    nan_at: int | None,
) -> tuple[list[str], bool]:
    dicts = fmt.inspired_dicts(utts)
    movie_dict = repr(dicts["m"])
    if malformed and len(dicts["m"]) >= 2:
        movie_dict = fmt.broken_movie_dict(dicts["m"])
        malformed = movie_dict != repr(dicts["m"])
    rows = fmt.inspired_rows(
        dialog_id,
        [(spk, txt, lab if spk == "R" else "") for spk, txt, lab in utts],  # seekers: no label
        dicts,
        fine=fine,
        coarse=coarse,
        yt=yt,
        sep=lambda i, movies: ";  " if len(movies) > 1 and rnd.random() < 0.2 else "; ",
        movie_dict=movie_dict,
        nan_at=nan_at,
    )
    return rows, malformed


def make_inspired(pool: Pool, out: Path, scale: float, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 4])
    rnd = random.Random(seed * 31 + 4)
    db_films = [pool.films[i] for i in pool.insp_db.tolist()]
    ctx = {
        "db": Picker(db_films, [f.fame for f in db_films], rnd),
        "any": Picker(
            [f for f in pool.films if f.kind == "movie"],
            [f.fame for f in pool.films if f.kind == "movie"],
            rnd,
        ),
        "by_genre": {},
    }
    for gname in TMDB_GENRE_IDS:
        members = [f for f in db_films if gname in f.genres]
        if members:
            ctx["by_genre"][gname] = Picker(members, [f.fame for f in members], rnd)
    stamps = set()
    yts = iter(random_strings(g, 5000, 11, YOUTUBE))
    for split in ("train", "dev", "test"):
        n_d = max(3, round(INSPIRED_DIALOGS[split] * scale))
        n_u = max(n_d * 12, round(INSPIRED_UTTS[split] * scale))
        sizes = split_total(g, n_u, n_d, 12, 0.3, 120)
        want_malformed = split == "dev"  # one dialog of dev, as upstream
        nan_dialog = 0 if split == "test" else -1
        with fmt.Writer(out, report, raw(fmt.INSPIRED_FILE.format(split))) as w:
            w.write(fmt.tsv_header(fmt.INSPIRED_COLS))
            for d, n in enumerate(sizes.tolist()):
                while True:
                    day, sec = rnd.randint(1, 20), rnd.randint(0, 86_399)
                    stamp = (
                        f"201912{day:02d}-{sec // 3600:02d}{sec // 60 % 60:02d}{sec % 60:02d}"
                        f"_{rnd.randint(1, 999)}_live.pkl"
                    )
                    if stamp not in stamps:
                        stamps.add(stamp)
                        break
                utts, fine, coarse = inspired_dialog(rnd, pool, n, ctx)
                rows, broken = inspired_rows(
                    stamp,
                    utts,
                    fine,
                    coarse,
                    next(yts),
                    rnd,
                    want_malformed,
                    n // 2 if d == nan_dialog else None,
                )
                want_malformed = want_malformed and not broken
                w.write("".join(rows))
                w.records += len(rows)

    with fmt.Writer(out, report, raw(fmt.INSPIRED_DB)) as w:
        w.write(fmt.tsv_header(fmt.INSPIRED_DB_COLS))
        order = list(db_films)
        rnd.shuffle(order)
        for f in order:
            plot = f.overview
            short = plot.split(". ")[0].rstrip(".") + "."
            long_plot = "" if rnd.random() < 0.05 else plot
            if rnd.random() < 0.02:
                short = long_plot = ""
            row = [
                f.title,
                "" if rnd.random() < 0.005 else str(f.year),
                f"tt{f.imdb:07d}",
                ", ".join(TO_IMDB.get(gn, gn) for gn in f.genres),
                ", ".join(pool.people[p] for p in f.cast[:3]),
                ", ".join(pool.people[p] for p in f.directors),
                short,
                long_plot,
                f"{min(9.6, max(1.5, f.quality * 2 + rnd.gauss(0.4, 0.4))):.1f}",
                f"{f.runtime} min",
            ]
            w.write(fmt.inspired_db_line(row))
        w.records = len(order)


# --------------------------------------------------------------------------------------------
# ReDial
# --------------------------------------------------------------------------------------------
# fmt: off
GREET_I = [
    "Hi!", "Hello", "hi there", "Hey, how are you?", "Hello! I'm looking for a movie to watch.",
    "Hi, I need a good movie for tonight", "hello, can you help me find a movie?",
]
GREET_R = [
    "Hi! What kind of movies do you like?", "Hello! What are you in the mood for?",
    "Hey there, what genre do you like?", "Hi, how can I help you today?",
    "Hello! Tell me a movie you liked recently.",
]
CHAT_I = [
    "I like {genre} a lot", "Something {adj} would be nice", "I'm watching with my {rel}",
    "Anything {genre} is good for me", "What else do you have?", "That sounds good",
    "Hmm, maybe something more recent?", "I'm open to anything really", "Is it scary?",
    "Who is in it?", "I don't mind older movies", "ok cool",
]
CHAT_R = [
    "Do you like {genre} movies?", "What's the last movie you saw?", "It's really {adj}",
    "Great choice!", "I think you will like it", "It has a great cast",
    "Do you prefer something newer?", "Let me think...", "It's a classic",
    "What about something {adj}?",
]
REPLY_I = [
    "I haven't seen it, what's it about?", "Oh I've seen that one, it's good", "That sounds good!",
    "Is it scary?", "Who's in it?", "Hmm, not sure about that one", "I'll add it to my list",
    "I've heard good things about it", "Is it new?", "lol my {rel} loves that one",
]
REPLY_R = [
    "Oh nice, good choice", "I haven't seen that one", "That's a great movie",
    "Then you have good taste!", "Okay, so you like {genre}", "Got it",
]
BYE_I = [
    "Thanks, bye!", "Thank you so much!", "Great, I'll check them out. Bye", "thanks for the help",
    "Have a good night!",
]
BYE_R = [
    "You're welcome, enjoy!", "Have a great night!", "Enjoy the movies!", "Bye!", "Happy watching!",
]
SEEK_LIKED = [
    "I really liked {m}", "{m} is one of my favorites", "I loved {m}!",
    "I've seen {m}, it was great", "Yes! {m} was amazing", "I enjoyed {m} a lot.",
    "My favorite is probably {m}",
]
SEEK_DISLIKED = [
    "I didn't like {m} much", "{m} was kind of boring to me", "I saw {m} but it wasn't for me",
    "Not a fan of {m}.",
]
SEEK_UNSEEN = [
    "I haven't seen {m} yet", "I've heard of {m} but never watched it. Is it good?",
    "No, I haven't seen {m}", "{m}? I'll add it to my list",
]
SEEK_SAID = ["Something like {m}", "I want to watch something like {m}", "Have you seen {m}?"]
REC_SUGGEST = [
    "Have you seen {m}?", "You should try {m}", "How about {m}?", "I'd recommend {m}, it's {adj}",
    "{m} is a good one", "Maybe {m}?", "What about {m}", "You might like {m} (it's {adj})",
    "Then you should watch {m}.", "Have you seen {m}? It's {adj}",
]
REC_OTHER = ["I also liked {m}", "{m} is great too", "Oh yes, {m} is a classic"]
# fmt: on


def redial_conversation(
    rnd: random.Random,
    conv_id: str,
    n_msgs: int,
    picker: Picker,
    unmentioned: list[Film],
    names: dict[int, str],
    film_ids: dict[int, list[int]],
    all_ids: list[int],
    msg_id: int,
    workers: tuple[int, int],
) -> tuple[dict, int]:
    initiator, respondent = workers
    n_films = min(
        max(1, n_msgs // 3), rnd.choices((1, 2, 3, 4, 5, 6, 7, 8), (3, 9, 16, 20, 19, 14, 10, 9))[0]
    )
    # the next film nobody has brought up yet comes first, then films by popularity
    films = list(dict.fromkeys(unmentioned[-1:] + picker.distinct(n_films)))[:n_films]
    if unmentioned:
        unmentioned.pop()
    # per film: who brings it up, and the seeker's answers
    plans = []
    for f in films:
        rid_list = film_ids[f.i]
        rid = rid_list[0] if len(rid_list) == 1 or rnd.random() < 0.7 else rid_list[-1]
        by_rec = rnd.random() < 0.65
        seen = rnd.choices((0, 1, 2), (45, 45, 10))[0]
        liked = (
            rnd.choices((0, 1, 2), (15, 70, 15))[0]
            if seen == 1
            else rnd.choices((0, 1, 2), (10, 50, 40))[0]
        )
        plans.append(dict(rid=rid, by_rec=by_rec, seen=seen, liked=liked))
    # speakers: mostly alternating, the initiator usually first
    speakers, cur = [], "I" if rnd.random() < 0.75 else "R"
    for _ in range(n_msgs):
        speakers.append(cur)
        if rnd.random() < 0.82:
            cur = "R" if cur == "I" else "I"
    body = list(range(1, max(2, n_msgs - 1)))
    slots: dict[int, list[dict]] = {}
    for p in plans:
        want = "R" if p["by_rec"] else "I"
        cands = [k for k in body if speakers[k] == want] or body
        slots.setdefault(rnd.choice(cands), []).append(p)
    genre = rnd.choice(list(GENRE_WORDS))
    chat = {"I": Deck(CHAT_I, rnd), "R": Deck(CHAT_R, rnd)}
    messages, mentions, t, prev_film = [], {}, 0, None
    for k, spk in enumerate(speakers):
        fill = dict(genre=genre, adj=rnd.choice(DESC_ADJ), rel=rnd.choice(RELATIONS))
        here = slots.get(k)
        if here:
            parts = []
            for p in here:
                m = f"@{p['rid']}"
                mentions.setdefault(str(p["rid"]), names[p["rid"]])
                if spk == "R":
                    parts.append(
                        rnd.choice(REC_SUGGEST if p["by_rec"] else REC_OTHER).format(m=m, **fill)
                    )
                elif not p["by_rec"]:
                    pool_t = (
                        SEEK_LIKED
                        if p["liked"] == 1
                        else SEEK_SAID
                        if p["seen"] == 2
                        else (SEEK_DISLIKED if p["seen"] == 1 else SEEK_UNSEEN)
                    )
                    parts.append(rnd.choice(pool_t).format(m=m))
                else:
                    parts.append(
                        rnd.choice(SEEK_UNSEEN if p["seen"] == 0 else SEEK_LIKED).format(m=m)
                    )
            text = parts[0]
            for part in parts[1:]:
                glue = rnd.choice((". ", ". Also, ", " or ", " and ", "! "))
                text += glue + (
                    part[0].lower() + part[1:] if glue in (". Also, ", " or ", " and ") else part
                )
        elif k == 0:
            text = rnd.choice(GREET_I if spk == "I" else GREET_R)
        elif k >= n_msgs - 2:
            text = rnd.choice(BYE_I if spk == "I" else BYE_R)
        elif prev_film and prev_film != spk and rnd.random() < 0.6:
            text = rnd.choice(REPLY_I if spk == "I" else REPLY_R).format(**fill)
        else:
            text = chat[spk].draw().format(**fill)
        prev_film = spk if here else None
        if rnd.random() < 0.002:  # an @id this conversation's movieMentions do not list
            text += f" and @{rnd.choice(all_ids)}"
        msg_id += 1
        messages.append(
            fmt.redial_message(t, text, initiator if spk == "I" else respondent, msg_id)
        )
        t += rnd.randint(3, 90)
    answers = {}
    for p in plans:
        rid = str(p["rid"])
        if rid in mentions:
            answers[rid] = fmt.redial_answer(int(p["by_rec"]), p["seen"], p["liked"])
    resp_q = {}
    for rid, a in answers.items():
        b = dict(a)
        if rnd.random() < 0.1:
            b["liked"] = rnd.choice((0, 1, 2))
        resp_q[rid] = b
    init_q: dict | list = answers
    if rnd.random() < 0.03:
        init_q = []
    if rnd.random() < 0.03:
        resp_q = []
    conv = fmt.redial_conversation(
        mentions, resp_q, messages, conv_id, respondent, initiator, init_q
    )
    return conv, msg_id


def redial_name(f: Film, rnd: random.Random) -> str:
    title = f.title.replace("?", "%3F")
    x = rnd.random()
    if x < 0.04:
        return title + (" " if rnd.random() < 0.5 else "")
    if x < 0.38:
        return f"{title}  ({f.year})"
    return f"{title} ({f.year})"


def make_redial(pool: Pool, out: Path, scale: float, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 5])
    rnd = random.Random(seed * 31 + 5)
    films = [pool.films[i] for i in pool.redial_films.tolist()]
    n_ids = len(films) + max(1, len(films) // 100)
    ids = rnd.sample(range(75_000, 210_000), n_ids)
    names: dict[int, str] = {}
    film_ids: dict[int, list[int]] = {}
    for f, rid in zip(films, ids, strict=False):
        names[rid] = redial_name(f, rnd)
        film_ids[f.i] = [rid]
    for rid in ids[len(films) :]:  # a second id for a few films, under a looser name
        f = rnd.choice(films)
        names[rid] = f.title.replace("?", "%3F") + " "
        film_ids[f.i].append(rid)
    picker = Picker(films, [f.fame**0.8 for f in films], rnd)
    unmentioned = list(films)  # each film is brought up at least once
    rnd.shuffle(unmentioned)
    all_ids = sorted(names)
    conv_ids = sorted(
        rnd.sample(range(1, 40_000), sum(max(2, round(n * scale)) for n in REDIAL_CONVS.values()))
    )
    workers = list(range(0, 960))
    mentions_count: dict[int, int] = {}
    msg_id, c = 100_000, 0
    for split in ("train", "test"):
        n_c = max(2, round(REDIAL_CONVS[split] * scale))
        sizes = split_total(g, max(n_c * 10, round(REDIAL_MSGS[split] * scale)), n_c, 10, 0.35, 90)
        with fmt.Writer(out, report, raw(fmt.REDIAL_FILE.format(split))) as w:
            for n in sizes.tolist():
                pair = tuple(rnd.sample(workers, 2))
                conv, msg_id = redial_conversation(
                    rnd,
                    str(conv_ids[c]),
                    n,
                    picker,
                    unmentioned,
                    names,
                    film_ids,
                    all_ids,
                    msg_id,
                    pair,
                )
                c += 1
                for rid in conv["movieMentions"]:
                    mentions_count[int(rid)] = mentions_count.get(int(rid), 0) + 1
                w.write(fmt.redial_line(conv))
                w.records += 1
    with fmt.Writer(out, report, raw(fmt.REDIAL_MENTIONS)) as w:
        w.write(
            fmt.redial_mentions_csv(
                (rid, names[rid], mentions_count[rid]) for rid in sorted(mentions_count)
            )
        )
        w.records = len(mentions_count)


# --------------------------------------------------------------------------------------------
# CCPE-M
# --------------------------------------------------------------------------------------------
class Span:
    """An annotated span of an utterance; `codes` like 'NM+PM' (name + preference of a movie)."""

    __slots__ = ("codes", "parts")

    def __init__(self, codes: str, *parts):
        self.codes, self.parts = codes, parts


def render(parts) -> tuple[str, list[dict]]:
    out: list[str] = []
    segs: list[tuple[int, int, str]] = []
    pos = 0

    def walk(items) -> None:
        nonlocal pos
        for p in items:
            if isinstance(p, str):
                out.append(p)
                pos += len(p)
            else:
                start = pos
                walk(p.parts)
                segs.append((start, pos, p.codes))

    walk(parts)
    text = "".join(out)
    segs.sort(key=lambda s: (s[2][0] != "N", s[0]))  # names first, as upstream
    return text, [fmt.ccpe_segment(text, start, end, codes) for start, end, codes in segs]


def ccpe_user(rnd: random.Random, kind: str, m: str, gw: str, p: str) -> list:
    adj = rnd.choice(DESC_ADJ)
    g = genre_phrase(gw, rnd)
    choices = {
        "genre": [
            [Span("PG", "I like ", Span("NG", g), " a lot"), "."],
            ["Mostly ", Span("NG", g), ", ", Span("PG", "I watch a lot of those"), "."],
            [
                Span("PG", "I'm not a big fan of ", Span("NG", g)),
                ", ",
                Span("PG", "they just bore me"),
                ".",
            ],
            [Span("PG", "I really enjoy ", Span("NG", g)), " when they are ", adj, "."],
        ],
        "liked": [
            [Span("PM", Span("NM", m), " is one of my favorite movies"), "."],
            [Span("PM", "I really liked ", Span("NM", m)), "."],
            [Span("NM+PM", m)],
            [
                Span("PM", "I love ", Span("NM", m)),
                ", ",
                Span("PM", f"the story was so {adj}"),
                ".",
            ],
            [
                Span("NM", m),
                ", ",
                Span("DM", "the one where everything goes wrong at the end"),
                ".",
            ],
        ],
        "why": [
            [Span("PM", "The acting was great"), ", especially ", Span("NP", p), "."],
            ["I guess ", Span("PM", f"it was just really {adj}"), "."],
            [
                Span("PM", "The special effects were amazing"),
                " and ",
                Span("PM", "the music was perfect"),
                ".",
            ],
            [Span("PM", "It felt so real"), ", like you were there."],
            ["Probably the main character, ", Span("PM", "he was so funny"), "."],
        ],
        "why_not": [
            [Span("PM", "The plot made no sense"), "."],
            ["I don't know, ", Span("PM", "it just dragged on forever"), "."],
            [Span("PM", "The acting was really bad"), ", even ", Span("NP", p), "."],
            [
                Span("PM", f"It was too {rnd.choice(('predictable', 'loud', 'long', 'silly'))}"),
                " for me.",
            ],
        ],
        "disliked": [
            [Span("PM", "I hate ", Span("NM", m)), ", ", Span("PM", "it was way too long"), "."],
            [Span("PM", "I didn't like ", Span("NM", m)), " at all."],
            [Span("PM", Span("NM", m), " was so boring"), ", I fell asleep."],
            ["Honestly ", Span("PM", Span("NM", m), " was a letdown"), "."],
        ],
        "person": [
            [Span("PP", Span("NP", p), " is my favorite actor"), "."],
            [Span("PP", "I love anything with ", Span("NP", p)), "."],
            [Span("NP", p), " ", Span("PP", "was amazing in ", Span("NM", m)), "."],
        ],
        "seen": [
            [Span("OM", "I haven't seen that"), "."],
            [
                Span("OM", "Never seen it"),
                ". ",
                Span("OM", "I know what it is, but I haven't seen it"),
                ".",
            ],
            [Span("PM", "Yes, and I loved it"), "."],
            ["Not that I can think of."],
        ],
        "other": [
            [Span("PS", "I prefer ", Span("OS", "watching at home on my couch")), "."],
            ["Usually ", Span("OS", "on weekends"), " with my ", rnd.choice(RELATIONS), "."],
            ["Yeah, I think so."],
            ["Hmm, let me think."],
        ],
    }
    return rnd.choice(choices[kind])


def ccpe_assistant(rnd: random.Random, kind: str, m: str, g: str, p: str) -> list:
    choices = {
        "genre": [
            ["generally speaking what type of movies do you watch"],
            ["what kind of movies do you like?"],
            ["what genres do you enjoy"],
        ],
        "liked": [
            ["can you name a movie you really liked?"],
            ["what is a ", Span("NG", g), " movie you enjoyed?"],
            ["what's your favorite ", Span("NG", genre_phrase(g, rnd)), "?"],
            ["ok, any favorite movie?"],
        ],
        "why": [
            ["what do you like about ", Span("NM", m), "?"],
            ["why did you like it?"],
            [Span("NM", m), "? oh wow ok, what do you like about that movie"],
        ],
        "disliked": [
            ["is there a movie you did not like?"],
            ["ok, any movie you really disliked?"],
        ],
        "why_not": [
            ["why didn't you like it?"],
            ["what didn't you like about ", Span("NM", m), "?"],
        ],
        "person": [
            ["do you have a favorite actor?"],
            ["what is your favorite ", Span("NP", p), " movie?"],
            ["do you care who acts in the movie?"],
        ],
        "seen": [
            ["have you seen ", Span("NM", m), "?"],
            ["what about ", Span("NM", m.lower()), "?"],
            ["how about different type of movies like ", Span("NM", m)],
        ],
        "other": [
            ["where do you usually watch movies?"],
            ["ok great, anything else?"],
            ["thanks for sharing"],
        ],
    }
    return rnd.choice(choices[kind])


def make_ccpe(pool: Pool, out: Path, scale: float, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 6])
    rnd = random.Random(seed * 31 + 6)
    n_c = max(3, round(CCPE_CONVS * scale))
    sizes = split_total(g, max(n_c * 10, round(CCPE_UTTS * scale)), n_c, 10, 0.3, 60)
    known = [f for f in pool.films if f.year <= 2018]  # CCPE-M: 2019
    films = Picker(known, [f.fame for f in known], rnd)
    topics = ["genre", "liked", "why", "disliked", "why_not", "person", "seen", "other"]
    follow = {"liked": "why", "disliked": "why_not", "why": "why", "why_not": "why_not"}
    ids: set[str] = set()
    convs = []
    for n in sizes.tolist():
        cid = fmt.ccpe_id(rnd, ids)
        utts, k, f = [], 0, films.pick()
        gw = rnd.choice(list(GENRE_WORDS))
        while len(utts) < n:
            kind = topics[k] if k < len(topics) else rnd.choice(topics[1:])
            k += 1
            if kind in ("liked", "disliked", "seen"):
                f = films.pick()
            elif kind == "genre":
                gw = rnd.choice(list(GENRE_WORDS))
            m = f.title if rnd.random() > 0.03 else f.title.lower()
            person = pool.people[rnd.choice(f.cast)]
            turns = [
                ("ASSISTANT", ccpe_assistant(rnd, kind, m, gw, person)),
                ("USER", ccpe_user(rnd, kind, m, gw, person)),
            ]
            if kind in follow and rnd.random() < 0.15:
                turns.append(("USER", ccpe_user(rnd, follow[kind], m, gw, person)))
            for speaker, parts in turns:
                if len(utts) == n:
                    break
                text, segs = render(parts)
                utts.append(fmt.ccpe_utterance(len(utts), speaker, text, segs))
        convs.append((cid, utts))
    fmt.write_file(out, report, raw(fmt.CCPE_DATA), fmt.ccpe_json(convs), len(convs))


# --------------------------------------------------------------------------------------------
# GoEmotions
# --------------------------------------------------------------------------------------------
# fmt: off
EMOTION_TEXT = {
    "admiration": [
        "{film} is a masterpiece, end of story.", "The cinematography in {film} is incredible.",
        "[NAME] absolutely nailed that role.", "That was a brilliant analysis, well done.",
    ],
    "amusement": [
        "lmao the dog in the background the whole time",
        "This made me laugh way harder than it should have \U0001f602",
        "{film}, but make it a musical. I'd watch that.", "Ha, that's hilarious",
    ],
    "anger": [
        "I'm so angry they cut that scene!", "Furious that the streaming version is cropped.",
        "This makes my blood boil.",
    ],
    "annoyance": [
        "Ugh, people kept talking during the whole movie.",
        "Why does every trailer spoil the ending?", "Seriously, stop remaking {film}.",
    ],
    "approval": [
        "Yes, this is exactly how I felt about it.", "Agreed, {film} holds up.",
        "That's a fair point.",
    ],
    "caring": [
        "Take care of yourself, that movie hits hard.", "Hang in there, it gets better.",
        "Hope you feel better soon, [NAME].",
    ],
    "confusion": [
        "I don't get the ending of {film} at all.", "Wait, who was the guy in the car?",
        "Not sure what to make of that, honestly.",
    ],
    "curiosity": [
        "Can someone explain the ending of {film}?", "Is there a director's cut?",
        "What's the song at the end of {film}?",
    ],
    "desire": [
        "I want that jacket from {film} so bad.", "I wish they'd make a sequel.",
        "I'd love to see [NAME] in a comedy.",
    ],
    "disappointment": [
        "What a waste of two hours, honestly.", "The sequel was a huge letdown.",
        "I expected so much more from {film}.",
    ],
    "disapproval": [
        "This is the most overrated movie of the decade.", "Hard disagree, {film} is not good.",
        "That casting was a terrible idea.",
    ],
    "disgust": [
        "Gross. Just gross.", "That scene in {film} made me sick.",
        "Disgusting how they treated the crew.",
    ],
    "embarrassment": [
        "I'm embarrassed to admit I've never seen {film}.",
        "I cried in front of my date, so awkward.",
    ],
    "excitement": [
        "I'm so excited for the re-release!", "I got chills when the music kicked in!",
        "Can't wait to watch {film} tonight!",
    ],
    "fear": [
        "I watched {film} alone at night and I was terrified.",
        "I'm scared of clowns because of that movie.",
    ],
    "gratitude": [
        "Thanks for the recommendation, [NAME]!", "Thank you so much for the list, saving it!",
        "Thanks, I watched {film} because of you.",
    ],
    "grief": [
        "My dad passed last year and {film} was our movie.", "I lost my dog the week I saw it.",
    ],
    "joy": [
        "{film} makes me happy every single time.", "Best movie night ever!",
        "This put a huge smile on my face.",
    ],
    "love": [
        "I love {film} so much.", "{film} is my comfort movie.",
        "I love how [NAME] plays the villain.",
    ],
    "nervousness": [
        "I'm nervous to watch {film}, should I?", "Ok I'm watching it tonight, wish me luck",
    ],
    "optimism": [
        "I hope the director's cut is better.", "Hoping they bring back the original cast.",
        "The next one will be better, I'm sure.",
    ],
    "pride": [
        "Proud of my little brother for sitting through the whole thing.",
        "I finally finished the trilogy!",
    ],
    "realization": [
        "Oh, so that's why it's called {film}.", "I just realized [NAME] is in this.",
        "Never noticed that before.",
    ],
    "relief": ["Phew, the dog survives.", "Glad I'm not the only one who thought so."],
    "remorse": ["I regret not seeing it on the big screen.", "Sorry, I spoiled it for my sister."],
    "sadness": [
        "I cried at the end of {film}.", "So sad they never made a sequel.",
        "Man I miss video stores.",
    ],
    "surprise": [
        "Wow, I did not expect that cameo.", "Wait, there's a sequel to {film}?",
        "I didn't know [NAME] directed that!",
    ],
    "neutral": [
        "It's on Netflix now.", "The movie comes out on Friday.", "It's called {film}.",
        "I saw it last year.", "{film} is about two hours long.",
    ],
}
OPENERS = ["", "", "", "", "Honestly, ", "Man, ", "lol ", " >", "Yeah, ", "Ok but ", "Tbh "]
CLOSERS = ["", "", "", "", " lol", " for real", " tbh", " \U0001f602", " :)", " "]
UNCLEAR_TEXT = [
    "ok but the thing with the guy", "that one scene tho", "this", "what", "same but different",
    "yes and no", "[NAME] [NAME] [NAME]",
]
# fmt: on


def make_goemotions(pool: Pool, out: Path, scale: float, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 7])
    rnd = random.Random(seed * 31 + 7)
    n_rows = max(100, round(GO_ROWS * scale))
    splits = {s: max(5, round(n * scale)) for s, n in GO_SPLITS.items()}
    n_eligible = sum(splits.values())
    n_comments = max(n_eligible + 3, round(GO_COMMENTS * scale))
    raters = 3 + split_total(g, n_rows - 3 * n_comments, n_comments, 0, 0.4, 2)
    known = [f for f in pool.films if f.year <= 2018]
    films = Picker(known, [f.fame for f in known], rnd)
    emo = Picker(range(28), EMOTION_FREQ, rnd)
    cids = [
        f"e{'cde'[v // 36**5]}{np.base_repr(v % 36**5, 36).lower():0>5}"
        for v in g.choice(3 * 36**5, n_comments, replace=False).tolist()
    ]
    eligible = np.zeros(n_comments, dtype=bool)
    eligible[g.choice(n_comments, n_eligible, replace=False)] = True
    authors = [f"{rnd.choice(FIRST)}{rnd.choice(NOUN)}{rnd.randint(1, 999)}" for _ in range(4000)]
    lines: list[str] = []
    gold_of: list[tuple[str, str, list[int]]] = []
    for c in range(n_comments):
        r = int(raters[c])
        if eligible[c]:
            k = rnd.choices((1, 2, 3), (83, 15, 2))[0]
            gold = sorted({emo.pick() for _ in range(k)})
            phrases = [rnd.choice(EMOTION_TEXT[fmt.EMOTIONS[e]]) for e in gold]
            text = " ".join(phrases).format(film=films.pick().title)
            opener = rnd.choice(OPENERS)
            if opener.endswith(" ") and not phrases[0].startswith(("{", "[", "I ", "I'")):
                text = text[0].lower() + text[1:]
            text = opener + text + rnd.choice(CLOSERS)
            if text.endswith(".") and rnd.random() < 0.15:
                text = text[:-1] + "!"
            text = text.replace("'", "\u2019") if rnd.random() < 0.05 else text
            if rnd.random() < 0.02:
                text = f'"{text}" is what I said'
            unclear = [False] * r
            if r >= 4 and rnd.random() < 0.08:
                unclear[-1] = True
            clear = [i for i in range(r) if not unclear[i]]
            votes: list[set[int]] = [set() for _ in range(r)]
            for e in gold:
                for i in rnd.sample(clear, rnd.randint(2, len(clear))):
                    votes[i].add(e)
            noise = [e for e in range(28) if e not in gold]
            rnd.shuffle(noise)
            for i in clear:
                if not votes[i] or rnd.random() < 0.2:
                    votes[i].add(noise.pop())  # each noise label chosen by one rater only
            gold_of.append((text, cids[c], gold))
        else:
            text = rnd.choice(UNCLEAR_TEXT + [f"{films.pick().title} vs the book"])
            all_unclear = rnd.random() < 0.4
            unclear = [all_unclear] * r
            labels = rnd.sample(range(28), r)  # raters agree on nothing
            votes = [set() if all_unclear else {labels[i]} for i in range(r)]
        qtext = fmt.go_quote(text)
        author, subreddit = rnd.choice(authors), rnd.choice(SUBREDDITS)
        link = "t3_a" + "".join(rnd.choices(fmt.B36, k=5))
        parent = link if rnd.random() < 0.4 else "t1_e" + "".join(rnd.choices(fmt.B36, k=6))
        utc = rnd.randint(1_546_300_800, 1_548_979_199)
        rater_ids = rnd.sample(range(82), r)
        for i in range(r):
            lines.append(
                fmt.go_raw_line(
                    qtext,
                    cids[c],
                    author,
                    subreddit,
                    link,
                    parent,
                    utc,
                    rater_ids[i],
                    unclear[i],
                    votes[i],
                )  # fmt: skip
            )
    perm = g.permutation(len(lines))
    bounds = [0, *[min(len(lines), round(n * scale)) for n in GO_FILE_ROWS]]
    bounds = [0, bounds[1], bounds[1] + bounds[2], len(lines)]
    for k in range(3):
        with fmt.Writer(out, report, raw(fmt.GO_RAW.format(k + 1))) as w:
            w.write(fmt.GO_HEADER_LINE)
            chunk = perm[bounds[k] : bounds[k + 1]].tolist()
            for a in range(0, len(chunk), 50_000):
                w.write("".join([lines[j] for j in chunk[a : a + 50_000]]))
            w.records = len(chunk)
    del lines
    order = g.permutation(len(gold_of)).tolist()
    start = 0
    for split, n in splits.items():
        picked = [gold_of[j] for j in order[start : start + n]]
        fmt.write_file(
            out,
            report,
            raw(fmt.GO_SPLIT.format(split)),
            fmt.go_split_tsv((text, gold, cid) for text, cid, gold in picked),
            n,
        )
        start += n
    for rel, text, n in fmt.GO_STATIC:
        fmt.write_file(out, report, raw(rel), text, n)


# --------------------------------------------------------------------------------------------
# The fake TMDB server's catalogue
# --------------------------------------------------------------------------------------------
def make_tmdb_catalog(pool: Pool, out: Path, seed: int, report: list) -> None:
    g = np.random.default_rng([seed, 8])
    rnd = random.Random(seed * 31 + 8)
    movies = [f for f in pool.films if f.tmdb is not None and f.kind == "movie"]
    tv = [f for f in pool.films if f.tmdb is not None and f.kind == "tv"]
    # two image paths per film and per decoy (at most one decoy per film), one per series
    paths = random_strings(g, 4 * len(movies) + len(tv), 27, B62)
    pid = iter(paths)
    used_ids = {f.tmdb for f in pool.films if f.tmdb is not None}
    taken = {(f.title.lower(), f.year) for f in pool.films}
    imdb_taken = {f.imdb for f in pool.films}

    def entry(
        f: Film,
        decoy: bool = False,
        year: int | None = None,
        tmdb: int | None = None,
        imdb: str | None = None,
    ) -> dict:
        year = year if year is not None else f.tmdb_year
        date = (
            ""
            if rnd.random() < 0.005
            else f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        )
        runtime = None if rnd.random() < 0.005 else (0 if rnd.random() < 0.005 else f.runtime)
        return {
            "id": tmdb or f.tmdb,
            "imdb_id": imdb if decoy else f.tmdb_imdb,
            "title": f.title,
            "original_title": f.orig,
            "original_language": f.lang,
            "release_date": date,
            "overview": f.overview,
            "genres": tmdb_genres(f.genres),
            "runtime": runtime,
            "popularity": round(0.6 + f.fame * (0.3 if decoy else 4.0), 3),
            "vote_average": round(min(10.0, max(0.0, f.quality * 2 + rnd.gauss(0.2, 0.4))), 1),
            "vote_count": int(f.fame * (20 if decoy else 900)),
            "poster_path": f"/{next(pid)}.jpg",
            "backdrop_path": f"/{next(pid)}.jpg",
            "tagline": f.tagline,
            "directors": [{"id": pool.person_ids[p], "name": pool.people[p]} for p in f.directors],
            "cast": [
                {
                    "id": pool.person_ids[p],
                    "name": pool.people[p],
                    "character": f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                }
                for p in f.cast
            ],
            "keywords": []
            if rnd.random() < 0.02
            else [{"id": pool.kw_ids[k], "name": k} for k in f.keywords],
            "spoken_language": f.lang,
            "decoy": decoy,
        }

    n = 0
    with fmt.Writer(out, report, "tmdb_catalog.json") as w:
        # names the compatibility entry point (same output as make_data.py --scale full), so
        # that a catalogue stays byte-identical to the ones written before make_data.py
        notes = (
            "Synthetic catalogue for tests.fakes.tmdb_server, written by "
            "scripts/make_data.py: every film, person, keyword, overview and id is "
            "invented. Decoys (decoy=true) are namesakes of pool films with other years."
        )
        w.write('{"notes": ' + json.dumps(notes) + ',\n"movies": [\n')
        first = True
        for f in movies:
            w.write(("" if first else ",\n") + json.dumps(entry(f), ensure_ascii=False))
            first = False
            n += 1
            if rnd.random() < 0.03:  # a namesake from another year
                year = f.year + rnd.choice((-1, 1)) * rnd.randint(3, 40)
                if (f.title.lower(), year) in taken or not 1900 <= year <= 2024:
                    continue
                taken.add((f.title.lower(), year))
                tid = rnd.randint(1_200_001, 2_000_000)
                while tid in used_ids:
                    tid += 1
                used_ids.add(tid)
                imdb = None
                if rnd.random() < 0.8:
                    num = rnd.randint(1, 15_000_000)
                    while num in imdb_taken:
                        num += 1
                    imdb_taken.add(num)
                    imdb = f"tt{num:07d}"
                w.write(",\n" + json.dumps(entry(f, True, year, tid, imdb), ensure_ascii=False))
                n += 1
        w.write('\n],\n"tv": [\n')
        for k, f in enumerate(tv):
            t = {
                "id": 3_000_000 + f.tmdb,
                "imdb_id": f"tt{f.imdb:07d}",
                "name": f.title,
                "original_name": f.orig,
                "first_air_date": f"{f.year}-{rnd.randint(1, 12):02d}-01",
                "overview": f.overview,
                "genre_ids": sorted({TV_GENRE_IDS[x] for x in f.genres}),
                "popularity": round(1.0 + f.fame * 5, 3),
                "vote_average": round(min(10.0, f.quality * 2 + 0.5), 1),
                "vote_count": int(f.fame * 500),
                "poster_path": f"/{next(pid)}.jpg",
                "origin_country": ["US"],
                "original_language": f.lang,
            }
            w.write(("" if k == 0 else ",\n") + json.dumps(t, ensure_ascii=False))
        w.write("\n]}\n")
        w.records = n + len(tv)


# --------------------------------------------------------------------------------------------
MIN_SCALE, MAX_SCALE = 0.001, 4.0


def generate(out: Path, scale: float = 1.0, seed: int = 1) -> int:
    """Write every file under `out` at `scale` (1.0 = the real upstream sizes)."""
    out.mkdir(parents=True, exist_ok=True)
    report: list[tuple[str, int, int]] = []
    t0 = time.perf_counter()
    timings = []

    def step(name, fn, *a):
        t = time.perf_counter()
        fn(*a)
        timings.append((name, time.perf_counter() - t))

    t = time.perf_counter()
    pool = Pool(scale, seed)
    pool.assign_sources()
    timings.append(("film pool", time.perf_counter() - t))
    step("movielens", make_movielens, pool, out, scale, seed, report)
    step("movietweetings", make_movietweetings, pool, out, scale, seed, report)
    step("inspired", make_inspired, pool, out, scale, seed, report)
    step("redial", make_redial, pool, out, scale, seed, report)
    step("ccpe", make_ccpe, pool, out, scale, seed, report)
    step("goemotions", make_goemotions, pool, out, scale, seed, report)
    step("tmdb catalog", make_tmdb_catalog, pool, out, seed, report)
    elapsed = time.perf_counter() - t0

    report.sort()
    # "generator": see the notes of the TMDB catalogue (kept byte-identical across versions)
    manifest = {
        "generator": "scripts/make_data.py", "seed": seed, "scale": scale,
        "synthetic": True, "films_in_pool": len(pool.films),
        "films_in_tmdb_catalog": sum(1 for f in pool.films if f.tmdb is not None),
        "files": {rel: {"records": n, "bytes": size} for rel, n, size in report},
    }  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    print(f"{'file':48} {'records':>10} {'MB':>8}")
    for rel, n, size in report:
        print(f"{rel:48} {n:>10,} {size / 1e6:>8.2f}")
    total = sum(size for _, _, size in report)
    print(f"{'total':48} {'':>10} {total / 1e6:>8.2f}")
    print(
        f"\nfilm pool: {len(pool.films):,} films, "
        f"{manifest['films_in_tmdb_catalog']:,} of them in the TMDB catalogue"
    )
    print(
        "time: " + ", ".join(f"{name} {t:.1f}s" for name, t in timings) + f"; total {elapsed:.1f}s"
    )
    return 0
