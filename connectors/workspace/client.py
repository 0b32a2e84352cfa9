"""Listing engine of the workspace inventory: every user's Workspace and DBFS home, in parallel.

Pure Python (no Spark): the PySpark DataSource calls :func:`scan_users` once per partition (a shard
of users) and turns the rows into Spark rows.

How a scan works
----------------
* **Auth** is databricks-sdk unified auth (:class:`WorkspaceAuth`: host + token, a profile, or the
  runtime's own credentials on Databricks). The SDK is used only for configuration and
  authentication (``w.config.authenticate()`` gives the headers, refreshed OAuth tokens included).
* **Requests** are sent by this module through one ``requests.Session`` per scan with a pooled
  ``HTTPAdapter`` (``pool_maxsize`` ≥ threads), so connections are reused and parallel requests
  do not queue for a connection. The SDK's ``w.dbfs.list`` / ``w.workspace.list`` are not used:
  they carry their own retry loop (up to 5 minutes, no shared rate limiter, invisible to our
  request/retry counters), ``dbfs.list`` costs an extra ``get-status`` per directory, and their
  recursive walks are sequential and do not descend into Git folders (``REPO``).
* ``path`` is sent as the documented query parameter (the predecessor sent it in a GET body).
* **Frontier**: inside one call a bounded thread pool lists directories; as soon as a listing
  returns, its sub-directories are queued (last in, first out, so started users finish first and
  their status rows come out early) and new users are only started when there is no queued
  directory left. A user's tree is therefore listed by many threads at once.
* **Descent**: Workspace ``DIRECTORY`` and ``REPO`` (Git folders) are listed; DBFS entries with
  ``is_dir``. No depth cap unless :attr:`ScanConfig.max_depth` is set (then ``depth_capped`` says
  so in the status row).
* **Rate limit and retries**: a process-wide token bucket (:mod:`.ratelimit`) before every
  request; 429 is retried after ``Retry-After`` (plus jitter) and pauses/slows the shared bucket;
  5xx, connection errors, timeouts and unreadable bodies are retried with jittered exponential
  backoff; 4xx are final. A listing's entries are only counted once the listing has succeeded,
  so a retried listing never counts twice (docs/workspace-api.md, §7).
* **Failures are recorded, never turned into "empty"**: a home that is missing (404), forbidden
  (403) or failed after all attempts gives ``status='error'`` with the message; a sub-directory
  that fails for good gives ``'partial'`` with the first error. An extra root (see
  :attr:`ScanConfig.extra_roots`) that does not exist is simply absent (it is optional).

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

import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional, Union
from urllib.parse import quote

import orjson
import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from requests.adapters import HTTPAdapter

from file_records.connectors.coerce import to_int
from file_records.connectors.workspace.ratelimit import RateLimiter, shared_limiter
from file_records.errors import SourceError

log = logging.getLogger(__name__)

__all__ = [
    "NOTEBOOK_SIZE_ESTIMATE_BYTES",
    "OBJECT_ROW_FIELDS",
    "STATUS_ROW_FIELDS",
    "ApiError",
    "ObjectRow",
    "ScanConfig",
    "StatusRow",
    "UserRef",
    "WorkspaceAuth",
    "WorkspaceHttp",
    "WorkspaceScanner",
    "scan_users",
]

#: Size given to a notebook (the list API reports none). See the module docstring.
NOTEBOOK_SIZE_ESTIMATE_BYTES = 10_000

SOURCE_WORKSPACE = "workspace"
SOURCE_DBFS = "dbfs"
SOURCE_VOLUME = "volume"
STATUSES = ("success", "empty", "partial", "error")

WS_LIST = "/api/2.0/workspace/list"
DBFS_LIST = "/api/2.0/dbfs/list"
FS_DIRECTORIES = "/api/2.0/fs/directories"
LISTABLE_WORKSPACE_TYPES = frozenset({"DIRECTORY", "REPO"})

_BODY_EXCERPT = 300
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


# ====================================================================== public data types
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
    """Outcome of one user's one source."""

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

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__slots__}

    def as_tuple(self) -> tuple:
        return (self.username, self.source, self.status, self.files, self.bytes, self.estimated_bytes,
                self.requests, self.retries, self.duration_seconds, self.error, self.depth_capped)


