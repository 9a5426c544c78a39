"""The one retry policy of s3files: how many attempts, how long to wait, which errors.

Every request s3files sends to an S3 store is retried by this policy: the store's botocore
calls (through a ``needs-retry`` hook that ``stores/_s3_client.py`` installs in place of
botocore's own backoff), the fast PUT of small objects (``stores/s3_http.py``) and the
connector (``connector/_calls.py``, which also counts retries against its rate limit).

The wait before retry ``n`` (0 for the first) is "full jitter" from AWS's "Exponential
Backoff And Jitter": ``uniform(0, min(max_delay, base_delay * 2**n))``. Retryable are
throttling, 5xx answers (not 501 Not Implemented, which says the same thing every time),
timeouts and connection failures: in s3files' terms, a ``StoreUnavailableError``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import botocore.exceptions

from s3files._errors import StoreUnavailableError

if TYPE_CHECKING:
    from botocore.config import _RetryDict

__all__ = ["DEFAULT_RETRY", "RetryPolicy", "is_transient"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry transient failures up to ``max_attempts`` attempts in all, waiting
    ``uniform(0, min(max_delay, base_delay * 2**retry))`` seconds before each retry.

    >>> [round(RetryPolicy(base_delay=0.1, max_delay=0.5).ceiling(n), 2) for n in range(4)]
    [0.1, 0.2, 0.4, 0.5]
    """

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0
    #: Where the jitter comes from (a seeded ``random.Random`` makes the waits repeatable)
    rng: random.Random | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def should_retry(self, error: BaseException, attempts_made: int) -> bool:
        """True if ``error`` is transient and attempts remain."""
        return attempts_made < self.max_attempts and is_transient(error)

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (0 for the first retry)."""
        return min(self.max_delay, self.base_delay * 2.0 ** min(retry, 62))

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        # Jitter spreads clients apart; it has nothing to do with security.
        source = rng or self.rng
        uniform = source.uniform if source is not None else random.uniform
        return uniform(0, self.ceiling(retry))

    def botocore_retries(self) -> _RetryDict:
        """botocore's ``Config(retries=...)``: one attempt, since this policy retries (two
        policies stacked would multiply the attempts)."""
        return {"total_max_attempts": 1, "mode": "standard"}


DEFAULT_RETRY = RetryPolicy()


def is_transient(error: BaseException) -> bool:
    """Throttling, 5xx, timeouts and connection failures; not 501 Not Implemented."""
    if not isinstance(error, StoreUnavailableError):
        return False
    cause = error.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = cause.response.get("Error", {}).get("Code")
        if status == 501 or code == "NotImplemented":
            return False
    return True
