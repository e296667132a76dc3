"""Staging: one typed, validated table per upstream table (parsers live in reelreason.parse)."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from assets.incremental import Step
from assets.write_path import lake_step
from pipelines.resources import RawFilesResource
from reelreason.download import RawDataError
from reelreason.parse import ccpe, goemotions, inspired, movielens, movietweetings, redial
from reelreason.parse.common import Parsed
from schemas import empty_table

STAGING = "staging"


def spec(name: str, dataset: str, engine: str, description: str) -> dg.AssetSpec:
    """A staging table produced by a multi-table parse of one dataset."""
    return dg.AssetSpec(
        name,
        group_name=STAGING,
        kinds={engine, "pandera"},
        deps=[f"raw_{dataset}"],
        tags={"dataset": dataset},
        description=description,
    )


def require(raw_files: RawFilesResource, rel_path: str) -> Path:
    path = raw_files.locate(rel_path)
    if path is None:
        raise RawDataError(
            f"Raw file {rel_path} is not available: materialize its raw_* asset first "
            "(or put the file under REELREASON_RAW_DIR)."
        )
    return path


def single_table_asset(
    name: str,
    *,
    source: str,
    rel_path: str,
    description: str,
    parse: Callable[[duckdb.DuckDBPyConnection, Path, str], Parsed],
    optional: bool = False,
) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        group_name=STAGING,
        kinds={"duckdb", "pandera"},
        description=description,
        deps=[f"raw_{source}"],
        tags={"dataset": source},
    )
    @lake_step(source=source, raw_paths=[rel_path])
    def _asset(step: Step, raw_files: RawFilesResource) -> Parsed:
        path = raw_files.locate(rel_path) if optional else require(raw_files, rel_path)
        if path is None:
            step.context.log.warning(f"{rel_path} not supplied (optional): {name} is empty")
            return Parsed({name: empty_table(name)}, notes={"file": "absent"})
        step.context.log.info(f"parsing {path}")
        with duckdb.connect() as con:
            return parse(con, path, rel_path)

    return _asset


ml1m_movies = single_table_asset(
    "ml1m_movies",
    source="movielens",
    rel_path="movielens/ml-1m/movies.dat",
    parse=movielens.parse_movies,
    description="MovieLens 1M films: raw title, display title with the article restored "
    "(`American President, The` -> `The American President`), alternate title, year, genres.",
)
ml1m_ratings = single_table_asset(
    "ml1m_ratings",
    source="movielens",
    rel_path="movielens/ml-1m/ratings.dat",
    parse=movielens.parse_ratings,
    description="MovieLens 1M ratings: whole stars 1..5 with their timestamp.",
)
ml1m_users = single_table_asset(
    "ml1m_users",
    source="movielens",
    rel_path="movielens/ml-1m/users.dat",
    parse=movielens.parse_users,
    description="MovieLens 1M users: gender, age and occupation codes, zip kept as text.",
)
ml_links = single_table_asset(
    "ml_links",
    source="movielens",
    rel_path="movielens/ml-latest-small/links.csv",
    parse=movielens.parse_links,
    optional=True,
    description="MovieLens links.csv (ml-latest-small): movieId -> IMDb id, TMDB id. MovieLens "
    "ids are stable across releases, so this resolves ML-1M films without a title search. "
    "Empty when the optional file is absent.",
)
movietweetings_movies = single_table_asset(
    "movietweetings_movies",
    source="movietweetings",
    rel_path="movietweetings/movies.dat",
    parse=movietweetings.parse_movies,
    description="MovieTweetings films keyed by IMDb id (`tt` + at least 7 digits); "
    "genres may be empty.",
)
movietweetings_ratings = single_table_asset(
    "movietweetings_ratings",
    source="movietweetings",
    rel_path="movietweetings/ratings.dat",
    parse=movietweetings.parse_ratings,
    description="MovieTweetings ratings on 0..10, plus `rating_5` normalised to 0..5.",
)
movietweetings_users = single_table_asset(
    "movietweetings_users",
    source="movietweetings",
    rel_path="movietweetings/users.dat",
    parse=movietweetings.parse_users,
    description="MovieTweetings users. Twitter ids are personal data and are not published.",
)
inspired_movies = single_table_asset(
    "inspired_movies",
    source="inspired",
    rel_path="inspired/movie_database.tsv",
    parse=inspired.parse_movie_database,
    description="INSPIRED's movie database, typed from its own header.",
)


@dg.multi_asset(
    specs=[
        spec(
            "inspired_utterances",
            "inspired",
            "duckdb",
            "INSPIRED utterances: speaker, turn, text with QUOTATION_MARK "
            "restored, mentioned titles, strategy labels.",
        ),
        spec(
            "inspired_dialogs",
            "inspired",
            "duckdb",
            "INSPIRED dialogs: split, the films/genres/people of the "
            "dialog (from its literals, malformed ones recovered), outcome labels.",
        ),
    ],
    can_subset=False,
)
@lake_step(source="inspired")
def inspired_dialog_tables(step: Step, raw_files: RawFilesResource) -> Parsed | list[Parsed]:
    files = {
        s: (require(raw_files, f"inspired/{s}.tsv"), f"inspired/{s}.tsv")
        for s in ("train", "dev", "test")
    }
    with duckdb.connect() as con:
        return inspired.parse_dialogs(con, files)


@dg.multi_asset(
    specs=[
        spec(
            "redial_conversations",
            "redial",
            "python",
            "ReDial conversations: split, seeker and recommender worker ids.",
        ),
        spec(
            "redial_messages",
            "redial",
            "python",
            "ReDial messages with `@id` rendered to titles (raw text kept) and the sender's role.",
        ),
        spec(
            "redial_mentions",
            "redial",
            "python",
            "ReDial film mentions per conversation with both sides' "
            "suggested/seen/liked answers (2 = did not say).",
        ),
    ],
    can_subset=False,
)
@lake_step(source="redial")
def redial_tables(step: Step, raw_files: RawFilesResource) -> Parsed | list[Parsed]:
    files = {
        s: (require(raw_files, f"redial/{s}_data.jsonl"), f"redial/{s}_data.jsonl")
        for s in ("train", "test")
    }
    return redial.parse_conversations(files)


redial_movies = single_table_asset(
    "redial_movies",
    source="redial",
    rel_path="redial/movies_with_mentions.csv",
    parse=redial.parse_movies_with_mentions,
    optional=True,
    description="ReDial's movies_with_mentions.csv (optional upstream file; empty when absent).",
)


@dg.multi_asset(
    specs=[
        spec(
            "ccpe_utterances",
            "ccpe",
            "python",
            "CCPE-M utterances (USER / ASSISTANT) with their segment count.",
        ),
        spec(
            "ccpe_segments",
            "ccpe",
            "python",
            "CCPE-M annotated spans: one row per (segment, annotation), "
            "offsets into the utterance text, annotation and entity types.",
        ),
    ],
    can_subset=False,
)
@lake_step(source="ccpe")
def ccpe_tables(step: Step, raw_files: RawFilesResource) -> Parsed | list[Parsed]:
    return ccpe.parse(require(raw_files, "ccpe/data.json"), "ccpe/data.json")


@dg.multi_asset(
    specs=[
        spec(
            "goemotions_texts",
            "goemotions",
            "duckdb",
            "GoEmotions comments, one row each: split, label names and one "
            "column per emotion (0/1 from the splits, or rater votes from raw CSVs).",
        ),
        spec(
            "goemotions_ratings",
            "goemotions",
            "duckdb",
            "GoEmotions raw rater rows (one per comment and rater) when the "
            "raw CSVs are used; author names are not kept.",
        ),
        spec(
            "goemotions_emotions",
            "goemotions",
            "python",
            "The 28 emotions with their Ekman group and sentiment.",
        ),
    ],
    can_subset=False,
)
@lake_step(source="goemotions")
def goemotions_tables(step: Step, raw_files: RawFilesResource) -> Parsed | list[Parsed]:
    locate = raw_files.locate
    names_path = locate("goemotions/emotions.txt")
    emotions = (
        goemotions.read_emotions(names_path, "goemotions/emotions.txt") if names_path else None
    )
    raw_csvs = [
        (locate(f"goemotions/goemotions_{i}.csv"), f"goemotions/goemotions_{i}.csv")
        for i in (1, 2, 3)
    ]
    raw_csvs = [(p, label) for p, label in raw_csvs if p is not None]
    splits = {
        s: (locate(f"goemotions/{s}.tsv"), f"goemotions/{s}.tsv") for s in ("train", "dev", "test")
    }
    have_splits = emotions is not None and all(p for p, _ in splits.values())
    with duckdb.connect() as con:
        ratings = goemotions.parse_raw(con, raw_csvs, emotions) if raw_csvs else None
        if emotions is None and ratings is not None:
            emotions = ratings.notes["emotions"]
        if emotions is None:
            raise RawDataError("GoEmotions: need emotions.txt with the splits, or the raw CSVs")
        if have_splits:
            texts = goemotions.parse_splits(con, splits, emotions)
        elif ratings is not None:
            texts = Parsed(
                {
                    "goemotions_texts": goemotions.texts_from_ratings(
                        con, ratings.tables["goemotions_ratings"], emotions
                    )
                },
                notes={
                    "label_source": f"raw rater votes (>= {goemotions.MIN_AGREEING_RATERS} agree)"
                },
            )
        else:
            raise RawDataError("GoEmotions: the splits are incomplete and no raw CSVs were given")
    if ratings is None:
        step.context.log.info("raw GoEmotions CSVs not supplied: goemotions_ratings is empty")
        ratings = Parsed(
            {"goemotions_ratings": goemotions.empty_ratings(emotions)}, notes={"raw_csvs": "absent"}
        )
    mapping = goemotions.emotion_mappings(
        emotions,
        require(raw_files, "goemotions/ekman_mapping.json"),
        require(raw_files, "goemotions/sentiment_dict.json"),
    )
    return [texts, ratings, Parsed({"goemotions_emotions": mapping})]


staging_assets = [
    ml1m_movies,
    ml1m_ratings,
    ml1m_users,
    ml_links,
    movietweetings_movies,
    movietweetings_ratings,
    movietweetings_users,
    inspired_movies,
    inspired_dialog_tables,
    redial_tables,
    redial_movies,
    ccpe_tables,
    goemotions_tables,
]
STAGING_TABLES = [key.path[-1] for a in staging_assets for key in a.keys]
