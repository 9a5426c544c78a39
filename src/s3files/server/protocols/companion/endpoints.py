"""``/api/v1/companion``: upload tokens, and the routes Uppy's ``@uppy/aws-s3`` calls when
its ``companionEndpoint`` is ``<service>/api/v1/companion/<token>`` (v6; v5's ``endpoint``
option uses the same routes and shapes, plus the older ``batch`` signing route).

The request and response shapes are the plugin's. The ``filename`` it sends is a hint for
the display name, never the key; the ``key`` it echoes back must be the upload's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from s3files.server.api_error import ApiError
from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import error_responses
from s3files.server.files.schemas import FileOut
from s3files.server.protocols.companion.service import CompanionUploads, upload_id_of_key
from s3files.server.protocols.companion.tokens import mint_token, resolve_token, revoke_token
from s3files.server.state import AppState

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/companion", tags=["Uppy (Companion S3 routes)"])

TokenPath = Annotated[str, Path(max_length=128)]


class TokenRequest(BaseModel):
    """What an upload token may do; every limit is optional."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "folder": "inbox",
                    "max_file_size": 104857600,
                    "allowed_types": ["image/*"],
                    "max_files": 10,
                    "expires_in": 3600,
                }
            ]
        },
    )

    folder: str | None = Field(None, max_length=1024)
    max_file_size: int | None = Field(None, ge=1, le=5 * 1024**4)
    allowed_types: list[str] | None = Field(None, max_length=50)
    max_files: int | None = Field(None, ge=1, le=10**9)
    expires_in: int | None = Field(None, ge=1, le=86400, description="seconds (default 3600)")


class TokenOut(BaseModel):
    id: uuid.UUID
    token: str = Field(description="shown once; only its hash is stored")
    companion_endpoint: str = Field(description="give this to Uppy as `companionEndpoint`")
    expires_at: datetime


class CreateMultipart(BaseModel):
    """What the plugin POSTs to ``/s3/multipart``."""

    model_config = ConfigDict(extra="allow")

    filename: str = Field("file", max_length=1024)
    type: str | None = Field(None, max_length=255)
    metadata: dict[str, Any] | None = None


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    parts: list[dict[str, Any]] | None = None


