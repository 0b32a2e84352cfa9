"""Typed configuration, read once from CLI flags, the environment and `.env` (in that order).

Modules receive these objects; they never read the environment themselves. Secrets are
`SecretStr` so they never show up in a repr, a log line or an error message.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from file_records import __version__

DEFAULT_DXR_QUERY = 'fileName:"*"'

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """'24h', '90m', '3600', 3600 or a timedelta -> timedelta; anything else is a clear error."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; use a number with an optional unit s, m, h, d or w, e.g. '24h'")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _strict_bool(value: Any) -> Any:
    # The predecessor treated anything but 0/false/no as true ("off" -> true); be explicit instead.
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{value!r} is not a boolean; use true or false")
    return value


StrictBool = Annotated[bool, BeforeValidator(_strict_bool)]


def _existing_file(value: Optional[Path], message: str) -> Optional[Path]:
    """``value`` unchanged when it is unset or a file; else ``message`` (``{path}``: the quoted path)."""
    if value is not None and not value.is_file():
        raise ValueError(message.format(path=repr(str(value))))
    return value


def _http_url(value: Optional[str], setting: str, strip_suffix: str = "") -> Optional[str]:
    """A service origin: trimmed, without a trailing slash (or suffix); http(s) only."""
    if value is None or not value.strip():
        return None
    value = value.strip().rstrip("/")
    if strip_suffix and value.endswith(strip_suffix):
        value = value[: -len(strip_suffix)]
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{setting} {value!r} must start with https:// (or http:// for a local emulator)")
    return value


def _common_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )


class DxrSettings(BaseSettings):
    """Data X-Ray connection, named as the predecessor tool named them (DXR_*)."""

    model_config = _common_config("DXR_")

    base_url: Optional[str] = Field(None, description="Tenant origin, e.g. https://acme.dataxray.io")
    bearer_token: Optional[SecretStr] = Field(None, description="Personal access token (local runs)")
    token_scope: Optional[str] = Field(None, description="Databricks secret scope holding the token")
    token_key: Optional[str] = Field(None, description="Key of the token in the secret scope")
    query: Optional[str] = Field(None, description="One DXR query; DXR_QUERIES takes a JSON list")
    queries: list[str] = Field(default_factory=list, description="Several queries, one partition each")
    http_timeout: float = Field(120.0, gt=0, description="Seconds allowed between two received bytes")
    verify_ssl: StrictBool = True
    ca_bundle: Optional[Path] = None
    record_cap: Optional[int] = Field(None, gt=0)
    user_agent: str = f"file-records/{__version__}"
    snapshot_interval: Duration = Field(timedelta(hours=24), description="Minimum time between snapshots")
    max_attempts: int = Field(5, ge=1, le=20, description="HTTP attempts per query before the batch fails")

    @field_validator("base_url")
    @classmethod
    def _normalise_base_url(cls, value: Optional[str]) -> Optional[str]:
        return _http_url(value, "DXR_BASE_URL", strip_suffix="/api")

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, value: Optional[Path]) -> Optional[Path]:
        return _existing_file(value, "DXR_CA_BUNDLE {path} is not a readable file")

    @field_validator("queries", mode="before")
    @classmethod
    def _queries_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @model_validator(mode="after")
    def _scope_and_key_together(self) -> "DxrSettings":
        if bool(self.token_scope) != bool(self.token_key):
            raise ValueError("set both DXR_TOKEN_SCOPE and DXR_TOKEN_KEY, or neither")
        for query in self.effective_queries:
            if not query.strip():
                raise ValueError("a DXR query is empty; omit it to read every file (fileName:\"*\")")
        return self

    @property
    def configured(self) -> bool:
        return self.base_url is not None

    @property
    def effective_queries(self) -> list[str]:
        """Always at least one query: the API wants `q`, and `fileName:"*"` matches every file."""
        if self.queries:
            return list(self.queries)
        if self.query:
            return [self.query]
        return [DEFAULT_DXR_QUERY]


class WorkspaceSettings(BaseSettings):
    """The Databricks workspace to inventory. Host and credentials follow databricks-sdk unified
    auth (DATABRICKS_HOST + DATABRICKS_TOKEN, DATABRICKS_CONFIG_PROFILE, or ~/.databrickscfg);
    the scan's own knobs are FILE_RECORDS_WORKSPACE_*."""

    model_config = _common_config("FILE_RECORDS_WORKSPACE_")

    host: Optional[str] = Field(None, validation_alias=AliasChoices("DATABRICKS_HOST", "FILE_RECORDS_WORKSPACE_HOST"))
    token: Optional[SecretStr] = Field(None, validation_alias=AliasChoices("DATABRICKS_TOKEN"))
    profile: Optional[str] = Field(
        None, validation_alias=AliasChoices("DATABRICKS_CONFIG_PROFILE", "FILE_RECORDS_WORKSPACE_PROFILE")
    )
    users: list[str] = Field(default_factory=list, description="Scan only these users (JSON list)")
    users_file: Optional[Path] = None
    max_users: Optional[int] = Field(None, gt=0)
    partitions: int = Field(4, ge=1, le=512)
    threads_per_partition: int = Field(16, ge=1, le=256)
    max_requests_per_second: float = Field(20.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=20)
    extra_roots: list[str] = Field(default_factory=list)
    max_depth: Optional[int] = Field(None, ge=0)
    snapshot_interval: Duration = Field(timedelta(hours=24))

    @field_validator("host")
    @classmethod
    def _host(cls, value: Optional[str]) -> Optional[str]:
        return _http_url(value, "DATABRICKS_HOST")

    @field_validator("users_file")
    @classmethod
    def _users_file(cls, value: Optional[Path]) -> Optional[Path]:
        return _existing_file(value, "users file {path} does not exist")

    @property
    def configured(self) -> bool:
        return self.host is not None or self.profile is not None


class PolicySettings(BaseSettings):
    """Which policy catalogue and legal-hold list the pipeline evaluates (FILE_RECORDS_POLICIES_*)."""

    model_config = _common_config("FILE_RECORDS_POLICIES_")

    catalogue: Optional[Path] = Field(None, description="A catalogue YAML; default: policies/catalogue.yml")
    holds_file: Optional[Path] = Field(None, description="The legal-hold list CSV the records team edits")
    history_days: int = Field(
        90, ge=1, le=3660, description="Days of past runs gold_policy_summary rebuilds to show change per run"
    )

    @field_validator("catalogue", "holds_file")
    @classmethod
    def _exists(cls, value: Optional[Path]) -> Optional[Path]:
        return _existing_file(value, "{path} is not a readable file")


class LocalSparkSettings(BaseSettings):
    """How the local runner starts OSS Spark."""

    model_config = _common_config("FILE_RECORDS_")

    spark_master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: int = Field(2, ge=1)
