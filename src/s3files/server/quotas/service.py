"""Usage and quotas, and the one check that keeps an owner within theirs.

Usage counts every file that is not on its way in or out: active files and the trash
(the trash counts until it is emptied). ``enforce_quota`` runs inside the transaction
that makes a file active: it locks the owner's quota row (an UPDATE: PostgreSQL queues
the others on the row, SQLite on its write lock), sums the owner's files, and refuses
past the limit, so concurrent uploads are checked one after another and can never
exceed the quota together. Owners with no quota (no row and no default) skip it all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from s3files.server.api_error import ApiError
from s3files.server.db.models import FileRecord, FileStatus, Quota
from s3files.server.db.session import AsyncSession
from s3files.server.folders.paths import dialect_of
from s3files.server.settings import ServiceSettings

__all__ = [
    "Allowance",
    "Limits",
    "Usage",
    "allowance",
    "enforce_quota",
    "limits_of",
    "set_quota",
    "usage_of",
]

COUNTED = (FileStatus.ACTIVE, FileStatus.DELETED)


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int | None
    max_files: int | None

    @property
    def unlimited(self) -> bool:
        return self.max_bytes is None and self.max_files is None


@dataclass(frozen=True, slots=True)
class Usage:
    files: int
    bytes: int
    trash_files: int
    trash_bytes: int


async def limits_of(session: AsyncSession, owner: str, settings: ServiceSettings) -> Limits:
    """The owner's quota: their own row's limits, each falling back to the default."""
    row = await session.get(Quota, owner)
    return Limits(
        max_bytes=row.max_bytes
        if row is not None and row.max_bytes is not None
        else settings.default_quota_bytes,
        max_files=row.max_files
        if row is not None and row.max_files is not None
        else settings.default_quota_files,
    )


async def usage_of(session: AsyncSession, owner: str) -> Usage:
    """Active files and the trash of ``owner`` (one grouped query)."""
    rows = await session.execute(
        select(FileRecord.status, func.count(), func.coalesce(func.sum(FileRecord.size), 0))
        .where(FileRecord.owner == owner, FileRecord.status.in_(COUNTED))
        .group_by(FileRecord.status)
    )
    found = {status: (int(count), int(size)) for status, count, size in rows.all()}
    files, size = found.get(FileStatus.ACTIVE, (0, 0))
    trash_files, trash_bytes = found.get(FileStatus.DELETED, (0, 0))
    return Usage(files, size, trash_files, trash_bytes)


def _exceeded(detail: str) -> ApiError:
    return ApiError(403, "quota_exceeded", detail)


async def _lock(session: AsyncSession, owner: str) -> None:
    """Take the owner's quota row for this transaction (made if missing)."""
    insert = postgres_insert if dialect_of(session) == "postgresql" else sqlite_insert
    await session.execute(
        insert(Quota).values(owner=owner).on_conflict_do_nothing(index_elements=["owner"])
    )
    await session.execute(
        update(Quota)
        .where(Quota.owner == owner)
        .values(owner=Quota.owner)
        .execution_options(synchronize_session=False)
    )


def check_room(limits: Limits, usage: Usage, *, add_bytes: int, add_files: int) -> None:
    """Raise 403 ``quota_exceeded`` if ``add_bytes``/``add_files`` do not fit."""
    stored_files = usage.files + usage.trash_files
    stored_bytes = usage.bytes + usage.trash_bytes
    if limits.max_files is not None and stored_files + add_files > limits.max_files:
        raise _exceeded(f"the quota of {limits.max_files} files is reached (the trash counts)")
    if limits.max_bytes is not None and stored_bytes + add_bytes > limits.max_bytes:
        raise _exceeded(
            f"{add_bytes} more bytes would exceed the quota of {limits.max_bytes} bytes "
            f"({stored_bytes} used, the trash included)"
        )


class Allowance:
    """What one owner may still add in the current transaction: ``take`` refuses what does
    not fit and counts what does, so that several files activated in one transaction (a
    batch of a bulk upload) are checked one after another, as separate uploads are."""

    def __init__(self, limits: Limits, usage: Usage) -> None:
        self.limits = limits
        self.usage = usage

    def take(self, *, add_bytes: int, add_files: int = 1) -> None:
        """Raise 403 ``quota_exceeded`` if it does not fit; count it otherwise."""
        if self.limits.unlimited:
            return
        check_room(self.limits, self.usage, add_bytes=add_bytes, add_files=add_files)
        used = self.usage
        self.usage = Usage(
            used.files + add_files, used.bytes + add_bytes, used.trash_files, used.trash_bytes
        )


async def allowance(
    session: AsyncSession, owner: str, settings: ServiceSettings, *, lock: bool = True
) -> Allowance:
    """``owner``'s room in this transaction. With ``lock`` (inside an activation) the quota
    row is taken first, so concurrent activations of one owner run one at a time; without,
    it is an early look (before a transfer or a signature)."""
    limits = await limits_of(session, owner, settings)
    if limits.unlimited:
        return Allowance(limits, Usage(0, 0, 0, 0))
    if lock:
        await _lock(session, owner)
    return Allowance(limits, await usage_of(session, owner))


async def enforce_quota(
    session: AsyncSession,
    owner: str,
    settings: ServiceSettings,
    *,
    add_bytes: int,
    add_files: int = 1,
    lock: bool = True,
) -> None:
    """Refuse (403 ``quota_exceeded``) what would take ``owner`` past their quota. With
    ``lock`` (inside an activation) concurrent checks of one owner run one at a time;
    without, it is an early check (before a transfer or a signature)."""
    room = await allowance(session, owner, settings, lock=lock)
    room.take(add_bytes=add_bytes, add_files=add_files)


async def set_quota(
    session: AsyncSession, owner: str, *, max_bytes: int | None, max_files: int | None
) -> Quota:
    """An admin sets ``owner``'s quota (None: the default applies)."""
    row = await session.get(Quota, owner)
    if row is None:
        row = Quota(owner=owner)
        session.add(row)
    row.max_bytes = max_bytes
    row.max_files = max_files
    await session.flush()
    return row
