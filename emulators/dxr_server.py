"""Deterministic local emulator of the Data X-Ray files API, with fault injection.

Endpoints (all ``GET``, all need ``Authorization: Bearer <token>``):

* ``/api/v1/files?q=...`` -> ``200`` ``application/jsonlines`` (chunked), one JSON object per line, each
  ending in ``\\n``. Query language: :mod:`file_records.emulators.dxr_query`.
* ``/api/v1/classifications`` -> ``{"status":"ok","data":[...]}`` with one ``LABEL`` entry per label in the
  corpus.
* anything else -> ``404``.

Order of checks for ``/api/v1/files``: bearer token (401 missing/wrong, 403 with an empty body for the token
``forbidden-token``) -> rate limit (429) -> ``fail_first_n`` (503 or ``status_for_failures``) -> missing/empty
``q`` (400 ``Insufficient parameters`` or match-all) -> query parse (400, plain-text ANTLR-style message) ->
504 rule -> streaming with truncation / reset / stall / malformed lines / per-chunk latency.

The contract it follows is ``docs/dxr-api.md``. Modules: the fault switches and the request log are in
:mod:`~file_records.emulators.dxr_faults`; the corpus buffer, query evaluation and chunk writing in
:mod:`~file_records.emulators.dxr_store` (the match-all query ``fileName:"*"`` streams zero-copy ~1 MiB
slices of the buffer without parsing; other queries decode lines lazily with orjson); this module holds
the HTTP handling, the per-query cache of matching line indexes and the command line.

CLI: ``python -m file_records.emulators.dxr_server --records 100000 --port 8765`` (see :func:`main`); the
command ``file-records emulate`` uses :func:`add_arguments` and :func:`serve`.
"""

from __future__ import annotations

import argparse
import hmac
import os
import random
import socket
import struct
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import orjson

from file_records.emulators.background import BackgroundServer, EmulatorHTTPServer
from file_records.emulators.dxr_corpus import (
    DEMO_MALFORMED_LINES,
    demo_records,
    iter_lines,
    label_classifications,
)
from file_records.emulators.dxr_faults import FaultConfig, RequestLog, RequestRecord
from file_records.emulators.dxr_query import QuerySyntaxError, is_match_all, parse_query
from file_records.emulators.dxr_store import (
    Corpus,
    build_corpus,
    corpus_labels,
    evaluate,
    write_chunk,
    write_rows,
)

__all__ = [
    "FaultConfig",
    "RequestRecord",
    "RequestLog",
    "DxrEmulator",
    "FORBIDDEN_TOKEN",
    "MATCH_ALL_QUERY",
    "add_arguments",
    "main",
    "serve",
]

FORBIDDEN_TOKEN = "forbidden-token"
MATCH_ALL_QUERY = 'fileName:"*"'
FILES_PATH = "/api/v1/files"
CLASSIFICATIONS_PATH = "/api/v1/classifications"

_CACHE_MAX_ENTRIES = 64


class _Server(EmulatorHTTPServer):
    emulator: DxrEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DxrEmulator/1.0"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.server.emulator._handle(self)  # type: ignore[attr-defined]


