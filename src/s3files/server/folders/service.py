"""Folder use cases for one caller, kept to the unit-of-work rule (``server/db/session``).

Folder routes act on the caller's own tree (admins included: their own folders); another
owner's folder answers exactly as a folder that does not exist. A move, a trash and a
restore are one short transaction each, whatever the number of files: records change,
object keys never do. A hard delete goes in batches of ``MAX_DELETE_BATCH``: each batch
is hidden (``pending``) in one transaction, removed from the store in one DeleteObjects
call with no session open, then its records removed; what the store failed to remove
gets its status back, so records and objects agree and the call can be repeated."""

from __future__ import annotations

import base64
import binascii
import uuid

import anyio

from s3files.naming import folder_path
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import FileRecord, FileStatus, utcnow
from s3files.server.db.session import unit_of_work
from s3files.server.folders.repository import FolderRepository, Subfolder
from s3files.server.logs import log_event
from s3files.server.previews.service import remove_thumbnails
from s3files.server.state import AppState
from s3files.stores.base import MAX_DELETE_BATCH

__all__ = ["FolderService", "check_folder"]


def check_folder(raw: str | None, *, top_allowed: bool = True) -> str:
    """The stored form of a folder path (``naming.folder_path``, as an upload's
    ``folder``); 400 for the top level where a named folder is needed."""
    path = folder_path(raw)
    if not path and not top_allowed:
        raise ApiError(400, "invalid_folder", "name a folder (the top level cannot be used)")
    return path


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "cursor is not one this service issued") from None


class FolderService:
    def __init__(self, state: AppState, principal: Principal | None) -> None:
        self.state = state
        if principal is None:
            raise ApiError(401, "unauthorized", "credentials required")
        self.owner = principal.owner

    async def subfolders(
        self, path: str, *, cursor: str | None, limit: int
    ) -> tuple[list[tuple[str, Subfolder]], str | None]:
        """``path``'s direct subfolders as (full path, counts), a page at a time."""
        after = _decode(cursor) if cursor else None
        async with unit_of_work(self.state.sessions) as session:
            found = await FolderRepository(session).subfolders(
                self.owner, path, after=after, limit=limit + 1
            )
        page = found[:limit]
        next_cursor = _encode(page[-1].name) if len(found) > limit else None
        return [(f"{path}/{sub.name}" if path else sub.name, sub) for sub in page], next_cursor

    async def summary(self, path: str) -> Subfolder:
        """Counts of one folder's whole subtree (``path`` itself included)."""
        async with unit_of_work(self.state.sessions) as session:
            files, size = await FolderRepository(session).counts(self.owner, path)
        return Subfolder(path.rpartition("/")[2], files, size)

    async def create(self, path: str) -> tuple[Subfolder, bool]:
        """Record an (empty) folder; (its counts, whether it was new)."""
        async with unit_of_work(self.state.sessions) as session:
            repository = FolderRepository(session)
            existed = await repository.exists(self.owner, path, statuses=(FileStatus.ACTIVE,))
            await repository.create(self.owner, path)
        return await self.summary(path), not existed

    async def move(self, source: str, target: str) -> int:
        """The subtree at ``source`` now at ``target``; refused if ``target`` is inside
        ``source``, is a live folder (holds an active file or is a created folder not in
        the trash), or would make a path too long or too deep. A ``target`` whose files are
        all in the trash is free: the subtree moves in and the folder is live with it, the
        trashed files stay in the trash under their paths (a restore brings them back
        beside it)."""
        if target == source:
            raise ApiError(400, "same_folder", "the folder is already there")
        if target.startswith(source + "/"):
            raise ApiError(
                400, "folder_inside_itself", f"cannot move {source!r} into its own subfolder"
            )
        async with unit_of_work(self.state.sessions) as session:
            repository = FolderRepository(session)
            statuses = (FileStatus.ACTIVE, FileStatus.DELETED)
            if not await repository.exists(self.owner, source, statuses=statuses):
                raise ApiError(404, "not_found", "folder not found")
            if await repository.exists(self.owner, target, statuses=(FileStatus.ACTIVE,)):
                raise ApiError(409, "folder_exists", f"{target!r} already exists")
            longest = await repository.longest_path(self.owner, source)
            if longest is not None:
                folder_path(target + longest[len(source) :])  # limits of depth, length
            # trashed empty folders where the subtree goes would collide with its rows
            await repository.remove_trashed_rows(self.owner, under_path=target)
            moved = await repository.move(self.owner, source, target, utcnow())
        log_event("folder_moved", owner=self.owner, source=source, target=target, files=moved)
        return moved

    async def trash(self, path: str) -> int:
        async with unit_of_work(self.state.sessions) as session:
            repository = FolderRepository(session)
            if not await repository.exists(self.owner, path, statuses=(FileStatus.ACTIVE,)):
                raise ApiError(404, "not_found", "folder not found")
            trashed = await repository.trash(self.owner, path, utcnow())
        log_event("folder_trashed", owner=self.owner, path=path, files=trashed)
        return trashed

    async def restore(self, path: str) -> int:
        async with unit_of_work(self.state.sessions) as session:
            files, rows = await FolderRepository(session).restore(self.owner, path, utcnow())
            if files == 0 and rows == 0:
                raise ApiError(404, "not_found", "nothing of this folder is in the trash")
        log_event("folder_restored", owner=self.owner, path=path, files=files)
        return files

    async def records_under(self, path: str) -> list[FileRecord]:
        """Every active file under ``path`` (for its zip), read in one transaction."""
        async with unit_of_work(self.state.sessions) as session:
            repository = FolderRepository(session)
            records: list[FileRecord] = []
            while True:
                page = await repository.files_under(
                    self.owner, path, after=records[-1].id if records else None, limit=1000
                )
                records.extend(page)
                if len(page) < 1000:
                    break
        if not records:
            raise ApiError(404, "not_found", "folder not found or empty")
        return records

    async def empty_trash(self) -> int:
        """Remove every trashed file of the caller for good (batches as ``hard_delete``)."""
        removed = 0
        while True:
            async with unit_of_work(self.state.sessions) as session:
                batch = await FolderRepository(session).hide_batch(
                    self.owner, "", limit=MAX_DELETE_BATCH, statuses=(FileStatus.DELETED,)
                )
            if not batch:
                break
            failed = await remove_batch(self.state, batch)
            if failed:
                raise _store_kept(failed)
            removed += len(batch)
        async with unit_of_work(self.state.sessions) as session:
            await FolderRepository(session).remove_trashed_rows(self.owner)
        log_event("trash_emptied", owner=self.owner, files=removed)
        return removed

    async def hard_delete(self, path: str) -> int:
        """Remove every file under ``path`` (trashed ones too) and the folder for good."""
        async with unit_of_work(self.state.sessions) as session:
            statuses = (FileStatus.ACTIVE, FileStatus.DELETED)
            if not await FolderRepository(session).exists(self.owner, path, statuses=statuses):
                raise ApiError(404, "not_found", "folder not found")
        removed = 0
        while True:
            async with unit_of_work(self.state.sessions) as session:
                batch = await FolderRepository(session).hide_batch(
                    self.owner, path, limit=MAX_DELETE_BATCH
                )
            if not batch:
                break
            failed = await remove_batch(self.state, batch)
            if failed:
                raise _store_kept(failed)
            removed += len(batch)
        async with unit_of_work(self.state.sessions) as session:
            await FolderRepository(session).remove_rows(self.owner, path)
        log_event("folder_deleted", owner=self.owner, path=path, files=removed)
        return removed


