"""``/api/v1/files``: upload, list, read, edit, download, copy, delete.

Uploads, downloads and copies each take a transfer slot (``state.transfers``): past the
limits the answer is 503 ``busy`` with ``Retry-After`` before any byte is read. No
endpoint holds a database session; ``FileService`` opens its own short ones."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from s3files.server.db.models import FileRecord
from s3files.server.deps import OptionalPrincipalDep, PrincipalDep, StateDep
from s3files.server.errors import ApiError, error_responses
from s3files.server.files.download import stream_object
from s3files.server.files.idempotency import check_idempotency_key
from s3files.server.files.multipart import StreamingForm
from s3files.server.files.repository import SortField
from s3files.server.files.schemas import (
    DOWNLOAD_RESPONSES,
    CopyRequest,
    FileList,
    FileOut,
    FilePatch,
    PresignedOut,
)
from s3files.server.files.service import FileService

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/files", tags=["files"])
FileId = Annotated[uuid.UUID, "the file's id"]

_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "folder": {"type": "string", "example": "documents"},
                        "description": {"type": "string", "example": "Important document"},
                        "is_public": {"type": "boolean", "default": False},
                        "metadata": {
                            "type": "string",
                            "description": "a JSON object",
                            "example": '{"category": "profile"}',
                        },
                    },
                }
            }
        },
    }
}


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description=(
            "Makes retries safe: 1 to 255 printable ASCII characters (a UUID, say), unique "
            "per file. The first request with a key stores the file (201) and records the key "
            "(unique per owner). A retry with the same key stores nothing and answers 200 with "
            "the same record (`Idempotent-Replayed: true`); while the first request is still "
            "in flight it answers 409 `idempotency_in_progress` with `Retry-After`; with "
            "another filename (or once the file was deleted), 422 `idempotency_key_reused`."
        ),
        examples=["5f0c9a56-1d7e-4c1b-9a8e-3f2b7c6d4e10"],
    ),
]

_UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(400, 401, 408, 409, 413, 415, 422, 503),
    200: {
        "model": FileOut,
        "description": "A retry with the same `Idempotency-Key`: the record the first "
        "request stored (header `Idempotent-Replayed: true`); nothing stored again",
        "headers": {
            "Idempotent-Replayed": {
                "description": "`true`: a replay",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    },
    **error_responses(
        409,
        description="An upload with this `Idempotency-Key` is in flight "
        "(`idempotency_in_progress`, with Retry-After)",
        example=("idempotency_in_progress", "an upload with this Idempotency-Key is in progress"),
        headers=(("Retry-After", "seconds left on the first request's lease", False),),
    ),
    **error_responses(
        422,
        description="`Idempotency-Key` used for another file (`idempotency_key_reused`), "
        "or request fields malformed (`validation_error`)",
        example=("idempotency_key_reused", "this Idempotency-Key was used for another file"),
    ),
}


async def _upload(
    service: FileService,
    idempotency_key: str | None,
    response: Response,
    chunks: AsyncIterator[bytes],
    *,
    filename: str,
    claimed_type: str | None,
    fields: Callable[[], Mapping[str, str | None]],
) -> FileRecord:
    """An upload, once per ``Idempotency-Key`` when one is given (200 for a replay)."""
    if idempotency_key is None:
        return await service.upload(
            chunks, filename=filename, claimed_type=claimed_type, fields=fields
        )
    record, created = await service.upload_once(
        chunks,
        idempotency_key=idempotency_key,
        filename=filename,
        claimed_type=claimed_type,
        fields=fields,
    )
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return record


@router.post(
    "/upload",
    status_code=201,
    response_model=FileOut,
    openapi_extra=_FORM_SCHEMA,
    responses=_UPLOAD_RESPONSES,
    summary="Upload a file (multipart form)",
)
async def upload_file(
    request: Request,
    response: Response,
    state: StateDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FileOut:
    """Stream the ``file`` part into the store while validating it (size counted on the
    bytes, extension, MIME type sniffed from the content); ``folder``, ``description``,
    ``is_public`` and ``metadata`` (JSON) are optional fields, before or after the file.
    With ``Idempotency-Key``, a retry stores nothing twice."""
    key = check_idempotency_key(idempotency_key)
    form = StreamingForm(request.headers.get("content-type"), request.stream())
    state.transfers.ensure_room(principal.owner)  # the slot itself: FileService, at admission
    await form.start()
    record = await _upload(
        FileService(state, principal),
        key,
        response,
        form.file_chunks(),
        filename=form.filename or "",
        claimed_type=form.file_content_type,
        fields=lambda: form.fields,
    )
    return FileOut.of(record)


_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"},
                "example": "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
            }
        },
    }
}


@router.put(
    "/stream",
    status_code=201,
    response_model=FileOut,
    responses=_UPLOAD_RESPONSES,
    summary="Upload a file as the raw request body (curl -T)",
    openapi_extra=_RAW_BODY,
)
@router.post(
    "/stream",
    status_code=201,
    response_model=FileOut,
    responses=_UPLOAD_RESPONSES,
    summary="Upload a file as the raw request body",
    openapi_extra=_RAW_BODY,
)
async def upload_stream(
    request: Request,
    response: Response,
    state: StateDep,
    principal: PrincipalDep,
    filename: Annotated[str, Query(min_length=1, max_length=1024, examples=["report.pdf"])],
    folder: Annotated[str | None, Query(max_length=1024)] = None,
    description: Annotated[str | None, Query(max_length=10_000)] = None,
    is_public: bool = False,
    metadata: Annotated[str | None, Query(description="a JSON object")] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FileOut:
    """For large files and scripts: ``curl -T big.bin 'http://…/api/v1/files/stream?filename=big.bin'``.
    The body is the file; ``Content-Type`` is a claim checked against the content. With
    ``Idempotency-Key``, a retry stores nothing twice."""
    key = check_idempotency_key(idempotency_key)
    limit = state.files.policy.max_size
    declared = request.headers.get("content-length")
    if limit is not None and declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "file_too_large", f"file is larger than the limit of {limit} bytes")
    fields = {
        "folder": folder,
        "description": description,
        "is_public": "true" if is_public else "false",
        "metadata": metadata,
    }
    state.transfers.ensure_room(principal.owner)  # the slot itself: FileService, at admission
    record = await _upload(
        FileService(state, principal),
        key,
        response,
        request.stream(),
        filename=filename,
        claimed_type=request.headers.get("content-type"),
        fields=lambda: fields,
    )
    return FileOut.of(record)


@router.get("", response_model=FileList, responses=error_responses(400, 401), summary="List files")
async def list_files(
    state: StateDep,
    principal: PrincipalDep,
    folder: Annotated[str | None, Query(max_length=1024)] = None,
    search: Annotated[str | None, Query(max_length=255, description="part of the name")] = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=1024,
            description="exactly this name (with folder: the file at the path folder/name)",
        ),
    ] = None,
    content_type: Annotated[str | None, Query(max_length=255, examples=["image/*"])] = None,
    deleted: Annotated[bool, Query(description="list the trash instead")] = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    recursive: Annotated[
        bool, Query(description="with folder: every file under it, subfolders included")
    ] = False,
    sort: Annotated[SortField, Query(description="name, size, type, modified or created")] = (
        "created"
    ),
    order: Annotated[Literal["asc", "desc"] | None, Query()] = None,
) -> FileList:
    """Newest first unless ``sort``/``order`` say otherwise (``order`` defaults to ``asc``
    for name and type, ``desc`` otherwise); ``next_cursor`` fetches the next page of the
    same listing (ties are broken by id, so paging is stable)."""
    descending = order == "desc" if order else sort not in ("name", "type")
    queried = (
        ("folder", folder),
        ("search", search),
        ("name", name),
        ("content_type", content_type),
    )
    for field, value in queried:
        if value and ("\x00" in value or not value.isprintable()):
            raise ApiError(400, "invalid_query", f"{field} contains control characters")
    rows, next_cursor = await FileService(state, principal).list(
        folder=folder,
        search=search,
        name=name,
        content_type=content_type,
        deleted=deleted,
        limit=limit,
        cursor=cursor,
        recursive=recursive,
        sort=sort,
        descending=descending,
    )
    return FileList(items=[FileOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/{file_id:uuid}", response_model=FileOut, responses=error_responses(401, 404))
async def get_file(file_id: FileId, state: StateDep, principal: PrincipalDep) -> FileOut:
    """The file's record."""
    return FileOut.of(await FileService(state, principal).get(file_id))


