"""The pace of a scan: an adaptive (AIMD) limiter shared by every thread of a process.

Nobody tells the scan the workspace's request limit, so each process finds it the way a TCP flow
finds the capacity of a link:

* **slow start**: a new limiter starts at ``initial`` requests/s and doubles every
  ``doubling_seconds`` until the first ``429``;
* **additive increase**: afterwards the pace grows by ``max(min_increase, increase x pace)``
  requests/s every second while requests succeed;
* **multiplicative decrease**: a ``429`` answering a request sent *after* the last cut multiplies
  the pace by ``beta`` (a burst of 429s for requests already in flight counts once). The request
  itself waits ``Retry-After`` before it is retried (:mod:`.http`); if cuts alone do not help
  (``pause_after_cuts`` fresh cuts within one ``Retry-After``), every thread pauses for it;
* **probe**: once the pace has held the level of the last cut for ``probe_after`` seconds without
  a 429, the limit may have risen (another partition finished, another client stopped): the pace
  grows by ``probe_growth`` x pace per second until the next 429.

The pace only grows while the limiter is the bottleneck (a thread waited for a slot within the
last second), so an idle or latency-bound scan does not build up a pace it never tested.
``rate`` (``max_requests_per_second``) is a ceiling, never the pace. Several processes (Spark
partitions on several executors) each adapt on their own and together settle at the limit, as
TCP flows share a link. Requests are spaced evenly (``1 / pace`` apart): no bursts.

``RateLimiter(rate, adaptive=False)`` is a fixed pace of ``rate`` (None = unlimited) that only
pauses on 429. :func:`shared_limiter` hands out one limiter per key (the workspace host) per
process, so consecutive partitions in a reused Python worker keep what was learnt.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

__all__ = ["RateLimiter", "shared_limiter"]

_BUSY_WINDOW = 1.0  # seconds: the pace grows only if a thread waited for a slot this recently


class RateLimiter:
    def __init__(
        self,
        rate: Optional[float] = None,
        burst: float = 1.0,
        *,
        adaptive: bool = True,
        initial: float = 10.0,
        floor: float = 0.5,
        beta: float = 0.8,
        increase: float = 0.04,
        min_increase: float = 0.5,
        doubling_seconds: float = 0.5,
        probe_after: float = 2.0,
        probe_growth: float = 0.25,
        pause_after_cuts: int = 3,
        default_pause: float = 1.0,
        max_pause: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no ceiling)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._lock = threading.Lock()
        self._ceiling = rate
        self._burst = float(burst)
        self._adaptive = adaptive
        self._floor = floor
        self._beta = beta
        self._increase = increase
        self._min_increase = min_increase
        self._doubling = doubling_seconds
        self._probe_after = probe_after
        self._probe_growth = probe_growth
        self._pause_after_cuts = pause_after_cuts
        self._default_pause = default_pause
        self._max_pause = max_pause
        self._clock = clock
        self._sleep = sleep
        now = clock()
        if adaptive:
            self._pace: Optional[float] = min(initial, rate) if rate is not None else initial
        else:
            self._pace = rate
        self._slow_start = adaptive
        self._next_at = now
        self._grown_at = now
        self._last_wait = float("-inf")
        self._last_cut = float("-inf")
        self._cut_level: Optional[float] = None  # pace just before the last cut
        self._at_level_since: Optional[float] = None
        self._recent_cuts: list[float] = []
        self._paused_until = float("-inf")
        self.acquired = 0
        self.waited_seconds = 0.0
        self.throttles = 0
        self.cuts = 0
        self.pauses = 0

    # ------------------------------------------------------------------ configuration
    @property
    def rate(self) -> Optional[float]:
        """The ceiling (adaptive) or the fixed pace."""
        return self._ceiling

    @property
    def adaptive(self) -> bool:
        return self._adaptive

    @property
    def effective_rate(self) -> Optional[float]:
        """The current pace in requests/s (None = unlimited)."""
        with self._lock:
            return self._pace

    def configure(self, rate: Optional[float], burst: Optional[float] = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no ceiling)")
        with self._lock:
            self._ceiling = rate
            if not self._adaptive:
                self._pace = rate
            elif rate is not None and self._pace is not None:
                self._pace = min(self._pace, rate)
            if burst is not None:
                self._burst = float(max(1.0, burst))

    # ------------------------------------------------------------------ internals (lock held)
    def _grow(self, now: float) -> None:
        dt = min(now - self._grown_at, _BUSY_WINDOW)
        self._grown_at = now
        if not self._adaptive or self._pace is None or dt <= 0 or now - self._last_wait > _BUSY_WINDOW:
            return
        pace = self._pace
        if self._slow_start:
            pace *= 2.0 ** (dt / self._doubling)
        else:
            step = max(self._min_increase, self._increase * pace)
            if self._cut_level is not None and pace >= self._cut_level:
                if self._at_level_since is None:
                    self._at_level_since = now
                elif now - self._at_level_since >= self._probe_after:
                    step = max(step, self._probe_growth * pace)
            pace += step * dt
        if self._ceiling is not None:
            pace = min(pace, self._ceiling)
        self._pace = pace

    # ------------------------------------------------------------------ API
    def acquire(self) -> float:
        """Block until this caller may send one request; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    self._grow(now)
                    if self._pace is None:
                        delay = 0.0
                    else:
                        interval = 1.0 / self._pace
                        earliest = self._next_at - (self._burst - 1.0) * interval
                        delay = earliest - now
                        if delay <= 0:
                            self._next_at = max(self._next_at, now - interval) + interval
                    if delay <= 0:
                        self.acquired += 1
                        self.waited_seconds += waited
                        return waited
                    self._last_wait = now
            # re-check after the sleep: the pace may have been cut meanwhile
            self._sleep(delay)
            waited += delay

    def throttle(self, retry_after: Optional[float] = None, sent_at: Optional[float] = None) -> None:
        """The server answered 429 to a request sent at ``sent_at`` (this limiter's clock)."""
        pause = self._default_pause if retry_after is None else max(0.0, retry_after)
        pause = min(pause, self._max_pause)
        with self._lock:
            now = self._clock()
            self.throttles += 1
            if not self._adaptive:
                self._pause(now, pause)
                return
            if sent_at is not None and sent_at < self._last_cut:
                return  # sent before the last cut: that cut already answers this 429
            if self._pace is not None:
                self._cut_level = self._pace
                self._pace = max(self._floor, self._pace * self._beta)
                self._next_at = max(self._next_at, now + 1.0 / self._pace)
            self._slow_start = False
            self._at_level_since = None
            self._last_cut = now
            self._grown_at = now
            self.cuts += 1
            self._recent_cuts = [t for t in self._recent_cuts if now - t < max(pause, 0.5)] + [now]
            if len(self._recent_cuts) >= self._pause_after_cuts:
                self._recent_cuts = []
                self._pause(now, pause)

    def _pause(self, now: float, pause: float) -> None:
        self.pauses += 1
        self._paused_until = max(self._paused_until, now + pause)

    def now(self) -> float:
        return self._clock()

    def stats(self) -> dict:
        with self._lock:
            return {
                "ceiling": self._ceiling,
                "pace": None if self._pace is None else round(self._pace, 2),
                "acquired": self.acquired,
                "waited_seconds": round(self.waited_seconds, 3),
                "throttles": self.throttles,
                "cuts": self.cuts,
                "pauses": self.pauses,
            }

    def __repr__(self) -> str:
        kind = "adaptive" if self._adaptive else "fixed"
        return f"RateLimiter({kind}, ceiling={self._ceiling}, pace={self._pace})"


_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(key: str, rate: Optional[float], burst: float = 1.0, *, adaptive: bool = True,
                   initial: float = 10.0) -> RateLimiter:
    """The process-wide limiter for ``key`` (created on first use; later calls set its ceiling)."""
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None or limiter.adaptive != adaptive:
            limiter = _SHARED[key] = RateLimiter(rate, burst, adaptive=adaptive, initial=initial)
        elif limiter.rate != rate:
            limiter.configure(rate, burst)
        return limiter
