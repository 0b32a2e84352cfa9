"""Deterministic local emulator of the Data X-Ray files API, with fault injection.

Endpoints (all ``GET``, all need ``Authorization: Bearer <token>``):

* ``/api/v1/files?q=...`` -> ``200`` ``application/jsonlines`` (chunked), one JSON object per line, each
  ending in ``\\n``. Query language: :mod:`connectors.emulator.dxr_query`.
* ``/api/v1/classifications`` -> ``{"status":"ok","data":[...]}`` with one ``LABEL`` entry per label in the
  corpus.
* anything else -> ``404``.

Order of checks for ``/api/v1/files``: bearer token (401 missing/wrong, 403 with an empty body for the token
``forbidden-token``) -> rate limit (429) -> ``fail_first_n`` (503 or ``status_for_failures``) -> missing/empty
``q`` (400 ``Insufficient parameters`` or match-all) -> query parse (400, plain-text ANTLR-style message) ->
504 rule -> streaming with truncation / reset / stall / malformed lines / per-chunk latency.

The corpus is held as one buffer (every line newline-terminated) plus an offsets array; the match-all
query ``fileName:"*"`` streams zero-copy ~1 MiB slices of it without parsing. Other queries decode lines
lazily with orjson, and the list of matching line indexes is cached per query string.

CLI: ``python -m connectors.emulator.dxr_server --records 100000 --port 8765`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import bisect
import hmac
import os
import random
import socket
import struct
import sys
import threading
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import orjson

from connectors.emulator.background import BackgroundServer, EmulatorHTTPServer
from connectors.emulator.dxr_corpus import (
    DEMO_MALFORMED_LINES,
    collect_labels,
    demo_records,
    generate_records,
    iter_lines,
    label_classifications,
)
from connectors.emulator.dxr_query import QuerySyntaxError, is_match_all, parse_query

__all__ = [
    "FaultConfig",
    "RequestRecord",
    "RequestLog",
    "DxrEmulator",
    "FORBIDDEN_TOKEN",
    "MATCH_ALL_QUERY",
    "main",
]

FORBIDDEN_TOKEN = "forbidden-token"
MATCH_ALL_QUERY = 'fileName:"*"'
FILES_PATH = "/api/v1/files"
CLASSIFICATIONS_PATH = "/api/v1/classifications"

_CACHE_MAX_ENTRIES = 64


@dataclass
class FaultConfig:
    """Switchable misbehaviour of ``/api/v1/files``. Mutable at runtime (``emu.faults.x = ...``).

    "first N" counters start at zero when the emulator starts and whenever a new ``FaultConfig`` is assigned
    to :attr:`DxrEmulator.faults` (or :meth:`DxrEmulator.reset_fault_counters` is called). ``*_times``
    counters count only responses where the fault actually fired (a response shorter than the threshold is
    neither truncated, reset nor stalled and does not use up a ``*_times`` slot).
    """

    latency_ms_per_chunk: float = 0.0  #: sleep before every body chunk
    fail_first_n: int = 0  #: answer the first N (authorised) requests with ``status_for_failures``
    status_for_failures: int = 503
    rate_limit_first_n: int = 0  #: first N (authorised) requests get 429 + ``Retry-After``
    retry_after_seconds: float = 1.0  #: sent as an integer if whole, else as a decimal string
    #: a match-all query over a corpus larger than this -> 504 with an empty body
    gateway_timeout_match_all_over: int | None = None
    #: N rows, then the first half of row N+1, then a clean end of the chunked body (status 200)
    truncate_after_rows: int | None = None
    truncate_times: int = -1  #: -1 = every response; K = only the first K truncations
    reset_after_rows: int | None = None  #: N rows, then the socket is closed without a chunk terminator
    reset_times: int = -1
    reset_with_rst: bool = False  #: False: close with FIN ("premature EOF"); True: TCP RST (SO_LINGER 0)
    stall_after_rows: int | None = None  #: N rows, then no bytes for ``stall_seconds``, then the rest
    stall_seconds: float = 0.0
    stall_times: int = -1
    #: after every N rows one line of DEMO_MALFORMED_LINES (never as the last line)
    malformed_every: int | None = None
    missing_q: str = "error"  #: "error" -> 400 ``Insufficient parameters``; "match_all"
    shuffle: bool = False  #: unspecified row order: shuffled, seeded by the files-request sequence number
    chunk_bytes: int = 1 << 20  #: target size of one HTTP chunk

    def __post_init__(self):
        if self.missing_q not in ("error", "match_all"):
            raise ValueError("missing_q must be 'error' or 'match_all'")


@dataclass
class RequestRecord:
    """One received request. ``status``/``rows``/``outcome`` are filled in while it is answered."""

    path: str
    q: str | None
    auth_ok: bool
    method: str = "GET"
    status: int | None = None
    rows: int | None = None  #: data rows written (malformed lines and truncated fragments not counted)
    outcome: str | None = None  #: complete | truncated | reset | client_disconnected | error
    at: float = field(default_factory=time.time)


class RequestLog:
    """Thread-safe, list-like log of :class:`RequestRecord`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: list[RequestRecord] = []

    def append(self, rec: RequestRecord) -> None:
        with self._lock:
            self._items.append(rec)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._items if path is None or r.path == path)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __getitem__(self, i):
        with self._lock:
            return self._items[i]

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"


