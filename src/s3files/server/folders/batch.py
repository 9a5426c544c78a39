"""``POST /api/v1/files/batch``: one action on up to 1,000 files, a result per id.

Trash, restore and move are one transaction for the whole batch (the ids the caller can
reach change, the others answer ``not_found``); a hard delete is one hidden batch, one
DeleteObjects call and one removal (``folders.service.remove_batch``); copies go one by
one, each under the unit-of-work rule, and one failing does not stop the rest."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update

from s3files._errors import S3FilesError
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import FileRecord, FileStatus, utcnow
from s3files.server.db.session import unit_of_work
from s3files.server.errors import status_for
from s3files.server.files.schemas import FileOut
from s3files.server.files.service import FileService
from s3files.server.folders.repository import FolderRepository
from s3files.server.folders.schemas import BatchRequest, BatchResult
from s3files.server.folders.service import check_folder, remove_batch
from s3files.server.logs import log_event
from s3files.server.state import AppState

__all__ = ["run_batch"]

_NOT_FOUND = "file not found"


def _error_of(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ApiError):
        return exc.error, exc.detail
    if isinstance(exc, S3FilesError):
        return status_for(exc)[1], str(exc)
    raise exc


class _Batch:
    def __init__(self, state: AppState, principal: Principal, ids: Sequence[uuid.UUID]) -> None:
        self.state = state
        self.service = FileService(state, principal)
        self.scope = None if principal.is_admin else principal.owner
        self.ids = list(dict.fromkeys(ids))

    def _reachable(self, statuses: tuple[str, ...]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            FileRecord.id.in_(self.ids),
            FileRecord.status.in_(statuses),
        ]
        if self.scope is not None:
            conditions.append(FileRecord.owner == self.scope)
        return conditions

    def _results(
        self, records: dict[uuid.UUID, FileRecord], failed: dict[uuid.UUID, tuple[str, str]]
    ) -> list[BatchResult]:
        results = []
        for ident in self.ids:
            if ident in records:
                results.append(BatchResult(id=ident, ok=True, file=FileOut.of(records[ident])))
            else:
                error, detail = failed.get(ident, ("not_found", _NOT_FOUND))
                results.append(BatchResult(id=ident, ok=False, error=error, detail=detail))
        return results

    async def change(self, statuses: tuple[str, ...], **values: object) -> list[BatchResult]:
        """One UPDATE of the reachable ids, then their rows as they are now."""
        async with unit_of_work(self.state.sessions) as session:
            where = self._reachable(statuses)
            found = list((await session.execute(select(FileRecord.id).where(*where))).scalars())
            if found:
                await session.execute(
                    update(FileRecord)
                    .where(FileRecord.id.in_(found))
                    .values(**values, updated_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            rows = (
                (await session.execute(select(FileRecord).where(FileRecord.id.in_(found))))
                .scalars()
                .all()
            )
        return self._results({row.id: row for row in rows}, {})

    async def delete(self) -> list[BatchResult]:
        async with unit_of_work(self.state.sessions) as session:
            where = self._reachable((FileStatus.ACTIVE, FileStatus.DELETED))
            rows = (
                await session.execute(
                    select(FileRecord.id, FileRecord.key, FileRecord.status).where(*where)
                )
            ).all()
            await FolderRepository(session).mark([row.id for row in rows], FileStatus.PENDING)
        batch = [(row.id, row.key, row.status) for row in rows]
        failed = await remove_batch(self.state, batch) if batch else {}
        results = []
        for ident in self.ids:
            if ident in failed:
                results.append(
                    BatchResult(id=ident, ok=False, error="store_error", detail=failed[ident])
                )
            elif any(row.id == ident for row in rows):
                results.append(BatchResult(id=ident, ok=True))
            else:
                results.append(
                    BatchResult(id=ident, ok=False, error="not_found", detail=_NOT_FOUND)
                )
        return results

    async def copy(self, folder: str | None) -> list[BatchResult]:
        records: dict[uuid.UUID, FileRecord] = {}
        failed: dict[uuid.UUID, tuple[str, str]] = {}
        for ident in self.ids:
            try:
                copied = await self.service.copy(ident, new_folder=folder, new_metadata=None)
            except Exception as exc:  # each id gets its own error; the batch goes on
                failed[ident] = _error_of(exc)
            else:
                records[ident] = copied
        return self._results(records, failed)


async def run_batch(state: AppState, principal: Principal, body: BatchRequest) -> list[BatchResult]:
    """The results of ``body.action`` on each of ``body.ids``, in the order given."""
    batch = _Batch(state, principal, body.ids)
    now = utcnow()
    if body.action in ("move", "copy") and body.folder is None:
        raise ApiError(400, "invalid_field", f"folder: required for {body.action}")
    if body.action == "trash":
        results = await batch.change(
            (FileStatus.ACTIVE,), status=FileStatus.DELETED, deleted_at=now
        )
    elif body.action == "restore":
        results = await batch.change(
            (FileStatus.DELETED,), status=FileStatus.ACTIVE, deleted_at=None
        )
    elif body.action == "move":
        results = await batch.change((FileStatus.ACTIVE,), folder=check_folder(body.folder))
    elif body.action == "delete":
        results = await batch.delete()
    else:
        async with state.transfers.slot(principal.owner):
            results = await batch.copy(check_folder(body.folder))
    ok = sum(1 for result in results if result.ok)
    log_event("files_batch", owner=principal.owner, action=body.action, ok=ok, ids=len(results))
    return results