def _store_kept(failed: dict[uuid.UUID, str]) -> ApiError:
    return ApiError(
        502,
        "store_error",
        f"the store kept {len(failed)} objects (their files are unchanged; repeat the call): "
        f"{next(iter(failed.values()))}",
    )


async def remove_batch(
    state: AppState, batch: list[tuple[uuid.UUID, str, str]]
) -> dict[uuid.UUID, str]:
    """Objects of hidden records out of the store (one DeleteObjects call, no session
    open), then their records. Anything the store kept gets its status back; returns
    ``{id: reason}`` for those (an error of the whole call is raised, every record put
    back first)."""
    keys = {key: (record_id, status) for record_id, key, status in batch}
    try:
        failed = await anyio.to_thread.run_sync(state.files.store.delete_many, list(keys))
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _put_back(state, list(keys.values()))
        raise
    gone = [ident for key, (ident, _) in keys.items() if key not in failed]
    with anyio.CancelScope(shield=True):
        async with unit_of_work(state.sessions) as session:
            await FolderRepository(session).remove_files(gone)
        if failed:
            await _put_back(state, [keys[key] for key in failed])
        await remove_thumbnails(state, [key for key in keys if key not in failed])
    return {keys[key][0]: reason for key, reason in failed.items()}


async def _put_back(state: AppState, records: list[tuple[uuid.UUID, str]]) -> None:
    async with unit_of_work(state.sessions) as session:
        repository = FolderRepository(session)
        for status in {status for _, status in records}:
            await repository.mark([ident for ident, s in records if s == status], status)
