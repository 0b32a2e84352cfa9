"""Workspace inventory connector: SCIM users plus every user's Workspace and DBFS listings.

`client` re-exports the pure-Python listing engine (no Spark): `model` (rows, ScanConfig), `auth`
(credentials resolved on the driver and shipped), `http` (requests, retries), `ratelimit` (the
adaptive pace), `progress` (progress log lines), `scan` (the parallel frontier); `users` the SCIM /
users-file helpers; `source` the PySpark DataSource.
"""

from file_records.connectors.workspace.client import (
    NOTEBOOK_SIZE_ESTIMATE_BYTES,
    OBJECT_ROW_FIELDS,
    STATUS_ROW_FIELDS,
    ApiError,
    ObjectRow,
    ScanConfig,
    ShippedCredentials,
    StatusRow,
    UserRef,
    WorkspaceAuth,
    WorkspaceHttp,
    WorkspaceScanner,
    scan_users,
)
from file_records.connectors.workspace.progress import PROGRESS_LOGGER, ScanProgress
from file_records.connectors.workspace.ratelimit import RateLimiter, shared_limiter
from file_records.connectors.workspace.users import list_users, load_users_file, write_users_csv

__all__ = [
    "NOTEBOOK_SIZE_ESTIMATE_BYTES",
    "OBJECT_ROW_FIELDS",
    "PROGRESS_LOGGER",
    "STATUS_ROW_FIELDS",
    "ApiError",
    "ObjectRow",
    "RateLimiter",
    "ScanConfig",
    "ScanProgress",
    "ShippedCredentials",
    "StatusRow",
    "UserRef",
    "WorkspaceAuth",
    "WorkspaceHttp",
    "WorkspaceScanner",
    "list_users",
    "load_users_file",
    "scan_users",
    "shared_limiter",
    "write_users_csv",
]
