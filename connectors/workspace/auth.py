"""Credentials of the workspace scan: resolved once, where the identity is, and shipped.

On Databricks serverless and shared clusters the code on executors runs isolated, without the
notebook's or pipeline's credentials. So the scan never authenticates where a partition runs:

1. on the driver (or the CLI process), when partitions are planned, :meth:`WorkspaceAuth.ship`
   resolves databricks-sdk unified auth (host + token, a profile, the runtime's own credentials,
   OAuth) into :class:`ShippedCredentials`: the host and the request headers the SDK gives
   (``Config.authenticate()``), plus the expiry of the OAuth token when the auth type has one;
2. the credentials travel with each partition (pickled, as Spark ships any partition), never as an
   option, and their ``repr`` shows no secret, so they are in no plan, log or table;
3. a partition builds ``WorkspaceAuth(credentials=...)``: no SDK, no environment, no profile.

A streaming micro-batch plans its partitions anew, so every batch gets freshly resolved (and, for
OAuth, refreshed) credentials. If the shipped token expires during a partition, the partition
fails with :class:`CredentialsExpired` (retryable: the retried batch ships a fresh token) rather
than recording 401s as user errors.

Quiet: databricks-sdk logs "Failed to automatically resolve config from host metadata" as a
warning each time a configuration is built against a host without that endpoint; it is logged
at most once per process, at debug level (:func:`quiet_sdk_logging`).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Optional, Union

from pydantic import SecretStr

from file_records.errors import SourceError

__all__ = ["CredentialsExpired", "ShippedCredentials", "WorkspaceAuth", "as_auth", "quiet_sdk_logging"]

log = logging.getLogger(__name__)

#: A shipped token with less than this left is treated as expired (clock skew, request time).
EXPIRY_MARGIN_SECONDS = 60.0


class CredentialsExpired(SourceError):
    """The token resolved on the driver expired while a partition was scanning (retryable)."""


class _HostMetadataFilter(logging.Filter):
    _MARK = "Failed to automatically resolve config from host metadata"

    def __init__(self) -> None:
        super().__init__()
        self._seen = False
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if self._MARK not in str(record.msg):
            return True
        with self._lock:
            if self._seen:
                return False
            self._seen = True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_FILTER = _HostMetadataFilter()


def quiet_sdk_logging() -> None:
    """Log the SDK's host-metadata discovery failure at most once per process, at debug level."""
    for name in ("databricks.sdk", "databricks.sdk.config"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


quiet_sdk_logging()


class ShippedCredentials:
    """Host and auth headers resolved on the driver; picklable; ``repr`` holds no secret."""

    __slots__ = ("host", "_headers", "expires_at", "auth_type", "insecure")

    def __init__(self, host: str, headers: dict, *, expires_at: Optional[float] = None,
                 auth_type: Optional[str] = None, insecure: bool = False):
        self.host = host.rstrip("/")
        self._headers = dict(headers)
        self.expires_at = expires_at  # epoch seconds; None = no known expiry (e.g. a PAT)
        self.auth_type = auth_type
        self.insecure = insecure

    def __getstate__(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def seconds_left(self, now: Optional[float] = None) -> Optional[float]:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def headers(self) -> dict:
        left = self.seconds_left()
        if left is not None and left < EXPIRY_MARGIN_SECONDS:
            when = datetime.fromtimestamp(self.expires_at, tz=timezone.utc).isoformat(timespec="seconds")
            raise CredentialsExpired(
                f"the workspace token resolved on the driver ({self.auth_type or 'unknown'} auth) expires at "
                f"{when}; retry the batch: it resolves a fresh token when its partitions are planned")
        return dict(self._headers)

    def secrets(self) -> list[str]:
        out = []
        for value in self._headers.values():
            text = str(value)
            out.append(text)
            if " " in text:
                out.append(text.split(" ", 1)[1])
        return [s for s in out if len(s) >= 8]

    def __repr__(self) -> str:
        expiry = "" if self.expires_at is None else f", expires_at={int(self.expires_at)}"
        return f"ShippedCredentials(host={self.host!r}, auth_type={self.auth_type!r}{expiry})"

    __str__ = __repr__


class WorkspaceAuth:
    """Databricks unified auth, resolved by databricks-sdk on first use, or shipped credentials.

    ``WorkspaceAuth(host=..., token=...)``, ``WorkspaceAuth(profile="prod")``, ``WorkspaceAuth()``
    (environment / ``~/.databrickscfg`` DEFAULT / runtime credentials),
    ``WorkspaceAuth.from_client(w)``, or ``WorkspaceAuth(credentials=shipped)`` (no SDK at all: what
    a partition uses). The token is a ``SecretStr`` and never appears in ``repr`` or in error
    messages.
    """

    def __init__(self, host: Optional[str] = None, token: Union[str, SecretStr, None] = None,
                 profile: Optional[str] = None, *, client: Any = None,
                 credentials: Optional[ShippedCredentials] = None, sdk_timeout_seconds: int = 60):
        self._host = host.rstrip("/") if host else None
        self._token = SecretStr(token) if isinstance(token, str) else token
        self._profile = profile
        self._client = client
        self._credentials = credentials
        # bounds the SDK's own start-up calls (host metadata discovery, OAuth): its default
        # of 300 s would hang a scan for five minutes on an unreachable host
        self._sdk_timeout_seconds = sdk_timeout_seconds
        self._lock = threading.Lock()

    @classmethod
    def from_client(cls, client: Any) -> "WorkspaceAuth":
        return cls(client=client)

    @property
    def shipped(self) -> bool:
        return self._credentials is not None

    def workspace_client(self):
        if self._credentials is not None:
            raise RuntimeError("shipped credentials have no SDK client")
        with self._lock:
            if self._client is None:
                from databricks.sdk import WorkspaceClient
                from databricks.sdk.config import Config

                quiet_sdk_logging()
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
        from file_records.connectors.workspace.http import ApiError

        if self._credentials is not None:
            return self._credentials.host
        host = self.workspace_client().config.host
        if not host:
            raise ApiError("no Databricks host configured (DATABRICKS_HOST or a profile)", kind="config")
        return host.rstrip("/")

    @property
    def verify(self) -> bool:
        if self._credentials is not None:
            return not self._credentials.insecure
        return not bool(getattr(self.workspace_client().config, "insecure", False))

    def headers(self) -> dict:
        if self._credentials is not None:
            return self._credentials.headers()
        return dict(self.workspace_client().config.authenticate())

    def ship(self) -> ShippedCredentials:
        """Resolve the credentials here (driver / CLI) into what a partition needs."""
        if self._credentials is not None:
            return self._credentials
        config = self.workspace_client().config
        headers = dict(config.authenticate())
        expires_at: Optional[float] = None
        try:
            token = config.oauth_token()
        except Exception:  # noqa: BLE001 - not an OAuth auth type (a PAT has no known expiry)
            token = None
        expiry = getattr(token, "expiry", None)
        if isinstance(expiry, datetime):
            expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=timezone.utc)
            expires_at = expiry.timestamp()
        return ShippedCredentials(self.host, headers, expires_at=expires_at,
                                  auth_type=getattr(config, "auth_type", None),
                                  insecure=bool(getattr(config, "insecure", False)))

    def secrets(self) -> list[str]:
        if self._credentials is not None:
            return self._credentials.secrets()
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
        if self._credentials is not None:
            return f"WorkspaceAuth({self._credentials!r})"
        what = self._host or (f"profile={self._profile}" if self._profile else "unified auth")
        return f"WorkspaceAuth({what})"


AuthLike = Union[WorkspaceAuth, ShippedCredentials, Any]


def as_auth(auth: AuthLike) -> WorkspaceAuth:
    """A :class:`WorkspaceAuth`, shipped credentials, or a databricks-sdk ``WorkspaceClient``."""
    if isinstance(auth, WorkspaceAuth):
        return auth
    if isinstance(auth, ShippedCredentials):
        return WorkspaceAuth(credentials=auth)
    if auth is None:
        return WorkspaceAuth()
    if hasattr(auth, "config") and hasattr(auth.config, "authenticate"):
        return WorkspaceAuth.from_client(auth)
    raise TypeError(f"expected WorkspaceAuth or WorkspaceClient, got {type(auth).__name__}")


def _version() -> str:
    try:
        from file_records import __version__

        return __version__
    except Exception:  # noqa: BLE001
        return "0.0.0"
