"""Workspace inventory connector: SCIM users plus every user's Workspace and DBFS listings.

`client` is the pure-Python listing engine (no Spark), `ratelimit` the shared token bucket,
`users` the SCIM / users-file helpers.
"""

from file_records.connectors.workspace.client import (
    NOTEBOOK_SIZE_ESTIMATE_BYTES,
    OBJECT_ROW_FIELDS,
    STATUS_ROW_FIELDS,
    ApiError,
    ObjectRow,
    ScanConfig,
    StatusRow,
    UserRef,
    WorkspaceAuth,
    WorkspaceHttp,
    WorkspaceScanner,
    scan_users,
)
from file_records.connectors.workspace.ratelimit import RateLimiter, shared_limiter
from file_records.connectors.workspace.users import list_users, load_users_file, write_users_csv

__all__ = [
    "NOTEBOOK_SIZE_ESTIMATE_BYTES",
    "OBJECT_ROW_FIELDS",
    "STATUS_ROW_FIELDS",
    "ApiError",
    "ObjectRow",
    "RateLimiter",
    "ScanConfig",
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
