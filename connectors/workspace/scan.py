"""Listing engine of the workspace inventory: every user's Workspace and DBFS home, in parallel.

Pure Python (no Spark): the PySpark DataSource calls :func:`scan_users` once per partition (a shard
of users) and turns the rows into Spark rows.

* **Frontier**: inside one call a bounded thread pool lists directories; as soon as a listing
  returns, its sub-directories are queued (last in, first out, so started users finish first and
  their status rows come out early) and new users are only started when there is no queued
  directory left. A user's tree is therefore listed by many threads at once.
* **Descent**: Workspace ``DIRECTORY`` and ``REPO`` (Git folders) are listed; DBFS entries with
  ``is_dir``. No depth cap unless :attr:`ScanConfig.max_depth` is set (then ``depth_capped`` says
  so in the status row). The SDK's ``w.dbfs.list`` / ``w.workspace.list`` are not used: they carry
  their own retry loop invisible to our pace and counters, ``dbfs.list`` costs an extra
  ``get-status`` per directory, and their walks are sequential and skip Git folders.
* **Pace and retries**: :mod:`.http` and :mod:`.ratelimit`. A listing's entries are only counted
  once the listing has succeeded, so a retried listing never counts twice.
* **Missing is not failed**: a home folder that does not exist (404 on the home root) contributes
  nothing and sets ``home_missing`` (``dbfs:/Users/<name>`` exists only for users who wrote
  there); a folder deleted while the tree is listed (404 below the root) is skipped; an extra root
  that does not exist is absent. ``error`` is for a home that is forbidden (403) or failed after
  every attempt (5xx, connection failures); ``partial`` for a sub-folder that failed for good.
* **Progress**: :class:`~.progress.ScanProgress` logs users done / total, folders listed,
  requests/s and 429s at most every ``progress_interval_seconds``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Optional, Union
from urllib.parse import quote

from file_records.connectors.workspace.auth import AuthLike, CredentialsExpired
from file_records.connectors.workspace.http import ApiError, WorkspaceHttp
from file_records.connectors.workspace.model import (
    NOTEBOOK_SIZE_ESTIMATE_BYTES,
    SOURCE_DBFS,
    SOURCE_WORKSPACE,
    ObjectRow,
    Row,
    ScanConfig,
    StatusRow,
    UserRef,
    int_or_none,
    ms_to_datetime,
    parse_root,
)
from file_records.connectors.workspace.progress import ScanProgress
from file_records.connectors.workspace.ratelimit import RateLimiter

__all__ = ["WorkspaceScanner", "scan_users"]

log = logging.getLogger(__name__)

WS_LIST = "/api/2.0/workspace/list"
DBFS_LIST = "/api/2.0/dbfs/list"
FS_DIRECTORIES = "/api/2.0/fs/directories"
LISTABLE_WORKSPACE_TYPES = frozenset({"DIRECTORY", "REPO"})


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
    roots_missing: int = 0
    root_failures: int = 0
    sub_failures: int = 0
    home_missing: bool = False
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
            depth_capped=self.depth_capped, home_missing=self.home_missing)


@dataclass(slots=True, eq=False)
class _Task:
    state: _SourceState
    path: str
    depth: int
    root: bool = False
    home: bool = False  # the user's home folder (404 there: home_missing)


@dataclass(slots=True)
class _Listing:
    rows: list
    subdirs: list
    attempts: int
    error: Optional[ApiError] = None


class WorkspaceScanner:
    """One scan: ``scan(users)`` yields ObjectRow and StatusRow. See the module docstring."""

    def __init__(self, auth: AuthLike, config: Optional[ScanConfig] = None, *,
                 limiter: Optional[RateLimiter] = None, http: Optional[WorkspaceHttp] = None,
                 progress: Optional[ScanProgress] = None, label: str = "workspace scan"):
        self.config = config or ScanConfig()
        self._own_http = http is None
        self.http = http or WorkspaceHttp(auth, self.config, limiter=limiter,
                                          pool_size=self.config.threads_per_partition)
        self.progress = progress or ScanProgress(label=label, interval=self.config.progress_interval_seconds)

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
            self._sources_left[username] = len(by_source)
            if not by_source:
                self.progress.user_done()
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
        except CredentialsExpired:
            raise
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
            size = int_or_none(obj.get("size"))
            if size is not None and size >= 0:
                exact, estimated = True, False
            elif object_type == "NOTEBOOK":
                size, exact, estimated = NOTEBOOK_SIZE_ESTIMATE_BYTES, False, True
            else:
                size, exact, estimated = None, False, False
            rows.append(ObjectRow(user, SOURCE_WORKSPACE, path, object_type, obj.get("language"), size, exact,
                                  estimated, ms_to_datetime(obj.get("modified_at")),
                                  int_or_none(obj.get("object_id"))))
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
            size = int_or_none(entry.get("file_size"))
            rows.append(ObjectRow(user, SOURCE_DBFS, path, "FILE", None, size, size is not None, False,
                                  ms_to_datetime(entry.get("modification_time")), None))
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
                size = int_or_none(entry.get("file_size"))
                rows.append(ObjectRow(user, "volume", path, "FILE", None, size, size is not None, False,
                                      ms_to_datetime(entry.get("last_modified")), None))
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
            if err.kind == "not_found":
                if task.home:
                    state.home_missing = True  # normal: contributes nothing, not a failure
                    state.roots_missing += 1
                elif not task.root:
                    log.debug("%s %s vanished while the tree was listed", state.source, task.path)
                return []  # an absent extra root, a missing home or a folder deleted meanwhile
            if task.root:
                state.root_failures += 1
            else:
                state.sub_failures += 1
            if state.first_error is None:
                state.first_error = err.message
            return []
        self.progress.folders()
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

    def _source_done(self, state: _SourceState) -> StatusRow:
        state.seen.clear()
        left = self._sources_left.get(state.username, 1) - 1
        self._sources_left[state.username] = left
        if left <= 0:
            self._sources_left.pop(state.username, None)
            self.progress.user_done()
        return state.status_row()

    def _report(self, force: bool = False) -> None:
        self.progress.traffic(self.http.requests_sent, self.http.throttled, self.http.limiter.effective_rate)
        self.progress.maybe_log(force)

    def scan(self, users: Iterable[Union[UserRef, str]]) -> Iterator[Row]:
        threads = self.config.threads_per_partition
        if isinstance(users, (list, tuple)) and self.progress.users_total is None:
            self.progress.users_total = len({(u.username if isinstance(u, UserRef) else str(u)).strip()
                                             for u in users} - {""})
        self._sources_left: dict[str, int] = {}
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
                done, _ = wait(inflight, timeout=1.0, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    rows = self._absorb(task, fut.result(), queue)
                    if rows:
                        yield from rows
                    if task.state.pending == 0:
                        yield self._source_done(task.state)
                self._report()
            self._report(force=True)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            self.close()


def scan_users(usernames: Iterable[Union[UserRef, str]], config: Optional[ScanConfig] = None,
               auth: AuthLike = None, *, limiter: Optional[RateLimiter] = None,
               progress: Optional[ScanProgress] = None, label: str = "workspace scan") -> Iterator[Row]:
    """List every given user's Workspace and DBFS homes (and extra roots); yields one
    :class:`ObjectRow` per file/object and, when a user's source is done, one :class:`StatusRow`."""
    scanner = WorkspaceScanner(auth, config, limiter=limiter, progress=progress, label=label)
    yield from scanner.scan(usernames)
