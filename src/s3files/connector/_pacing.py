"""How fast the connector talks to the store: a client-side rate limit and retries.

``RateLimiter`` is an async token bucket; ``RetryPolicy`` decides which errors are worth
another attempt and how long to wait first (exponential backoff with full jitter, as in
AWS's "Exponential Backoff And Jitter": ``uniform(0, min(max_delay, base * 2**n))``).
botocore's own retries are switched off in the connector so the two do not multiply.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import botocore.exceptions

from s3files._errors import StoreUnavailableError

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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry throttling, 5xx answers and network failures up to ``max_attempts`` attempts
    in all, waiting ``uniform(0, min(max_delay, base_delay * 2**retry))`` seconds before
    each retry. Every connector call is a read, so a whole call can be repeated safely;
    bytes already yielded by a stream are never fetched again (that error surfaces)."""

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def should_retry(self, error: BaseException, attempts_made: int) -> bool:
        """True if ``error`` is transient and attempts remain."""
        return attempts_made < self.max_attempts and is_transient(error)

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(retry, 62)))
        # Jitter spreads clients apart; it has nothing to do with security.
        return (rng or random).uniform(0, ceiling)


def is_transient(error: BaseException) -> bool:
    """Throttling, 5xx, timeouts and connection failures; not 501 Not Implemented, which
    says the same thing every time."""
    if not isinstance(error, StoreUnavailableError):
        return False
    cause = error.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = cause.response.get("Error", {}).get("Code")
        if status == 501 or code == "NotImplemented":
            return False
    return True
