"""How the connector sends every request: rate limit, a worker thread, errors translated
by ``translate_s3_errors`` (the one place botocore errors become s3files errors), and
retries of transient failures with backoff. No S3 semantics here."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from s3files._errors import S3FilesError
from s3files._retry import RetryPolicy
from s3files.connector._pacing import RateLimiter
from s3files.connector._session import Clients
from s3files.stores._s3_errors import translate_s3_errors

__all__ = ["CallRunner", "read_chunk"]

_T = TypeVar("_T")


def _translated(
    operation: Callable[[Clients], _T], clients: Clients, bucket: str | None, key: str | None
) -> _T:
    with translate_s3_errors(bucket, key):
        return operation(clients)


def read_chunk(body: Any, size: int, bucket: str, key: str) -> bytes:
    """Up to ``size`` bytes of a streaming body (blocking), errors translated (a
    connection closed in the middle of the body is a ``StoreUnavailableError``)."""
    with translate_s3_errors(bucket, key):
        chunk: bytes = body.read(size)
        return chunk


class CallRunner:
    """Sends blocking botocore calls for async code (``run``) or for code already on a
    worker thread (``run_blocking``), with the same rate limit and retries."""

    def __init__(
        self,
        *,
        limiter: RateLimiter | None,
        retry: RetryPolicy,
        max_concurrency: int,
        logger: logging.Logger,
    ) -> None:
        self.limiter = limiter
        self.retry = retry
        self.threads = anyio.CapacityLimiter(max_concurrency)
        self.logger = logger

    async def run(
        self,
        operation: Callable[[Clients], _T],
        clients: Clients,
        *,
        bucket: str | None = None,
        key: str | None = None,
        retry: bool = True,
    ) -> _T:
        """Rate-limit, run on a worker thread with errors translated, retry if transient."""
        attempts = 0
        while True:
            if self.limiter is not None:
                await self.limiter.acquire()
            attempts += 1
            try:
                return await anyio.to_thread.run_sync(
                    _translated, operation, clients, bucket, key, limiter=self.threads
                )
            except S3FilesError as exc:
                delay = self._retry_delay(exc, attempts) if retry else None
                if delay is None:
                    raise
                await anyio.sleep(delay)

    def run_blocking(
        self, operation: Callable[[Clients], _T], clients: Clients, *, bucket: str | None
    ) -> _T:
        """``run`` on the calling thread, for code that is already on a worker thread."""
        attempts = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire_blocking()
            attempts += 1
            try:
                return _translated(operation, clients, bucket, None)
            except S3FilesError as exc:
                delay = self._retry_delay(exc, attempts)
                if delay is None:
                    raise
                time.sleep(delay)

    def _retry_delay(self, error: S3FilesError, attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise."""
        if not self.retry.should_retry(error, attempts):
            return None
        delay = self.retry.delay(attempts - 1)
        self.logger.info(
            "s3 call failed, retrying in %.3fs (attempt %d of %d): %s",
            delay,
            attempts,
            self.retry.max_attempts,
            error,
        )
        return delay

    async def gather(self, calls: Sequence[Callable[[], Awaitable[_T]]]) -> list[_T]:
        """Run ``calls`` concurrently; results in order, or the first error (not a group)."""
        results: list[Any] = [None] * len(calls)
        errors: list[S3FilesError] = []

        async def run(index: int, call: Callable[[], Awaitable[_T]]) -> None:
            try:
                results[index] = await call()
            except S3FilesError as exc:
                errors.append(exc)
                group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run, index, call)
        if errors:
            raise errors[0]
        return results
