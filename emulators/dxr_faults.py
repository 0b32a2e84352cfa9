"""Fault injection switches of the Data X-Ray emulator, and its log of received requests.

:class:`FaultConfig` is what :class:`~file_records.emulators.dxr_server.DxrEmulator` consults for every
``/api/v1/files`` request (the order of the checks is in that module's docstring);
:class:`RequestLog` records every request with its status, rows written and outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["FaultConfig", "RequestRecord", "RequestLog"]


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
