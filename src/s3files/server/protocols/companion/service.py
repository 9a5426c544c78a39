"""The Companion S3 contract over the direct uploads: each route is one ``UploadService``
call made as the token's owner, with the token's scope applied first (folder, size, types,
number of files). Nothing here decides a key, a limit or a verification of its own."""

from __future__ import annotations

import re
import uuid

import anyio
from sqlalchemy import update

from s3files._errors import UnsupportedFileTypeError
from s3files.direct import STAGING_PREFIX
from s3files.server.api_error import ApiError
from s3files.server.db.models import DirectUpload, FileRecord, UploadStatus, utcnow
from s3files.server.db.session import Sessions, unit_of_work
from s3files.server.files.service import FileService
from s3files.server.logs import log_event
from s3files.server.protocols.companion.tokens import TokenScope, consume_file, type_allowed
from s3files.server.state import AppState
from s3files.server.uploads.schemas import MultipartRequest, UploadRequest
from s3files.server.uploads.service import UploadService

__all__ = ["CompanionUploads", "consume_or_abort", "enforce_token_types", "upload_id_of_key"]

_WAIT_STEP = 0.2  # an explicit completion racing the sweeper waits up to 10 s for it
_WAIT_STEPS = 50

# the store's full key of a staged form upload (under the store's own prefix, if any)
_STAGED = re.compile(rf"(?:^|/){re.escape(STAGING_PREFIX)}([0-9a-f]{{32}})$")


def upload_id_of_key(key: str) -> uuid.UUID | None:
    """The upload a form upload's staging key (what Uppy reports as the key) belongs to."""
    match = _STAGED.search(key)
    return uuid.UUID(match.group(1)) if match else None


class CompanionUploads:
    """The uploads of one token."""

    def __init__(self, state: AppState, scope: TokenScope) -> None:
        self.state = state
        self.scope = scope
        self.uploads = UploadService(state, scope.principal)

    def _request(self, filename: str, content_type: str | None) -> UploadRequest:
        claimed = (content_type or "").strip() or "application/octet-stream"
        if self.scope.allowed_types and not type_allowed(claimed, self.scope.allowed_types):
            raise UnsupportedFileTypeError(
                f"this upload token accepts {', '.join(self.scope.allowed_types)}",
                reason="unsupported_file_type",
            )
        return UploadRequest(
            original_filename=(filename or "file")[:1024],
            content_type=claimed[:255],
            max_file_size=self.scope.max_file_size,
            prefix=self.scope.folder,
            folder=self.scope.folder,
            description=None,
            sha256=None,
        )

    async def create_post(
        self, filename: str, content_type: str | None
    ) -> tuple[DirectUpload, dict[str, str], str, int]:
        """A form upload: (upload, fields, url, seconds valid)."""
        request = self._request(filename, content_type)
        upload, post = await self.uploads.create_post(request, token_id=self.scope.id)
        await consume_or_abort(self.state.sessions, self.scope, self.uploads, upload.id)
        seconds = max(1, int((post.expires_at - utcnow()).total_seconds()))
        return upload, dict(post.fields), post.url, seconds

    async def create_multipart(self, filename: str, content_type: str | None) -> DirectUpload:
        base = self._request(filename, content_type)
        limit = self.state.files.limit_for(self.scope.max_file_size)
        request = MultipartRequest(**base.model_dump(), size=limit)
        upload, _, _ = await self.uploads.create_multipart(
            request, size_declared=False, token_id=self.scope.id
        )
        await consume_or_abort(self.state.sessions, self.scope, self.uploads, upload.id)
        return upload

    async def upload(self, upload_id: str, key: str | None) -> DirectUpload:
        """The token owner's upload ``upload_id``; the ``key`` the client echoes must be its
        key (404 otherwise, as for another owner's upload)."""
        try:
            ident = uuid.UUID(upload_id)
        except ValueError:
            raise ApiError(404, "not_found", "upload not found") from None
        upload = await self.uploads.get(ident)
        if key is not None and key != upload.key:
            raise ApiError(404, "not_found", "upload not found")
        return upload

    async def complete(self, upload: DirectUpload) -> FileRecord:
        """Verify and record the upload (``UploadService.complete``), then hold the sniffed
        type to the token's types: a file outside them is deleted again (415)."""
        for _ in range(_WAIT_STEPS):
            try:
                record = await self.uploads.complete(upload.id, None)
                break
            except ApiError as exc:  # the sweeper is completing it: wait for its outcome
                if exc.error != "completion_in_progress":
                    raise
                await anyio.sleep(_WAIT_STEP)
        else:
            raise ApiError(409, "completion_in_progress", "this upload is being completed")
        await enforce_token_types(self.state, self.scope, upload.id, record)
        return record


async def consume_or_abort(
    sessions: Sessions, scope: TokenScope, uploads: UploadService, upload_id: uuid.UUID
) -> None:
    """Count an accepted upload against the token's ``max_files``; past it, the upload is
    aborted again and 403 ``upload_token_exhausted`` raised (refused uploads never count)."""
    try:
        await consume_file(sessions, scope)
    except ApiError:
        with anyio.CancelScope(shield=True):
            await uploads.abort(upload_id)
        raise


async def enforce_token_types(
    state: AppState, scope: TokenScope, upload_id: uuid.UUID, record: FileRecord
) -> None:
    if type_allowed(record.content_type, scope.allowed_types):
        return
    await FileService(state, scope.principal).delete(record.id, hard=True)
    reason = f"unsupported_file_type: {record.content_type} is outside the upload token's types"
    async with unit_of_work(state.sessions) as session:
        await session.execute(
            update(DirectUpload)
            .where(DirectUpload.id == upload_id)
            .values(status=UploadStatus.REJECTED, reason=reason, file_id=None)
            .execution_options(synchronize_session=False)
        )
    log_event("direct_upload_rejected", upload_id=str(upload_id), reason=reason)
    raise UnsupportedFileTypeError(reason, reason="unsupported_file_type")
