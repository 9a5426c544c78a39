"""Every query on ``files``."""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, or_, select

from s3files.server.api_error import ApiError
from s3files.server.db.models import FileRecord, FileStatus
from s3files.server.db.session import AsyncSession

__all__ = ["FileFilters", "FileRepository", "decode_cursor", "encode_cursor", "select_file"]


def encode_cursor(record: FileRecord) -> str:
    raw = json.dumps([record.created_at.isoformat(), str(record.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at in UTC, id) a cursor holds; 400 ``invalid_cursor`` for anything this
    service would not have issued (including dates that leave the calendar in UTC)."""
    try:
        created, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC), uuid.UUID(ident)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError, OverflowError):
        raise ApiError(400, "invalid_cursor", "cursor is not one this service issued") from None


@dataclass(frozen=True, slots=True)
class FileFilters:
    owner: str | None  # None: every owner (admins)
    folder: str | None = None
    search: str | None = None
    content_type: str | None = None
    deleted: bool = False


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@functools.cache
def _file_query(scoped: bool, statuses: tuple[str, ...], core: bool) -> Select[Any]:
    columns: Any = FileRecord.__table__.c if core else FileRecord
    conditions: list[ColumnElement[bool]] = [
        columns.id == bindparam("file_id"),
        # one status (the usual case) needs no IN list, which is expanded on every run
        columns.status == statuses[0] if len(statuses) == 1 else columns.status.in_(statuses),
    ]
    if scoped:
        conditions.append(columns.owner == bindparam("owner"))
    return select(FileRecord.__table__ if core else FileRecord).where(*conditions)


def select_file(
    file_id: uuid.UUID,
    *,
    owner: str | None,
    statuses: tuple[str, ...] = (FileStatus.ACTIVE,),
    core: bool = False,
) -> tuple[Select[Any], dict[str, Any]]:
    """The query of ``FileRepository.get`` and its parameters; ``core``: the same on the
    table, for ``Reads`` outside a session (an ORM statement costs about 40 us more to run
    on a plain connection). Each statement is built once per shape: building it costs more
    than running it."""
    parameters: dict[str, Any] = {"file_id": file_id}
    if owner is not None:
        parameters["owner"] = owner
    return _file_query(owner is not None, tuple(statuses), core), parameters


class FileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self,
        file_id: uuid.UUID,
        *,
        owner: str | None,
        statuses: tuple[str, ...] = (FileStatus.ACTIVE,),
    ) -> FileRecord | None:
        """A file of ``owner`` (any owner if None) in one of ``statuses``."""
        statement, parameters = select_file(file_id, owner=owner, statuses=statuses)
        result = await self.session.execute(statement, parameters)
        record: FileRecord | None = result.scalar_one_or_none()
        return record

    async def list(
        self, filters: FileFilters, *, limit: int, cursor: str | None = None
    ) -> tuple[Sequence[FileRecord], str | None]:
        status = FileStatus.DELETED if filters.deleted else FileStatus.ACTIVE
        conditions: list[ColumnElement[bool]] = [FileRecord.status == status]
        if filters.owner is not None:
            conditions.append(FileRecord.owner == filters.owner)
        if filters.folder is not None:
            conditions.append(FileRecord.folder == filters.folder)
        if filters.search:
            pattern = f"%{_like_escape(filters.search.lower())}%"
            conditions.append(func.lower(FileRecord.original_filename).like(pattern, escape="\\"))
        if filters.content_type:
            if filters.content_type.endswith("/*"):
                prefix = _like_escape(filters.content_type[:-1])
                conditions.append(FileRecord.content_type.like(f"{prefix}%", escape="\\"))
            else:
                conditions.append(FileRecord.content_type == filters.content_type)
        if cursor:
            created, ident = decode_cursor(cursor)
            conditions.append(
                or_(
                    FileRecord.created_at < created,
                    and_(FileRecord.created_at == created, FileRecord.id < ident),
                )
            )
        statement = (
            select(FileRecord)
            .where(*conditions)
            .order_by(FileRecord.created_at.desc(), FileRecord.id.desc())
            .limit(limit + 1)
        )
        rows = (await self.session.execute(statement)).scalars().all()
        next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return rows[:limit], next_cursor

    async def remove(self, record: FileRecord) -> None:
        await self.session.execute(delete(FileRecord).where(FileRecord.id == record.id))