@router.get("/{file_id:uuid}/metadata", response_model=FileOut, responses=error_responses(401, 404))
async def get_metadata(file_id: FileId, state: StateDep, principal: PrincipalDep) -> FileOut:
    """The metadata view: ``content_type``, ``file_size``, ``last_modified``,
    ``metadata`` and the rest of the record."""
    return FileOut.of(await FileService(state, principal).get(file_id))


@router.patch("/{file_id:uuid}", response_model=FileOut, responses=error_responses(400, 401, 404))
async def update_file(
    file_id: FileId, body: FilePatch, state: StateDep, principal: PrincipalDep
) -> FileOut:
    """Edit description, metadata or is_public; ``name`` renames, ``folder`` moves (the
    record changes at once; the object's key never does)."""
    record = await FileService(state, principal).update(
        file_id,
        name=body.name,
        description=body.description,
        metadata=body.metadata,
        is_public=body.is_public,
        folder=body.folder,
        fields_set=set(body.model_fields_set),
    )
    return FileOut.of(record)


@router.get(
    "/{file_id:uuid}/download",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_RESPONSES, **error_responses(401, 404, 416, 503)},
    openapi_extra={"security": [{}]},  # added to the bearer: public files need no credentials
)
async def download_file(
    file_id: FileId,
    state: StateDep,
    principal: OptionalPrincipalDep,
    as_attachment: bool = True,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Stream the bytes (``Range`` → 206, ``If-None-Match`` → 304). Public files need no
    credentials. Types outside a safe list are always sent as attachments."""
    who = principal.owner if principal is not None else ""
    state.transfers.acquire(who)
    try:
        record = await FileService(state, principal).get_for_download(file_id)
        return await stream_object(
            state,
            release=lambda: state.transfers.release(who),
            key=record.key,
            size=record.size,
            content_type=record.content_type,
            etag=record.sha256 or record.etag,
            filename=record.original_filename,
            as_attachment=as_attachment,
            range_header=range_header,
            if_none_match=if_none_match,
            file_id=str(record.id),
            public=record.is_public,
        )
    except BaseException:
        state.transfers.release(who)
        raise


@router.get(
    "/{file_id:uuid}/presigned-url",
    response_model=PresignedOut,
    responses=error_responses(401, 404),
)
async def presigned_url(
    file_id: FileId,
    state: StateDep,
    principal: PrincipalDep,
    expiry: Annotated[int | None, Query(ge=1, le=604800, description="seconds; capped")] = None,
    force_download: bool = False,
) -> PresignedOut:
    """A short-lived URL straight to the store; ``expiry`` is capped by
    ``S3_PRESIGNED_URL_EXPIRY``."""
    url, expires_at, seconds = await FileService(state, principal).presign(
        file_id, expiry=expiry, force_download=force_download
    )
    return PresignedOut(url=url, expires_at=expires_at, expires_in=seconds)


@router.post(
    "/{file_id:uuid}/copy",
    status_code=201,
    response_model=FileOut,
    responses=error_responses(400, 401, 404, 503),
)
async def copy_file(
    file_id: FileId,
    body: CopyRequest,
    state: StateDep,
    principal: PrincipalDep,
) -> FileOut:
    """A new file with the same bytes, in ``new_folder``, with ``new_metadata`` if given."""
    async with state.transfers.slot(principal.owner):
        record = await FileService(state, principal).copy(
            file_id, new_folder=body.new_folder, new_metadata=body.new_metadata
        )
    return FileOut.of(record)


@router.delete("/{file_id:uuid}", status_code=204, responses=error_responses(401, 404))
async def delete_file(
    file_id: FileId,
    state: StateDep,
    principal: PrincipalDep,
    hard_delete: bool = False,
) -> Response:
    """Soft delete (to the trash, object kept) or, with ``hard_delete=true``, remove the
    object and the record for good."""
    await FileService(state, principal).delete(file_id, hard=hard_delete)
    return Response(status_code=204)


@router.post("/{file_id:uuid}/restore", response_model=FileOut, responses=error_responses(401, 404))
async def restore_file(file_id: FileId, state: StateDep, principal: PrincipalDep) -> FileOut:
    """Take a soft-deleted file out of the trash."""
    return FileOut.of(await FileService(state, principal).restore(file_id))
