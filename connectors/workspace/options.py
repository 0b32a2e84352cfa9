"""The `workspace` source's settings: the one declaration of their names, types, defaults and checks.

Data source options, the command line's environment variables (``DATABRICKS_HOST``,
``DATABRICKS_CONFIG_PROFILE``, ``FILE_RECORDS_WORKSPACE_*``) and the pipeline configuration keys
``file_records.workspace.*`` are derived from :class:`WorkspaceSourceOptions`
(see :mod:`file_records.options`). Credentials are not options: databricks-sdk unified auth finds
them on the driver, and they are shipped to the partitions (connectors/workspace/auth.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

from pydantic import Field, field_validator

from file_records.connectors.urls import service_origin
from file_records.options import Duration, ExistingFile, OptionsModel, StrictBool, UtcDatetime


class WorkspaceSourceOptions(OptionsModel):
    """Every user's Workspace and DBFS folders (docs/workspace-api.md)."""

    COMPONENT = "workspace"
    ENV_PREFIX = "FILE_RECORDS_WORKSPACE_"

    host: Optional[str] = Field(
        None, description="Workspace URL; unset: databricks-sdk unified auth finds it",
        json_schema_extra={"env": ["DATABRICKS_HOST", "FILE_RECORDS_WORKSPACE_HOST"]},
    )
    profile: Optional[str] = Field(
        None, description="A ~/.databrickscfg profile",
        json_schema_extra={"env": ["DATABRICKS_CONFIG_PROFILE", "FILE_RECORDS_WORKSPACE_PROFILE"]},
    )
    users: Optional[list[str]] = Field(None, description="Scan only these users (JSON list); unset: every SCIM user")
    users_file: Optional[ExistingFile] = Field(None, description="A users file: one per line, or CSV with `username`")
    max_users: Optional[int] = Field(None, gt=0, description="Scan at most this many users (trials)")
    partitions: int = Field(4, ge=1, le=512)
    threads_per_partition: int = Field(16, ge=1, le=256)
    max_requests_per_second: Optional[float] = Field(
        None, gt=0,
        description="A ceiling on each partition's pace; unset: none, the pace adapts to the workspace's limit (429s)")
    max_attempts: int = Field(6, ge=1, le=20)
    backoff_base_seconds: float = Field(0.5, ge=0, le=60)
    include_dbfs: StrictBool = True
    include_workspace: StrictBool = True
    extra_roots: list[str] = Field(default_factory=list, description="More folders to list (JSON list)")
    max_depth: Optional[int] = Field(None, ge=0)
    snapshot_interval: Duration = Field(timedelta(hours=24), description="Minimum time between two scans")
    force_snapshot_after: Optional[UtcDatetime] = Field(None, description="Take a scan if the last is older")

    @field_validator("host")
    @classmethod
    def _origin(cls, value: Optional[str]) -> Optional[str]:
        if value is None or not value.strip():
            return None
        return service_origin(value)

    @property
    def configured(self) -> bool:
        return self.host is not None or self.profile is not None

    def auth(self):
        from file_records.connectors.workspace.auth import WorkspaceAuth

        return WorkspaceAuth(host=self.host, profile=self.profile)

    def scan_config(self, partitions: Optional[int] = None):
        """How each partition scans. Nothing is divided among partitions: each one's pace adapts on
        its own (partitions that are not running take no share), under the configured ceiling."""
        from file_records.connectors.workspace.model import ScanConfig

        return ScanConfig(
            threads_per_partition=self.threads_per_partition,
            max_requests_per_second=self.max_requests_per_second,
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_base_seconds,
            include_dbfs=self.include_dbfs,
            include_workspace=self.include_workspace,
            extra_roots=self.extra_roots,
            max_depth=self.max_depth,
        )