class _Corpus:
    """Immutable rendered corpus: blob of newline-terminated lines + offsets (len n+1)."""

    __slots__ = ("blob", "offs", "n", "labels", "trusted")

    def __init__(self, blob: bytearray, offs: array, labels: dict[str, str] | None, trusted: bool):
        self.blob = blob
        self.offs = offs
        self.n = len(offs) - 1
        self.labels = labels  # name -> id, or None if unknown yet (lines given)
        self.trusted = trusted  # lines rendered by orjson here (allows the byte-level prefilter)

    def line(self, i: int) -> bytes:
        return bytes(self.blob[self.offs[i] : self.offs[i + 1]])


def _build_corpus(records: Iterable[dict] | None, lines: Iterable[bytes] | None) -> _Corpus:
    """Render once into one buffer (each line + ``\\n``) and an offsets array; no per-line objects kept."""
    if records is not None and lines is not None:
        raise ValueError("pass either records or lines, not both")
    buf = bytearray()
    offs = array("q", [0])
    add_off = offs.append
    labels: dict[str, str] | None
    if lines is None:
        if records is None:
            records = generate_records(1000)  # default corpus: 1000 records, seed 7
        dumps = orjson.dumps
        labels = {}
        for r in records:
            buf += dumps(r)
            buf += b"\n"
            add_off(len(buf))
            collect_labels(r, labels)
        trusted = True
    else:
        trusted = bool(getattr(lines, "orjson_rendered", False))
        for ln in lines:
            if isinstance(ln, str):
                ln = ln.encode("utf-8")
            if ln.endswith(b"\n"):
                ln = ln.rstrip(b"\r\n")
            if b"\n" in ln:
                raise ValueError("a line must not contain a newline")
            buf += ln
            buf += b"\n"
            add_off(len(buf))
        labels = getattr(lines, "labels", None)  # RenderedLines / LineStream know their labels
        labels = dict(labels) if labels is not None else None
    return _Corpus(buf, offs, labels, trusted)


def _prefilter_literals(pred) -> list[str]:
    """Lower-cased ASCII literals that every matching line must contain (after lower-casing the line).

    Sound for orjson-rendered lines only: a matching value ``v`` satisfies ``lower(v) ⊇ lower(literal)``,
    ``v`` appears verbatim in the line (orjson escapes only ``"``, ``\\`` and control characters, which the
    literals exclude), and ``str.lower`` works per character, so ``lower(line) ⊇ lower(literal)``.
    """
    out = set()
    for lit in pred.required_literals():
        if lit and lit.isascii() and lit.isprintable() and '"' not in lit and "\\" not in lit:
            out.add(lit.lower())
    # longest first: usually the most selective test
    return sorted(out, key=len, reverse=True)


