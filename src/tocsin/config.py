"""Settings, layered: packaged defaults -> config file -> TOCSIN_* environment -> CLI flags.

Only what a stage needs is passed to it; the whole settings object stays at the edge
(CLI, web), see STYLE.md.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.alerts.channel_config import ChannelConfig
from tocsin.errors import ConfigError

SUPPORTED_LANGUAGES = ("en", "fr", "ru", "uk", "de", "pl")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tocsin", appauthor=False))


class Limits(BaseModel):
    """What an input may be before it is quarantined instead of ingested.

    From the environment: TOCSIN_LIMITS__MAX_FILE_BYTES and so on.
    """

    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(50 * 1024 * 1024, gt=0, description="largest input file read")
    max_document_chars: int = Field(
        1_000_000, gt=0, description="largest text of one document, after extraction"
    )
    min_document_chars: int = Field(
        1, ge=1, description="shortest text of one document, after normalisation"
    )


class Fetch(BaseModel):
    """Outgoing HTTP (webhooks now, feeds later); see netguard.py."""

    model_config = ConfigDict(extra="forbid")

    allow_private: bool = Field(
        False, description="allow private, loopback and link-local targets (intranet "
        "webhooks); also TOCSIN_FETCH_ALLOW_PRIVATE=1. Cloud metadata addresses never")


class Settings(BaseSettings):
    """All of tocsin's settings. Environment variables are TOCSIN_<NAME> (e.g. TOCSIN_DB)."""

    model_config = SettingsConfigDict(
        env_prefix="TOCSIN_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="where tocsin keeps data")
    db: str | None = Field(None, description="SQLAlchemy database URL; default: SQLite in data_dir")
    languages: tuple[str, ...] = Field(
        ("en", "fr", "ru", "uk"), description="languages that language identification may return"
    )
    limits: Limits = Field(default_factory=lambda: Limits())
    batch_size: int = Field(500, gt=0, description="documents written per transaction")
    pack: str = Field("nuclear", description="indicator pack: a built-in name or a folder")
    story_threshold: float = Field(
        0.25, gt=0, le=1, description="MinHash similarity from which two documents are one story")
    story_window_days: float = Field(
        3, gt=0, description="days apart within which two documents can be one story")
    credibility_window_days: float = Field(
        3, gt=0, description="days around a piece of evidence in which corroboration counts")
    watch: str | None = Field(
        None, description="the watch that scores and alerts use; default: all of the pack's")
    channels: list[ChannelConfig] = Field(
        default_factory=list,
        description="where alerts are delivered ([[tocsin.channels]] in the config file); "
        "default: the terminal")
    deliver_wait: float = Field(
        2.0, ge=0, description="seconds an ingest spends delivering notifications to network "
        "channels before leaving the rest to `tocsin deliver` (0: leave them all)")
    fetch: Fetch = Field(default_factory=lambda: Fetch())
    cache_dir: Path | None = Field(
        None, description="where compiled packs are cached; default: <data_dir>/cache")

    @property
    def allow_private(self) -> bool:
        """``fetch.allow_private``, or the shorter TOCSIN_FETCH_ALLOW_PRIVATE."""
        from tocsin.netguard import allow_private_from_env

        return self.fetch.allow_private or allow_private_from_env()

    @property
    def pack_cache(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(SUPPORTED_LANGUAGES))
        if unknown:
            raise ValueError(
                f"unsupported language(s) {unknown}; choose among {list(SUPPORTED_LANGUAGES)}"
            )
        return value

    @property
    def database_url(self) -> str:
        if self.db:
            return self.db
        return f"sqlite:///{self.data_dir / 'tocsin.db'}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the config file (TOML), the environment and explicit overrides.

    The file is ``config_file``, else ``$TOCSIN_CONFIG``, else ``<data_dir>/tocsin.toml``
    when it exists. Overrides that are None are ignored (unset CLI flags).
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    env_path = os.environ.get("TOCSIN_CONFIG")
    path = config_file or (Path(env_path) if env_path else None)
    file_values: dict[str, Any] = {}
    try:
        if path is None:
            probe = Settings(**overrides)
            candidate = probe.data_dir / "tocsin.toml"
            path = candidate if candidate.is_file() else None
        if path is not None:
            try:
                file_values = tomllib.loads(path.read_text(encoding="utf-8")).get("tocsin", {})
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
        unknown = sorted(set(file_values) - set(Settings.model_fields))
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {unknown} in [tocsin]; known: "
                              f"{sorted(Settings.model_fields)}")
        # Environment beats the file: pydantic-settings gives init kwargs priority, so pass
        # the file's values only where the environment does not set them.
        env_set = {k[len("TOCSIN_"):].lower() for k in os.environ if k.startswith("TOCSIN_")}
        merged: dict[str, Any] = {}
        for key, value in file_values.items():
            if key in env_set:
                continue
            if isinstance(value, dict):  # a table such as [tocsin.limits]: per field
                value = {k: v for k, v in value.items() if f"{key}__{k}" not in env_set}
            merged[key] = value
        merged.update(overrides)
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        origin = f" (config file {path})" if path else ""
        raise ConfigError(f"invalid setting{origin}: {problems}") from exc