class ExplicitComplete(BaseModel):
    """The key Uppy reported for a small file (``.uploads/<id>``), or the upload id."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=2048)
    upload_id: uuid.UUID | None = None


def _base(state: AppState) -> str:
    return state.settings.public_base_url.rstrip("/")


@router.post(
    "/tokens", status_code=201, response_model=TokenOut, responses=error_responses(400, 401)
)
async def create_token(body: TokenRequest, state: StateDep, principal: PrincipalDep) -> TokenOut:
    """A short-lived, revocable upload token for the caller's own files, and the
    ``companionEndpoint`` URL that carries it."""
    minted = await mint_token(
        state.sessions,
        principal,
        folder=body.folder,
        max_file_size=body.max_file_size,
        allowed_types=body.allowed_types,
        max_files=body.max_files,
        expires_in=body.expires_in,
    )
    return TokenOut(
        id=minted.id,
        token=minted.secret,
        companion_endpoint=f"{_base(state)}/api/v1/companion/{minted.secret}",
        expires_at=minted.expires_at,
    )


@router.delete("/tokens/{token_id:uuid}", status_code=204, responses=error_responses(401, 404))
async def delete_token(token_id: uuid.UUID, state: StateDep, principal: PrincipalDep) -> Response:
    """Revoke an upload token at once: every route refuses it afterwards."""
    await revoke_token(state.sessions, principal, token_id)
    return Response(status_code=204)


async def _uploads(state: AppState, token: str) -> CompanionUploads:
    return CompanionUploads(state, await resolve_token(state.sessions, token))


@router.get("/{token}/s3/params", include_in_schema=False)
async def sign_form(
    token: TokenPath,
    state: StateDep,
    filename: Annotated[str, Query(max_length=1024)] = "file",
    type: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    """A form upload for a small file: ``{method, url, fields, headers, expires}``."""
    companion = await _uploads(state, token)
    _, fields, url, seconds = await companion.create_post(filename, type)
    return {"method": "POST", "url": url, "fields": fields, "headers": {}, "expires": seconds}


@router.post("/{token}/s3/multipart", include_in_schema=False)
async def create_multipart(
    token: TokenPath, body: CreateMultipart, state: StateDep
) -> dict[str, Any]:
    """Start a multipart upload: ``{key, uploadId, bucket}`` (``uploadId`` is the upload's
    id in this service, not the store's)."""
    companion = await _uploads(state, token)
    upload = await companion.create_multipart(body.filename, body.type)
    return {"key": upload.key, "uploadId": str(upload.id), "bucket": state.files.store.bucket}


def _part_numbers(raw: str) -> list[int]:
    try:
        numbers = [int(value) for value in raw.split(",") if value.strip()]
    except ValueError:
        raise ApiError(400, "invalid_part_numbers", "partNumbers is a list of integers") from None
    if not numbers:
        raise ApiError(400, "invalid_part_numbers", "ask for at least one part")
    return numbers


@router.get("/{token}/s3/multipart/{upload_id}/batch", include_in_schema=False)
async def sign_batch(
    token: TokenPath,
    upload_id: str,
    state: StateDep,
    key: Annotated[str, Query(max_length=2048)],
    part_numbers: Annotated[str, Query(alias="partNumbers", max_length=2000)],
) -> dict[str, Any]:
    """Several part URLs at once (the older plugins): ``{presignedUrls: {n: url}}``."""
    companion = await _uploads(state, token)
    upload = await companion.upload(upload_id, key)
    urls = await companion.uploads.sign_parts(upload.id, _part_numbers(part_numbers))
    return {"presignedUrls": {str(n): u.url for n, u in sorted(urls.items())}}


@router.get("/{token}/s3/multipart/{upload_id}/{part_number:int}", include_in_schema=False)
async def sign_part(
    token: TokenPath,
    upload_id: str,
    part_number: int,
    state: StateDep,
    key: Annotated[str, Query(max_length=2048)],
) -> dict[str, Any]:
    """One part's presigned PUT: ``{url, expires}``."""
    companion = await _uploads(state, token)
    upload = await companion.upload(upload_id, key)
    if part_number < 1:
        raise ApiError(400, "invalid_part_numbers", "part numbers start at 1")
    urls = await companion.uploads.sign_parts(upload.id, [part_number])
    signed = urls[part_number]
    return {"url": signed.url, "expires": state.settings.s3_presigned_url_expiry}


@router.get("/{token}/s3/multipart/{upload_id}", include_in_schema=False)
async def list_parts(
    token: TokenPath, upload_id: str, state: StateDep, key: Annotated[str, Query(max_length=2048)]
) -> list[dict[str, Any]]:
    """The parts already uploaded (resuming): ``[{PartNumber, ETag, Size}]``."""
    companion = await _uploads(state, token)
    upload = await companion.upload(upload_id, key)
    parts = await companion.uploads.uploaded_parts(upload.id)
    return [{"PartNumber": p.number, "ETag": p.etag, "Size": p.size} for p in parts]


@router.post("/{token}/s3/multipart/{upload_id}/complete", include_in_schema=False)
async def complete_multipart(
    token: TokenPath,
    upload_id: str,
    state: StateDep,
    key: Annotated[str, Query(max_length=2048)],
    body: CompleteBody | None = None,
) -> dict[str, Any]:
    """Assemble, verify and record: ``{location, bucket, key}`` (plus the file's id). The
    parts are the store's own list, whatever the body says."""
    companion = await _uploads(state, token)
    upload = await companion.upload(upload_id, key)
    record = await companion.complete(upload)
    return {
        "location": f"{_base(state)}/api/v1/files/{record.id}/download",
        "bucket": state.files.store.bucket,
        "key": record.key,
        "file_id": str(record.id),
    }


@router.delete("/{token}/s3/multipart/{upload_id}", include_in_schema=False)
async def abort_multipart(
    token: TokenPath, upload_id: str, state: StateDep, key: Annotated[str, Query(max_length=2048)]
) -> dict[str, Any]:
    """Cancel the upload and discard its parts."""
    companion = await _uploads(state, token)
    upload = await companion.upload(upload_id, key)
    await companion.uploads.abort(upload.id)
    return {}


@router.post(
    "/{token}/complete",
    response_model=FileOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
async def complete_small_file(token: TokenPath, body: ExplicitComplete, state: StateDep) -> FileOut:
    """Make a small file uploaded by the plugin's form visible now, rather than at the
    sweeper's next pass: give the ``key`` Uppy reported (``upload-success``'s
    ``body.key``) or the ``upload_id``."""
    companion = await _uploads(state, token)
    ident = body.upload_id or (upload_id_of_key(body.key) if body.key else None)
    if ident is None:
        raise ApiError(400, "invalid_key", "give the key Uppy reported or the upload_id")
    upload = await companion.upload(str(ident), None)
    return FileOut.of(await companion.complete(upload))
