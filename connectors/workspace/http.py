"""GET JSON from the workspace: the shared adaptive pace, retries, backoff, ``Retry-After``.

Requests are sent through one ``requests.Session`` per scan with a pooled ``HTTPAdapter``
(``pool_maxsize`` >= threads), so connections are reused and parallel requests do not queue for a
connection. ``path`` is sent as the documented query parameter. 429 is retried after
``Retry-After`` (plus jitter) and tells the limiter to cut its pace (:mod:`.ratelimit`); 5xx,
connection errors, timeouts and unreadable bodies are retried with jittered exponential backoff;
other 4xx are final (:class:`ApiError` with a ``kind``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

import orjson
import requests
from requests.adapters import HTTPAdapter

from file_records.connectors.workspace.auth import AuthLike, CredentialsExpired, as_auth
from file_records.connectors.workspace.model import ScanConfig
from file_records.connectors.workspace.ratelimit import RateLimiter, shared_limiter
from file_records.errors import SourceError

__all__ = ["ApiError", "HttpResult", "WorkspaceHttp"]

log = logging.getLogger(__name__)

_BODY_EXCERPT = 300
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


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
        self.limiter = limiter or shared_limiter(
            f"databricks:{self.host}", self.config.max_requests_per_second, adaptive=self.config.adaptive_rate,
            initial=self.config.initial_requests_per_second)
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
            sent_at = self.limiter.now()
            retry_after: Optional[float] = None
            with self._lock:
                self.requests_sent += 1
            try:
                headers = self.auth.headers()
            except CredentialsExpired:
                raise
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
                        self.limiter.throttle(retry_after, sent_at=sent_at)
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
