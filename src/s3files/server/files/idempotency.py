"""``Idempotency-Key`` on uploads: a client's blind retry stores nothing twice.

The key is recorded on the file (unique per owner, ``ux_files_owner_idempotency_key``)
when the upload stages its ``pending`` record, before any byte moves. A second request
with the key then finds that record:

* ``active``: the upload is done; the retry gets the record (200), nothing is stored;
* ``pending``, lease running: another request is storing it; 409
  ``idempotency_in_progress`` with ``Retry-After`` (the seconds left on the lease);
* ``pending``, lease run out: the request that had it died with its replica; the retry
  removes that record (only if nobody renewed it meanwhile: one winner), discards whatever
  object it left, and stages its own;
* another filename, or a file since deleted: 422 ``idempotency_key_reused``.

The lease is the pending record's ``updated_at``: the request in flight renews it every
third of ``ServiceLimits.idempotency_lease`` in a short transaction of its own, so a
database connection is held only while it writes (``s3files.server.db.session``). The
lease compares times written by different replicas: their clocks must agree to well
within it. A failed upload removes its record, freeing the key for the next try.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from s3files.server.api_error import ApiError
from s3files.server.db.models import FileRecord, FileStatus, utcnow
from s3files.server.db.session import unit_of_work
from s3files.server.logs import log_event
from s3files.server.state import AppState

__all__ = ["IdempotencyKeys", "check_idempotency_key"]

_ATTEMPTS = 5  # stage/look-up rounds before giving up on a key that keeps changing hands


def check_idempotency_key(value: str | None) -> str | None:
    """The header's value: 1 to 255 visible ASCII characters (spaces inside allowed)."""
    if value is None:
        return None
    key = value.strip()
    if not key or len(key) > 255 or not all(" " <= ch <= "~" for ch in key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        )
    return key


class IdempotencyKeys:
    """Claims and leases of upload idempotency keys for one service."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.lease_seconds = state.limits.idempotency_lease

    async def claim(self, staged: FileRecord) -> FileRecord | None:
        """Stage ``staged`` (which carries the key) and return None; or return the record
        an earlier request with the key completed. 409 while it is in flight."""
        for _ in range(_ATTEMPTS):
            try:
                async with unit_of_work(self.state.sessions) as session:
                    session.add(staged)
                return None
            except IntegrityError:
                pass  # the key is taken (or, once in 2**122, the object key)
            earlier = await self._find(staged.owner, str(staged.idempotency_key))
            if earlier is None:
                continue  # gone meanwhile (failed, or taken over): stage again
            if earlier.status == FileStatus.PENDING:
                left = self._lease_left(earlier)
                if left > 0:
                    raise ApiError(
                        409,
                        "idempotency_in_progress",
                        "an upload with this Idempotency-Key is in progress; retry later",
                        {"Retry-After": str(max(1, math.ceil(left)))},
                    )
                await self._take_over(earlier)
                continue
            if earlier.status != FileStatus.ACTIVE or (
                earlier.original_filename != staged.original_filename
            ):
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for another file (or its file was deleted)",
                )
            return earlier
        raise ApiError(
            409,
            "idempotency_in_progress",
            "the upload with this Idempotency-Key keeps changing hands; retry later",
            {"Retry-After": "1"},
        )

    @contextlib.asynccontextmanager
    async def lease(self, record_id: uuid.UUID) -> AsyncIterator[None]:
        """Renew the lease on the staged record while the block (the transfer) runs."""
        renewing = asyncio.get_running_loop().create_task(self._renew(record_id))
        try:
            yield
        finally:
            renewing.cancel()
            with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self, record_id: uuid.UUID) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                async with unit_of_work(self.state.sessions) as session:
                    await session.execute(
                        update(FileRecord)
                        .where(FileRecord.id == record_id, FileRecord.status == FileStatus.PENDING)
                        .values(updated_at=utcnow())
                    )
            except Exception as exc:  # a missed renewal is retried; the lease has slack
                log_event("idempotency_lease_not_renewed", file_id=str(record_id), error=str(exc))

    def _lease_left(self, record: FileRecord) -> float:
        expires = record.updated_at + timedelta(seconds=self.lease_seconds)
        return (expires - utcnow()).total_seconds()

    async def _find(self, owner: str, key: str) -> FileRecord | None:
        async with unit_of_work(self.state.sessions) as session:
            statement = select(FileRecord).where(
                FileRecord.owner == owner, FileRecord.idempotency_key == key
            )
            return (await session.execute(statement)).scalar_one_or_none()

    async def _take_over(self, abandoned: FileRecord) -> None:
        """Remove a pending record whose lease ran out, unless someone renewed or removed
        it meanwhile; then its object, which nothing may point at any more."""
        async with unit_of_work(self.state.sessions) as session:
            removed = await session.execute(
                delete(FileRecord).where(
                    FileRecord.id == abandoned.id,
                    FileRecord.status == FileStatus.PENDING,
                    FileRecord.updated_at == abandoned.updated_at,
                )
            )
        if getattr(removed, "rowcount", 0) != 1:
            return  # another request took it over first, or its owner came back
        with anyio.CancelScope(shield=True):
            await self.state.files.delete(abandoned.key)
        log_event(
            "idempotency_key_taken_over",
            file_id=str(abandoned.id),
            owner=abandoned.owner,
            key=abandoned.key,
        )
