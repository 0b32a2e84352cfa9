"""Progress lines from where the data is: a connector's partitions say how far they got.

A partition runs in a Spark Python worker, which has no logging set up and whose stderr goes to
the engine's output; the local runner reads that output and shows the lines that start with
:data:`PROGRESS_PREFIX` (at most every few seconds). In a process where someone listens on the
``file_records.progress`` logger (the command line, tests), the line goes there instead.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable

PROGRESS_LOGGER = "file_records.progress"
PROGRESS_PREFIX = "file-records progress: "
INTERVAL_SECONDS = 5.0


def emit(line: str, logger: logging.Logger = logging.getLogger(PROGRESS_LOGGER)) -> None:  # noqa: B008
    if logger.hasHandlers() and logger.isEnabledFor(logging.INFO):
        logger.info(line)
    else:
        print(PROGRESS_PREFIX + line, file=sys.stderr, flush=True)


class Throttled:
    """Calls ``say`` with a fresh line at most every ``interval`` seconds."""

    def __init__(self, say: Callable[[str], None] = emit, interval: float = INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._say = say
        self._interval = interval
        self._clock = clock
        self.started = clock()
        self._last = self.started

    def elapsed(self) -> float:
        return self._clock() - self.started

    def maybe(self, line: Callable[[], str], force: bool = False) -> bool:
        now = self._clock()
        if not force and now - self._last < self._interval:
            return False
        self._last = now
        self._say(line())
        return True


def records_line(label: str, records: int, size: int, seconds: float, phase: str) -> str:
    rate = records / seconds if seconds > 0 else 0.0
    return (f"{label}: {records:,} records {phase}, {size / 1e6:,.1f} MB, {rate:,.0f} records/s, "
            f"{seconds:,.0f} s")
