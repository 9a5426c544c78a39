"""How fast the connector talks to the store: a client-side rate limit, and retries.

``RateLimiter`` is an async token bucket. ``RetryPolicy`` is s3files' one retry policy
(``s3files._retry``: which errors are worth another attempt, backoff with full jitter);
the connector's clients make one attempt per call and ``CallRunner`` retries whole calls,
each retry waiting for the rate limiter like any request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import anyio

from s3files._retry import RetryPolicy

__all__ = ["RateLimiter", "RetryPolicy"]


class RateLimiter:
    """At most ``rate`` requests per second, with up to ``burst`` sent back to back.

    A token bucket in its GCRA form: each request reserves the next free slot, so waiters
    go in arrival order and the limiter is shared safely by tasks (``await acquire()``)
    and threads (``acquire_blocking()``). With the default ``burst=1`` requests are spaced
    at least ``1 / rate`` seconds apart: the rate measured over any stretch of time never
    exceeds ``rate``. A cancelled waiter's slot is not given back (never too fast).

    >>> limiter = RateLimiter(20)        # then, in each task:  await limiter.acquire()
    """

    def __init__(
        self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive (requests per second)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = burst
        self._interval = 1.0 / self.rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._next_slot = clock()  # the "theoretical arrival time" of GCRA
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate:g}, burst={self.burst})"

    def reserve(self) -> float:
        """Take the next slot; return how many seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            slot = max(self._next_slot, now)
            self._next_slot = slot + self._interval
            return max(0.0, slot - self._tolerance - now)

    async def acquire(self) -> None:
        """Wait (without blocking the event loop) until one more request may be sent."""
        delay = self.reserve()
        if delay > 0:
            await anyio.sleep(delay)

    def acquire_blocking(self) -> None:
        """The same, for code running on a worker thread."""
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)
