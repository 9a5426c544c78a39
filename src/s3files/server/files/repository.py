"""Every query on ``files``."""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, or_, select

from s3files.server.api_error import ApiError
from s3files.server.db.models import FileRecord, FileStatus
from s3files.server.db.session import AsyncSession
from s3files.server.folders.paths import binary, dialect_of, under

__all__ = [
    "SORT_COLUMNS",
    "FileFilters",
    "FileRepository",
    "SortField",
    "decode_cursor",
    "encode_cursor",
    "select_file",
]

SortField = Literal["created", "modified", "name", "size", "type"]
SORT_COLUMNS: dict[str, Any] = {
    "created": FileRecord.created_at,
    "modified": FileRecord.updated_at,
    "name": FileRecord.original_filename,
    "size": FileRecord.size,
    "type": FileRecord.content_type,
}
_DATES = {"created", "modified"}
_INVALID_CURSOR = "cursor is not one this service issued"


def _sort_value(record: FileRecord, sort: str) -> Any:
    value = getattr(record, SORT_COLUMNS[sort].key)
    return value.isoformat() if sort in _DATES else value


def _encode(value: Any, record: FileRecord) -> str:
    raw = json.dumps([value, str(record.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_sorted(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    """The (sort value, id) of a cursor issued for ``sort``; 400 ``invalid_cursor`` else."""
    if sort in _DATES:
        return decode_cursor(cursor)
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        expected = int if sort == "size" else str
        if type(value) is not expected:
            raise TypeError("cursor of another sort")
        return value, uuid.UUID(ident)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", _INVALID_CURSOR) from None


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
        raise ApiError(400, "invalid_cursor", _INVALID_CURSOR) from None


@dataclass(frozen=True, slots=True)
class FileFilters:
    owner: str | None  # None: every owner (admins)
    folder: str | None = None
    search: str | None = None
    name: str | None = None  # exactly this display name (a path's last part)
    content_type: str | None = None
    deleted: bool = False
    recursive: bool = False  # every file under ``folder``, not only those directly in it
    sort: SortField = "created"
    descending: bool = True


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
        if filters.folder is not None and filters.recursive:
            conditions.append(under(FileRecord.folder, filters.folder))
        elif filters.folder is not None:
            conditions.append(FileRecord.folder == filters.folder)
        if filters.search:
            pattern = f"%{_like_escape(filters.search.lower())}%"
            conditions.append(func.lower(FileRecord.original_filename).like(pattern, escape="\\"))
        if filters.name is not None:
            conditions.append(FileRecord.original_filename == filters.name)
        if filters.content_type:
            if filters.content_type.endswith("/*"):
                prefix = _like_escape(filters.content_type[:-1])
                conditions.append(FileRecord.content_type.like(f"{prefix}%", escape="\\"))
            else:
                conditions.append(FileRecord.content_type == filters.content_type)
        column = SORT_COLUMNS[filters.sort]
        if filters.sort == "name":
            column = binary(column, dialect_of(self.session))
        if cursor:
            value, ident = _decode_sorted(cursor, filters.sort)
            if filters.descending:
                after = or_(column < value, and_(column == value, FileRecord.id < ident))
            else:
                after = or_(column > value, and_(column == value, FileRecord.id > ident))
            conditions.append(after)
        order = (
            (column.desc(), FileRecord.id.desc())
            if filters.descending
            else (column.asc(), FileRecord.id.asc())
        )
        statement = select(FileRecord).where(*conditions).order_by(*order).limit(limit + 1)
        rows = (await self.session.execute(statement)).scalars().all()
        next_cursor = None
        if len(rows) > limit:
            next_cursor = _encode(_sort_value(rows[limit - 1], filters.sort), rows[limit - 1])
        return rows[:limit], next_cursor

    async def remove(self, record: FileRecord) -> None:
        await self.session.execute(delete(FileRecord).where(FileRecord.id == record.id))
