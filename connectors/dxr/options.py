"""The `dxr` source's settings: the one declaration of their names, types, defaults and checks.

The data source options, the command line's `DXR_*` environment variables and the pipeline
configuration keys `file_records.dxr.*` are all derived from :class:`DxrSourceOptions`
(see :mod:`file_records.options`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

from pydantic import Field, ValidationInfo, field_validator

from file_records import __version__
from file_records.connectors.urls import service_origin
from file_records.options import Duration, ExistingFile, OptionsModel, StrictBool, UtcDatetime

DEFAULT_QUERY = 'fileName:"*"'


class DxrSourceOptions(OptionsModel):
    """Data X-Ray `GET /api/v1/files` (docs/dxr-api.md)."""

    COMPONENT = "dxr"
    ENV_PREFIX = "DXR_"

    # Declared before base_url: its validator reads it.
    allow_http: StrictBool = Field(False, description="Accept http:// to a non-loopback host (never with a real token)")
    base_url: Optional[str] = Field(None, description="Tenant origin, e.g. https://acme.dataxray.io")
    queries: Optional[list[str]] = Field(None, description="Queries, one partition each (JSON list)")
    query: Optional[str] = Field(None, description="One query; `queries` wins when both are set")
    token_env: str = Field("DXR_BEARER_TOKEN", description="Environment variable holding the token")
    token_scope: Optional[str] = Field(None, description="Databricks secret scope holding the token")
    token_key: Optional[str] = Field(None, validate_default=True, description="Key of the token in the secret scope")
    http_timeout: float = Field(120.0, gt=0, description="Seconds allowed between two received bytes")
    verify_ssl: StrictBool = True
    ca_bundle: Optional[ExistingFile] = None
    user_agent: str = f"file-records/{__version__}"
    record_cap: Optional[int] = Field(None, gt=0, description="Stop each query after N records (trials)")
    snapshot_interval: Duration = Field(timedelta(hours=24), description="Minimum time between two snapshots")
    force_snapshot_after: Optional[UtcDatetime] = Field(None, description="Take a snapshot if the last is older")
    max_attempts: int = Field(5, ge=1, le=20, description="HTTP attempts per query before the batch fails")
    backoff_seconds: float = Field(1.0, ge=0, le=300)
    spool_dir: Optional[str] = None
    chunk_bytes: int = Field(4 << 20, ge=1 << 12)

    @field_validator("base_url")
    @classmethod
    def _origin(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or not value.strip():
            return None
        return service_origin(value, strip_paths=("/api",), allow_http=bool(info.data.get("allow_http")))

    @field_validator("token_key")
    @classmethod
    def _scope_and_key(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if bool(value) != bool(info.data.get("token_scope")):
            raise ValueError("set both the secret scope and key of the token, or neither")
        return value

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is not None and (not value or any(not query.strip() for query in value)):
            raise ValueError('needs non-empty queries; omit it to read every file (fileName:"*")')
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value.strip():
            raise ValueError('is empty; omit it to read every file (fileName:"*")')
        return value

    @property
    def configured(self) -> bool:
        return self.base_url is not None

    @property
    def effective_queries(self) -> list[str]:
        """Always at least one query: the API wants `q`, and `fileName:"*"` matches every file."""
        if self.queries:
            return list(self.queries)
        return [self.query] if self.query else [DEFAULT_QUERY]

    def fetch_options(self, query: str, token: str):
        from file_records.connectors.dxr.client import FetchOptions

        if self.base_url is None:
            raise ValueError("dxr option base_url is required")
        verify = str(self.ca_bundle) if (self.verify_ssl and self.ca_bundle) else self.verify_ssl
        return FetchOptions(
            base_url=self.base_url,
            query=query,
            token=token,
            http_timeout=self.http_timeout,
            verify=verify,
            user_agent=self.user_agent,
            record_cap=self.record_cap,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            spool_dir=self.spool_dir,
        )
