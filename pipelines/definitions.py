"""The Dagster code location: assets, checks, resources and the default job."""

import os

import dagster as dg

from assets.build import build_asset
from assets.checks import evaluation_checks, movie_checks, quarantine_check_for
from assets.embeddings import embedding_assets
from assets.evaluation import evaluation_assets
from assets.keyphrases import keyphrase_assets
from assets.movies import movie_assets
from assets.operations import NIGHTLY_JOB, operations, parquet_export
from assets.raw import raw_assets_for
from assets.staging import STAGING_TABLES, staging_assets
from pipelines.resources import (
    ChatModelResource,
    EmbeddingSettings,
    EvaluationSettings,
    OpenAIEmbeddingResource,
    RawFilesResource,
    SentenceTransformerResource,
    TmdbResource,
    WarehouseResource,
)
from pipelines.settings import SAMPLE_TMDB_SEED, Settings
from pipelines.worker_lifetime import die_with_the_build


def _secret(name: str):
    """A credential as dg.EnvVar (shown masked in the UI), or None when it is not set."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_definitions(settings: Settings) -> dg.Definitions:
    table_assets = [
        *staging_assets,
        *movie_assets,
        *embedding_assets,
        *keyphrase_assets,
        *evaluation_assets,
    ]
    return dg.Definitions(
        assets=[
            *raw_assets_for(settings.movietweetings_ref, settings.mirror),
            *table_assets,
            build_asset(settings, [k for a in table_assets for k in a.keys]),
            parquet_export,
        ],
        asset_checks=[
            *[quarantine_check_for(t, settings.quarantine_max_fraction) for t in STAGING_TABLES],
            *movie_checks,
            *evaluation_checks,
        ],
        resources={
            "warehouse": WarehouseResource(
                root=str(settings.warehouse),
                catalog=settings.catalog,
                data_path=settings.data_path,
                quarantine_max_fraction=settings.quarantine_max_fraction,
                reuse=settings.reuse,
            ),
            "raw_files": RawFilesResource(
                cache_dir=str(settings.warehouse / "raw"),
                raw_dir=str(settings.raw_dir) if settings.raw_dir else None,
                offline=settings.offline,
                allow_links=settings.raw_allow_links,
                max_mb=settings.download_max_mb,
                deadline_seconds=settings.download_deadline_s,
            ),
            "tmdb": TmdbResource(
                base_url=settings.tmdb_base_url,
                api_key=_secret("TMDB_API_KEY"),
                read_access_token=_secret("TMDB_READ_ACCESS_TOKEN"),
                offline=settings.offline,
                rate_limit=settings.tmdb_rate_limit,
                max_concurrency=settings.tmdb_concurrency,
                ttl_days=settings.tmdb_ttl_days,
                deadline_seconds=settings.tmdb_deadline_s,
                max_response_mb=settings.tmdb_max_response_mb,
                seed_file=str(SAMPLE_TMDB_SEED) if settings.profile == "sample" else None,
            ),
            "sentence_model": SentenceTransformerResource(
                model_name=settings.st_model,
                batch_size=settings.st_batch_size,
                threads=settings.st_threads,
                device=settings.st_device,
            ),
            "openai_embeddings": OpenAIEmbeddingResource(
                api_key=_secret("OPENAI_API_KEY"),
                base_url=settings.openai_base_url,
                model=settings.openai_model,
                dimensions=settings.openai_dimensions,
                deadline_seconds=settings.openai_deadline_s,
                max_response_mb=settings.openai_max_response_mb,
            ),
            "chat_model": ChatModelResource(
                api_key=_secret("REELREASON_LLM_API_KEY") or _secret("OPENAI_API_KEY"),
                base_url=settings.llm_base_url,
                model=settings.llm_model,
                temperature=settings.llm_temperature,
                max_concurrency=settings.llm_concurrency,
                deadline_seconds=settings.openai_deadline_s,
                max_response_mb=settings.openai_max_response_mb,
                # Opt-in: an embeddings OPENAI_API_KEY alone must not start ~90k chat calls.
                enabled=settings.keyphrases
                and bool(settings.llm_base_url or os.environ.get("REELREASON_LLM_API_KEY")),
            ),
            "embedding_settings": EmbeddingSettings(
                alpha=settings.alpha, min_likes=settings.min_likes, shards=settings.embed_shards
            ),
            "evaluation_settings": EvaluationSettings(
                seed=settings.eval_seed, users_per_source=settings.eval_users
            ),
        },
        # Steps in parallel processes; the warehouse serialises their commits (a file lock on
        # SQLite, PostgreSQL's own locking + retries on a shared catalog).
        executor=(
            dg.multiprocess_executor.configured(
                {
                    "max_concurrent": settings.max_concurrent,
                    # Steps fork from a server that has imported the code once (~3 s saved
                    # per step over a fresh interpreter).
                    "start_method": {"forkserver": {"preload_modules": ["pipelines.definitions"]}},
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
