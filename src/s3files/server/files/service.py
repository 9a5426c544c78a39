"""The files use cases, kept to the unit-of-work rule (``s3files.server.db.session``).

Every method opens short ``unit_of_work`` blocks and none is open while bytes move: an
upload is three transactions (stage a ``pending`` record, so that a crash leaves a trace
``s3files cleanup`` can act on; transfer with no session; activate), a copy likewise, a
hard delete hides the record, deletes the object, then removes the record."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import anyio

from s3files._models import StoredFile, encode_metadata
from s3files.naming import UploadName, display_name, folder_path, name_upload
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import FileRecord, FileStatus, utcnow
from s3files.server.db.session import unit_of_work
from s3files.server.files.download import INLINE_TYPES
from s3files.server.files.idempotency import IdempotencyKeys
from s3files.server.files.repository import FileFilters, FileRepository, SortField, select_file
from s3files.server.limits import read_ahead
from s3files.server.logs import log_event
from s3files.server.previews.service import remove_thumbnails
from s3files.server.quotas.service import enforce_quota
from s3files.server.state import AppState

__all__ = [
    "MAX_METADATA_DEPTH",
    "FileService",
    "UploadFields",
    "check_description",
    "check_metadata",
    "parse_upload_fields",
]

# a form's is_public is the OpenAPI boolean's spelling ("true"/"false", any case), as JSON
_TRUE = {"true"}
_FALSE = {"false", ""}

# Deeper metadata is refused before anything is stored; the response serializer renders
# far deeper (pydantic stops near 255 levels), so whatever is stored can be read back.
MAX_METADATA_DEPTH = 32


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


def _nesting_depth(value: Any, limit: int) -> int:
    """How deep objects and arrays nest in ``value`` (stops counting past ``limit``);
    iterative, so that no input can exhaust the interpreter's stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_metadata(value: Any, field: str = "metadata") -> dict[str, Any]:
    """A JSON object of at most ``MAX_METADATA_DEPTH`` levels, under the rules of object
    metadata (keys, JSON values, size); 400 otherwise."""
    if not isinstance(value, dict):
        raise _invalid(field, "must be a JSON object")
    if _nesting_depth(value, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
        raise ApiError(
            400,
            "metadata_too_deep",
            f"{field}: nests deeper than {MAX_METADATA_DEPTH} levels",
        )
    encode_metadata(value)
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
        folder=folder_path(fields.get("folder")),
        description=description or None,
        is_public=public_text in _TRUE,
        metadata=metadata,
    )


