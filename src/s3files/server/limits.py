"""How much work the service takes on at once, and how long it waits for a client.

Read once when the app is built (``ServiceLimits.from_environment()``), then passed down;
each field names its environment variable:

    S3FILES_MAX_TRANSFERS            uploads, downloads and copies in flight (all owners)
    S3FILES_MAX_TRANSFERS_PER_OWNER  ... and for one owner
    S3FILES_BODY_READ_TIMEOUT        seconds a request body may go without sending a byte
    S3FILES_BODY_MIN_RATE            bytes/s a request body must average after the grace time
    S3FILES_BODY_GRACE               seconds before the minimum rate applies
    S3FILES_MAX_BODY_BYTES           largest body of a route that is not an upload (JSON ...)
    S3FILES_MAX_HEADERS              most header lines in a request
    S3FILES_MAX_HEADER_BYTES         most bytes in all header names and values together
    S3FILES_DB_POOL_SIZE             database connections kept open (default: from the above)
    S3FILES_DB_POOL_TIMEOUT          seconds to wait for a connection before answering 503
    S3FILES_RETRY_AFTER              seconds a 503 asks the client to wait
    S3FILES_IDEMPOTENCY_LEASE        seconds an upload's Idempotency-Key stays claimed
                                     without a renewal (a dead replica's upload is
                                     taken over by a retry after that)
    S3FILES_ADMISSION_BYTES          bytes of an upload's body read before it takes a slot
    S3FILES_MAX_CONNECTIONS          open connections uvicorn serves before answering 503

An upload takes its transfer slot only once the first ``admission_bytes`` of its body (or
all of a smaller body) have arrived: a client that trickles holds a connection and at most
that many bytes, never a slot or a worker thread, and the body timeouts end it. So a crowd
of slow clients cannot keep normal uploads out.

Saturation is answered at once (503 ``busy`` with ``Retry-After``), never by a wait into a
timeout. The counters are per process: with several replicas, each takes its own share.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any

from s3files.server.api_error import ApiError

__all__ = ["ServiceLimits", "TransferGate", "busy", "read_ahead"]


@dataclass(frozen=True, slots=True)
class ServiceLimits:
    """The service's limits (see the module docstring for the variable of each)."""

    max_transfers: int = 64
    max_transfers_per_owner: int = 16
    body_read_timeout: float = 30.0
    body_min_rate: float = 1024.0
    body_grace: float = 10.0
    max_body_bytes: int = 1024 * 1024
    max_headers: int = 100
    max_header_bytes: int = 32 * 1024
    db_pool_size: int | None = None
    db_pool_timeout: float = 5.0
    retry_after: int = 2
    idempotency_lease: float = 30.0
    admission_bytes: int = 64 * 1024
    max_connections: int = 1000

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceLimits:
        """The limits from ``S3FILES_*`` variables; unset ones keep their defaults."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = source.get(f"S3FILES_{field.name.upper()}")
            if raw is None or not raw.strip():
                continue
            kind = float if field.type in ("float", float) else int
            try:
                number = kind(raw)
            except ValueError:
                raise ValueError(f"S3FILES_{field.name.upper()} must be a number") from None
            if number <= 0:
                raise ValueError(f"S3FILES_{field.name.upper()} must be positive")
            values[field.name] = number
        return cls(**values)

    def pool_size(self) -> int:
        """Connections for the database pool. A transfer holds a connection only for its
        short transactions (stage, activate), so a quarter of the transfers, plus room
        for the reads, is plenty; the overflow doubles it under bursts."""
        if self.db_pool_size is not None:
            return self.db_pool_size
        return max(5, min(30, self.max_transfers // 4 + 5))


async def read_ahead(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """``chunks`` again, after the first ``size`` bytes (or all, if fewer) have arrived:
    awaiting this before taking a transfer slot keeps slow clients out of the slots."""
    iterator = chunks.__aiter__()
    buffered: list[bytes] = []
    received = 0
    ended = False
    while received < size:
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            ended = True
            break
        buffered.append(chunk)
        received += len(chunk)

    async def replay() -> AsyncIterator[bytes]:
        for chunk in buffered:
            yield chunk
        buffered.clear()
        if not ended:
            async for chunk in iterator:
                yield chunk

    return replay()


def busy(detail: str, retry_after: int) -> ApiError:
    """The answer under saturation: 503 ``busy``, with when to come back."""
    return ApiError(503, "busy", detail, {"Retry-After": str(retry_after)})


class TransferGate:
    """Counts transfers in flight, in total and per owner; refuses (503) beyond the limits.

    In-process and lock-free: the event loop runs one task at a time, so the checks and
    the increments below cannot interleave.
    """

    def __init__(self, limits: ServiceLimits) -> None:
        self.limits = limits
        self.in_flight = 0
        self._by_owner: dict[str, int] = {}

    def ensure_room(self, owner: str) -> None:
        """Raise 503 ``busy`` now if ``owner`` could not get a slot (a cheap early answer,
        before anything is recorded; the slot itself is taken at admission)."""
        self._check(owner)

    def _check(self, owner: str) -> int:
        mine = self._by_owner.get(owner, 0)
        if self.in_flight >= self.limits.max_transfers:
            raise busy("the service has too many transfers in flight", self.limits.retry_after)
        if mine >= self.limits.max_transfers_per_owner:
            raise busy(
                f"more than {self.limits.max_transfers_per_owner} transfers in flight "
                "for this owner",
                self.limits.retry_after,
            )
        return mine

    def acquire(self, owner: str) -> None:
        """Take a slot for ``owner`` or raise 503 ``busy``."""
        mine = self._check(owner)
        self.in_flight += 1
        self._by_owner[owner] = mine + 1

    def release(self, owner: str) -> None:
        self.in_flight -= 1
        left = self._by_owner.get(owner, 1) - 1
        if left > 0:
            self._by_owner[owner] = left
        else:
            self._by_owner.pop(owner, None)

    @asynccontextmanager
    async def slot(self, owner: str) -> AsyncIterator[None]:
        """``async with gate.slot(owner):`` around one transfer."""
        self.acquire(owner)
        try:
            yield
        finally:
            self.release(owner)
