"""Resources: every edge with the outside world (the warehouse, raw files over HTTP)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pyarrow as pa
import requests
from pydantic import Field

import schemas
from pipelines.settings import MINILM
from reelreason.download import RawFetcher, RawFileRecord, user_raw_file
from reelreason.embeddings import (
    OpenAIBackend,
    SentenceTransformerBackend,
    offline_minilm_path,
)
from reelreason.keyphrases import ChatClient
from reelreason.sources import Dataset
from reelreason.tmdb import TmdbClient
from reelreason.warehouse import TableWrite, Warehouse

RAW_FILES_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("path", pa.string()),
        ("origin", pa.string()),
        ("url", pa.string()),
        ("bytes", pa.int64()),
        ("sha256", pa.string()),
        ("pinned_sha256", pa.string()),
        ("checksum_status", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
    ]
)


class ReadsCredentials:
    """Credentials are read from the environment when they are used, not when the code
    location is loaded (late binding: a key exported before a run is the key that run uses),
    and never enter a resource's configuration: the UI, run records and builds show only the
    variable's name. Each credential field `x` has `x_env`, the variable(s) to read, first set
    wins; a value given explicitly (a test) is used as is."""

    CREDENTIALS: ClassVar[tuple[str, ...]] = ()

    def credential(self, name: str) -> str | None:
        given = getattr(self, name)
        if given:
            return given
        for env in getattr(self, f"{name}_env").split(","):
            if os.environ.get(env.strip()):
                return os.environ[env.strip()]
        return None

    def credential_presence(self) -> dict[str, bool]:
        """Whether each credential is there: it decides whether a service is used, so it is
        an input of the steps that use it (never its value)."""
        return {name: self.credential(name) is not None for name in self.CREDENTIALS}


class WarehouseResource(dg.ConfigurableResource):
    """The DuckLake warehouse. Every write is validated against its pandera model first."""

    root: str = Field(description="Warehouse root folder (catalog.sqlite, data/, raw/)")
    # Configured by pipelines/settings.py (their defaults, bounds and meaning are there).
    catalog: str
    data_path: str | None
    quarantine_max_fraction: float
    reuse: bool

    @property
    def lake(self) -> Warehouse:
        return Warehouse(self.root, catalog=self.catalog, data_path=self.data_path)

    def write_table(
        self,
        name: str,
        table: pa.Table,
        *,
        run_id: str,
        source: str,
        quarantine: pa.Table | None = None,
        lineage: dict | None = None,
        file: str | None = None,
    ) -> tuple[TableWrite, schemas.Screened]:
        """Validate, quarantine the rows that break row-level rules, write the rest (with the
        parser's own quarantine rows) in one snapshot. Returns the write and what was kept out."""
        screened = schemas.validate_rows(
            name, table, file=file, max_fraction=self.quarantine_max_fraction
        )
        if quarantine is not None and screened.quarantined:
            quarantine = pa.concat_tables([quarantine, screened.quarantine])
        elif screened.quarantined:
            quarantine = screened.quarantine
        if quarantine is not None:
            schemas.validate("quarantine_rows", quarantine)
        write = self.lake.write_table(
            name,
            screened.table,
            run_id=run_id,
            source=source,
            quarantine=quarantine,
            lineage=lineage,
            comments=schemas.comments(name),
        )
        return write, screened

    def record_raw_files(self, dataset: str, records: list[RawFileRecord], *, run_id: str) -> None:
        rows = pa.Table.from_pylist(
            [{k: v for k, v in r.as_row().items() if k != "local_path"} for r in records],
            schema=RAW_FILES_SCHEMA,
        )
        schemas.validate("raw_files", rows)
        self.lake.record_raw_files(dataset, rows, run_id=run_id)

    def publish_build(self, **kwargs):
        return self.lake.publish_build(validate=schemas.validate, **kwargs)

    def quarantine_stats(self, table: str) -> tuple[int, int]:
        """(rows in the table, rows of its source in quarantine)."""
        with self.lake.session() as con:
            rows = con.execute(f"SELECT count(*) FROM lake.main.{table}").fetchone()[0]
            quarantined = con.execute(
                "SELECT count(*) FROM lake.quarantine WHERE table_name = ?", [table]
            ).fetchone()[0]
        return rows, quarantined


class RawFilesResource(dg.ConfigurableResource):
    """Raw upstream files: a user folder (REELREASON_RAW_DIR) first, else a download cache."""

    cache_dir: str = Field(description="Where downloads are kept (inside the warehouse)")
    raw_dir: str | None = Field(default=None, description="User folder in the raw layout")
    attempts: int = 5
    backoff_seconds: float = 1.0
    timeout_seconds: float = 60.0
    # Configured by pipelines/settings.py.
    offline: bool
    allow_links: bool
    max_mb: int
    deadline_seconds: float

    def fetch(self, dataset: Dataset, log=None) -> tuple[list[RawFileRecord], list[str]]:
        session = requests.Session()
        session.headers["User-Agent"] = "reelreason-data-platform/0.1"
        fetcher = RawFetcher(
            Path(self.cache_dir),
            Path(self.raw_dir) if self.raw_dir else None,
            offline=self.offline,
            session=session,
            attempts=self.attempts,
            backoff=self.backoff_seconds,
            timeout=self.timeout_seconds,
            progress=(log.info if log else None),
            allow_links=self.allow_links,
            max_bytes=self.max_mb << 20,
            deadline=self.deadline_seconds,
        )
        return fetcher.fetch_dataset(dataset), fetcher.warnings

    def locate(self, rel_path: str) -> Path | None:
        """Where a raw file is now (user folder first), or None when it is absent."""
        user = user_raw_file(
            Path(self.raw_dir) if self.raw_dir else None, rel_path, allow_links=self.allow_links
        )
        if user is not None:
            return user
        cached = Path(self.cache_dir) / rel_path
        return cached if cached.is_file() else None


class TmdbResource(ReadsCredentials, dg.ConfigurableResource):
    """TMDB v3 over HTTP. Credentials are read when used and never logged or stored."""

    CREDENTIALS: ClassVar[tuple[str, ...]] = ("api_key", "read_access_token")
    api_key: str | None = Field(default=None, description="v3 key; unset: read api_key_env")
    api_key_env: str = "TMDB_API_KEY"
    read_access_token: str | None = Field(
        default=None, description="read-access token, sent as Bearer; unset: read its _env"
    )
    read_access_token_env: str = "TMDB_READ_ACCESS_TOKEN"
    timeout_seconds: float = 10.0
    max_attempts: int = 6
    backoff_seconds: float = 0.5
    # Configured by pipelines/settings.py.
    base_url: str
    offline: bool
    rate_limit: float
    max_concurrency: int
    ttl_days: float
    deadline_seconds: float
    max_response_mb: int
    seed_file: str | None = Field(default=None, description="recorded responses to pre-seed")

    def unavailable_reason(self) -> str | None:
        if self.offline:
            return "offline profile: TMDB answers come from the pre-seeded cache only"
        if not any(self.credential_presence().values()):
            return "not enriched: no TMDB credentials (set TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN)"
        return None

    def client(self, log=None) -> TmdbClient | None:
        if self.unavailable_reason():
            return None
        return TmdbClient(
            base_url=self.base_url,
            api_key=self.credential("api_key"),
            read_access_token=self.credential("read_access_token"),
            rate_limit=self.rate_limit,
            max_concurrency=self.max_concurrency,
            timeout=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff=self.backoff_seconds,
            deadline=self.deadline_seconds,
            max_bytes=self.max_response_mb << 20,
            log=log.info if log else None,
        )


_LOADED_MODELS: dict[tuple, SentenceTransformerBackend] = {}


class SentenceTransformerResource(dg.ConfigurableResource):
    """A local sentence-transformers model (loaded once per process); CUDA when present."""

    # Configured by pipelines/settings.py.
    model_name: str
    batch_size: int
    threads: int
    device: str

    def backend(self, log=None) -> SentenceTransformerBackend:
        key = (self.model_name, self.batch_size, self.threads, self.device)
        backend = _LOADED_MODELS.get(key)
        if backend is None:
            path = offline_minilm_path() if self.model_name == MINILM else None
            backend = _LOADED_MODELS[key] = SentenceTransformerBackend(
                self.model_name,
                model_path=path,
                batch_size=self.batch_size,
                threads=self.threads or None,
                device=self.device or None,
            )
        backend.progress = log.info if log else (lambda msg: None)
        return backend


class OpenAIEmbeddingResource(ReadsCredentials, dg.ConfigurableResource):
    """Any OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM) through the SDK."""

    CREDENTIALS: ClassVar[tuple[str, ...]] = ("api_key",)
    api_key: str | None = Field(default=None, description="unset: read api_key_env")
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = 4
    max_retries: int = 6
    timeout_seconds: float = 60.0
    # Configured by pipelines/settings.py (base_url None = api.openai.com).
    base_url: str | None
    model: str
    dimensions: int | None
    deadline_seconds: float
    max_response_mb: int

    def unavailable_reason(self) -> str | None:
        if not (self.credential("api_key") or self.base_url):
            return (
                "skipped: no OPENAI_API_KEY and no REELREASON_OPENAI_BASE_URL, so no "
                "OpenAI-compatible embeddings in this build"
            )
        return None

    def backend(self, log=None) -> OpenAIBackend | None:
        if self.unavailable_reason():
            return None
        return OpenAIBackend(
            api_key=self.credential("api_key"),
            base_url=self.base_url,
            model=self.model,
            dimensions=self.dimensions,
            max_concurrency=self.max_concurrency,
            max_retries=self.max_retries,
            timeout=self.timeout_seconds,
            deadline=self.deadline_seconds,
            max_response_bytes=self.max_response_mb << 20,
            progress=log.info if log else None,
        )


class EmbeddingSettings(dg.ConfigurableResource):
    """How user vectors are mixed (REELREASON_ALPHA, REELREASON_MIN_LIKES)."""

    # Configured by pipelines/settings.py.
    alpha: float
    min_likes: int
    shards: int


class EvaluationSettings(dg.ConfigurableResource):
    """Seed and sample size of the evaluation (REELREASON_EVAL_SEED, REELREASON_EVAL_USERS)."""

    # Configured by pipelines/settings.py.
    seed: int
    users_per_source: int


class TuningSettings(dg.ConfigurableResource):
    """How the tuned space is trained (REELREASON_TUNE_DIM, _EPOCHS, _MAX_STEPS)."""

    # Configured by pipelines/settings.py.
    dim: int
    epochs: float
    max_steps: int


class ChatModelResource(ReadsCredentials, dg.ConfigurableResource):
    """An OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM) that writes
    keyphrases. Enabled only when REELREASON_LLM_BASE_URL or REELREASON_LLM_API_KEY is set
    (and REELREASON_KEYPHRASES is not 0); otherwise the keyphrase assets skip explicitly."""

    CREDENTIALS: ClassVar[tuple[str, ...]] = ("api_key",)
    api_key: str | None = Field(default=None, description="unset: read api_key_env")
    # The chat key, else the embeddings key; only the first one switches keyphrases on.
    api_key_env: str = "REELREASON_LLM_API_KEY,OPENAI_API_KEY"
    max_retries: int = Field(default=6, ge=0, description="429/5xx/timeouts, by the SDK")
    invalid_attempts: int = Field(default=3, ge=1, description="answers tried per film")
    timeout_seconds: float = 60.0
    # Configured by pipelines/settings.py (base_url None = api.openai.com).
    enabled: bool
    base_url: str | None
    model: str
    temperature: float
    max_concurrency: int
    deadline_seconds: float
    max_response_mb: int

    def unavailable_reason(self) -> str | None:
        # Opt-in: an embeddings OPENAI_API_KEY alone must not start ~90k chat calls.
        own_key = self.api_key or os.environ.get(self.api_key_env.split(",")[0])
        if not (self.enabled and (self.base_url or own_key)):
            return (
                "skipped: no LLM endpoint configured (set REELREASON_LLM_BASE_URL for an "
                "OpenAI-compatible server such as Ollama or vLLM, or REELREASON_LLM_API_KEY for "
                "OpenAI); REELREASON_KEYPHRASES=0 also skips"
            )
        return None

    def client(self) -> ChatClient:
        return ChatClient(
            model=self.model,
            api_key=self.credential("api_key"),
            base_url=self.base_url,
            temperature=self.temperature,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
            deadline=self.deadline_seconds,
            max_response_bytes=self.max_response_mb << 20,
        )
