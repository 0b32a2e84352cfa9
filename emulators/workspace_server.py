"""Local HTTP emulator of the Databricks REST endpoints the workspace inventory uses.

Serves a :class:`~file_records.emulators.workspace_tree.SyntheticWorkspace` on 127.0.0.1 (a real
``ThreadingHTTPServer`` in a daemon thread, HTTP/1.1 keep-alive), with the shapes of
``docs/workspace-api.md``:

=================================================== ===========================================
``GET /api/2.0/preview/scim/v2/Users``               SCIM ListResponse; ``startIndex`` (1-based),
                                                     ``count``, ``filter=userName eq "x"``; past
                                                     the end an empty ``Resources`` page
``GET /api/2.0/preview/scim/v2/Users/<id>``          one user
``GET /api/2.0/preview/scim/v2/Me``                  the caller (an admin)
``GET /api/2.0/dbfs/get-status`` / ``dbfs/list``     ``{"files": [...]}``; empty dir ``{}``
``GET /api/2.0/workspace/get-status`` / ``list``     ``{"objects": [...]}``; empty dir ``{}``
``GET /api/2.0/fs/directories/<path>``               Files API (volumes), paged with page_token
``GET /.well-known/databricks-config``               workspace id and OIDC endpoint (unauthenticated)
=================================================== ===========================================

``path`` is read from the query string and, failing that, from a JSON body of the GET request
(``Content-Length``), as the real service accepts both. Missing paths (a home that does
not exist, too) answer 404 ``RESOURCE_DOES_NOT_EXIST``, forbidden directories 403 ``PERMISSION_DENIED``, broken ones 500.

Faults (all attributes may be changed while the server runs):

* ``token``: every API call needs ``Authorization: Bearer <token>`` (else 401); ``None`` = no check;
* ``latency_ms``: added to every API response (also to 429 and error answers);
* ``rate_limit_per_second`` / ``rate_limit_burst``: a global token bucket over all clients and
  endpoints; a request over the limit gets 429 ``REQUEST_LIMIT_EXCEEDED`` with ``Retry-After:
  retry_after_seconds`` (a decimal number when below one second);
* ``fail_every_n``: every n-th API request (counted after the rate limit) answers 500, 502 or 503;
* ``reset_every_n``: every n-th API request has its connection reset without an answer.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from file_records.emulators.background import BackgroundServer, EmulatorHTTPServer
from file_records.emulators.workspace_model import FsEntry, WsObject
from file_records.emulators.workspace_tree import SyntheticWorkspace

__all__ = ["WorkspaceEmulator", "TokenBucket"]

SCIM_USERS = "/api/2.0/preview/scim/v2/Users"
SCIM_ME = "/api/2.0/preview/scim/v2/Me"
DBFS_LIST = "/api/2.0/dbfs/list"
DBFS_STATUS = "/api/2.0/dbfs/get-status"
WS_LIST = "/api/2.0/workspace/list"
WS_STATUS = "/api/2.0/workspace/get-status"
FS_DIRECTORIES = "/api/2.0/fs/directories"
WELL_KNOWN = "/.well-known/databricks-config"
EMULATED_WORKSPACE_ID = "1234567890123456"
LIST_ENDPOINTS = frozenset({DBFS_LIST, WS_LIST})
_FAIL_STATUSES = (500, 502, 503)
_SCIM_MAX_COUNT = 10_000


class TokenBucket:
    """Non-blocking token bucket: ``take()`` says whether a request is within the limit."""

    def __init__(self, rate: float, burst: Optional[float] = None):
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1.0, rate))
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class _Server(EmulatorHTTPServer):
    pass


class _Reset(Exception):
    pass


class WorkspaceEmulator(BackgroundServer):
    _thread_name = "workspace-emulator"

    def __init__(
        self,
        tree: Optional[SyntheticWorkspace] = None,
        *,
        token: Optional[str] = "test-token",
        latency_ms: float = 0.0,
        rate_limit_per_second: Optional[float] = None,
        rate_limit_burst: Optional[float] = None,
        retry_after_seconds: float = 1.0,
        fail_every_n: Optional[int] = None,
        reset_every_n: Optional[int] = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.tree = tree if tree is not None else SyntheticWorkspace.demo()
        self.token = token
        self.latency_ms = latency_ms
        self.retry_after_seconds = retry_after_seconds
        self.fail_every_n = fail_every_n
        self.reset_every_n = reset_every_n
        super().__init__(host, port)
        self._bucket: Optional[TokenBucket] = None
        self._rate_limit_per_second: Optional[float] = None
        self._rate_limit_burst = rate_limit_burst
        self.rate_limit_per_second = rate_limit_per_second
        self._lock = threading.Lock()
        self.reset_counters()

    # ------------------------------------------------------------------ faults
    @property
    def rate_limit_per_second(self) -> Optional[float]:
        return self._rate_limit_per_second

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, value: Optional[float]) -> None:
        self._rate_limit_per_second = value
        self._bucket = TokenBucket(value, self._rate_limit_burst) if value else None

    @property
    def rate_limit_burst(self) -> Optional[float]:
        return self._rate_limit_burst

    @rate_limit_burst.setter
    def rate_limit_burst(self, value: Optional[float]) -> None:
        self._rate_limit_burst = value
        self.rate_limit_per_second = self._rate_limit_per_second

    # ------------------------------------------------------------------ counters
    def reset_counters(self) -> None:
        with self._lock:
            self._request_count = 0
            self._api_seq = 0
            self._by_path: Counter = Counter()
            self._by_status: Counter = Counter()
            self._listings: Counter = Counter()
            # requests still being answered keep counting (their _leave comes later)
            self._concurrency = getattr(self, "_concurrency", 0)
            self._max_concurrency = self._concurrency
            self._first_at: Optional[float] = None
            self._last_done_at: Optional[float] = None

    @property
    def request_count(self) -> int:
        """Every HTTP request received (including 401, 429, injected faults)."""
        return self._request_count

    @property
    def requests_by_path(self) -> Counter:
        """Requests per endpoint, e.g. ``{'/api/2.0/workspace/list': 12}`` (Files API and SCIM
        single-user calls are counted under their collection path)."""
        with self._lock:
            return Counter(self._by_path)

    @property
    def responses_by_status(self) -> Counter:
        """Answers per HTTP status (``'reset'`` for connections reset)."""
        with self._lock:
            return Counter(self._by_status)

    @property
    def listings(self) -> Counter:
        """Requests per ``(endpoint, path parameter)`` for the list/get-status endpoints."""
        with self._lock:
            return Counter(self._listings)

    @property
    def busy_seconds(self) -> float:
        """From the first API request received to the last one answered (since the last reset)."""
        with self._lock:
            if self._first_at is None or self._last_done_at is None:
                return 0.0
            return max(0.0, self._last_done_at - self._first_at)

    @property
    def max_concurrency(self) -> int:
        """Most API requests being handled at the same moment."""
        return self._max_concurrency

    # ------------------------------------------------------------------ lifecycle
    def _make_server(self, address: tuple[str, int]) -> _Server:
        return _Server(address, _make_handler(self))

    # ------------------------------------------------------------------ request handling
    def _count(self, path: str) -> None:
        for prefix in (FS_DIRECTORIES, SCIM_USERS):
            if path.startswith(prefix + "/"):
                path = prefix
        with self._lock:
            self._request_count += 1
            self._by_path[path] += 1
            if path != WELL_KNOWN and self._first_at is None:
                self._first_at = time.monotonic()

    def _status(self, status) -> None:
        with self._lock:
            self._by_status[status] += 1

    def _enter(self) -> None:
        with self._lock:
            self._concurrency += 1
            self._max_concurrency = max(self._max_concurrency, self._concurrency)

    def _leave(self) -> None:
        with self._lock:
            self._concurrency -= 1
            self._last_done_at = time.monotonic()

    def _next_fault(self) -> Optional[str]:
        with self._lock:
            self._api_seq += 1
            seq = self._api_seq
        if self.reset_every_n and seq % self.reset_every_n == 0:
            return "reset"
        if self.fail_every_n and seq % self.fail_every_n == 0:
            return str(_FAIL_STATUSES[(seq // self.fail_every_n) % len(_FAIL_STATUSES)])
        return None

    def handle(self, method: str, raw_path: str, query: dict, body: Optional[dict], headers) -> tuple:
        """Pure routing: returns ``(status, json_or_None, extra_headers)`` or raises _Reset."""
        path = raw_path.rstrip("/") or "/"
        if path == WELL_KNOWN:
            # Unauthenticated, as on a real workspace; databricks-sdk probes it when a client is built
            # (and logs a warning on every probe that fails).
            return 200, {"oidc_endpoint": f"{self.url}/oidc", "workspace_id": EMULATED_WORKSPACE_ID}, {}
        if self.token is not None:
            auth = headers.get("Authorization", "")
            if auth != f"Bearer {self.token}":
                return 401, {"error_code": "UNAUTHENTICATED",
                             "message": "Credential was not sent or was of an unsupported type for this API."}, {}
        if self._bucket is not None and not self._bucket.take():
            retry_after = self.retry_after_seconds
            value = f"{retry_after:g}" if retry_after < 1 else str(int(round(retry_after)))
            return 429, {"error_code": "REQUEST_LIMIT_EXCEEDED",
                         "message": "Too many requests. Please wait a moment and try again."}, {"Retry-After": value}
        fault = self._next_fault()
        if fault == "reset":
            raise _Reset()
        if fault is not None:
            code = int(fault)
            error_code = {500: "INTERNAL_ERROR", 502: "BAD_GATEWAY", 503: "TEMPORARILY_UNAVAILABLE"}[code]
            return code, {"error_code": error_code, "message": "injected fault"}, {}
        if method != "GET":
            return 405, {"error_code": "BAD_REQUEST", "message": f"{method} not supported"}, {}

        if path == SCIM_USERS:
            return self._scim_list(query)
        if path.startswith(SCIM_USERS + "/"):
            return self._scim_get(path[len(SCIM_USERS) + 1:])
        if path == SCIM_ME:
            return 200, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1",
                         "userName": "admin@example.com", "displayName": "Emulator Admin", "active": True}, {}
        if path.startswith(FS_DIRECTORIES + "/"):
            return self._fs_directories(unquote(path[len(FS_DIRECTORIES):]), query)
        if path in (DBFS_LIST, DBFS_STATUS, WS_LIST, WS_STATUS):
            target = _param(query, body, "path")
            if target is None:
                return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Missing required field: path"}, {}
            if path.startswith("/api/2.0/dbfs/"):
                target = target[len("dbfs:"):] if target.startswith("dbfs:") else target
            elif target.startswith("/Workspace/"):
                target = target[len("/Workspace"):]
            target = target.rstrip("/") or "/"
            with self._lock:
                self._listings[(path, target)] += 1
            return {DBFS_LIST: self._dbfs_list, DBFS_STATUS: self._dbfs_status,
                    WS_LIST: self._ws_list, WS_STATUS: self._ws_status}[path](target)
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for 'GET {path}'"}, {}

    # -- SCIM
    def _scim_list(self, query: dict) -> tuple:
        try:
            start = max(1, int(_first(query, "startIndex") or 1))
            count = int(_first(query, "count") or _SCIM_MAX_COUNT)
        except ValueError:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "startIndex and count are integers"}, {}
        count = max(0, min(count, _SCIM_MAX_COUNT))
        users = self.tree.scim_users()
        flt = _first(query, "filter")
        if flt:
            try:
                users = _scim_filter(users, flt)
            except ValueError as exc:
                return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": str(exc)}, {}
        page = users[start - 1:start - 1 + count]
        resources = [u.to_scim() for u in page]
        attributes = _first(query, "attributes")
        if attributes:
            keep = {a.strip() for a in attributes.split(",")} | {"id", "schemas"}
            resources = [{k: v for k, v in r.items() if k in keep} for r in resources]
        return 200, {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": len(users),
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }, {}

    def _scim_get(self, user_id: str) -> tuple:
        for user in self.tree.scim_users():
            if user.user_id == user_id:
                return 200, user.to_scim(), {}
        return 404, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404",
                     "detail": f"User {user_id} not found."}, {}

    # -- DBFS
    def _dbfs_entry(self, target: str) -> tuple[Optional[tuple], Optional[FsEntry]]:
        if self.tree.fault("dbfs", target) == "forbidden":
            return _forbidden(target), None
        entry = self.tree.dbfs.get(target)
        if entry is None:
            return (404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                          "message": f"No file or directory exists on path {target}."}, {}), None
        return None, entry  # type: ignore[return-value]

    def _dbfs_status(self, target: str) -> tuple:
        err, entry = self._dbfs_entry(target)
        return err or (200, entry.to_dbfs_json(), {})

    def _dbfs_list(self, target: str) -> tuple:
        err, entry = self._dbfs_entry(target)
        if err:
            return err
        if self.tree.fault("dbfs", target) == "error":
            return 500, {"error_code": "INTERNAL_ERROR", "message": f"Internal error listing {target}"}, {}
        if not entry.is_dir:
            return 200, {"files": [entry.to_dbfs_json()]}, {}
        kids = self.tree.dbfs.list(target) or []
        return 200, ({"files": [k.to_dbfs_json() for k in kids]} if kids else {}), {}

    # -- Workspace
    def _ws_entry(self, target: str) -> tuple[Optional[tuple], Optional[WsObject]]:
        if self.tree.fault("workspace", target) == "forbidden":
            return _forbidden(target), None
        entry = self.tree.workspace.get(target)
        if entry is None:
            return (404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                          "message": f"Path ({target}) doesn't exist."}, {}), None
        return None, entry  # type: ignore[return-value]

    def _ws_status(self, target: str) -> tuple:
        err, entry = self._ws_entry(target)
        return err or (200, entry.to_json(), {})

    def _ws_list(self, target: str) -> tuple:
        err, entry = self._ws_entry(target)
        if err:
            return err
        if self.tree.fault("workspace", target) == "error":
            return 500, {"error_code": "INTERNAL_ERROR", "message": f"Internal error listing {target}"}, {}
        if not entry.is_dir:
            return 200, {"objects": [entry.to_json()]}, {}
        kids = self.tree.workspace.list(target) or []
        return 200, ({"objects": [k.to_json() for k in kids]} if kids else {}), {}

    # -- Files API (volumes)
    def _fs_directories(self, target: str, query: dict) -> tuple:
        target = target.rstrip("/") or "/"
        with self._lock:
            self._listings[(FS_DIRECTORIES, target)] += 1
        if self.tree.fault("volume", target) == "forbidden":
            return _forbidden(target)
        if self.tree.fault("volume", target) == "error":
            return 500, {"error_code": "INTERNAL_ERROR", "message": f"Internal error listing {target}"}, {}
        entry = self.tree.volume.get(target)
        if entry is None or not entry.is_dir:
            return 404, {"error_code": "NOT_FOUND", "message": f"The directory {target} does not exist."}, {}
        try:
            page_size = max(1, min(1000, int(_first(query, "page_size") or 1000)))
            offset = int(_first(query, "page_token") or 0)
        except ValueError:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad page_size or page_token"}, {}
        kids = self.tree.volume.list(target) or []
        page = kids[offset:offset + page_size]
        out: dict = {}
        if page:
            out["contents"] = [k.to_files_api_json() for k in page]
        if offset + page_size < len(kids):
            out["next_page_token"] = str(offset + page_size)
        return 200, out, {}


def _forbidden(target: str) -> tuple:
    return 403, {"error_code": "PERMISSION_DENIED",
                 "message": f"User does not have permission to access {target}."}, {}


def _first(query: dict, key: str) -> Optional[str]:
    values = query.get(key)
    return values[0] if values else None


def _param(query: dict, body: Optional[dict], key: str) -> Optional[str]:
    value = _first(query, key)
    if value is None and isinstance(body, dict):
        raw = body.get(key)
        value = raw if isinstance(raw, str) else None
    return value


def _scim_filter(users: list, expression: str) -> list:
    parts = expression.strip().split(None, 2)
    if len(parts) != 3 or parts[1].lower() != "eq":
        raise ValueError(f"Unsupported filter {expression!r}: only 'attribute eq value' is emulated")
    attr, _, raw = parts
    raw = raw.strip()
    if raw.startswith('"') and raw.endswith('"'):
        value: object = raw[1:-1]
    elif raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        value = raw
    getters = {"username": lambda u: u.username, "displayname": lambda u: u.display_name,
               "active": lambda u: u.active, "id": lambda u: u.user_id}
    getter = getters.get(attr.lower())
    if getter is None:
        raise ValueError(f"Unsupported filter attribute {attr!r}")
    if isinstance(value, str) and attr.lower() == "username":
        return [u for u in users if getter(u).lower() == value.lower()]
    return [u for u in users if getter(u) == value]


def _make_handler(emulator: WorkspaceEmulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "databricks-emulator/1.0"
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # quiet
            pass

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            emulator._count(parts.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            body = None
            if raw:
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    self._send(400, {"error_code": "MALFORMED_REQUEST", "message": "body is not JSON"}, {})
                    return
            query = parse_qs(parts.query, keep_blank_values=True)
            emulator._enter()
            try:
                try:
                    status, payload, extra = emulator.handle(method, parts.path, query, body, self.headers)
                except _Reset:
                    emulator._status("reset")
                    self._delay()
                    self._reset()
                    return
                if parts.path != WELL_KNOWN:
                    self._delay()
                self._send(status, payload, extra)
            finally:
                emulator._leave()

        def _delay(self) -> None:
            if emulator.latency_ms > 0:
                time.sleep(emulator.latency_ms / 1000.0)

        def _reset(self) -> None:
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            self.close_connection = True

        def _send(self, status: int, payload, extra: dict) -> None:
            emulator._status(status)
            data = orjson.dumps(payload) if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


def main(argv: Optional[list[str]] = None) -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description="Serve a synthetic Databricks workspace")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--users", type=int, default=0, help="generate this many users (0 = demo workspace)")
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--missing-ratio", type=float, default=0.03, help="users without either home")
    parser.add_argument("--missing-dbfs-ratio", type=float, default=0.0, help="users without a DBFS home")
    parser.add_argument("--missing-workspace-ratio", type=float, default=0.0,
                        help="users without a Workspace home")
    parser.add_argument("--empty-workspace-ratio", type=float, default=0.0,
                        help="users with an empty Workspace home and no DBFS home")
    args = parser.parse_args(argv)
    tree = SyntheticWorkspace.generate(
        args.users, missing_ratio=args.missing_ratio, missing_dbfs_ratio=args.missing_dbfs_ratio,
        missing_workspace_ratio=args.missing_workspace_ratio, empty_workspace_ratio=args.empty_workspace_ratio,
    ) if args.users else SyntheticWorkspace.demo()
    emu = WorkspaceEmulator(tree, token=args.token, latency_ms=args.latency_ms,
                            rate_limit_per_second=args.rate_limit, port=args.port)
    emu.start()
    print(f"Databricks workspace emulator on {emu.url} ({len(tree.users)} users); Ctrl-C stops")
    emu.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
