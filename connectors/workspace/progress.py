"""Progress of a workspace scan: counters, and a log line at most every few seconds.

Each scan (one partition, or the whole scan in one process) keeps a :class:`ScanProgress`: users
done / total, folders listed, requests sent, 429s answered, the current pace. Every
``interval`` seconds at most it logs one line through the ``file_records.progress`` logger (INFO),
with the figures also in ``record.progress`` (a dict) for a console display to read:

    workspace scan shard 1/4: 37/60 users, 412 folders listed, 958 requests (19.6/s, pace 22.0/s), 3 answered 429
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

__all__ = ["PROGRESS_LOGGER", "ScanProgress"]

PROGRESS_LOGGER = "file_records.progress"
log = logging.getLogger(PROGRESS_LOGGER)


class ScanProgress:
    def __init__(self, users_total: Optional[int] = None, *, label: str = "workspace scan", interval: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, logger: logging.Logger = log):
        self.label = label
        self.users_total = users_total
        self.users_done = 0
        self.folders_listed = 0
        self.requests = 0
        self.throttled = 0
        self.pace: Optional[float] = None
        self._interval = interval
        self._clock = clock
        self._logger = logger
        self._lock = threading.Lock()
        self.started = clock()
        self._logged_at = self.started
        self._logged_requests = 0

    def user_done(self, n: int = 1) -> None:
        with self._lock:
            self.users_done += n

    def folders(self, n: int = 1) -> None:
        with self._lock:
            self.folders_listed += n

    def traffic(self, requests: int, throttled: int, pace: Optional[float]) -> None:
        """Totals so far (from the HTTP layer and the limiter)."""
        with self._lock:
            self.requests, self.throttled, self.pace = requests, throttled, pace

    def snapshot(self) -> dict:
        with self._lock:
            elapsed = max(self._clock() - self.started, 1e-9)
            return {
                "label": self.label, "users_done": self.users_done, "users_total": self.users_total,
                "folders_listed": self.folders_listed, "requests": self.requests, "throttled": self.throttled,
                "requests_per_second": round(self.requests / elapsed, 2),
                "pace": None if self.pace is None else round(self.pace, 2), "elapsed_seconds": round(elapsed, 1),
            }

    def maybe_log(self, force: bool = False) -> bool:
        """Log one line if ``interval`` seconds passed since the last (or ``force``)."""
        now = self._clock()
        with self._lock:
            if not force and now - self._logged_at < self._interval:
                return False
            window = max(now - self._logged_at, 1e-9)
            recent_rate = (self.requests - self._logged_requests) / window
            self._logged_at, self._logged_requests = now, self.requests
        if not self._logger.isEnabledFor(logging.INFO):
            return True
        figures = self.snapshot()
        figures["recent_requests_per_second"] = round(recent_rate, 2)
        total = "?" if self.users_total is None else str(self.users_total)
        pace = "unlimited" if figures["pace"] is None else f"{figures['pace']:.1f}/s"
        self._logger.info(
            "%s: %d/%s users, %d folders listed, %d requests (%.1f/s, pace %s), %d answered 429",
            self.label, figures["users_done"], total, figures["folders_listed"], figures["requests"],
            recent_rate, pace, figures["throttled"], extra={"progress": figures},
        )
        return True