Row = Union[ObjectRow, StatusRow]

#: Field names in ``as_tuple()`` order, for building Spark schemas.
OBJECT_ROW_FIELDS: tuple[str, ...] = ObjectRow.__slots__
STATUS_ROW_FIELDS: tuple[str, ...] = StatusRow.__slots__


class ScanConfig(BaseModel):
    """How a scan behaves. Rates are per process (the DataSource divides the workspace budget)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads_per_partition: int = Field(16, ge=1, le=512, description="Listing threads in one scan")
    max_requests_per_second: Optional[float] = Field(
        20.0, gt=0, description="Shared limiter for all threads of this process; None = no steady limit")
    rate_limit_burst: float = Field(1.0, ge=1.0, description="Requests allowed back to back")
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
    user_agent: str = "file-records-workspace"

    @field_validator("extra_roots")
    @classmethod
    def _check_roots(cls, roots: list[str]) -> list[str]:
        for root in roots:
            parse_root(root, "someone@example.com")
        return roots


class WorkspaceAuth:
    """Databricks unified auth, resolved by databricks-sdk on first use.

    ``WorkspaceAuth(host=..., token=...)``, ``WorkspaceAuth(profile="prod")``, ``WorkspaceAuth()``
    (environment / ``~/.databrickscfg`` DEFAULT / runtime credentials), or
    ``WorkspaceAuth.from_client(w)``. The token is a ``SecretStr`` and never appears in ``repr``
    or in error messages. Picklable (the SDK client is rebuilt after unpickling), but a pickled
    instance built with an explicit ``token`` carries that token: to keep secrets out of Spark
    plans, ship only ``host`` / ``profile`` and let each executor resolve credentials itself
    (environment, profile, or the runtime's own credentials).
    """

    def __init__(self, host: Optional[str] = None, token: Union[str, SecretStr, None] = None,
                 profile: Optional[str] = None, *, client: Any = None, sdk_timeout_seconds: int = 60):
        self._host = host.rstrip("/") if host else None
        self._token = SecretStr(token) if isinstance(token, str) else token
        self._profile = profile
        self._client = client
        # bounds the SDK's own start-up calls (host metadata discovery, OAuth): its default
        # of 300 s would hang a scan for five minutes on an unreachable host
        self._sdk_timeout_seconds = sdk_timeout_seconds
        self._lock = threading.Lock()

    @classmethod
    def from_client(cls, client: Any) -> "WorkspaceAuth":
        return cls(client=client)

    def workspace_client(self):
        with self._lock:
            if self._client is None:
                from databricks.sdk import WorkspaceClient
                from databricks.sdk.config import Config

                kwargs: dict = {"retry_timeout_seconds": self._sdk_timeout_seconds,
                                "product": "file-records", "product_version": _version()}
                if self._host:
                    kwargs["host"] = self._host
                if self._token is not None:
                    kwargs["token"] = self._token.get_secret_value()
                if self._profile:
                    kwargs["profile"] = self._profile
                self._client = WorkspaceClient(config=Config(**kwargs))
            return self._client

    @property
    def host(self) -> str:
        host = self.workspace_client().config.host
        if not host:
            raise ApiError("no Databricks host configured (DATABRICKS_HOST or a profile)", kind="config")
        return host.rstrip("/")

    @property
    def verify(self) -> bool:
        return not bool(getattr(self.workspace_client().config, "insecure", False))

    def headers(self) -> dict:
        return dict(self.workspace_client().config.authenticate())

    def secrets(self) -> list[str]:
        out = []
        if self._token is not None:
            out.append(self._token.get_secret_value())
        try:
            cfg_token = self.workspace_client().config.token
        except Exception:  # noqa: BLE001
            cfg_token = None
        if cfg_token:
            out.append(cfg_token)
        return [s for s in out if s]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_client"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        what = self._host or (f"profile={self._profile}" if self._profile else "unified auth")
        return f"WorkspaceAuth({what})"


AuthLike = Union[WorkspaceAuth, Any]


def as_auth(auth: AuthLike) -> WorkspaceAuth:
    """A :class:`WorkspaceAuth`, or a databricks-sdk ``WorkspaceClient`` to wrap."""
    if isinstance(auth, WorkspaceAuth):
        return auth
    if auth is None:
        return WorkspaceAuth()
    if hasattr(auth, "config") and hasattr(auth.config, "authenticate"):
        return WorkspaceAuth.from_client(auth)
    raise TypeError(f"expected WorkspaceAuth or WorkspaceClient, got {type(auth).__name__}")


# ====================================================================== HTTP
class ApiError(SourceError):
    """A request failed for good. ``kind``: not_found, forbidden, unauthorized, client,
    exhausted, internal, config. The message never holds a credential."""

    def __init__(self, message: str, *, kind: str, status: Optional[int] = None,
                 error_code: Optional[str] = None, attempts: int = 0):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.error_code = error_code
        self.attempts = attempts


@dataclass
class HttpResult:
    data: dict
    attempts: int


class WorkspaceHttp:
    """GET JSON from the workspace with the shared limiter, retries and backoff."""

    def __init__(self, auth: AuthLike, config: Optional[ScanConfig] = None, *,
                 limiter: Optional[RateLimiter] = None, pool_size: Optional[int] = None,
                 sleep=time.sleep):
        self.auth = as_auth(auth)
        self.config = config or ScanConfig()
        self.host = self.auth.host
        self.limiter = limiter or shared_limiter(f"databricks:{self.host}", self.config.max_requests_per_second,
                                                 self.config.rate_limit_burst)
        self._secrets = self.auth.secrets()
        self._verify = self.auth.verify
        self._sleep = sleep
        size = max(pool_size or self.config.threads_per_partition, 1) + 2
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=size, max_retries=0, pool_block=False)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"User-Agent": self.config.user_agent, "Accept": "application/json"})
        self._timeout = (self.config.connect_timeout_seconds, self.config.request_timeout_seconds)
        self._lock = threading.Lock()
        self.requests_sent = 0
        self.throttled = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "WorkspaceHttp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret and secret in text:
                text = text.replace(secret, "***")
        return text

    def backoff(self, attempt: int, retry_after: Optional[float]) -> float:
        exp = min(self.config.backoff_cap_seconds, self.config.backoff_base_seconds * (2 ** (attempt - 1)))
        if retry_after is not None:
            return min(retry_after, self.config.max_retry_after_seconds) + random.uniform(0, exp / 2)
        return random.uniform(exp / 2, exp)

    def get(self, api_path: str, params: Optional[dict] = None, *, what: str) -> HttpResult:
        """GET ``api_path`` until it succeeds; raises :class:`ApiError` (with ``attempts``) if it
        cannot. ``what`` names the call in messages (e.g. ``"workspace list /Users/a"``)."""
        url = self.host + api_path
        last = "no attempt made"
        for attempt in range(1, self.config.max_attempts + 1):
            self.limiter.acquire()
            retry_after: Optional[float] = None
            with self._lock:
                self.requests_sent += 1
            try:
                headers = self.auth.headers()
            except Exception as exc:  # noqa: BLE001 - auth failures are final
                raise ApiError(f"{what}: authentication failed: {self.redact(_exc_text(exc))}",
                               kind="unauthorized", attempts=attempt) from None
            try:
                resp = self.session.get(url, params=params, headers=headers, timeout=self._timeout,
                                        verify=self._verify)
            except _TRANSIENT_EXCEPTIONS as exc:
                last = f"{type(exc).__name__}: {self.redact(_exc_text(exc))}"
            except requests.RequestException as exc:
                raise ApiError(f"{what}: {type(exc).__name__}: {self.redact(_exc_text(exc))}",
                               kind="client", attempts=attempt) from None
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        data = orjson.loads(resp.content) if resp.content else {}
                    except orjson.JSONDecodeError:
                        last = f"HTTP 200 with a body that is not JSON ({len(resp.content)} bytes)"
                    else:
                        if isinstance(data, dict):
                            return HttpResult(data, attempt)
                        last = "HTTP 200 with a JSON body that is not an object"
                else:
                    code, message = _error_fields(resp)
                    detail = self.redact(f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else ""))
                    if status == 429:
                        retry_after = _retry_after(resp.headers.get("Retry-After"))
                        with self._lock:
                            self.throttled += 1
                        self.limiter.throttle(retry_after)
                        last = detail
                    elif status >= 500:
                        last = detail
                    else:
                        kind = {404: "not_found", 403: "forbidden", 401: "unauthorized"}.get(status, "client")
                        raise ApiError(f"{what}: {detail}", kind=kind, status=status, error_code=code,
                                       attempts=attempt)
            if attempt < self.config.max_attempts:
                delay = self.backoff(attempt, retry_after)
                log.debug("%s: %s; retry %d in %.2fs", what, last, attempt, delay)
                self._sleep(delay)
        raise ApiError(f"{what}: gave up after {self.config.max_attempts} attempts; last: {last}",
                       kind="exhausted", attempts=self.config.max_attempts)


def _exc_text(exc: BaseException) -> str:
    text = str(exc)
    return text[:_BODY_EXCERPT]


def _error_fields(resp: requests.Response) -> tuple[Optional[str], Optional[str]]:
    try:
        body = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        code = body.get("error_code") or body.get("scimType")
        message = body.get("message") or body.get("detail")
        return (str(code) if code else None), (str(message)[:_BODY_EXCERPT] if message else None)
    text = resp.text.strip() if resp.content else ""
    return None, (text[:_BODY_EXCERPT] or None)


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


# ====================================================================== roots
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


# ====================================================================== scanning
@dataclass(eq=False)
class _SourceState:
    username: str
    source: str
    started: float = field(default_factory=time.monotonic)
    pending: int = 0
    files: int = 0
    bytes: int = 0
    estimated_bytes: int = 0
    requests: int = 0
    retries: int = 0
    roots_ok: int = 0
    root_failures: int = 0
    sub_failures: int = 0
    first_error: Optional[str] = None
    depth_capped: bool = False
    seen: set = field(default_factory=set)

    def status_row(self) -> StatusRow:
        if self.root_failures and not self.roots_ok:
            status = "error"
        elif self.root_failures or self.sub_failures:
            status = "partial"
        else:
            status = "success" if self.files else "empty"
        return StatusRow(
            username=self.username, source=self.source, status=status, files=self.files, bytes=self.bytes,
            estimated_bytes=self.estimated_bytes, requests=self.requests, retries=self.retries,
            duration_seconds=round(time.monotonic() - self.started, 3), error=self.first_error,
            depth_capped=self.depth_capped)


@dataclass(slots=True, eq=False)
class _Task:
    state: _SourceState
    path: str
    depth: int
    root: bool = False
    home: bool = False  # the user's home: 404 is an error, not "absent"


@dataclass(slots=True)
class _Listing:
    rows: list
    subdirs: list
    attempts: int
    error: Optional[ApiError] = None


class WorkspaceScanner:
    """One scan: ``scan(users)`` yields ObjectRow and StatusRow. See the module docstring."""

    def __init__(self, auth: AuthLike, config: Optional[ScanConfig] = None, *,
                 limiter: Optional[RateLimiter] = None, http: Optional[WorkspaceHttp] = None):
        self.config = config or ScanConfig()
        self._own_http = http is None
        self.http = http or WorkspaceHttp(auth, self.config, limiter=limiter,
                                          pool_size=self.config.threads_per_partition)

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    # -- roots
    def _roots(self, users: Iterable[Union[UserRef, str]]) -> Iterator[tuple[_SourceState, list[_Task]]]:
        seen_users: set[str] = set()
        for user in users:
            username = (user.username if isinstance(user, UserRef) else str(user)).strip()
            if not username or username in seen_users:
                continue
            seen_users.add(username)
            by_source: dict[str, list[tuple[str, bool]]] = {}
            if self.config.include_workspace:
                by_source.setdefault(SOURCE_WORKSPACE, []).append((f"/Users/{username}", True))
            if self.config.include_dbfs:
                by_source.setdefault(SOURCE_DBFS, []).append((f"/Users/{username}", True))
            for template in self.config.extra_roots:
                source, path = parse_root(template, username)
                paths = by_source.setdefault(source, [])
                if all(p != path for p, _ in paths):
                    paths.append((path, False))
            for source, roots in by_source.items():
                state = _SourceState(username, source)
                tasks = [_Task(state, path, 0, root=True, home=home) for path, home in roots]
                for t in tasks:
                    state.seen.add(t.path)
                state.pending = len(tasks)
                yield state, tasks

    # -- one listing (runs in a worker thread)
    def _list(self, task: _Task) -> _Listing:
        try:
            if task.state.source == SOURCE_WORKSPACE:
                return self._list_workspace(task)
            if task.state.source == SOURCE_DBFS:
                return self._list_dbfs(task)
            return self._list_volume(task)
        except ApiError as exc:
            return _Listing([], [], exc.attempts, exc)
        except Exception as exc:
            log.exception("listing %s %s failed", task.state.source, task.path)
            err = ApiError(self.http.redact(f"{task.state.source} list {task.path}: {type(exc).__name__}: {exc}"),
                           kind="internal", attempts=1)
            return _Listing([], [], 1, err)

    def _list_workspace(self, task: _Task) -> _Listing:
        res = self.http.get(WS_LIST, {"path": task.path}, what=f"workspace list {task.path}")
        objects = res.data.get("objects") or []
        rows, subdirs = [], []
        user = task.state.username
        for obj in objects:
            if not isinstance(obj, dict) or not obj.get("path"):
                continue
            path = str(obj["path"])
            object_type = str(obj.get("object_type") or "UNKNOWN")
            if object_type in LISTABLE_WORKSPACE_TYPES:
                subdirs.append(path)
                continue
            size = _int_or_none(obj.get("size"))
            if size is not None and size >= 0:
                exact, estimated = True, False
            elif object_type == "NOTEBOOK":
                size, exact, estimated = NOTEBOOK_SIZE_ESTIMATE_BYTES, False, True
            else:
                size, exact, estimated = None, False, False
            rows.append(ObjectRow(user, SOURCE_WORKSPACE, path, object_type, obj.get("language"), size, exact,
                                  estimated, _ms_to_datetime(obj.get("modified_at")),
                                  _int_or_none(obj.get("object_id"))))
        return _Listing(rows, subdirs, res.attempts)

    def _list_dbfs(self, task: _Task) -> _Listing:
        res = self.http.get(DBFS_LIST, {"path": task.path}, what=f"dbfs list {task.path}")
        files = res.data.get("files") or []
        rows, subdirs = [], []
        user = task.state.username
        for entry in files:
            if not isinstance(entry, dict) or not entry.get("path"):
                continue
            path = str(entry["path"])
            if entry.get("is_dir"):
                if path != task.path:  # a listing of a file returns the file itself
                    subdirs.append(path)
                continue
            size = _int_or_none(entry.get("file_size"))
            rows.append(ObjectRow(user, SOURCE_DBFS, path, "FILE", None, size, size is not None, False,
                                  _ms_to_datetime(entry.get("modification_time")), None))
        return _Listing(rows, subdirs, res.attempts)

    def _list_volume(self, task: _Task) -> _Listing:
        rows, subdirs, attempts = [], [], 0
        user = task.state.username
        token: Optional[str] = None
        api_path = FS_DIRECTORIES + quote(task.path, safe="/@")
        while True:
            params = {"page_token": token} if token else None
            try:
                res = self.http.get(api_path, params, what=f"volume list {task.path}")
            except ApiError as exc:
                exc.attempts += attempts
                raise
            attempts += res.attempts
            for entry in res.data.get("contents") or []:
                if not isinstance(entry, dict) or not entry.get("path"):
                    continue
                path = str(entry["path"]).rstrip("/")
                if entry.get("is_directory"):
                    subdirs.append(path)
                    continue
                size = _int_or_none(entry.get("file_size"))
                rows.append(ObjectRow(user, SOURCE_VOLUME, path, "FILE", None, size, size is not None, False,
                                      _ms_to_datetime(entry.get("last_modified")), None))
            token = res.data.get("next_page_token")
            if not token:
                return _Listing(rows, subdirs, attempts)

    # -- absorbing results (main thread only: counters are touched here and nowhere else)
    def _absorb(self, task: _Task, result: _Listing, queue: list) -> list:
        state = task.state
        state.pending -= 1
        state.requests += result.attempts
        state.retries += max(0, result.attempts - 1)
        err = result.error
        if err is not None:
            if task.root and not task.home and err.kind == "not_found":
                return []  # an optional extra root the user does not have
            message = err.message
            if task.root and err.kind == "not_found":
                message = f"{state.source} home {task.path} does not exist ({message.split(': ', 1)[-1]})"
            if task.root:
                state.root_failures += 1
            else:
                state.sub_failures += 1
            if state.first_error is None:
                state.first_error = message
            return []
        if task.root:
            state.roots_ok += 1
        for row in result.rows:
            state.files += 1
            if row.size is not None:
                state.bytes += row.size
                if row.size_estimated:
                    state.estimated_bytes += row.size
        child_depth = task.depth + 1
        max_depth = self.config.max_depth
        for path in result.subdirs:
            if path in state.seen:
                continue
            if max_depth is not None and child_depth > max_depth:
                state.depth_capped = True
                continue
            state.seen.add(path)
            state.pending += 1
            queue.append(_Task(state, path, child_depth))
        return result.rows

    def scan(self, users: Iterable[Union[UserRef, str]]) -> Iterator[Row]:
        threads = self.config.threads_per_partition
        roots = self._roots(users)
        queue: list[_Task] = []  # LIFO: finish started users first
        inflight: dict[Future, _Task] = {}
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ws-scan")
        try:
            while True:
                while len(inflight) < threads:
                    if queue:
                        task = queue.pop()
                    else:
                        nxt = next(roots, None)
                        if nxt is None:
                            break
                        state, tasks = nxt
                        state.started = time.monotonic()
                        queue.extend(reversed(tasks))
                        continue
                    inflight[pool.submit(self._list, task)] = task
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    rows = self._absorb(task, fut.result(), queue)
                    if rows:
                        yield from rows
                    if task.state.pending == 0:
                        task.state.seen.clear()
                        yield task.state.status_row()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            self.close()


def scan_users(usernames: Iterable[Union[UserRef, str]], config: Optional[ScanConfig] = None,
               auth: AuthLike = None, *, limiter: Optional[RateLimiter] = None) -> Iterator[Row]:
    """List every given user's Workspace and DBFS homes (and extra roots); yields one
    :class:`ObjectRow` per file/object and, when a user's source is done, one :class:`StatusRow`."""
    scanner = WorkspaceScanner(auth, config, limiter=limiter)
    yield from scanner.scan(usernames)


# ====================================================================== helpers
def _version() -> str:
    try:
        from file_records import __version__

        return __version__
    except Exception:  # noqa: BLE001
        return "0.0.0"


_int_or_none = to_int


def _ms_to_datetime(value: Any) -> Optional[datetime]:
    ms = _int_or_none(value)
    if ms is None or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