class FileService:
    """Use cases on files for one caller; every lookup is filtered by owner."""

    def __init__(self, state: AppState, principal: Principal | None) -> None:
        self.state = state
        self.principal = principal

    @property
    def _owner_scope(self) -> str | None:
        """The owner whose files the caller reaches; None (every owner) for admins."""
        if self.principal is None:
            raise ApiError(401, "unauthorized", "credentials required")
        return None if self.principal.is_admin else self.principal.owner

    def _new_file_owner(self) -> str:
        """Who owns the files the caller creates (admins included: their own name)."""
        if self.principal is None:
            raise ApiError(401, "unauthorized", "credentials required")
        return self.principal.owner

    async def get(
        self, file_id: uuid.UUID, statuses: tuple[str, ...] = (FileStatus.ACTIVE,)
    ) -> FileRecord:
        owner = self._owner_scope
        statement, parameters = select_file(file_id, owner=owner, statuses=statuses, core=True)
        record = await self.state.reads.one_or_none(FileRecord, statement, parameters)
        if record is None:
            raise ApiError(404, "not_found", "file not found")
        return record

    async def get_for_download(self, file_id: uuid.UUID) -> FileRecord:
        """Owners and admins get their files; anyone gets a public file."""
        statement, parameters = select_file(file_id, owner=None, core=True)
        record = await self.state.reads.one_or_none(FileRecord, statement, parameters)
        if record is not None and self.principal is not None:
            owner = self._owner_scope
            if owner is None or record.owner == owner:
                return record
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
        recursive: bool = False,
        sort: SortField = "created",
        descending: bool = True,
        name: str | None = None,
    ) -> tuple[list[FileRecord], str | None]:
        filters = FileFilters(
            owner=self._owner_scope,
            folder=folder_path(folder) if folder is not None else None,
            search=search,
            name=name,
            content_type=content_type,
            deleted=deleted,
            recursive=recursive,
            sort=sort,
            descending=descending,
        )
        async with unit_of_work(self.state.sessions) as session:
            rows, next_cursor = await FileRepository(session).list(
                filters, limit=limit, cursor=cursor
            )
        return list(rows), next_cursor

    # Staging: a record that exists before the object does ------------------------------

    async def _stage(self, record: FileRecord) -> None:
        async with unit_of_work(self.state.sessions) as session:
            session.add(record)

    async def _unstage(self, record_id: uuid.UUID) -> None:
        """Remove a record that is still ``pending`` (shielded: it runs while a failure or
        a cancellation unwinds)."""
        with anyio.CancelScope(shield=True):
            async with unit_of_work(self.state.sessions) as session:
                staged = await session.get(FileRecord, record_id)
                if staged is not None and staged.status == FileStatus.PENDING:
                    await session.delete(staged)

    async def _discard(self, key: str) -> None:
        with anyio.CancelScope(shield=True):
            await self.state.files.delete(key)

    async def _activate_staged(
        self,
        record_id: uuid.UUID,
        what: str,
        fill: Callable[[FileRecord], None],
        *,
        quota_bytes: int | None = None,
    ) -> FileRecord:
        """Fill the staged record and make it active, in one short transaction; with
        ``quota_bytes``, the owner's quota is checked and taken in that same transaction."""
        async with unit_of_work(self.state.sessions) as session:
            record = await session.get(FileRecord, record_id)
            if record is None or record.status != FileStatus.PENDING:
                # removed by a concurrent cleanup: nothing may point at the object
                raise ApiError(409, "conflict", f"the {what} was cancelled while in progress")
            if quota_bytes is not None:
                await enforce_quota(
                    session, record.owner, self.state.settings, add_bytes=quota_bytes
                )
            fill(record)
        return record

    async def check_quota_early(self, add_bytes: int = 0) -> None:
        """Refuse before any byte moves when the caller's quota has no room left (the
        binding check is the one inside the activation)."""
        async with unit_of_work(self.state.sessions) as session:
            await enforce_quota(
                session, self._new_file_owner(), self.state.settings, add_bytes=add_bytes,
                lock=False,
            )  # fmt: skip

    async def upload(
        self,
        chunks: AsyncIterator[bytes],
        *,
        filename: str,
        claimed_type: str | None,
        fields: Callable[[], Mapping[str, str | None]],
    ) -> FileRecord:
        """Stream ``chunks`` into the store, then make the record active.

        ``fields()`` is checked before the first byte moves (the fields known by then: all
        of a raw upload's, a form's that precede the file part) and again after the last
        (a form's fields may follow the file part). On any failure the object and the
        record are gone.
        """
        known = parse_upload_fields(fields())
        staged = self.new_staged_record(filename, folder=known.folder)
        await self.check_quota_early()
        await self._stage(staged)
        return await self._store_staged(staged, chunks, claimed_type, fields)

    async def upload_once(
        self,
        chunks: AsyncIterator[bytes],
        *,
        idempotency_key: str,
        filename: str,
        claimed_type: str | None,
        fields: Callable[[], Mapping[str, str | None]],
    ) -> tuple[FileRecord, bool]:
        """``upload`` under an ``Idempotency-Key`` (``s3files.server.files.idempotency``):
        ``(record, True)`` when this request stored the file, ``(the earlier record,
        False)`` when a request with the same key and owner already had; nothing is read
        from ``chunks`` then."""
        known = parse_upload_fields(fields())
        staged = self.new_staged_record(filename, folder=known.folder)
        staged.idempotency_key = idempotency_key
        keys = IdempotencyKeys(self.state)
        earlier = await keys.claim(staged)
        if earlier is not None:
            return earlier, False
        try:  # after the claim, so that a replay gets its file even at the quota
            await self.check_quota_early()
        except BaseException:
            await self._unstage(staged.id)
            raise
        async with keys.lease(staged.id):
            return await self._store_staged(staged, chunks, claimed_type, fields), True

    async def _store_staged(
        self,
        staged: FileRecord,
        chunks: AsyncIterator[bytes],
        claimed_type: str | None,
        fields: Callable[[], Mapping[str, str | None]],
    ) -> FileRecord:
        """The transfer and the activation of a staged upload (both record and object gone
        on any failure)."""
        key = staged.key
        files = self.state.files
        stored: StoredFile | None = None
        try:
            # admission: a transfer slot only once the body's first bytes are in, so that
            # clients that trickle hold no slot (server/limits.py)
            chunks = await read_ahead(chunks, self.state.limits.admission_bytes)
            async with self.state.transfers.slot(staged.owner):
                stored = await files.upload(
                    chunks, key=key, filename=staged.original_filename, content_type=claimed_type
                )
            values = parse_upload_fields(fields())
            self.state.failpoints.hit("upload.after_store_write")
            written = stored
            record = await self._activate_staged(
                staged.id,
                "upload",
                lambda row: self.activate(row, written, values),
                quota_bytes=written.size,
            )
        except BaseException:
            if stored is not None:
                await self._discard(key)
            await self._unstage(staged.id)
            raise
        self.uploaded(record)
        return record

    def name_new_file(self, filename: str, *, owner: str, folder: str) -> UploadName:
        """The display name and key of a new object of ``owner`` in ``folder``: the core's
        one rule (``naming.name_upload``) under ``S3FILES_KEY_PREFIX``. A key is chosen
        once: moves and renames later change the record, never the key."""
        return name_upload(
            filename,
            policy=self.state.files.naming,
            folder=folder,
            key_prefix=self.state.settings.s3files_key_prefix,
            owner=owner,
        )

    def new_key(self, name: str, *, owner: str, folder: str) -> str:
        """Where a new object of ``owner`` named ``name`` goes (``name_new_file``'s key)."""
        return self.name_new_file(name, owner=owner, folder=folder).key

    def new_staged_record(self, filename: str, *, folder: str = "") -> FileRecord:
        """A ``pending`` record for an upload of ``filename`` (checked, key chosen in
        ``folder``); the record keeps the display name, the key its conservative form."""
        files = self.state.files
        owner = self._new_file_owner()
        named = self.name_new_file(filename, owner=owner, folder=folder)
        files.policy.check_extension(named.safe_name)
        return FileRecord(
            id=uuid.uuid4(),
            owner=owner,
            bucket=files.store.bucket,
            key=named.key,
            original_filename=named.display_name,
            status=FileStatus.PENDING,
            folder="",
            user_metadata={},
            is_public=False,
        )

    def activate(self, record: FileRecord, stored: StoredFile, values: UploadFields) -> None:
        """Fill a staged record from what was stored and make it active (no I/O)."""
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

    def uploaded(self, record: FileRecord) -> None:
        """Count and log an upload once its record is committed."""
        self.state.metrics.uploaded_bytes.inc(record.size)
        self.state.metrics.files_uploaded.inc()
        log_event(
            "s3_file_uploaded",
            file_id=str(record.id),
            owner=record.owner,
            key=record.key,
            size=record.size,
            content_type=record.content_type,
        )

    async def update(
        self,
        file_id: uuid.UUID,
        *,
        description: str | None,
        metadata: dict[str, Any] | None,
        is_public: bool | None,
        folder: str | None,
        fields_set: set[str],
        name: str | None = None,
    ) -> FileRecord:
        changes: dict[str, Any] = {}
        if "name" in fields_set and name is not None:
            changes["original_filename"] = display_name(name)
        if "description" in fields_set:
            changes["description"] = check_description(description)
        if "metadata" in fields_set:
            changes["user_metadata"] = check_metadata(metadata if metadata is not None else {})
        if "is_public" in fields_set and is_public is not None:
            changes["is_public"] = is_public
        if "folder" in fields_set:
            changes["folder"] = folder_path(folder)
        owner = self._owner_scope
        async with unit_of_work(self.state.sessions) as session:
            record = await FileRepository(session).get(file_id, owner=owner)
            if record is None:
                raise ApiError(404, "not_found", "file not found")
            for name, value in changes.items():
                setattr(record, name, value)
            record.updated_at = utcnow()
        return record

    async def presign(
        self, file_id: uuid.UUID, *, expiry: int | None, force_download: bool
    ) -> tuple[str, datetime, int]:
        record = await self.get(file_id)
        cap = self.state.settings.s3_presigned_url_expiry
        seconds = min(expiry or self.state.settings.s3_download_url_expiry, cap)
        # HTML, SVG, XML ... are never shown inline, wherever the link points
        force_download = force_download or record.content_type not in INLINE_TYPES
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
        checked = check_metadata(new_metadata, "new_metadata") if new_metadata is not None else None
        folder = folder_path(new_folder) if new_folder is not None else None
        source = await self.get(file_id)
        await self.check_quota_early(source.size)
        files = self.state.files
        target_folder = folder if folder is not None else source.folder
        key = self.new_key(source.original_filename, owner=source.owner, folder=target_folder)
        staged = FileRecord(
            id=uuid.uuid4(),
            owner=source.owner,
            bucket=source.bucket,
            key=key,
            original_filename=source.original_filename,
            content_type=source.content_type,
            size=source.size,
            sha256=source.sha256,
            folder=target_folder,
            description=source.description,
            is_public=False,
            user_metadata=checked if checked is not None else dict(source.user_metadata or {}),
            status=FileStatus.PENDING,
        )
        await self._stage(staged)
        copied = None
        try:
            # new_metadata goes onto the copied object too, not only into its record
            copied = await files.copy(source.key, dest_key=key, metadata=checked)
            etag = copied.etag

            def fill(record: FileRecord) -> None:
                record.etag = etag
                record.status = FileStatus.ACTIVE

            return await self._activate_staged(staged.id, "copy", fill, quota_bytes=source.size)
        except BaseException:
            if copied is not None:
                await self._discard(key)
            await self._unstage(staged.id)
            raise

    async def delete(self, file_id: uuid.UUID, *, hard: bool) -> None:
        owner = self._owner_scope
        if not hard:
            async with unit_of_work(self.state.sessions) as session:
                record = await FileRepository(session).get(file_id, owner=owner)
                if record is None:
                    raise ApiError(404, "not_found", "file not found")
                record.status = FileStatus.DELETED
                record.deleted_at = datetime.now(UTC)
        else:
            record = await self._hide_for_removal(file_id, owner)
            try:
                await self.state.files.delete(record.key)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    async with unit_of_work(self.state.sessions) as session:
                        hidden = await session.get(FileRecord, record.id)
                        if hidden is not None and hidden.status == FileStatus.PENDING:
                            hidden.status = record.status
                raise
            async with unit_of_work(self.state.sessions) as session:
                await FileRepository(session).remove(record)
            await remove_thumbnails(self.state, [record.key])
        log_event("s3_file_deleted", file_id=str(record.id), owner=record.owner, hard=hard)

    async def _hide_for_removal(self, file_id: uuid.UUID, owner: str | None) -> FileRecord:
        """Mark the record ``pending`` before its object goes: reads no longer see it, and
        if the process dies here, ``cleanup`` finishes the removal. The returned copy keeps
        the status it had."""
        async with unit_of_work(self.state.sessions) as session:
            record = await FileRepository(session).get(
                file_id, owner=owner, statuses=(FileStatus.ACTIVE, FileStatus.DELETED)
            )
            if record is None:
                raise ApiError(404, "not_found", "file not found")
            before = record.status
            record.status = FileStatus.PENDING
        record.status = before  # detached now: only the copy returned here changes
        return record

    async def restore(self, file_id: uuid.UUID) -> FileRecord:
        owner = self._owner_scope
        async with unit_of_work(self.state.sessions) as session:
            record = await FileRepository(session).get(
                file_id, owner=owner, statuses=(FileStatus.DELETED,)
            )
            if record is None:
                raise ApiError(404, "not_found", "file not found")
            record.status = FileStatus.ACTIVE
            record.deleted_at = None
            record.updated_at = utcnow()
        return record
