"""The workspace listing engine's public names, in one place.

The engine is split along its seams: :mod:`.model` (rows, :class:`ScanConfig`, roots),
:mod:`.auth` (credentials resolved on the driver and shipped), :mod:`.http` (requests, retries),
:mod:`.ratelimit` (the adaptive pace), :mod:`.progress` (progress log lines) and :mod:`.scan`
(the parallel frontier). This module re-exports them for callers that import from ``client``.
"""

from __future__ import annotations

from file_records.connectors.workspace.auth import (
    AuthLike,
    CredentialsExpired,
    ShippedCredentials,
    WorkspaceAuth,
    as_auth,
)
from file_records.connectors.workspace.http import ApiError, HttpResult, WorkspaceHttp
from file_records.connectors.workspace.model import (
    NOTEBOOK_SIZE_ESTIMATE_BYTES,
    OBJECT_ROW_FIELDS,
    SOURCE_DBFS,
    SOURCE_VOLUME,
    SOURCE_WORKSPACE,
    STATUS_ROW_FIELDS,
    STATUSES,
    ObjectRow,
    Row,
    ScanConfig,
    StatusRow,
    UserRef,
    parse_root,
)
from file_records.connectors.workspace.scan import (
    DBFS_LIST,
    FS_DIRECTORIES,
    LISTABLE_WORKSPACE_TYPES,
    WS_LIST,
    WorkspaceScanner,
    scan_users,
)

__all__ = [
    "DBFS_LIST",
    "FS_DIRECTORIES",
    "LISTABLE_WORKSPACE_TYPES",
    "NOTEBOOK_SIZE_ESTIMATE_BYTES",
    "OBJECT_ROW_FIELDS",
    "SOURCE_DBFS",
    "SOURCE_VOLUME",
    "SOURCE_WORKSPACE",
    "STATUSES",
    "STATUS_ROW_FIELDS",
    "ApiError",
    "AuthLike",
    "CredentialsExpired",
    "HttpResult",
    "ObjectRow",
    "Row",
    "ScanConfig",
    "ShippedCredentials",
    "StatusRow",
    "UserRef",
    "WS_LIST",
    "WorkspaceAuth",
    "WorkspaceHttp",
    "WorkspaceScanner",
    "as_auth",
    "parse_root",
    "scan_users",
]
