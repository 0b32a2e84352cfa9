"""A thread-safe token bucket shared by every thread of a process, that backs off on 429.

``acquire()`` reserves the next free slot and sleeps outside the lock until it comes (tokens may go
negative: that is the queue of reservations), so N threads together never exceed ``rate`` requests
a second plus ``burst``. The default burst of one token spreads requests evenly, which keeps a
client that knows the server's limit from ever being answered 429.

``throttle(retry_after)`` is called when the server answers 429 anyway (the limit is shared with
other clients, or the configured rate is too high):

* every thread pauses until ``retry_after`` has passed (capped by ``max_pause``); reservations
  already handed out are honoured after the pause;
* the rate is halved (at most once per ``cut_interval`` seconds, never below ``min_factor`` ×
  ``rate``) and recovers linearly to the configured rate over ``recovery_seconds``.

With ``rate=None`` there is no steady limit, only the pauses.

:func:`shared_limiter` hands out one limiter per key (e.g. per workspace host) per process, so
every scan in a Python worker process shares the same budget.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

__all__ = ["RateLimiter", "shared_limiter"]


class RateLimiter:
    def __init__(
        self,
        rate: Optional[float],
        burst: float = 1.0,
        *,
        min_factor: float = 0.25,
        recovery_seconds: float = 10.0,
        cut_interval: float = 1.0,
        default_pause: float = 1.0,
        max_pause: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no steady limit)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._lock = threading.Lock()
        self._rate = rate
        self._burst = float(burst)
        self._min_factor = min_factor
        self._recovery_seconds = recovery_seconds
        self._cut_interval = cut_interval
        self._default_pause = default_pause
        self._max_pause = max_pause
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._tokens = self._burst
        self._last = now
        self._factor = 1.0
        self._factor_at = now
        self._last_cut = float("-inf")
        self._paused_until = float("-inf")
        self.acquired = 0
        self.waited_seconds = 0.0
        self.throttles = 0

    # ------------------------------------------------------------------ configuration
    @property
    def rate(self) -> Optional[float]:
        return self._rate

    @property
    def effective_rate(self) -> Optional[float]:
        with self._lock:
            self._recover(self._clock())
            return None if self._rate is None else self._rate * self._factor

    def configure(self, rate: Optional[float], burst: Optional[float] = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no steady limit)")
        with self._lock:
            self._refill(self._clock())
            self._rate = rate
            if burst is not None:
                self._burst = float(max(1.0, burst))
                self._tokens = min(self._tokens, self._burst)

    # ------------------------------------------------------------------ internals (lock held)
    def _recover(self, now: float) -> None:
        if self._factor < 1.0:
            self._factor = min(1.0, self._factor + (now - self._factor_at) / self._recovery_seconds)
        self._factor_at = now

    def _refill(self, now: float) -> None:
        if self._rate is not None:
            elapsed = max(0.0, now - self._last)
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate * self._factor)
        self._last = now

    # ------------------------------------------------------------------ API
    def acquire(self) -> float:
        """Block until this caller may send one request; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                    reserved = False
                else:
                    self._refill(now)
                    self._recover(now)
                    reserved = True
                    if self._rate is None:
                        delay = 0.0
                    else:
                        self._tokens -= 1.0
                        delay = 0.0 if self._tokens >= 0 else -self._tokens / (self._rate * self._factor)
            if delay > 0:
                self._sleep(delay)
                waited += delay
            if not reserved:
                continue
            # a pause that began while we slept on our reservation still applies
            with self._lock:
                pause = self._paused_until - self._clock()
            if pause > 0:
                self._sleep(pause)
                waited += pause
            with self._lock:
                self.acquired += 1
                self.waited_seconds += waited
            return waited

    def throttle(self, retry_after: Optional[float] = None) -> None:
        """The server answered 429: pause everyone for ``retry_after`` and slow down for a while."""
        pause = self._default_pause if retry_after is None else max(0.0, retry_after)
        pause = min(pause, self._max_pause)
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._recover(now)
            self.throttles += 1
            self._paused_until = max(self._paused_until, now + pause)
            self._tokens = min(self._tokens, 0.0)
            if self._rate is not None and now - self._last_cut >= max(self._cut_interval, pause):
                self._factor = max(self._min_factor, self._factor * 0.5)
                self._last_cut = now

    def stats(self) -> dict:
        with self._lock:
            return {
                "rate": self._rate,
                "factor": round(self._factor, 3),
                "acquired": self.acquired,
                "waited_seconds": round(self.waited_seconds, 3),
                "throttles": self.throttles,
            }

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self._rate}, burst={self._burst})"


_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(key: str, rate: Optional[float], burst: float = 1.0) -> RateLimiter:
    """The process-wide limiter for ``key`` (created on first use; later calls set its rate)."""
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = _SHARED[key] = RateLimiter(rate, burst)
        elif limiter.rate != rate:
            limiter.configure(rate, burst)
        return limiter
