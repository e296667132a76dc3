"""The Dagster code location: assets, checks, resources and the default job."""

import dagster as dg

from assets.build import build_asset
from assets.checks import evaluation_checks, movie_checks, quarantine_check_for
from assets.embeddings import embedding_assets
from assets.evaluation import evaluation_assets
from assets.keyphrases import keyphrase_assets
from assets.movies import movie_assets
from assets.operations import NIGHTLY_JOB, operations, parquet_export
from assets.raw import raw_assets_for
from assets.serving import serving_bundle
from assets.staging import STAGING_TABLES, staging_assets
from assets.tuned import tuned_assets
from pipelines.resources import (
    ChatModelResource,
    EmbeddingSettings,
    EvaluationSettings,
    OpenAIEmbeddingResource,
    RawFilesResource,
    SentenceTransformerResource,
    TmdbResource,
    TuningSettings,
    WarehouseResource,
)
from pipelines.settings import SAMPLE_TMDB_SEED, Settings
from pipelines.worker_lifetime import die_with_the_build

OWNER = "team:data-platform"


def owned(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Every asset names its owner and its layer (the UI filters and groups by both)."""
    return spec.merge_attributes(owners=[OWNER], tags={"layer": spec.group_name or "default"})


# What the multiprocess executor's fork server imports once, so that no step process pays
# for it again: the code location, and the model libraries a dozen steps load (~5 s each).
PRELOADED = ["pipelines.definitions", "torch", "sentence_transformers"]


def build_definitions(settings: Settings) -> dg.Definitions:
    table_assets = [
        *staging_assets,
        *movie_assets,
        *embedding_assets,
        *tuned_assets,
        *keyphrase_assets,
        *evaluation_assets,
    ]
    assets = [
        *raw_assets_for(settings.movietweetings_ref, settings.mirror),
        *table_assets,
        build_asset(settings, [k for a in table_assets for k in a.keys]),
        parquet_export,
        serving_bundle,
    ]
    return dg.Definitions(
        assets=dg.map_asset_specs(owned, assets),
        asset_checks=[
            *[quarantine_check_for(t, settings.quarantine_max_fraction) for t in STAGING_TABLES],
            *movie_checks,
            *evaluation_checks,
        ],
        resources={
            "warehouse": WarehouseResource(
                root=str(settings.warehouse), **settings.feeding("warehouse")
            ),
            "raw_files": RawFilesResource(
                cache_dir=str(settings.warehouse / "raw"),
                raw_dir=str(settings.raw_dir) if settings.raw_dir else None,
                **settings.feeding("raw_files"),
            ),
            # Credentials are read by the resources when used (ReadsCredentials).
            "tmdb": TmdbResource(
                seed_file=str(SAMPLE_TMDB_SEED) if settings.profile == "sample" else None,
                **settings.feeding("tmdb"),
            ),
            "sentence_model": SentenceTransformerResource(**settings.feeding("sentence_model")),
            "openai_embeddings": OpenAIEmbeddingResource(**settings.feeding("openai_embeddings")),
            "chat_model": ChatModelResource(**settings.feeding("chat_model")),
            "embedding_settings": EmbeddingSettings(**settings.feeding("embedding_settings")),
            "evaluation_settings": EvaluationSettings(**settings.feeding("evaluation_settings")),
            "tuning": TuningSettings(**settings.feeding("tuning")),
        },
        # Steps in parallel processes; the warehouse serialises their commits (a file lock on
        # SQLite, PostgreSQL's own locking + retries on a shared catalog).
        executor=(
            dg.multiprocess_executor.configured(
                {
                    "max_concurrent": settings.max_concurrent,
                    # Steps fork from a server that has imported the code once (~3 s saved
                    # per step over a fresh interpreter).
                    "start_method": {"forkserver": {"preload_modules": PRELOADED}},
                }
            )
            if settings.executor == "multiprocess"
            else dg.in_process_executor
        ),
        **operations(settings),
    )


defs = build_definitions(Settings.from_env())


def all_assets_job() -> dg.JobDefinition:
    """The whole graph as a reconstructable job: what `reelreason build` runs under the
    multiprocess executor (each step process re-imports this module, or has it preloaded,
    and calls this to rebuild the job: the moment to tie the process to the build's life)."""
    die_with_the_build()
    return defs.resolve_job_def(NIGHTLY_JOB)
