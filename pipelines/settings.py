"""Configuration from environment variables (documented in the README).

REELREASON_PROFILE     sample (default: bundled offline sample) | full (real datasets)
REELREASON_WAREHOUSE   warehouse root (default ./warehouse)
REELREASON_RAW_DIR     folder of raw files in the documented layout, used instead of downloads
                       (sample profile default: the bundled sample)
REELREASON_OFFLINE     1 = never download (sample profile: always)
REELREASON_QUARANTINE_MAX_FRACTION   quarantine check fails above this share (default 0.01)
REELREASON_MOVIETWEETINGS_REF        MovieTweetings commit to read (pinned by default)
REELREASON_MIRROR      base URL of a mirror laid out like REELREASON_RAW_DIR (downloads from it)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from reelreason.sources import MOVIETWEETINGS_DEFAULT_REF

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW_DIR = PROJECT_ROOT / "sample" / "raw"
PROFILES = ("sample", "full")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    profile: str = "sample"
    warehouse: Path = Path("warehouse")
    raw_dir: Path | None = SAMPLE_RAW_DIR
    offline: bool = True
    quarantine_max_fraction: float = 0.01
    movietweetings_ref: str = MOVIETWEETINGS_DEFAULT_REF
    mirror: str | None = None

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
        offline_flag = env.get("REELREASON_OFFLINE", "").strip().lower() in {"1", "true", "yes"}
        return cls(
            profile=profile,
            warehouse=Path(env.get("REELREASON_WAREHOUSE", "warehouse")).expanduser().resolve(),
            raw_dir=raw_dir,
            offline=profile == "sample" or offline_flag,
            quarantine_max_fraction=fraction,
            movietweetings_ref=env.get("REELREASON_MOVIETWEETINGS_REF", MOVIETWEETINGS_DEFAULT_REF),
            mirror=env.get("REELREASON_MIRROR") or None,
        )

    def public(self) -> dict:
        """What a build records about its configuration. Never secrets: keys are not settings."""
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
