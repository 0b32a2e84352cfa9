"""HTTP side of the `dxr` connector: one query of `GET /api/v1/files`, retried until complete.

The API has no paging and can end a 200 response mid-record (a response-size budget) or
drop the connection. Rows already handed to Spark cannot be taken back, so a response is
first spooled to local disk (bounded memory), checked for a truncated tail, retried if it
is incomplete, and only then parsed into batches. Status-level retries (connection errors,
429 with Retry-After, 5xx, 504) are urllib3's; retries of a broken body are ours.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import socket
import stat
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from file_records.errors import SourceError

log = logging.getLogger(__name__)

FILES_PATH = "/api/v1/files"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 300.0
_BODY_EXCERPT = 300

# Spool files are named file-records-dxr-spool-<pid>-<host>-<random>.jsonl so that one left behind
# by a killed process (kill -9, OOM: a response can be hundreds of MB) is recognisable and removed
# by the next fetch on the same host, once its pid no longer runs.
SPOOL_PREFIX = "file-records-dxr-spool-"
SPOOL_SUFFIX = ".jsonl"
_SPOOL_RE = re.compile(r"^" + re.escape(SPOOL_PREFIX) + r"(\d+)-([0-9a-f]{8})-.*" + re.escape(SPOOL_SUFFIX) + r"$")


def _host_tag() -> str:
    """8 hex digits naming this host: a spool directory shared between machines never has another
    machine's files removed (their pids mean nothing here)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def spool_prefix() -> str:
    return f"{SPOOL_PREFIX}{os.getpid()}-{_host_tag()}-"


def _pid_running(pid: int) -> bool:
    if pid <= 0:
        return True  # not a real owner: leave the file alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def remove_stale_spools(spool_dir: Optional[str] = None) -> list[str]:
    """Remove this host's spool files in ``spool_dir`` (default: the temp folder) whose owning
    process no longer runs; returns the removed paths. Files of this process, of running processes
    and of other hosts are kept; a file that cannot be removed is only logged."""
    folder = spool_dir or tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    host, me = _host_tag(), os.getpid()
    removed = []
    for name in names:
        match = _SPOOL_RE.match(name)
        if not match or match.group(2) != host:
            continue
        pid = int(match.group(1))
        if pid == me or _pid_running(pid):
            continue
        path = os.path.join(folder, name)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            size = os.path.getsize(path)
            os.unlink(path)
        except FileNotFoundError:
            continue  # another process cleaned it first
        except OSError as exc:
            log.warning("could not remove the stale DXR spool file %s: %s", path, exc)
            continue
        log.info("removed stale DXR spool file %s (%d bytes) left by process %d", path, size, pid)
        removed.append(path)
    return removed


class DxrError(SourceError):
    """A Data X-Ray request failed for good; the message says what to do."""


class DxrAuthError(DxrError):
    retryable = False


class DxrQueryError(DxrError):
    retryable = False


class DxrTruncatedError(DxrError):
    pass


class DxrUnavailableError(DxrError):
    pass


@dataclass(frozen=True)
class FetchOptions:
    base_url: str
    query: str
    token: str = field(repr=False)
    http_timeout: float = 120.0
    connect_timeout: float = 30.0
    verify: Union[bool, str] = True
    user_agent: str = "file-records"
    record_cap: Optional[int] = None
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    spool_dir: Optional[str] = None


@dataclass
class SpooledResponse:
    path: str
    records: int
    bytes: int
    attempts: int
    capped: bool

    def discard(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class _CappedRetry(Retry):
    """urllib3 Retry that also reads fractional Retry-After seconds ("0.5") and never sleeps
    longer than MAX_RETRY_AFTER_SECONDS."""

    def parse_retry_after(self, retry_after: str) -> float:  # type: ignore[override]
        try:
            seconds = float(retry_after.strip())
        except ValueError:
            return super().parse_retry_after(retry_after)  # an HTTP date
        return max(0.0, seconds)

    def get_retry_after(self, response):  # type: ignore[override]
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER_SECONDS)


def make_session(options: FetchOptions) -> requests.Session:
    retry = _CappedRetry(
        total=options.max_attempts - 1,
        connect=options.max_attempts - 1,
        read=0,  # a broken body is retried by fetch_to_spool, not here
        status=options.max_attempts - 1,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=options.backoff_seconds,
        backoff_max=options.backoff_max_seconds,
        backoff_jitter=options.backoff_seconds,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=2)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update(
        {
            "Authorization": f"Bearer {options.token}",
            "Accept": "application/jsonlines, application/x-ndjson, application/json",
            "User-Agent": options.user_agent,
        }
    )
    return session


def _excerpt(response: requests.Response) -> str:
    try:
        text = response.text.strip()
    except Exception:  # noqa: BLE001 - the body is only decoration for the message
        return ""
    return text[:_BODY_EXCERPT]


def _raise_for_status(response: requests.Response, options: FetchOptions) -> None:
    status = response.status_code
    if status == 200:
        return
    body = _excerpt(response)
    detail = f" Server said: {body}" if body else ""
    if status == 400:
        raise DxrQueryError(
            f"Data X-Ray rejected the query {options.query!r} (HTTP 400).{detail} "
            'Values must be double-quoted (fileName:"*.pdf"), operators are upper-case AND/OR/NOT, '
            "and dates need a time (2026-03-12T00:00:00Z or now-30d). Fix DXR_QUERY / DXR_QUERIES."
        )
    if status in (401, 403):
        reason = "Unauthorized" if status == 401 else "Forbidden"
        raise DxrAuthError(
            f"Data X-Ray answered HTTP {status} {reason} for {options.base_url}: the bearer token is "
            "missing, expired or lacks access. Set DXR_BEARER_TOKEN (local runs) or the secret named by "
            "DXR_TOKEN_SCOPE / DXR_TOKEN_KEY (Databricks) to a valid personal access token."
        )
    if status in RETRY_STATUSES:
        hint = " A 504 usually means the query is too broad: split it (DXR_QUERIES)." if status == 504 else ""
        raise DxrUnavailableError(
            f"Data X-Ray kept answering HTTP {status} for query {options.query!r} after "
            f"{options.max_attempts} attempts.{hint}{detail}"
        )
    raise DxrError(f"Data X-Ray answered HTTP {status} for query {options.query!r}.{detail}")