class _Server(EmulatorHTTPServer):
    emulator: DxrEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DxrEmulator/1.0"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - silence default stderr logging
        pass

    def do_GET(self):  # noqa: N802
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
        self._corpus = _build_corpus(records, lines)

    # -- corpus ----------------------------------------------------------------------------------------------
    def set_records(
        self, records: Iterable[dict] | None = None, *, lines: Iterable[bytes] | None = None
    ) -> None:
        """Replace the corpus (records are rendered once) and clear the query cache."""
        corpus = _build_corpus(records if (records is not None or lines is not None) else [], lines)
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

    def _match(self, q: str) -> tuple[_Corpus, array | None]:
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
            result = self._evaluate(corpus, pred)
            if cacheable:
                with self._cache_lock:
                    if corpus is self._corpus:
                        while len(self._cache) >= _CACHE_MAX_ENTRIES:
                            self._cache.pop(next(iter(self._cache)))
                        self._cache[q] = result
        return corpus, result

    @staticmethod
    def _evaluate(corpus: _Corpus, pred) -> array | None:
        lits = _prefilter_literals(pred) if corpus.trusted else []
        blits = [lit.encode("ascii") for lit in lits]
        blob, offs = corpus.blob, corpus.offs
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        out = array("q")
        append = out.append
        i = -1
        for a, b in zip(offs, offs[1:]):  # noqa: B905 - offs[1:] is one shorter
            i += 1
            line = blob[a:b]
            if lits:
                if line.isascii():  # bytearray methods, same semantics as bytes
                    low = line.lower()
                    if not all(lit in low for lit in blits):
                        continue
                else:
                    try:
                        slow = line.decode("utf-8").lower()
                    except UnicodeDecodeError:
                        continue
                    if not all(lit in slow for lit in lits):
                        continue
            try:
                rec = loads(line)
            except decode_error:
                continue
            if isinstance(rec, dict) and pred(rec):
                append(i)
        if len(out) == corpus.n:
            return None
        return out

    def _classification_labels(self) -> dict[str, str]:
        corpus = self._corpus
        if corpus.labels is None:
            labels: dict[str, str] = {}
            for a, b in zip(corpus.offs, corpus.offs[1:]):  # noqa: B905
                try:
                    rec = orjson.loads(corpus.blob[a:b])
                except orjson.JSONDecodeError:
                    continue
                labs = rec.get("labels") if isinstance(rec, dict) else None
                if isinstance(labs, list):
                    for lab in labs:
                        if isinstance(lab, dict) and isinstance(lab.get("name"), str):
                            labels.setdefault(lab["name"], lab.get("id"))
            corpus.labels = labels
        return corpus.labels

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
                data = label_classifications(self._classification_labels().items())
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
        self, h, rec: RequestRecord, corpus: _Corpus, order: array | None, faults: FaultConfig
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
                    self._write_rows(w, corpus, order, pos, bp, chunk_bytes, latency)
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
                    _write_chunk(w, bad + b"\n")
                if bp == end:
                    break
            rec.rows = rows
            if ending == "truncated":
                idx = end if order is None else order[end]
                line = corpus.line(idx)[:-1]
                fragment = line[: max(1, len(line) // 2)]
                if latency:
                    time.sleep(latency)
                _write_chunk(w, fragment)
                w.write(b"0\r\n\r\n")
                rec.outcome = "truncated"
            elif ending == "reset":
                rec.outcome = "reset"
                h.close_connection = True
                _abort_connection(h.connection, faults.reset_with_rst)
            else:
                w.write(b"0\r\n\r\n")
                rec.outcome = "complete"
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            rec.outcome = "client_disconnected"
            h.close_connection = True

    @staticmethod
    def _write_rows(
        w, corpus: _Corpus, order: array | None, a: int, b: int, chunk_bytes: int, latency: float
    ):
        offs = corpus.offs
        blob = corpus.blob
        sleep = time.sleep
        if order is None:
            mv = memoryview(blob)
            while a < b:
                # smallest c > a with offs[c] - offs[a] >= chunk_bytes (or b)
                c = bisect.bisect_left(offs, offs[a] + chunk_bytes, a + 1, b)
                if latency:
                    sleep(latency)
                _write_chunk(w, mv[offs[a] : offs[c]])
                a = c
            return
        parts: list[bytes] = []
        size = 0
        for idx in order[a:b]:
            line = blob[offs[idx] : offs[idx + 1]]
            parts.append(line)
            size += len(line)
            if size >= chunk_bytes:
                if latency:
                    sleep(latency)
                _write_chunk(w, b"".join(parts))
                parts, size = [], 0
        if parts:
            if latency:
                sleep(latency)
            _write_chunk(w, b"".join(parts))


def _write_chunk(w, data) -> None:
    n = len(data)
    if n == 0:
        return  # a zero-length chunk would be the terminator
    if n < 65536:
        w.write(b"%x\r\n" % n + bytes(data) + b"\r\n")
    else:
        w.write(b"%x\r\n" % n)
        w.write(data)
        w.write(b"\r\n")


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


def _build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m connectors.emulator.dxr_server",
        description="Local Data X-Ray files API emulator (deterministic synthetic corpus, fault injection).",
    )
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = _build_arg_parser().parse_args(argv)
    token = args.token or os.environ.get("DXR_BEARER_TOKEN") or "dev-token"
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
    print(f"DXR emulator: {emu.record_count} records ready in {elapsed:.1f}s", flush=True)
    print(f"Listening on {emu.url}  (files: {emu.url}{FILES_PATH}?q=...)  Ctrl-C to stop", flush=True)
    emu.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