class DxrEmulator(BackgroundServer):
    """Local Data X-Ray files API. Use as a context manager or call :meth:`start` / :meth:`stop`."""

    _thread_name = "dxr-emulator"

    def __init__(
        self,
        records: Iterable[dict] | None = None,
        *,
        lines: Iterable[bytes] | None = None,
        token: str = "test-token",
        faults: FaultConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
    ):
        super().__init__(host, port)
        self.token = token
        self.host = host
        self.now = now
        self._faults = faults if faults is not None else FaultConfig()
        self._counters_lock = threading.Lock()
        self._counters = {
            "rate_limit": 0,
            "fail": 0,
            "truncate": 0,
            "reset": 0,
            "stall": 0,
            "files_requests": 0,
        }
        self.requests = RequestLog()
        self._cache_lock = threading.Lock()
        self._eval_lock = threading.Lock()
        self._cache: dict[str, array | None] = {}
        self._corpus = build_corpus(records, lines)

    # -- corpus ----------------------------------------------------------------------------------------------
    def set_records(
        self, records: Iterable[dict] | None = None, *, lines: Iterable[bytes] | None = None
    ) -> None:
        """Replace the corpus (records are rendered once) and clear the query cache."""
        corpus = build_corpus(records if (records is not None or lines is not None) else [], lines)
        with self._cache_lock:
            self._corpus = corpus
            self._cache = {}

    @property
    def record_count(self) -> int:
        """Number of lines served by a match-all request."""
        return self._corpus.n

    # -- faults ----------------------------------------------------------------------------------------------
    @property
    def faults(self) -> FaultConfig:
        return self._faults

    @faults.setter
    def faults(self, value: FaultConfig) -> None:
        self._faults = value
        self.reset_fault_counters()

    def reset_fault_counters(self) -> None:
        with self._counters_lock:
            for k in ("rate_limit", "fail", "truncate", "reset", "stall"):
                self._counters[k] = 0

    def _take(self, name: str, limit: int) -> bool:
        """Consume one slot of a 'first N' counter; ``limit < 0`` means unlimited."""
        with self._counters_lock:
            if limit < 0 or self._counters[name] < limit:
                self._counters[name] += 1
                return True
            return False

    # -- lifecycle -------------------------------------------------------------------------------------------
    def _make_server(self, address: tuple[str, int]) -> _Server:
        server = _Server(address, _Handler)
        server.emulator = self
        return server

    # -- query evaluation ------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.now if self.now is not None else datetime.now(timezone.utc)

    def matching_indexes(self, q: str) -> array | None:
        """Line indexes matching ``q`` (``None`` = every line, in corpus order). Raises QuerySyntaxError.

        Results are cached per query string (up to 64 queries; cleared by :meth:`set_records`). Queries with a
        relative date (``now-30d``) are not cached when the emulator uses the real clock (``now=None``).
        """
        return self._match(q)[1]

    def _match(self, q: str) -> tuple[Corpus, array | None]:
        if is_match_all(q):
            return self._corpus, None
        pred = parse_query(q, self._now())
        cacheable = self.now is not None or "now" not in q
        with self._cache_lock:
            corpus = self._corpus
            if q in self._cache:
                return corpus, self._cache[q]
        with self._eval_lock:  # one evaluation at a time; a concurrent identical query waits for the cache
            with self._cache_lock:
                if corpus is self._corpus and q in self._cache:
                    return corpus, self._cache[q]
            result = evaluate(corpus, pred)
            if cacheable:
                with self._cache_lock:
                    if corpus is self._corpus:
                        while len(self._cache) >= _CACHE_MAX_ENTRIES:
                            self._cache.pop(next(iter(self._cache)))
                        self._cache[q] = result
        return corpus, result

    # -- HTTP ------------------------------------------------------------------------------------------------
    def _auth(self, h: BaseHTTPRequestHandler) -> str:
        """'ok' | 'missing' | 'invalid' | 'forbidden'."""
        header = h.headers.get("Authorization")
        if not header:
            return "missing"
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return "invalid"
        value = value.strip()
        if value == FORBIDDEN_TOKEN:
            return "forbidden"
        if hmac.compare_digest(value.encode("utf-8"), self.token.encode("utf-8")):
            return "ok"
        return "invalid"

    @staticmethod
    def _simple(
        h,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        if body:
            h.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body:
            h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path = parts.path.rstrip("/") or "/"
        params = parse_qs(parts.query, keep_blank_values=True)
        q = params["q"][0] if "q" in params else None
        auth = self._auth(h)
        rec = RequestRecord(path=path, q=q, auth_ok=auth == "ok", method=h.command)
        self.requests.append(rec)
        try:
            if path not in (FILES_PATH, CLASSIFICATIONS_PATH):
                rec.status = 404
                self._simple(h, 404, b"Not Found\n")
                return
            if auth in ("missing", "invalid"):
                rec.status = 401
                self._simple(
                    h,
                    401,
                    b"Unauthorized: missing or invalid bearer token\n",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                return
            if auth == "forbidden":
                rec.status = 403
                self._simple(h, 403)
                return
            if path == CLASSIFICATIONS_PATH:
                data = label_classifications(corpus_labels(self._corpus).items())
                rec.status = 200
                self._simple(h, 200, orjson.dumps({"status": "ok", "data": data}), "application/json")
                return
            self._handle_files(h, rec, q)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            rec.outcome = "client_disconnected"
            h.close_connection = True

    def _handle_files(self, h, rec: RequestRecord, q: str | None) -> None:
        faults = self._faults
        with self._counters_lock:
            self._counters["files_requests"] += 1
            request_no = self._counters["files_requests"]
        if faults.rate_limit_first_n > 0 and self._take("rate_limit", faults.rate_limit_first_n):
            ra = faults.retry_after_seconds
            ra_text = str(int(ra)) if float(ra).is_integer() else repr(float(ra))
            rec.status = 429
            self._simple(h, 429, b"Too Many Requests\n", headers={"Retry-After": ra_text})
            return
        if faults.fail_first_n > 0 and self._take("fail", faults.fail_first_n):
            status = faults.status_for_failures
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            rec.status = status
            self._simple(h, status, (phrase + "\n").encode())
            return
        if q is None or not q.strip():
            if faults.missing_q == "error":
                rec.status = 400
                self._simple(h, 400, b"Insufficient parameters\n")
                return
            q = MATCH_ALL_QUERY
        try:
            corpus, indexes = self._match(q)
        except QuerySyntaxError as e:
            rec.status = 400
            self._simple(h, 400, (str(e) + "\n").encode("utf-8"))
            return
        limit = faults.gateway_timeout_match_all_over
        if limit is not None and is_match_all(q) and corpus.n > limit:
            rec.status = 504
            self._simple(h, 504)
            return
        order = indexes
        if faults.shuffle:
            order = array("q", range(corpus.n)) if indexes is None else array("q", indexes)
            lst = order.tolist()
            random.Random(request_no).shuffle(lst)
            order = array("q", lst)
        self._stream(h, rec, corpus, order, faults)

    # -- streaming -------------------------------------------------------------------------------------------
    def _stream(
        self, h, rec: RequestRecord, corpus: Corpus, order: array | None, faults: FaultConfig
    ) -> None:
        count = corpus.n if order is None else len(order)
        end = count
        ending = "complete"
        n = faults.truncate_after_rows
        if n is not None and count > n >= 0 and self._take("truncate", faults.truncate_times):
            end, ending = n, "truncated"
        n = faults.reset_after_rows
        if n is not None and n >= 0 and end > n and self._take("reset", faults.reset_times):
            end, ending = n, "reset"
        stall_at = None
        n = faults.stall_after_rows
        if n is not None and n >= 0 and end > n and self._take("stall", faults.stall_times):
            stall_at = n
        malformed: set[int] = set()
        me = faults.malformed_every
        if me and me > 0:
            last = end if ending != "complete" else end - 1
            malformed = set(range(me, last + 1, me))

        rec.status = 200
        h.send_response(200)
        h.send_header("Content-Type", "application/jsonlines")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Cache-Control", "no-store")
        h.end_headers()

        w = h.wfile
        latency = faults.latency_ms_per_chunk / 1000.0 if faults.latency_ms_per_chunk > 0 else 0.0
        chunk_bytes = max(1, int(faults.chunk_bytes))
        rows = 0
        try:
            points = sorted(malformed | {end} | ({stall_at} if stall_at is not None else set()))
            pos = 0
            m_index = 0
            for bp in points:
                if bp > pos:
                    write_rows(w, corpus, order, pos, bp, chunk_bytes, latency)
                    rows += bp - pos
                    rec.rows = rows
                pos = bp
                if bp == stall_at:
                    time.sleep(faults.stall_seconds)
                if bp in malformed:
                    bad = DEMO_MALFORMED_LINES[m_index % len(DEMO_MALFORMED_LINES)]
                    m_index += 1
                    if latency:
                        time.sleep(latency)
                    write_chunk(w, bad + b"\n")
                if bp == end:
                    break
            rec.rows = rows
            if ending == "truncated":
                idx = end if order is None else order[end]
                line = corpus.line(idx)[:-1]
                fragment = line[: max(1, len(line) // 2)]
                if latency:
                    time.sleep(latency)
                write_chunk(w, fragment)
                # Recorded before the last bytes go out: a client that has read the whole answer
                # must find it in the request log (a failed write still turns it into a disconnect).
                rec.outcome = "truncated"
                w.write(b"0\r\n\r\n")
            elif ending == "reset":
                rec.outcome = "reset"
                h.close_connection = True
                _abort_connection(h.connection, faults.reset_with_rst)
            else:
                rec.outcome = "complete"
                w.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            rec.outcome = "client_disconnected"
            h.close_connection = True


def _abort_connection(sock: socket.socket, rst: bool) -> None:
    try:
        if rst:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(sock.detach())
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# ------------------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The emulator's command-line options (also those of ``file-records emulate``)."""
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--records", type=int, default=5000, help="number of synthetic records (default 5000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--demo",
        action="store_true",
        help="serve the ~500-record demo corpus with bad records and interleaved malformed lines",
    )
    p.add_argument(
        "--token", default=None, help="accepted bearer token (default: $DXR_BEARER_TOKEN or 'dev-token')"
    )
    p.add_argument(
        "--now",
        default=None,
        help="fixed 'now' (ISO date-time) for relative query dates; default: the real clock",
    )
    p.add_argument("--latency-ms", type=float, default=0.0, help="sleep before every body chunk")
    p.add_argument("--chunk-bytes", type=int, default=1 << 20, help="target HTTP chunk size (default 1 MiB)")
    p.add_argument("--fail-first", type=int, default=0, help="answer the first N requests with 503")
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--rate-limit-first", type=int, default=0, help="answer the first N requests with 429")
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument(
        "--truncate-after", type=int, default=None, help="cut every response mid-record after N rows"
    )
    p.add_argument("--truncate-times", type=int, default=-1)
    p.add_argument("--reset-after", type=int, default=None, help="drop the connection after N rows")
    p.add_argument("--reset-times", type=int, default=-1)
    p.add_argument("--stall-after", type=int, default=None, help="pause the stream after N rows")
    p.add_argument("--stall-seconds", type=float, default=30.0)
    p.add_argument("--stall-times", type=int, default=-1)
    p.add_argument(
        "--malformed-every",
        type=int,
        default=None,
        help="interleave a malformed line every N rows (default with --demo: 100)",
    )
    p.add_argument(
        "--gateway-timeout-over",
        type=int,
        default=None,
        help="504 for a match-all query when the corpus has more records than this",
    )
    p.add_argument("--missing-q", choices=["error", "match_all"], default="error")
    p.add_argument("--shuffle", action="store_true", help="unspecified (shuffled) row order")


def _build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m file_records.emulators.dxr_server",
        description="Local Data X-Ray files API emulator (deterministic synthetic corpus, fault injection).",
    )
    add_arguments(p)
    return p


def _print_line(line: str) -> None:
    print(line, flush=True)


def token_and_source(args: argparse.Namespace) -> tuple[str, str]:
    """The bearer token the emulator accepts and where it came from: ``--token``, the environment
    (``$DXR_BEARER_TOKEN``) or the default ``dev-token``."""
    if args.token:
        return args.token, "--token"
    if os.environ.get("DXR_BEARER_TOKEN"):
        return os.environ["DXR_BEARER_TOKEN"], "$DXR_BEARER_TOKEN"
    return "dev-token", "default"


def announcement(url: str, token: str, source: str) -> list[str]:
    """What ``serve`` prints once listening: the URL, the token it accepts and the settings that
    point file-records at it. A token taken from ``$DXR_BEARER_TOKEN`` may be a real one, so it is
    named, not printed; one given with ``--token`` (or the default) is printed."""
    lines = [f"Listening on {url}  (files: {url}{FILES_PATH}?q=...)  Ctrl-C to stop"]
    if source == "$DXR_BEARER_TOKEN":
        lines.append("Bearer token: the value of $DXR_BEARER_TOKEN (not printed)")
        lines.append(f"Use it with: DXR_BASE_URL={url} (and the same DXR_BEARER_TOKEN)")
    else:
        lines.append(f"Bearer token: {token}" + ("  (default; set one with --token)" if source == "default" else ""))
        lines.append(f"Use it with: DXR_BASE_URL={url} DXR_BEARER_TOKEN={token}")
    return lines


def serve(args: argparse.Namespace, announce: Callable[[str], None] = _print_line) -> int:
    """Start the emulator the options of :func:`add_arguments` describe, announce its URL and the
    token it accepts (see :func:`announcement`) and serve until Ctrl-C."""
    token, token_source = token_and_source(args)
    now = None
    if args.now:
        now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
    malformed_every = args.malformed_every
    t0 = time.perf_counter()
    lines = None
    if args.demo:
        records = demo_records(seed=args.seed)
        if malformed_every is None:
            malformed_every = 100
    else:
        records = None
        lines = iter_lines(args.records, seed=args.seed)
    faults = FaultConfig(
        latency_ms_per_chunk=args.latency_ms,
        chunk_bytes=args.chunk_bytes,
        fail_first_n=args.fail_first,
        status_for_failures=args.fail_status,
        rate_limit_first_n=args.rate_limit_first,
        retry_after_seconds=args.retry_after,
        truncate_after_rows=args.truncate_after,
        truncate_times=args.truncate_times,
        reset_after_rows=args.reset_after,
        reset_times=args.reset_times,
        stall_after_rows=args.stall_after,
        stall_seconds=args.stall_seconds,
        stall_times=args.stall_times,
        malformed_every=malformed_every,
        gateway_timeout_match_all_over=args.gateway_timeout_over,
        missing_q=args.missing_q,
        shuffle=args.shuffle,
    )
    emu = DxrEmulator(
        records, lines=lines, token=token, faults=faults, host=args.host, port=args.port, now=now
    )
    emu.start()
    elapsed = time.perf_counter() - t0
    announce(f"DXR emulator: {emu.record_count} records ready in {elapsed:.1f}s")
    for line in announcement(emu.url, token, token_source):
        announce(line)
    emu.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m file_records.emulators.dxr_server [options]``."""
    return serve(_build_arg_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