def _tail_is_complete(path: str) -> bool:
    """False when the response ended inside a record: a last line without newline that is not JSON."""
    size = os.path.getsize(path)
    if size == 0:
        return True
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return True
        # Walk back to the start of the unterminated last line.
        step = 1 << 16
        position = size
        tail = b""
        while position > 0:
            read_from = max(0, position - step)
            handle.seek(read_from)
            tail = handle.read(position - read_from) + tail
            position = read_from
            cut = tail.rfind(b"\n")
            if cut >= 0:
                tail = tail[cut + 1 :]
                break
    if not tail.strip():
        return True
    try:
        return isinstance(orjson.loads(tail), dict)
    except orjson.JSONDecodeError:
        return False


def _sleep_before_retry(attempt: int, options: FetchOptions, sleep: Callable[[float], None]) -> None:
    ceiling = min(options.backoff_max_seconds, options.backoff_seconds * (2 ** (attempt - 1)))
    sleep(random.uniform(ceiling / 2, ceiling))


_BODY_FAILURES = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


def fetch_to_spool(
    options: FetchOptions,
    session: Optional[requests.Session] = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Optional[Callable[[int, int], None]] = None,
) -> SpooledResponse:
    """Download one query's complete response to a local file and return where it is.

    Raises DxrTruncatedError when every attempt ended early, so an incomplete response is
    never taken for a complete snapshot. ``progress(records, bytes)`` is called as the body arrives.
    """
    remove_stale_spools(options.spool_dir)
    own_session = session is None
    session = session or make_session(options)
    url = options.base_url.rstrip("/") + FILES_PATH
    problems: list[str] = []
    try:
        for attempt in range(1, options.max_attempts + 1):
            fd, path = tempfile.mkstemp(prefix=spool_prefix(), suffix=SPOOL_SUFFIX, dir=options.spool_dir)
            keep = False
            try:
                with os.fdopen(fd, "wb") as spool:
                    outcome = _stream_once(session, url, options, spool, progress)
                if outcome is not None:
                    records, size, capped = outcome
                    if capped or _tail_is_complete(path):
                        keep = True
                        return SpooledResponse(path, records, size, attempt, capped)
                    problems.append(f"attempt {attempt}: response ended inside a record after {size} bytes")
            except _BODY_FAILURES as exc:
                problems.append(f"attempt {attempt}: connection dropped or stalled ({type(exc).__name__})")
            finally:
                if not keep:
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        pass
            log.warning("DXR query %r incomplete (%s); retrying", options.query, problems[-1])
            if attempt < options.max_attempts:
                _sleep_before_retry(attempt, options, sleep)
        raise DxrTruncatedError(
            f"Data X-Ray returned an incomplete response for query {options.query!r} on all "
            f"{options.max_attempts} attempts ({'; '.join(problems[-3:])}). The server cuts responses "
            "that exceed its size budget: split the query into narrower ones in DXR_QUERIES, for example "
            'one per datasource (datasource.id:"...") or by date range (lastModifiedAt < now-1y, '
            "lastModifiedAt >= now-1y). No partial snapshot was stored."
        )
    finally:
        if own_session:
            session.close()


def _stream_once(session: requests.Session, url: str, options: FetchOptions, spool,
                 progress: Optional[Callable[[int, int], None]] = None) -> Optional[tuple[int, int, bool]]:
    """Stream one response into `spool`; (records, bytes, capped). Raises on a broken body."""
    try:
        response = session.get(
            url,
            params={"q": options.query},
            stream=True,
            timeout=(options.connect_timeout, options.http_timeout),
            verify=options.verify,
        )
    except requests.exceptions.SSLError as exc:
        raise DxrUnavailableError(
            f"TLS to {options.base_url} failed ({type(exc).__name__}): check the certificate, set DXR_CA_BUNDLE "
            "to your CA file, or (for a test tenant only) DXR_VERIFY_SSL=false"
        ) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        # urllib3 has already retried the connection; the server cannot be reached at all.
        raise DxrUnavailableError(
            f"could not connect to Data X-Ray at {options.base_url} after {options.max_attempts} attempts "
            f"({type(exc).__name__}): check DXR_BASE_URL and the network"
        ) from None
    with response:
        _raise_for_status(response, options)
        records = 0
        size = 0
        cap = options.record_cap
        for block in response.iter_content(chunk_size=1 << 20):
            if not block:
                continue
            if cap is not None:
                newlines = block.count(b"\n")
                if records + newlines >= cap:
                    # Keep exactly `cap` complete lines and stop reading; closing the response
                    # (the `with`) releases the connection.
                    cut = _index_of_nth_newline(block, cap - records)
                    spool.write(block[: cut + 1])
                    return cap, size + cut + 1, True
                records += newlines
            else:
                records += block.count(b"\n")
            spool.write(block)
            size += len(block)
            if progress is not None:
                progress(records, size)
        return records, size, False


def _index_of_nth_newline(block: bytes, n: int) -> int:
    position = -1
    for _ in range(n):
        position = block.index(b"\n", position + 1)
    return position
