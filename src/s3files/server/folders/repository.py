"""Every query on folders: the ``folders`` rows (empty folders) and ``files`` by path.

Each method is one statement or a few, run inside the caller's ``unit_of_work``; a move,
a trash or a restore of a whole subtree is one ``UPDATE`` per table with a prefix match,
whatever the number of files (``paths.under``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from s3files.server.db.models import FileRecord, FileStatus, FolderRecord
from s3files.server.db.session import AsyncSession
from s3files.server.folders.paths import (
    below,
    binary,
    child_segment,
    dialect_of,
    moved_path,
    under,
)

__all__ = ["FolderRepository", "Subfolder"]


@dataclass(frozen=True, slots=True)
class Subfolder:
    """A direct subfolder and what its whole subtree holds (active files only)."""

    name: str
    files: int
    bytes: int


class FolderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = dialect_of(session)

    async def subfolders(
        self, owner: str, path: str, *, after: str | None, limit: int
    ) -> list[Subfolder]:
        """Up to ``limit`` direct subfolders of ``path`` named after ``after``, by name
        (byte order), each with its subtree's file count and bytes."""
        files = FileRecord.__table__
        child = binary(child_segment(files.c.folder, path, self.dialect), self.dialect)
        counted = (
            select(
                child.label("name"),
                func.count().label("files"),
                func.coalesce(func.sum(files.c.size), 0).label("bytes"),
            )
            .where(
                files.c.owner == owner,
                files.c.status == FileStatus.ACTIVE,
                below(files.c.folder, path),
            )
            .group_by(child)
        )
        if after is not None:
            counted = counted.having(child > after)
        counted = counted.order_by(child).limit(limit)
        folders = FolderRecord.__table__
        empty_child = binary(child_segment(folders.c.path, path, self.dialect), self.dialect)
        created = (
            select(empty_child.label("name"))
            .where(
                folders.c.owner == owner,
                folders.c.deleted_at.is_(None),
                below(folders.c.path, path),
            )
            .group_by(empty_child)
        )
        if after is not None:
            created = created.having(empty_child > after)
        created = created.order_by(empty_child).limit(limit)
        found = {
            row.name: Subfolder(row.name, int(row.files), int(row.bytes))
            for row in (await self.session.execute(counted)).all()
        }
        for row in (await self.session.execute(created)).all():
            found.setdefault(row.name, Subfolder(row.name, 0, 0))
        return [found[name] for name in sorted(found)[:limit]]

    async def counts(self, owner: str, path: str) -> tuple[int, int]:
        """(active files, bytes) under ``path``."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(FileRecord.size), 0)).where(
                    FileRecord.owner == owner,
                    FileRecord.status == FileStatus.ACTIVE,
                    under(FileRecord.folder, path),
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def exists(self, owner: str, path: str, *, statuses: Sequence[str]) -> bool:
        """Whether ``path`` holds a file in ``statuses`` or is a folder row (not trashed)."""
        has_file = await self.session.scalar(
            select(FileRecord.id)
            .where(
                FileRecord.owner == owner,
                FileRecord.status.in_(statuses),
                under(FileRecord.folder, path),
            )
            .limit(1)
        )
        if has_file is not None:
            return True
        has_row = await self.session.scalar(
            select(FolderRecord.id)
            .where(
                FolderRecord.owner == owner,
                FolderRecord.deleted_at.is_(None),
                under(FolderRecord.path, path),
            )
            .limit(1)
        )
        return has_row is not None

    async def create(self, owner: str, path: str) -> bool:
        """Record the folder; False if it already was a row (a trashed one comes back)."""
        row = await self.session.scalar(
            select(FolderRecord).where(FolderRecord.owner == owner, FolderRecord.path == path)
        )
        if row is not None:
            revived = row.deleted_at is not None
            row.deleted_at = None
            return revived
        self.session.add(FolderRecord(id=uuid.uuid4(), owner=owner, path=path))
        await self.session.flush()
        return True

    async def longest_path(self, owner: str, path: str) -> str | None:
        """The longest folder path under ``path`` (rows and files of any status)."""
        longest_file = await self.session.scalar(
            select(FileRecord.folder)
            .where(FileRecord.owner == owner, under(FileRecord.folder, path))
            .order_by(func.length(FileRecord.folder).desc())
            .limit(1)
        )
        longest_row = await self.session.scalar(
            select(FolderRecord.path)
            .where(FolderRecord.owner == owner, under(FolderRecord.path, path))
            .order_by(func.length(FolderRecord.path).desc())
            .limit(1)
        )
        candidates = [p for p in (longest_file, longest_row) if p is not None]
        return max(candidates, key=len) if candidates else None

    async def move(self, owner: str, source: str, target: str, now: datetime) -> int:
        """Every file (of any status) and folder row under ``source`` to ``target``, in
        two statements; returns the number of files moved."""
        moved = await self.session.execute(
            update(FileRecord)
            .where(FileRecord.owner == owner, under(FileRecord.folder, source))
            .values(folder=moved_path(FileRecord.folder, source, target), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(FolderRecord)
            .where(FolderRecord.owner == owner, under(FolderRecord.path, source))
            .values(path=moved_path(FolderRecord.path, source, target))
            .execution_options(synchronize_session=False)
        )
        return int(moved.rowcount or 0)  # type: ignore[attr-defined]

    async def trash(self, owner: str, path: str, now: datetime) -> int:
        """Every active file under ``path`` to the trash, and its folder rows with them."""
        trashed = await self.session.execute(
            update(FileRecord)
            .where(
                FileRecord.owner == owner,
                FileRecord.status == FileStatus.ACTIVE,
                under(FileRecord.folder, path),
            )
            .values(status=FileStatus.DELETED, deleted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(FolderRecord)
            .where(
                FolderRecord.owner == owner,
                FolderRecord.deleted_at.is_(None),
                under(FolderRecord.path, path),
            )
            .values(deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(trashed.rowcount or 0)  # type: ignore[attr-defined]

    async def restore(self, owner: str, path: str, now: datetime) -> tuple[int, int]:
        """Every trashed file and folder row under ``path`` back; (files, folder rows)."""
        files = await self.session.execute(
            update(FileRecord)
            .where(
                FileRecord.owner == owner,
                FileRecord.status == FileStatus.DELETED,
                under(FileRecord.folder, path),
            )
            .values(status=FileStatus.ACTIVE, deleted_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.execute(
            update(FolderRecord)
            .where(
                FolderRecord.owner == owner,
                FolderRecord.deleted_at.is_not(None),
                under(FolderRecord.path, path),
            )
            .values(deleted_at=None)
            .execution_options(synchronize_session=False)
        )
        return int(files.rowcount or 0), int(rows.rowcount or 0)  # type: ignore[attr-defined]

    async def hide_batch(
        self,
        owner: str,
        path: str,
        *,
        limit: int,
        statuses: tuple[str, ...] = (FileStatus.ACTIVE, FileStatus.DELETED),
    ) -> list[tuple[uuid.UUID, str, str]]:
        """Up to ``limit`` files under ``path`` (active or trashed) marked ``pending`` for
        removal, as (id, key, status before): reads stop seeing them, and a crash leaves
        them to ``s3files cleanup``."""
        rows = (
            await self.session.execute(
                select(FileRecord.id, FileRecord.key, FileRecord.status)
                .where(
                    FileRecord.owner == owner,
                    FileRecord.status.in_(statuses),
                    under(FileRecord.folder, path),
                )
                .order_by(FileRecord.id)
                .limit(limit)
            )
        ).all()
        await self.mark([row.id for row in rows], FileStatus.PENDING)
        return [(row.id, row.key, row.status) for row in rows]

    async def mark(self, ids: Sequence[uuid.UUID], status: str) -> None:
        if ids:
            await self.session.execute(
                update(FileRecord)
                .where(FileRecord.id.in_(ids))
                .values(status=status)
                .execution_options(synchronize_session=False)
            )

    async def remove_files(self, ids: Sequence[uuid.UUID]) -> None:
        if ids:
            await self.session.execute(delete(FileRecord).where(FileRecord.id.in_(ids)))

    async def remove_rows(self, owner: str, path: str) -> int:
        removed = await self.session.execute(
            delete(FolderRecord).where(FolderRecord.owner == owner, under(FolderRecord.path, path))
        )
        return int(removed.rowcount or 0)  # type: ignore[attr-defined]

    async def remove_trashed_rows(self, owner: str, *, under_path: str = "") -> None:
        """Forget trashed empty folders (all, or those under ``under_path``)."""
        await self.session.execute(
            delete(FolderRecord).where(
                FolderRecord.owner == owner,
                FolderRecord.deleted_at.is_not(None),
                under(FolderRecord.path, under_path),
            )
        )

    async def files_under(
        self, owner: str, path: str, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[FileRecord]:
        """Active files under ``path`` in id order, ``limit`` at a time (for the zip)."""
        conditions = [
            FileRecord.owner == owner,
            FileRecord.status == FileStatus.ACTIVE,
            under(FileRecord.folder, path),
        ]
        if after is not None:
            conditions.append(FileRecord.id > after)
        statement = select(FileRecord).where(*conditions).order_by(FileRecord.id).limit(limit)
        return (await self.session.execute(statement)).scalars().all()
