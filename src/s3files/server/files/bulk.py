"""Many uploads at once (``s3files upload`` of a folder): records are staged and activated
a batch at a time, so a thousand small files cost a few dozen commits, not thousands, with
the same guarantees as one upload: a pending record before the bytes, nothing left behind
by a failure, and the owner's quota checked before the bytes move and again, binding, in
the transaction that activates the batch (``quotas.service.allowance``: one file after
another, as separate uploads are; a file that does not fit is refused with
``quota_exceeded`` and its object removed). As everywhere in the service, no session is
open while bytes move: one short transaction stages the batch, one activates it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass

import anyio

from s3files._models import StoredFile
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import FileRecord, FileStatus
from s3files.server.db.session import unit_of_work
from s3files.server.files.service import FileService, UploadFields, parse_upload_fields
from s3files.server.quotas.service import Allowance, allowance
from s3files.server.state import AppState
from s3files.store import UploadSource

__all__ = ["BulkItem", "BulkOutcome", "upload_many"]


@dataclass
class BulkItem:
    """One file: its name, a factory for its bytes, and its form fields."""

    filename: str
    chunks: Callable[[], UploadSource | AsyncIterator[bytes]]
    fields: Mapping[str, str | None]


@dataclass
class BulkOutcome:
    item: BulkItem
    record: FileRecord | None = None
    error: Exception | None = None


async def upload_many(
    state: AppState,
    principal: Principal,
    items: Sequence[BulkItem],
    *,
    jobs: int = 8,
    batch_size: int = 64,
    on_done: Callable[[BulkOutcome], None] | None = None,
) -> list[BulkOutcome]:
    outcomes: list[BulkOutcome] = []
    for start in range(0, len(items), batch_size):
        batch = await _one_batch(state, principal, items[start : start + batch_size], jobs)
        for outcome in batch:
            if on_done is not None:
                on_done(outcome)
        outcomes += batch
    return outcomes


async def _one_batch(
    state: AppState, principal: Principal, items: Sequence[BulkItem], jobs: int
) -> list[BulkOutcome]:
    outcomes = [BulkOutcome(item) for item in items]
    staged: dict[int, tuple[FileRecord, UploadFields]] = {}
    stored: dict[int, StoredFile] = {}
    service = FileService(state, principal)
    try:  # no room at all: nothing of this batch is sent
        await service.check_quota_early()
    except ApiError as exc:
        for outcome in outcomes:
            outcome.error = exc
        return outcomes
    for index, outcome in enumerate(outcomes):
        try:
            values = parse_upload_fields(outcome.item.fields)
            staged[index] = (
                service.new_staged_record(outcome.item.filename, folder=values.folder),
                values,
            )
        except Exception as exc:
            outcome.error = exc
    async with unit_of_work(state.sessions) as session:  # pending before any byte is sent
        session.add_all([record for record, _ in staged.values()])

    limit = anyio.Semaphore(jobs)

    async def send(index: int) -> None:
        record, _ = staged[index]
        async with limit:
            try:
                stored[index] = await state.files.upload(
                    outcomes[index].item.chunks(),
                    key=record.key,
                    filename=record.original_filename,
                )
            except Exception as exc:
                outcomes[index].error = exc

    async with anyio.create_task_group() as group:
        for index in staged:
            group.start_soon(send, index)

    keys = {index: record.key for index, (record, _) in staged.items()}
    ids = [record.id for record, _ in staged.values()]  # read now: a rollback expires rows
    refused: dict[int, ApiError] = {}
    try:
        # expire_on_commit=False: the detached rows keep their values; add() attaches them
        async with unit_of_work(state.sessions) as session:
            rooms: dict[str, Allowance] = {}
            for index, (record, values) in staged.items():
                session.add(record)
                if index in stored:
                    if record.owner not in rooms:
                        rooms[record.owner] = await allowance(session, record.owner, state.settings)
                    try:  # quota: checked and taken in the activation's transaction
                        rooms[record.owner].take(add_bytes=stored[index].size)
                    except ApiError as exc:
                        refused[index] = exc
                    else:
                        service.activate(record, stored[index], values)
                        continue
                await session.delete(record)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            for index, key in keys.items():
                if index in stored:
                    await state.files.delete(key)
                    outcomes[index].error = exc if isinstance(exc, Exception) else None
            await _unstage_all(state, ids)
        raise
    with anyio.CancelScope(shield=True):  # what the quota refused leaves nothing behind
        for index, refusal in refused.items():
            outcomes[index].error = refusal
            await state.files.delete(keys[index])
    for index, (record, _) in staged.items():
        if index in stored and index not in refused:
            outcomes[index].record = record
            service.uploaded(record)
    return outcomes


async def _unstage_all(state: AppState, ids: Sequence[uuid.UUID]) -> None:
    async with unit_of_work(state.sessions) as session:
        for record_id in ids:
            record = await session.get(FileRecord, record_id)
            if record is not None and record.status == FileStatus.PENDING:
                await session.delete(record)
