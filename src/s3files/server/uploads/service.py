"""Direct uploads: record, sign, and complete only what verifies.

The pending record is written (and committed by the endpoint) before anything is signed; a
completion that fails verification deletes the object and marks the upload ``rejected``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from s3files._errors import InvalidInputError, ObjectNotFoundError, S3FilesError
from s3files._models import PresignedPost, PresignedURL, UploadPart
from s3files.direct import plan_parts
from s3files.naming import build_key, sanitize_filename, sanitize_folder
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import DirectUpload, FileRecord, FileStatus, UploadStatus, utcnow
from s3files.server.db.session import AsyncSession
from s3files.server.files.service import check_metadata
from s3files.server.logs import log_event
from s3files.server.state import AppState
from s3files.server.uploads.repository import UploadRepository
from s3files.server.uploads.schemas import MultipartRequest, UploadRequest
from s3files.store import AsyncFileStore

__all__ = ["Completion", "UploadService"]

POST_EXPIRY_CAP = 3600
MULTIPART_LIFETIME = timedelta(hours=24)


@dataclass
class Completion:
    """The outcome of a completion: a file, or the error that rejected the upload."""

    file: FileRecord | None
    error: S3FilesError | None = None


class UploadService:
    def __init__(self, state: AppState, session: AsyncSession, principal: Principal) -> None:
        self.state = state
        self.session = session
        self.principal = principal
        self.repository = UploadRepository(session)

    @property
    def files(self) -> AsyncFileStore:
        return self.state.files

    async def _new(
        self, request: UploadRequest, *, kind: str, expected_size: int | None, lifetime: timedelta
    ) -> DirectUpload:
        filename = sanitize_filename(request.original_filename)
        policy = self.files.sync.policy
        policy.check_extension(filename)
        claimed = request.content_type.split(";", 1)[0].strip().lower()
        if claimed != "application/octet-stream":  # a browser's "don't know" is no claim
            policy.check_mime_type(claimed)
        max_size = self.files.limit_for(request.max_file_size)
        if expected_size is not None and expected_size > max_size:
            raise ApiError(
                413, "file_too_large", f"file is larger than the limit of {max_size} bytes"
            )
        metadata = check_metadata(request.metadata) if request.metadata is not None else {}
        key = build_key(
            filename, policy=self.files.sync.naming, folder=sanitize_folder(request.prefix)
        )
        upload = DirectUpload(
            id=uuid.uuid4(),
            owner=self.principal.owner,
            key=key,
            kind=kind,
            original_filename=filename,
            content_type=claimed,
            max_size=max_size,
            expected_size=expected_size,
            expected_sha256=request.sha256,
            folder=sanitize_folder(request.folder),
            description=request.description,
            is_public=request.is_public,
            user_metadata=metadata,
            status=UploadStatus.PENDING,
            expires_at=utcnow() + lifetime,
        )
        return await self.repository.add(upload)

    async def create_post(self, request: UploadRequest) -> DirectUpload:
        seconds = min(self.state.settings.s3_presigned_url_expiry, POST_EXPIRY_CAP)
        return await self._new(
            request, kind="post", expected_size=None, lifetime=timedelta(seconds=seconds)
        )

    async def sign_post(self, upload: DirectUpload) -> PresignedPost:
        seconds = max(1, int((upload.expires_at - utcnow()).total_seconds()))
        return await self.files.presign_post(
            upload.key,
            content_type=upload.content_type,
            max_size=upload.max_size,
            expires_in=seconds,
        )

    async def create_multipart(self, request: MultipartRequest) -> DirectUpload:
        return await self._new(
            request, kind="multipart", expected_size=request.size, lifetime=MULTIPART_LIFETIME
        )

    async def start_multipart(self, upload: DirectUpload) -> tuple[int, int]:
        """Create the store's multipart upload; (part size, part count)."""
        assert upload.expected_size is not None
        upload.multipart_id = await self.files.start_multipart(
            upload.key, content_type=upload.content_type
        )
        await self.session.flush()
        return plan_parts(upload.expected_size)

    async def get(self, upload_id: uuid.UUID, *, for_update: bool = False) -> DirectUpload:
        owner = None if self.principal.is_admin else self.principal.owner
        upload = await self.repository.get(upload_id, owner=owner, for_update=for_update)
        if upload is None:
            raise ApiError(404, "not_found", "upload not found")
        return upload

    def _require_open_multipart(self, upload: DirectUpload) -> str:
        if upload.kind != "multipart" or not upload.multipart_id:
            raise ApiError(400, "not_multipart", "this upload is not a multipart upload")
        if upload.status != UploadStatus.PENDING:
            raise ApiError(409, "upload_closed", f"this upload is {upload.status}")
        return upload.multipart_id

    async def sign_parts(self, upload_id: uuid.UUID, numbers: list[int]) -> dict[int, PresignedURL]:
        upload = await self.get(upload_id)
        multipart_id = self._require_open_multipart(upload)
        assert upload.expected_size is not None
        _, count = plan_parts(upload.expected_size)
        if max(numbers) > count:
            raise ApiError(400, "invalid_part_numbers", f"this upload has {count} parts")
        return await self.files.presign_parts(upload.key, multipart_id, numbers)

    async def uploaded_parts(self, upload_id: uuid.UUID) -> list[UploadPart]:
        upload = await self.get(upload_id)
        return await self.files.list_parts(upload.key, self._require_open_multipart(upload))

    async def complete(self, upload_id: uuid.UUID, sha256: str | None) -> Completion:
        upload = await self.get(upload_id, for_update=True)
        if upload.status == UploadStatus.COMPLETE and upload.file_id is not None:
            record = await self.session.get(FileRecord, upload.file_id)
            if record is not None:
                return Completion(record)
        if upload.status == UploadStatus.REJECTED:
            raise ApiError(422, "upload_rejected", f"this upload was rejected: {upload.reason}")
        if upload.status != UploadStatus.PENDING:
            raise ApiError(409, "upload_closed", f"this upload is {upload.status}")
        if upload.kind == "multipart":
            await self._assemble(upload)
        try:
            verified = await self.files.verify_object(
                upload.key,
                filename=upload.original_filename,
                claimed_type=upload.content_type,
                max_size=upload.max_size,
                expected_sha256=sha256 or upload.expected_sha256,
            )
        except ObjectNotFoundError:
            raise ApiError(409, "not_uploaded", "the file has not reached the store yet") from None
        except InvalidInputError as exc:
            await self.files.delete(upload.key)
            upload.status = UploadStatus.REJECTED
            upload.reason = exc.code if exc.reason == exc.code else f"{exc.code}: {exc.reason}"
            log_event("direct_upload_rejected", upload_id=str(upload.id), reason=upload.reason)
            return Completion(None, exc)
        record = FileRecord(
            id=uuid.uuid4(),
            owner=upload.owner,
            bucket=self.files.store.bucket,
            key=upload.key,
            original_filename=upload.original_filename,
            content_type=verified.content_type,
            size=verified.size,
            sha256=verified.sha256,
            etag=verified.etag,
            folder=upload.folder,
            description=upload.description,
            is_public=upload.is_public,
            user_metadata=upload.user_metadata or {},
            status=FileStatus.ACTIVE,
        )
        self.session.add(record)
        upload.status = UploadStatus.COMPLETE
        upload.file_id = record.id
        await self.session.flush()
        self.state.metrics.files_uploaded.inc()
        self.state.metrics.uploaded_bytes.inc(verified.size)
        log_event(
            "s3_file_uploaded",
            file_id=str(record.id),
            owner=record.owner,
            key=record.key,
            size=verified.size,
            content_type=verified.content_type,
            via="direct",
        )
        return Completion(record)

    async def _assemble(self, upload: DirectUpload) -> None:
        """Complete the store's multipart upload (once; a retry finds the object)."""
        assert upload.multipart_id is not None and upload.expected_size is not None
        if await self.files.exists(upload.key):
            return
        _, count = plan_parts(upload.expected_size)
        parts = await self.files.list_parts(upload.key, upload.multipart_id)
        numbers = [part.number for part in parts]
        if numbers != list(range(1, count + 1)):
            missing = sorted(set(range(1, count + 1)) - set(numbers))
            raise ApiError(
                400,
                "incomplete_upload",
                f"{len(missing)} of {count} parts are missing: {missing[:10]}",
            )
        try:
            await self.files.complete_multipart(
                upload.key, upload.multipart_id, [(p.number, p.etag) for p in parts]
            )
        except InvalidInputError as exc:
            raise ApiError(400, "incomplete_upload", str(exc.message)) from None

    async def abort(self, upload_id: uuid.UUID) -> DirectUpload:
        upload = await self.get(upload_id, for_update=True)
        if upload.status != UploadStatus.PENDING:
            raise ApiError(409, "upload_closed", f"this upload is {upload.status}")
        if upload.multipart_id:
            await self.files.abort_multipart(upload.key, upload.multipart_id)
        await self.files.delete(upload.key)
        upload.status = UploadStatus.ABORTED
        await self.session.flush()
        return upload
