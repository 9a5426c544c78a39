"""``/api/v1/uploads``: direct uploads from the browser to the store (a signed form), plus
multipart for large files. The endpoints take the state and the principal; the service
opens its own short units of work (no request-scoped session)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import error_responses
from s3files.server.files.schemas import FileOut
from s3files.server.uploads.schemas import (
    CompleteRequest,
    MultipartOut,
    MultipartRequest,
    PartsOut,
    PartsRequest,
    PartURL,
    UploadedPart,
    UploadForm,
    UploadOut,
    UploadRequest,
)
from s3files.server.uploads.service import UploadService

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/uploads", tags=["direct uploads"])


@router.post(
    "",
    status_code=201,
    response_model=UploadForm,
    responses=error_responses(400, 401, 403, 413, 415),
)
async def create_upload(
    body: UploadRequest, state: StateDep, principal: PrincipalDep
) -> UploadForm:
    """A form the browser POSTs straight to the store. The policy binds a staging key that
    only completion turns into the file, the content type and the size limit; ``key`` is
    where the file will live."""
    upload, post = await UploadService(state, principal).create_post(body)
    return UploadForm(
        upload_id=upload.id,
        key=upload.key,
        form_url=post.url,
        form_fields=dict(post.fields),
        max_file_size=post.max_size,
        expires_at=post.expires_at,
    )


@router.post(
    "/multipart",
    status_code=201,
    response_model=MultipartOut,
    responses=error_responses(400, 401, 403, 413, 415),
)
async def create_multipart_upload(
    body: MultipartRequest, state: StateDep, principal: PrincipalDep
) -> MultipartOut:
    """Start a multipart upload; then ask for part URLs in batches, PUT each part, and
    complete."""
    service = UploadService(state, principal)
    upload, part_size, part_count = await service.create_multipart(body)
    return MultipartOut(
        upload_id=upload.id,
        key=upload.key,
        part_size=part_size,
        part_count=part_count,
        expires_at=upload.expires_at,
    )


@router.post(
    "/{upload_id:uuid}/parts",
    response_model=PartsOut,
    responses=error_responses(400, 401, 404, 409),
)
async def sign_parts(
    upload_id: uuid.UUID,
    body: PartsRequest,
    state: StateDep,
    principal: PrincipalDep,
) -> PartsOut:
    """Presigned PUT URLs for up to 100 parts."""
    urls = await UploadService(state, principal).sign_parts(upload_id, body.part_numbers)
    expires = min(url.expires_at for url in urls.values())
    return PartsOut(
        parts=[PartURL(number=n, url=u.url) for n, u in sorted(urls.items())], expires_at=expires
    )


@router.get(
    "/{upload_id:uuid}/parts",
    response_model=list[UploadedPart],
    responses=error_responses(400, 401, 404, 409),
)
async def list_uploaded_parts(
    upload_id: uuid.UUID, state: StateDep, principal: PrincipalDep
) -> list[UploadedPart]:
    """The parts already in the store, to resume after an interruption."""
    parts = await UploadService(state, principal).uploaded_parts(upload_id)
    return [UploadedPart(number=p.number, etag=p.etag, size=p.size) for p in parts]


@router.post(
    "/{upload_id:uuid}/complete",
    response_model=FileOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
async def complete_upload(
    upload_id: uuid.UUID,
    state: StateDep,
    principal: PrincipalDep,
    body: CompleteRequest | None = None,
) -> FileOut:
    """Check the object (exists, size, type sniffed from its first bytes, SHA-256) and make
    it a file; a form upload is first copied from its staging key. Idempotent: a retry
    returns the same file. A failed check deletes the object and marks the upload
    rejected."""
    record = await UploadService(state, principal).complete(
        upload_id, body.sha256 if body else None
    )
    return FileOut.of(record)


@router.get("/{upload_id:uuid}", response_model=UploadOut, responses=error_responses(401, 404))
async def get_upload(upload_id: uuid.UUID, state: StateDep, principal: PrincipalDep) -> UploadOut:
    """Where an upload stands: pending, complete (with ``file_id``), rejected (``reason``)."""
    return UploadOut.of(await UploadService(state, principal).get(upload_id))


@router.delete(
    "/{upload_id:uuid}", response_model=UploadOut, responses=error_responses(401, 404, 409)
)
async def abort_upload(upload_id: uuid.UUID, state: StateDep, principal: PrincipalDep) -> UploadOut:
    """Cancel a pending upload and discard what was sent."""
    return UploadOut.of(await UploadService(state, principal).abort(upload_id))
