"""``s3files cleanup``: bring the database and the store back into agreement.

Each step touches only what is older than a grace period, so it is safe beside live traffic,
and each is idempotent, so it can run again and again:

1. direct uploads past their expiry: multipart aborted, staged and final objects deleted,
   marked ``expired``. A multipart upload already gone (a bucket lifecycle rule aborted
   it) counts as aborted; an abort the store refuses leaves the upload pending (its parts
   are still stored) and is reported with the upload id in ``refused_aborts``;
2. multipart uploads in the store that no pending upload owns: aborted (a refusal is
   reported the same way);
3. files in the trash longer than the retention period: object, thumbnails and record
   removed;
4. ``pending`` file records (an upload or copy that never finished): the same;
5. objects with no record (orphans): deleted; staged form uploads (``.uploads/<id>``) that no
   pending upload owns, such as a form replayed after completion, are counted apart
   (``stale_staging_objects``) and deleted too. A cached thumbnail
   (``.thumbnails/<file key>/<size>.webp``) has no record of its own: it is kept while a
   record of its file exists (in the trash too), and counted apart
   (``orphan_thumbnails``) and deleted once none does;
6. records whose object is gone: removed, with their thumbnails;
7. the tus state of uploads that are no longer pending (expired in step 1, aborted,
   rejected): removed (step 1 already discarded their parts and pending chunk).

Without ``fix`` it only reports. Every step keeps the unit-of-work rule: the database is
read and written in short transactions, never while the store is called. Steps 5 and 6
walk the store's listing and the records in the same key order side by side, in constant
memory; thumbnails are checked against the records a batch of keys at a time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from s3files._errors import ObjectNotFoundError, StoreError
from s3files.direct import is_staging_key
from s3files.server.db.models import (
    DirectUpload,
    FileRecord,
    FileStatus,
    TusUpload,
    UploadStatus,
    utcnow,
)
from s3files.server.db.session import AsyncSession, unit_of_work
from s3files.server.logs import log_event
from s3files.server.previews.service import PREFIX as THUMBNAILS
from s3files.server.previews.service import SIZES as THUMBNAIL_SIZES
from s3files.server.previews.service import thumbnail_key
from s3files.server.uploads.repository import UploadRepository
from s3files.store import AsyncFileStore

__all__ = ["CleanupReport", "cleanup"]

_BATCH = 1000
_LEASE = timedelta(minutes=10)  # how long expiring one upload may take
_THUMBNAIL_BATCH = 500  # thumbnails checked against the records per query (bound parameters)


@dataclass
class CleanupReport:
    """What cleanup found (and, with ``fixed``, repaired)."""

    fixed: bool
    expired_uploads: list[str] = field(default_factory=list)
    stale_multipart_uploads: list[str] = field(default_factory=list)
    purged_files: list[str] = field(default_factory=list)
    unfinished_files: list[str] = field(default_factory=list)
    orphan_objects: list[str] = field(default_factory=list)
    orphan_thumbnails: list[str] = field(default_factory=list)
    missing_objects: list[str] = field(default_factory=list)
    stale_temporary_files: int = 0
    stale_staging_objects: list[str] = field(default_factory=list)
    refused_aborts: list[str] = field(default_factory=list)  # "<upload id>: <why>"
    closed_tus_uploads: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            name: len(value) if isinstance(value, list) else value
            for name, value in vars(self).items()
            if name != "fixed"
        }

    @property
    def clean(self) -> bool:
        return not any(self.counts().values())


async def cleanup(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    *,
    fix: bool,
    grace: timedelta = timedelta(hours=1),
    retention: timedelta = timedelta(days=30),
) -> CleanupReport:
    now = utcnow()
    cutoff = now - grace
    report = CleanupReport(fixed=fix)
    await _expired_uploads(sessions, files, report, cutoff, fix)
    await _stale_multipart(sessions, files, report, cutoff, fix)
    await _purge_trash(sessions, files, report, now - retention, fix)
    await _unfinished_files(sessions, files, report, cutoff, fix)
    async with unit_of_work(sessions) as session:
        pending = await UploadRepository(session).pending_keys()
    await _reconcile(engine, sessions, files, report, cutoff, pending, fix)
    report.stale_temporary_files = await files.stale_temporary_files(older_than=cutoff, remove=fix)
    await _closed_tus_uploads(sessions, report, fix)
    log_event("cleanup_finished", fixed=fix, **report.counts())
    return report


async def _expired_uploads(
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    report: CleanupReport,
    cutoff: datetime,
    fix: bool,
) -> None:
    async with unit_of_work(sessions) as session:
        expired = await UploadRepository(session).expired_pending(cutoff)
    for upload in expired:
        report.expired_uploads.append(upload.key)
        if not fix:
            continue
        async with unit_of_work(sessions) as session:  # the lease a completion would take
            now = utcnow()
            if not await UploadRepository(session).claim(upload.id, now=now, until=now + _LEASE):
                continue  # a completion (or another cleanup) is working on it
        try:
            await files.discard_direct_upload(
                upload.key, staging_key=upload.staging_key, multipart_id=upload.multipart_id
            )
        except StoreError as exc:
            _refused(report, str(upload.id), upload.multipart_id, exc)
            async with unit_of_work(sessions) as session:
                await UploadRepository(session).release(upload.id)
            continue  # still pending: its parts are stored; the next run tries again
        async with unit_of_work(sessions) as session:
            current = await UploadRepository(session).get(upload.id, owner=None, for_update=True)
            if current is not None and current.status == UploadStatus.PENDING:
                current.status = UploadStatus.EXPIRED
                current.completing_until = None


def _refused(
    report: CleanupReport, upload_id: str, multipart_id: str | None, exc: Exception
) -> None:
    report.refused_aborts.append(f"{upload_id}: {exc}")
    log_event(
        "multipart_abort_refused",
        upload_id=upload_id,
        multipart_id=multipart_id,
        error=str(exc),
    )


async def _stale_multipart(
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    report: CleanupReport,
    cutoff: datetime,
    fix: bool,
) -> None:
    async with unit_of_work(sessions) as session:
        owned = await UploadRepository(session).pending_multipart_ids()
    for upload in await files.list_multipart_uploads():
        if upload.upload_id in owned:
            continue
        if upload.initiated is not None and upload.initiated > cutoff:
            continue
        report.stale_multipart_uploads.append(upload.key)
        if fix:
            try:
                await files.abort_multipart(upload.key, upload.upload_id)
            except StoreError as exc:
                _refused(report, upload.upload_id, upload.upload_id, exc)


async def _records_in_batches(
    sessions: async_sessionmaker[AsyncSession], where: ColumnElement[bool], fix: bool
) -> AsyncIterator[FileRecord]:
    """Records matching ``where``, a batch per short transaction. With ``fix`` each batch
    is expected to be removed before the next is read; without, one batch is reported."""
    statement = select(FileRecord).where(where).order_by(FileRecord.id).limit(_BATCH)
    while True:
        async with unit_of_work(sessions) as session:
            records = (await session.execute(statement)).scalars().all()
        for record in records:
            yield record
        if not fix or len(records) < _BATCH:
            return


async def _remove(
    sessions: async_sessionmaker[AsyncSession], files: AsyncFileStore, record: FileRecord
) -> None:
    """The object and its thumbnails first, then the record: a failed delete leaves both
    for the next run."""
    await files.delete(record.key)
    await _remove_thumbnails(files, [record.key])
    async with unit_of_work(sessions) as session:
        await session.execute(delete(FileRecord).where(FileRecord.id == record.id))


async def _remove_thumbnails(files: AsyncFileStore, keys: Iterable[str]) -> None:
    """Every cached thumbnail of these files' keys out of the store (one call; those not
    made are no error). Raises what the store raises, like any other removal here."""
    derived = [t for key in keys for size in THUMBNAIL_SIZES if (t := thumbnail_key(key, size))]
    await _delete_thumbnails(files, derived)


async def _delete_thumbnails(files: AsyncFileStore, keys: list[str]) -> None:
    """One DeleteObjects call (nothing to do for none); what the store kept raises."""
    if not keys:
        return
    failed = await anyio.to_thread.run_sync(files.store.delete_many, keys)
    if failed:
        key, reason = next(iter(failed.items()))
        raise StoreError(f"the store kept {len(failed)} thumbnails ({key}: {reason})", key=key)


def file_of_thumbnail(key: str) -> str | None:
    """The key of the file whose thumbnail ``key`` is (``.thumbnails/<file key>/<size>.webp``);
    None for an object under ``.thumbnails/`` that no thumbnail would be."""
    file_key, slash, leaf = key.removeprefix(THUMBNAILS).rpartition("/")
    size = leaf.removesuffix(".webp")
    if not slash or not file_key or not size.isdigit() or int(size) not in THUMBNAIL_SIZES:
        return None
    return file_key if leaf == f"{size}.webp" else None


async def _purge_trash(
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    report: CleanupReport,
    before: datetime,
    fix: bool,
) -> None:
    trashed = (FileRecord.status == FileStatus.DELETED) & (FileRecord.deleted_at < before)
    async for record in _records_in_batches(sessions, trashed, fix):
        report.purged_files.append(record.key)
        if fix:
            await _remove(sessions, files, record)


async def _unfinished_files(
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    report: CleanupReport,
    cutoff: datetime,
    fix: bool,
) -> None:
    unfinished = (FileRecord.status == FileStatus.PENDING) & (FileRecord.created_at < cutoff)
    async for record in _records_in_batches(sessions, unfinished, fix):
        report.unfinished_files.append(record.key)
        if fix:
            await _remove(sessions, files, record)


async def _record_keys(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FileRecord]:
    """Every file record in byte order of its key (as the store lists), a batch per short
    transaction."""
    collation = "C" if engine.dialect.name == "postgresql" else "BINARY"
    ordered = FileRecord.key.collate(collation)
    last: str | None = None
    while True:
        statement = select(FileRecord).order_by(ordered).limit(_BATCH)
        if last is not None:
            statement = statement.where(ordered > last)
        async with unit_of_work(sessions) as session:
            batch = (await session.execute(statement)).scalars().all()
        for record in batch:
            yield record
        if len(batch) < _BATCH:
            return
        last = batch[-1].key


async def _reconcile(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    report: CleanupReport,
    cutoff: datetime,
    pending: set[str],
    fix: bool,
) -> None:
    records = _record_keys(engine, sessions)
    record = await anext(records, None)
    gone: list[FileRecord] = []
    thumbnails: list[str] = []
    async for info in files.iter_objects():
        while record is not None and record.key < info.key:
            gone.append(record)
            record = await anext(records, None)
        if record is not None and record.key == info.key:
            record = await anext(records, None)
            continue
        young = info.last_modified is not None and info.last_modified > cutoff
        if info.key in pending or young:
            continue
        if info.key.startswith(THUMBNAILS):
            thumbnails.append(info.key)
            if len(thumbnails) >= _THUMBNAIL_BATCH:
                await _orphan_thumbnails(sessions, files, report, thumbnails, fix)
                thumbnails = []
            continue
        found = report.stale_staging_objects if is_staging_key(info.key) else report.orphan_objects
        found.append(info.key)
        if fix:
            await files.delete(info.key)
    await _orphan_thumbnails(sessions, files, report, thumbnails, fix)
    while record is not None:
        gone.append(record)
        record = await anext(records, None)
    for missing in gone:
        if missing.status == FileStatus.PENDING or missing.created_at > cutoff:
            continue
        with contextlib.suppress(ObjectNotFoundError):
            await files.head(missing.key)
            continue  # listed late: it is there after all
        report.missing_objects.append(missing.key)
        if fix:
            await _remove_thumbnails(files, [missing.key])
            async with unit_of_work(sessions) as session:
                await session.execute(delete(FileRecord).where(FileRecord.id == missing.id))
                await session.execute(
                    delete(DirectUpload).where(DirectUpload.file_id == missing.id)
                )


async def _closed_tus_uploads(
    sessions: async_sessionmaker[AsyncSession], report: CleanupReport, fix: bool
) -> None:
    """tus state whose upload is closed (or gone): the upload row keeps its outcome."""
    statement = (
        select(TusUpload.id)
        .outerjoin(DirectUpload, DirectUpload.id == TusUpload.id)
        .where(or_(DirectUpload.id.is_(None), DirectUpload.status != UploadStatus.PENDING))
        .limit(_BATCH)
    )
    async with unit_of_work(sessions) as session:
        closed = list((await session.execute(statement)).scalars().all())
        report.closed_tus_uploads.extend(str(ident) for ident in closed)
        if fix and closed:
            await session.execute(delete(TusUpload).where(TusUpload.id.in_(closed)))


async def _orphan_thumbnails(
    sessions: async_sessionmaker[AsyncSession],
    files: AsyncFileStore,
    report: CleanupReport,
    thumbnails: list[str],
    fix: bool,
) -> None:
    """Of these thumbnails, those whose file has no record (of any status) are orphans:
    reported and, with ``fix``, deleted."""
    if not thumbnails:
        return
    owners = {key: file_of_thumbnail(key) for key in thumbnails}
    wanted = {file_key for file_key in owners.values() if file_key is not None}
    async with unit_of_work(sessions) as session:
        statement = select(FileRecord.key).where(FileRecord.key.in_(wanted))
        existing = set((await session.execute(statement)).scalars()) if wanted else set()
    orphans = [key for key, file_key in owners.items() if file_key not in existing]
    report.orphan_thumbnails.extend(orphans)
    if fix:
        await _delete_thumbnails(files, orphans)
