"""Direct uploads: persist what the core plans, signs and verifies.

The core (``s3files.direct``) decides: ``plan_direct_upload`` (name, type, limit, key,
staging key, parts), ``sign_direct_upload``, ``verify_or_reject`` (copies a staged form
upload to its key, verifies it with its SHA-256, deletes what it refuses). This service
only records each step, keeping the unit-of-work rule (``server/db/session.py``): every
database step is its own short ``unit_of_work``, and no session is open while the store
is called. So a request is: record pending → commit → sign or talk to the store with no
session → record the outcome in a new short transaction. Errors are raised, never passed
back as values; a rejection is committed before its error is raised.

Two completions of one upload at once: the first takes a lease (``completing_until``) in
a short transaction; the other answers 409 ``completion_in_progress`` until it ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import anyio

from s3files._errors import InvalidInputError, ObjectNotFoundError
from s3files._models import PresignedPost, PresignedURL, UploadPart
from s3files.direct import DirectUploadPlan, Rejection, VerifiedObject, plan_parts
from s3files.naming import folder_path
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import DirectUpload, FileRecord, FileStatus, UploadStatus, utcnow
from s3files.server.db.session import AsyncSession, unit_of_work
from s3files.server.files.service import check_description, check_metadata
from s3files.server.logs import log_event
from s3files.server.quotas.service import enforce_quota
from s3files.server.state import AppState
from s3files.server.uploads.repository import UploadRepository
from s3files.server.uploads.schemas import MultipartRequest, UploadRequest
from s3files.store import AsyncFileStore
from s3files.stores.direct_uploads import MAX_PARTS, MIN_PART_SIZE

__all__ = ["COMPLETION_LEASE", "UploadService", "folder_of"]

# How long one completion may take before another may try again (a crashed one's lease
# runs out). Verification reads the whole object once, so this bounds the size verified
# in one go at roughly an hour's streaming read.
COMPLETION_LEASE = timedelta(hours=1)


def folder_of(request: UploadRequest) -> str:
    """The upload's folder: ``folder``, or the older ``prefix`` standing for it (the key
    lives in the file's folder, so the two cannot differ)."""
    folder = folder_path(request.folder)
    if request.prefix is None:
        return folder
    prefix = folder_path(request.prefix)
    if request.folder is not None and prefix != folder:
        raise ApiError(
            400, "invalid_field", "prefix: the key follows the folder; send folder alone"
        )
    return prefix


