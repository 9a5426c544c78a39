"""The files use cases. The request's session commits; the service never does, except around
new objects: the ``pending`` record is committed before bytes reach the store (so that a
crash leaves a trace that ``s3files cleanup`` can act on), and its activation is committed
here so that a failure can still remove the object."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from s3files._models import StoredFile, encode_metadata
from s3files.naming import build_key, sanitize_filename, sanitize_folder
from s3files.server.auth import Principal
from s3files.server.db.models import FileRecord, FileStatus, utcnow
from s3files.server.db.session import AsyncSession
from s3files.server.failpoints import failpoint
from s3files.server.files.repository import FileFilters, FileRepository
from s3files.server.logs import log_event
from s3files.server.problems import ApiError
from s3files.server.state import AppState

__all__ = ["FileService", "UploadFields", "parse_upload_fields"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class UploadFields:
    """The form fields of an upload, validated."""

    def __init__(
        self,
        folder: str = "",
        description: str | None = None,
        is_public: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.folder = folder
        self.description = description
        self.is_public = is_public
        self.metadata = metadata or {}


def _invalid(field: str, detail: str) -> ApiError:
    return ApiError(400, "invalid_field", f"{field}: {detail}")


def check_metadata(value: Any, field: str = "metadata") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(field, "must be a JSON object")
    encode_metadata(value)  # same rules as object metadata: keys, JSON values, size
    return value


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > 10_000:
        raise _invalid("description", "longer than 10000 characters")
    if "\x00" in description or not _encodable(description):
        raise _invalid("description", "contains a NUL or an unpaired surrogate")
    return description


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_upload_fields(fields: Mapping[str, str | None]) -> UploadFields:
    """Validate ``folder``, ``description``, ``is_public`` and ``metadata`` (JSON text)."""
    unknown = set(fields) - {"folder", "description", "is_public", "metadata"}
    if unknown:
        raise _invalid(", ".join(sorted(unknown)), "unknown field")
    public_text = (fields.get("is_public") or "").strip().lower()
    if public_text not in _TRUE | _FALSE:
        raise _invalid("is_public", "use true or false")
    description = check_description(fields.get("description"))
    metadata: dict[str, Any] = {}
    if fields.get("metadata"):
        try:
            parsed = json.loads(fields["metadata"] or "")
        except (ValueError, RecursionError):
            raise _invalid("metadata", "is not valid JSON") from None
        metadata = check_metadata(parsed)
    return UploadFields(
        folder=sanitize_folder(fields.get("folder")),
        description=description or None,
        is_public=public_text in _TRUE,
        metadata=metadata,
    )


class FileService:
    """Use cases on files for one caller; every lookup is filtered by owner."""

    def __init__(self, state: AppState, session: AsyncSession, principal: Principal | None) -> None:
        self.state = state
        self.session = session
        self.principal = principal
        self.repository = FileRepository(session)

    @property
    def _owner_filter(self) -> str | None:
        if self.principal is None:
            raise ApiError(401, "unauthorized", "credentials required")
        return None if self.principal.is_admin else self.principal.owner

    async def get(
        self, file_id: uuid.UUID, statuses: tuple[str, ...] = (FileStatus.ACTIVE,)
    ) -> FileRecord:
        record = await self.repository.get(file_id, owner=self._owner_filter, statuses=statuses)
        if record is None:
            raise ApiError(404, "not_found", "file not found")
        return record

    async def get_for_download(self, file_id: uuid.UUID) -> FileRecord:
        """Owners and admins get their files; anyone gets a public file."""
        if self.principal is not None:
            record = await self.repository.get(file_id, owner=self._owner_filter)
            if record is not None:
                return record
        record = await self.repository.get(file_id, owner=None)
        if record is None or not record.is_public:
            if self.principal is None:  # the same answer whether or not the id exists
                raise ApiError(
                    401, "unauthorized", "credentials required", {"WWW-Authenticate": "Bearer"}
                )
            raise ApiError(404, "not_found", "file not found")
        return record

    async def list(
        self,
        *,
        folder: str | None,
        search: str | None,
        content_type: str | None,
        deleted: bool,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[FileRecord], str | None]:
        filters = FileFilters(
            owner=self._owner_filter,
            folder=folder,
            search=search,
            content_type=content_type,
            deleted=deleted,
        )
        rows, next_cursor = await self.repository.list(filters, limit=limit, cursor=cursor)
        return list(rows), next_cursor

    # Staging: a record that exists before the object does ------------------------------

    async def _stage(self, record: FileRecord) -> None:
        async with self.state.sessions() as session:
            session.add(record)
            await session.commit()

    @asynccontextmanager
    async def _activation(self, record_id: uuid.UUID, key: str) -> AsyncIterator[None]:
        """Make a staged record active and commit it; if that fails, the object and the
        record are removed, so that nothing half-written is left."""
        try:
            yield
            await self.session.commit()
        except BaseException:
            await self.session.rollback()
            await self.state.files.delete(key)
            await self._unstage(record_id)
            raise

    async def _unstage(self, record_id: uuid.UUID) -> None:
        async with self.state.sessions() as session:
            staged = await session.get(FileRecord, record_id)
            if staged is not None and staged.status == FileStatus.PENDING:
                await session.delete(staged)
                await session.commit()

    async def upload(
        self,
        chunks: AsyncIterator[bytes],
        *,
        filename: str,
        claimed_type: str | None,
        fields: Callable[[], Mapping[str, str | None]],
    ) -> FileRecord:
        """Stream ``chunks`` into the store, then make the record active.

        ``fields`` is called after the last byte (form fields may follow the file part).
        On any failure the object and the record are gone.
        """
        staged = self.new_staged_record(filename)
        key = staged.key
        files = self.state.files
        await self._stage(staged)
        stored = None
        try:
            stored = await files.upload(
                chunks, key=key, filename=staged.original_filename, content_type=claimed_type
            )
            values = parse_upload_fields(fields())
            failpoint("upload.after_store_write")
        except BaseException:
            if stored is not None:
                await files.delete(key)
            await self._unstage(staged.id)
            raise
        async with self._activation(staged.id, key):
            record = await self.session.get(FileRecord, staged.id)
            if record is None:  # removed by a concurrent cleanup: nothing may point at it
                raise ApiError(409, "conflict", "the upload was cancelled while in progress")
            self.activate(record, stored, values)
        return record

    def new_staged_record(self, filename: str) -> FileRecord:
        """A ``pending`` record for an upload of ``filename`` (checked, key chosen)."""
        safe_name = sanitize_filename(filename)
        files = self.state.files
        files.sync.policy.check_extension(safe_name)
        return FileRecord(
            id=uuid.uuid4(),
            owner=self._owner_filter_owner(),
            bucket=files.store.bucket,
            key=build_key(safe_name, policy=files.sync.naming),
            original_filename=safe_name,
            status=FileStatus.PENDING,
            folder="",
            user_metadata={},
            is_public=False,
        )

    def activate(self, record: FileRecord, stored: StoredFile, values: UploadFields) -> None:
        """Fill a staged record from what was stored and make it active."""
        record.size = stored.size
        record.sha256 = stored.sha256
        record.etag = stored.etag
        record.content_type = stored.content_type
        record.folder = values.folder
        record.description = values.description
        record.is_public = values.is_public
        record.user_metadata = values.metadata
        record.status = FileStatus.ACTIVE
        record.updated_at = utcnow()
        self.state.metrics.uploaded_bytes.inc(stored.size)
        self.state.metrics.files_uploaded.inc()
        log_event(
            "s3_file_uploaded",
            file_id=str(record.id),
            owner=record.owner,
            key=record.key,
            size=stored.size,
            content_type=stored.content_type,
        )

    def _owner_filter_owner(self) -> str:
        if self.principal is None:
            raise ApiError(401, "unauthorized", "credentials required")
        return self.principal.owner

    async def update(
        self,
        file_id: uuid.UUID,
        *,
        description: str | None,
        metadata: dict[str, Any] | None,
        is_public: bool | None,
        folder: str | None,
        fields_set: set[str],
    ) -> FileRecord:
        record = await self.get(file_id)
        if "description" in fields_set:
            record.description = check_description(description)
        if "metadata" in fields_set:
            record.user_metadata = check_metadata(metadata if metadata is not None else {})
        if "is_public" in fields_set and is_public is not None:
            record.is_public = is_public
        if "folder" in fields_set:
            record.folder = sanitize_folder(folder)
        record.updated_at = utcnow()
        await self.session.flush()
        return record

    async def presign(
        self, file_id: uuid.UUID, *, expiry: int | None, force_download: bool
    ) -> tuple[str, datetime, int]:
        record = await self.get(file_id)
        cap = self.state.settings.s3_presigned_url_expiry
        seconds = min(expiry or self.state.settings.s3_download_url_expiry, cap)
        presigned = await self.state.files.presign_download(
            record.key,
            expires_in=seconds,
            force_download=force_download,
            filename=record.original_filename,
            content_type=record.content_type,
        )
        log_event(
            "presigned_url_generated",
            file_id=str(record.id),
            owner=record.owner,
            expires_in=seconds,
            force_download=force_download,
        )
        return presigned.url, presigned.expires_at, seconds

    async def copy(
        self, file_id: uuid.UUID, *, new_folder: str | None, new_metadata: dict[str, Any] | None
    ) -> FileRecord:
        source = await self.get(file_id)
        metadata = (
            check_metadata(new_metadata, "new_metadata")
            if new_metadata is not None
            else (dict(source.user_metadata or {}))
        )
        folder = sanitize_folder(new_folder) if new_folder is not None else source.folder
        files = self.state.files
        key = build_key(source.original_filename, policy=files.sync.naming)
        staged = FileRecord(
            id=uuid.uuid4(),
            owner=source.owner,
            bucket=source.bucket,
            key=key,
            original_filename=source.original_filename,
            content_type=source.content_type,
            size=source.size,
            sha256=source.sha256,
            folder=folder,
            description=source.description,
            is_public=False,
            user_metadata=metadata,
            status=FileStatus.PENDING,
        )
        await self._stage(staged)
        try:
            copied = await files.copy(source.key, dest_key=key)
        except BaseException:
            await self._unstage(staged.id)
            raise
        async with self._activation(staged.id, key):
            record = await self.session.get(FileRecord, staged.id)
            if record is None:
                raise ApiError(409, "conflict", "the copy was cancelled while in progress")
            record.etag = copied.etag
            record.status = FileStatus.ACTIVE
        return record

    async def delete(self, file_id: uuid.UUID, *, hard: bool) -> None:
        if not hard:
            record = await self.get(file_id)
            record.status = FileStatus.DELETED
            record.deleted_at = datetime.now(UTC)
            await self.session.flush()
        else:
            record = await self.get(file_id, (FileStatus.ACTIVE, FileStatus.DELETED))
            await self.repository.remove(record)
            await self.session.flush()
            await self.state.files.delete(record.key)  # last: a failure rolls the row back
        log_event("s3_file_deleted", file_id=str(record.id), owner=record.owner, hard=hard)

    async def restore(self, file_id: uuid.UUID) -> FileRecord:
        record = await self.get(file_id, (FileStatus.DELETED,))
        record.status = FileStatus.ACTIVE
        record.deleted_at = None
        record.updated_at = utcnow()
        await self.session.flush()
        return record
