"""Data types of the workspace scan: users in, object and status rows out, and how a scan behaves.

Sizes
-----
Real sizes for Workspace ``FILE`` objects (the ``size`` field), DBFS files (``file_size``) and
volume files (``file_size``): ``size_is_exact=True``. Notebooks have no size in the list API (it
needs an export per notebook); they get :data:`NOTEBOOK_SIZE_ESTIMATE_BYTES` with
``size_is_exact=False, size_estimated=True``. That is 10,000 bytes, the figure the predecessor
counted for every Workspace object, so totals stay comparable; a typical notebook source is a
few kB to a few tens of kB. Other objects without a reported size (``LIBRARY``, ``DASHBOARD``, an
unknown type) get ``size=None`` and are neither exact nor estimated (they count as files, add no
bytes). In :class:`StatusRow`, ``bytes`` is the total (exact + estimated) and ``estimated_bytes``
the estimated part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from file_records.connectors.coerce import to_int

__all__ = [
    "NOTEBOOK_SIZE_ESTIMATE_BYTES",
    "OBJECT_ROW_FIELDS",
    "STATUS_ROW_FIELDS",
    "ObjectRow",
    "Row",
    "ScanConfig",
    "StatusRow",
    "UserRef",
    "parse_root",
]

#: Size given to a notebook (the list API reports none). See the module docstring.
NOTEBOOK_SIZE_ESTIMATE_BYTES = 10_000

SOURCE_WORKSPACE = "workspace"
SOURCE_DBFS = "dbfs"
SOURCE_VOLUME = "volume"
STATUSES = ("success", "empty", "partial", "error")


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user to scan. ``active`` is None when unknown (e.g. read from a users file)."""

    username: str
    active: Optional[bool] = None
    display_name: Optional[str] = None


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """One file (DBFS, volume) or non-directory Workspace object."""

    username: str
    source: str  # 'workspace' | 'dbfs' (| 'volume' for extra /Volumes roots)
    path: str
    object_type: str  # Workspace object_type; 'FILE' for DBFS and volume files
    language: Optional[str]
    size: Optional[int]  # bytes; exact or NOTEBOOK_SIZE_ESTIMATE_BYTES; None = unknown
    size_is_exact: bool
    size_estimated: bool
    modified_at: Optional[datetime]  # UTC
    object_id: Optional[int]

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__slots__}

    def as_tuple(self) -> tuple:
        return (self.username, self.source, self.path, self.object_type, self.language, self.size,
                self.size_is_exact, self.size_estimated, self.modified_at, self.object_id)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """Outcome of one user's one source.

    ``home_missing``: the user's home folder in this source does not exist (404 on the home root).
    That is normal (``dbfs:/Users/<name>`` exists only for users who wrote there): it contributes
    nothing and is not a failure, so it is not in ``error``.
    """

    username: str
    source: str
    status: str  # 'success' | 'empty' | 'partial' | 'error'
    files: int
    bytes: int  # exact + estimated
    estimated_bytes: int
    requests: int  # HTTP requests sent, retries included
    retries: int
    duration_seconds: float
    error: Optional[str]
    depth_capped: bool
    home_missing: bool = False

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__slots__}

    def as_tuple(self) -> tuple:
        return (self.username, self.source, self.status, self.files, self.bytes, self.estimated_bytes,
                self.requests, self.retries, self.duration_seconds, self.error, self.depth_capped,
                self.home_missing)


Row = Union[ObjectRow, StatusRow]

#: Field names in ``as_tuple()`` order, for building Spark schemas.
OBJECT_ROW_FIELDS: tuple[str, ...] = ObjectRow.__slots__
STATUS_ROW_FIELDS: tuple[str, ...] = StatusRow.__slots__


class ScanConfig(BaseModel):
    """How a scan behaves (per process: every partition adapts its own pace, see :mod:`.ratelimit`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads_per_partition: int = Field(16, ge=1, le=512, description="Listing threads in one scan")
    max_requests_per_second: Optional[float] = Field(
        None, gt=0, description="Ceiling of this process's pace; None = no ceiling (the pace adapts to 429s)")
    initial_requests_per_second: float = Field(10.0, gt=0, description="Pace a new process starts from")
    adaptive_rate: bool = Field(True, description="False: a fixed pace of max_requests_per_second")
    max_attempts: int = Field(6, ge=1, le=50, description="HTTP attempts per listing before it fails for good")
    backoff_base_seconds: float = Field(0.5, gt=0)
    backoff_cap_seconds: float = Field(30.0, gt=0)
    max_retry_after_seconds: float = Field(120.0, gt=0, description="Longest Retry-After honoured")
    request_timeout_seconds: float = Field(90.0, gt=0, description="Read timeout per request")
    connect_timeout_seconds: float = Field(10.0, gt=0)
    include_workspace: bool = True
    include_dbfs: bool = True
    extra_roots: list[str] = Field(
        default_factory=list,
        description="Per-user roots with a {username} placeholder: 'dbfs:/…', 'workspace:/…' or "
                    "'/Workspace/…', or '/Volumes/…' (Files API, source 'volume').")
    max_depth: Optional[int] = Field(None, ge=0, description="Deepest directory listed (home = 0); None = no cap")
    progress_interval_seconds: float = Field(5.0, gt=0, description="Seconds between two progress log lines")
    user_agent: str = "file-records-workspace"

    @field_validator("extra_roots")
    @classmethod
    def _check_roots(cls, roots: list[str]) -> list[str]:
        for root in roots:
            parse_root(root, "someone@example.com")
        return roots


def parse_root(template: str, username: str) -> tuple[str, str]:
    """``(source, path)`` of an extra root for one user; raises ValueError if malformed."""
    if "{username}" not in template and "{user}" not in template:
        raise ValueError(f"extra root {template!r} needs a {{username}} placeholder (one root per user)")
    root = template.replace("{username}", username).replace("{user}", username)
    if root.startswith("dbfs:"):
        source, path = SOURCE_DBFS, root[len("dbfs:"):]
    elif root.startswith("workspace:"):
        source, path = SOURCE_WORKSPACE, root[len("workspace:"):]
    elif root.startswith("/Workspace/"):
        source, path = SOURCE_WORKSPACE, root[len("/Workspace"):]
    elif root.startswith("/Volumes/"):
        source, path = SOURCE_VOLUME, root
    else:
        raise ValueError(f"extra root {template!r}: start it with dbfs:/, workspace:/, /Workspace/ or /Volumes/")
    if not path.startswith("/"):
        raise ValueError(f"extra root {template!r}: the path must be absolute")
    return source, (path.rstrip("/") or "/")


int_or_none = to_int


def ms_to_datetime(value: Any) -> Optional[datetime]:
    ms = int_or_none(value)
    if ms is None or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