class UploadService:
    """Direct uploads of one principal; opens its own short units of work."""

    def __init__(self, state: AppState, principal: Principal) -> None:
        self.state = state
        self.principal = principal

    @property
    def files(self) -> AsyncFileStore:
        return self.state.files

    # Create -------------------------------------------------------------------------

    async def _plan(
        self, request: UploadRequest, *, size: int | None, size_declared: bool = True
    ) -> DirectUploadPlan:
        check_description(request.description)
        if request.metadata is not None:
            check_metadata(request.metadata)
        folder = folder_of(request)
        async with unit_of_work(self.state.sessions) as session:  # quota: checked when signed
            await enforce_quota(
                session, self.principal.owner, self.state.settings,
                add_bytes=(size or 0) if size_declared else 0,
                lock=False,
            )  # fmt: skip
        expires_in = None
        if size is None:
            expires_in = min(self.state.settings.s3_presigned_url_expiry, 3600)
        return await self.files.plan_direct_upload(
            request.original_filename,
            request.content_type,
            max_size=request.max_file_size,
            prefix=folder,  # the key follows the folder, as for every upload
            size=size,
            expires_in=expires_in,
            key_prefix=self.state.settings.s3files_key_prefix,
            owner=self.principal.owner,
        )

    async def _record(
        self,
        plan: DirectUploadPlan,
        request: UploadRequest,
        *,
        kind: str | None = None,
        size_declared: bool = True,
        token_id: uuid.UUID | None = None,
    ) -> DirectUpload:
        upload = DirectUpload(
            id=plan.upload_id,
            owner=self.principal.owner,
            key=plan.key,
            staging_key=plan.staging_key,
            kind=kind or ("multipart" if plan.parts else "post"),
            token_id=token_id,
            original_filename=plan.filename,
            content_type=plan.content_type,
            max_size=plan.max_size,
            expected_size=plan.parts.size if plan.parts and size_declared else None,
            expected_sha256=request.sha256,
            folder=folder_of(request),
            description=request.description,
            is_public=request.is_public,
            user_metadata=request.metadata or {},
            status=UploadStatus.PENDING,
            expires_at=plan.expires_at,
        )
        async with unit_of_work(self.state.sessions) as session:
            await UploadRepository(session).add(upload)
        return upload

    async def create_post(
        self, request: UploadRequest, *, token_id: uuid.UUID | None = None
    ) -> tuple[DirectUpload, PresignedPost]:
        """Record a pending form upload, then sign its form (to the staging key)."""
        plan = await self._plan(request, size=None)
        # committed before anything is signed
        upload = await self._record(plan, request, token_id=token_id)
        try:
            return upload, await self.files.sign_direct_upload(plan)
        except BaseException as exc:
            await self._give_up(upload, exc)
            raise

    async def create_multipart(
        self,
        request: MultipartRequest,
        *,
        size_declared: bool = True,
        token_id: uuid.UUID | None = None,
    ) -> tuple[DirectUpload, int, int]:
        """Record a pending multipart upload, start it in the store, record its id;
        returns (upload, part size, part count).

        Without ``size_declared`` (clients that do not say the size, such as Uppy's S3
        plugin) ``request.size`` is only the upper bound: the upload is recorded without an
        expected size, the quota is checked at completion, and any number of parts up to
        what the limit allows may be sent."""
        plan = await self._plan(request, size=request.size, size_declared=size_declared)
        assert plan.parts is not None
        upload = await self._record(plan, request, size_declared=size_declared, token_id=token_id)
        try:
            multipart_id = await self.files.start_multipart(
                plan.key, content_type=plan.content_type
            )
        except BaseException as exc:
            await self._give_up(upload, exc)
            raise
        async with unit_of_work(self.state.sessions) as session:
            stored = await self._get(session, upload.id)
            stored.multipart_id = multipart_id
        upload.multipart_id = multipart_id
        return upload, plan.parts.part_size, plan.parts.part_count

    async def create_tus(self, request: MultipartRequest) -> DirectUpload:
        """Record a pending tus upload of ``request.size`` bytes (kind ``tus``): planned,
        limited and quota-checked like a multipart upload; the tus router sends the bytes
        to the store and then calls ``complete``."""
        plan = await self._plan(request, size=request.size)
        return await self._record(plan, request, kind="tus")

    async def _give_up(self, upload: DirectUpload, exc: BaseException) -> None:
        """Signing or starting failed: the pending record becomes ``aborted``, with why."""
        with anyio.CancelScope(shield=True):
            async with unit_of_work(self.state.sessions) as session:
                current = await self._get(session, upload.id, for_update=True)
                if current.status == UploadStatus.PENDING:
                    current.status = UploadStatus.ABORTED
                    current.reason = f"not signed: {type(exc).__name__}"[:2000]

    # Read ---------------------------------------------------------------------------

    async def _get(
        self, session: AsyncSession, upload_id: uuid.UUID, *, for_update: bool = False
    ) -> DirectUpload:
        owner = None if self.principal.is_admin else self.principal.owner
        upload = await UploadRepository(session).get(upload_id, owner=owner, for_update=for_update)
        if upload is None:
            raise ApiError(404, "not_found", "upload not found")
        return upload

    async def get(self, upload_id: uuid.UUID) -> DirectUpload:
        async with unit_of_work(self.state.sessions) as session:
            return await self._get(session, upload_id)

    @staticmethod
    def _require_open_multipart(upload: DirectUpload) -> str:
        if upload.kind != "multipart" or not upload.multipart_id:
            raise ApiError(400, "not_multipart", "this upload is not a multipart upload")
        if upload.status != UploadStatus.PENDING:
            raise ApiError(409, "upload_closed", f"this upload is {upload.status}")
        return upload.multipart_id

    async def sign_parts(
        self, upload_id: uuid.UUID, numbers: Sequence[int]
    ) -> dict[int, PresignedURL]:
        upload = await self.get(upload_id)
        multipart_id = self._require_open_multipart(upload)
        part_count = self._part_count_bound(upload)
        if max(numbers) > part_count:
            raise ApiError(400, "invalid_part_numbers", f"this upload has {part_count} parts")
        return await self.files.presign_parts(upload.key, multipart_id, numbers)

    @staticmethod
    def _part_size(upload: DirectUpload) -> int:
        assert upload.expected_size is not None
        return plan_parts(upload.expected_size)[0]

    def _part_count_bound(self, upload: DirectUpload) -> int:
        """The parts an upload has (declared size) or may have at most (size unknown:
        every part but the last is at least the store's minimum)."""
        if upload.expected_size is not None:
            return -(-upload.expected_size // self._part_size(upload))
        return min(MAX_PARTS, max(1, -(-upload.max_size // MIN_PART_SIZE)))

    async def uploaded_parts(self, upload_id: uuid.UUID) -> list[UploadPart]:
        upload = await self.get(upload_id)
        return await self.files.list_parts(upload.key, self._require_open_multipart(upload))

    # Complete -----------------------------------------------------------------------

    async def _settled(self, session: AsyncSession, upload: DirectUpload) -> FileRecord | None:
        """The file of a completed upload; raises for a closed one; None while pending."""
        if upload.status == UploadStatus.COMPLETE and upload.file_id is not None:
            record = await session.get(FileRecord, upload.file_id)
            if record is not None:
                return record
        if upload.status == UploadStatus.REJECTED:
            raise ApiError(422, "upload_rejected", f"this upload was rejected: {upload.reason}")
        if upload.status != UploadStatus.PENDING:
            raise ApiError(409, "upload_closed", f"this upload is {upload.status}")
        return None

    async def complete(self, upload_id: uuid.UUID, sha256: str | None) -> FileRecord:
        """Verify the uploaded object (the core copies a staged one to its key) and make it
        a file. Idempotent: a retry returns the same file. A refusal deletes the object,
        records ``rejected`` and raises the refusal's error."""
        async with unit_of_work(self.state.sessions) as session:
            upload = await self._get(session, upload_id)
            settled = await self._settled(session, upload)
            if settled is not None:
                return settled
            now = utcnow()
            claimed = await UploadRepository(session).claim(
                upload.id, now=now, until=now + COMPLETION_LEASE
            )
        if not claimed:
            async with unit_of_work(self.state.sessions) as session:
                settled = await self._settled(session, await self._get(session, upload_id))
                if settled is not None:
                    return settled
            raise ApiError(409, "completion_in_progress", "this upload is being completed")
        try:
            outcome = await self._verify(upload, sha256)
        except BaseException:
            with anyio.CancelScope(shield=True):  # a cancelled request still lets go
                async with unit_of_work(self.state.sessions) as session:
                    await UploadRepository(session).release(upload.id)
            raise
        if isinstance(outcome, Rejection):
            await self._reject(upload, outcome)
            raise outcome.error
        record = await self._activate(upload, outcome)
        self.state.metrics.files_uploaded.inc()
        self.state.metrics.uploaded_bytes.inc(outcome.size)
        log_event(
            "s3_file_uploaded",
            file_id=str(record.id),
            owner=record.owner,
            key=record.key,
            size=outcome.size,
            content_type=outcome.content_type,
            sha256=outcome.sha256,
            via="direct",
        )
        return record

    async def _activate(self, upload: DirectUpload, verified: VerifiedObject) -> FileRecord:
        """Record the verified file and the upload complete (one short transaction)."""
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
        over_quota: ApiError | None = None
        async with unit_of_work(self.state.sessions) as session:
            current = await self._get(session, upload.id, for_update=True)
            closed = current.status if current.status != UploadStatus.PENDING else None
            if closed is None:
                try:  # quota: checked again, and taken, in the activation's transaction
                    await enforce_quota(
                        session, upload.owner, self.state.settings, add_bytes=verified.size
                    )
                except ApiError as exc:
                    over_quota = exc
                    current.status = UploadStatus.REJECTED
                    current.reason = exc.error
                else:
                    session.add(record)
                    current.status = UploadStatus.COMPLETE
                    current.file_id = record.id
                current.completing_until = None
        if closed is not None or over_quota is not None:  # leave nothing behind
            await self.files.discard_direct_upload(upload.key, staging_key=upload.staging_key)
            raise over_quota or ApiError(409, "upload_closed", f"this upload is {closed}")
        return record

    async def _verify(self, upload: DirectUpload, sha256: str | None) -> VerifiedObject | Rejection:
        if upload.kind == "multipart":
            await self._assemble(upload)
        try:
            return await self.files.verify_or_reject(
                upload.key,
                filename=upload.original_filename,
                claimed_type=upload.content_type,
                max_size=upload.max_size,
                staging_key=upload.staging_key,
                expected_size=upload.expected_size,
                expected_sha256=sha256 or upload.expected_sha256,
            )
        except ObjectNotFoundError:
            raise ApiError(409, "not_uploaded", "the file has not reached the store yet") from None

    async def _reject(self, upload: DirectUpload, rejection: Rejection) -> None:
        async with unit_of_work(self.state.sessions) as session:
            current = await self._get(session, upload.id, for_update=True)
            if current.status == UploadStatus.PENDING:
                current.status = UploadStatus.REJECTED
                current.reason = rejection.reason
            current.completing_until = None
        log_event("direct_upload_rejected", upload_id=str(upload.id), reason=rejection.reason)

    async def _assemble(self, upload: DirectUpload) -> None:
        """Complete the store's multipart upload (once; a retry finds the object)."""
        assert upload.multipart_id is not None
        if await self.files.exists(upload.key):
            return
        parts = await self.files.list_parts(upload.key, upload.multipart_id)
        numbers = [part.number for part in parts]
        if upload.expected_size is not None:
            count = -(-upload.expected_size // self._part_size(upload))
        else:  # size not declared: the parts sent, which must have no gap
            count = max(numbers, default=1)
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

    # Abort --------------------------------------------------------------------------

    async def abort(self, upload_id: uuid.UUID) -> DirectUpload:
        """Cancel a pending upload: discard what was sent, then record ``aborted``. It takes
        the completion lease first, so it never races a completion."""
        async with unit_of_work(self.state.sessions) as session:
            upload = await self._get(session, upload_id)
            if upload.status != UploadStatus.PENDING:
                raise ApiError(409, "upload_closed", f"this upload is {upload.status}")
            now = utcnow()
            claimed = await UploadRepository(session).claim(
                upload.id, now=now, until=now + COMPLETION_LEASE
            )
        if not claimed:
            raise ApiError(409, "completion_in_progress", "this upload is being completed")
        try:
            await self.files.discard_direct_upload(
                upload.key, staging_key=upload.staging_key, multipart_id=upload.multipart_id
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                async with unit_of_work(self.state.sessions) as session:
                    await UploadRepository(session).release(upload.id)
            raise
        async with unit_of_work(self.state.sessions) as session:
            current = await self._get(session, upload_id, for_update=True)
            if current.status == UploadStatus.PENDING:
                current.status = UploadStatus.ABORTED
            current.completing_until = None
            return current
