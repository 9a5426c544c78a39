"""``/api/v1/tus/``: tus 1.0 for any tus client (tus-js-client, Uppy's tus plugin, TUSKit,
tus-android-client, tuspy), authenticated like the rest of the API
(``Authorization: Bearer <key or JWT>``) or by an upload token (``Bearer s3fu_…``, see
``POST /api/v1/companion/tokens``), whose folder, size, types and number of files apply.

Extensions: creation, creation-with-upload, termination, expiration, checksum (sha1,
sha256). ``Upload-Metadata`` keys ``filename``, ``filetype`` and ``folder`` name the file;
``Upload-Length`` is checked against the size limit and the quota at creation, the type
sniffed from the first bytes, and the last byte makes the file a record like any upload.
"""

from __future__ import annotations

import uuid
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from s3files.server.api_error import ApiError
from s3files.server.db.models import DirectUpload
from s3files.server.deps import StateDep, current_principal
from s3files.server.protocols.companion.tokens import TOKEN_PREFIX, resolve_token
from s3files.server.protocols.tus.service import CHECKSUMS, TusService, parse_checksum

__all__ = ["TUS_PATH", "router"]

TUS_PATH = "/api/v1/tus"
VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"

router = APIRouter(prefix=TUS_PATH, tags=["tus"], include_in_schema=False)


async def _service(request: Request) -> TusService:
    """The caller: an API key or JWT, or an upload token (``Bearer s3fu_…``: its owner,
    within its folder, size, types and number of files)."""
    state = request.app.state.s3files
    scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip().startswith(TOKEN_PREFIX):
        scope = await resolve_token(state.sessions, secret.strip())
        return TusService(state, scope.principal, scope)
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=secret.strip())
    return TusService(state, await current_principal(request, credentials if scheme else None))


Caller = Annotated[TusService, Depends(_service)]


def _headers(upload: DirectUpload | None = None, **extra: str) -> dict[str, str]:
    headers = {"Tus-Resumable": VERSION, "Cache-Control": "no-store", **extra}
    if upload is not None:
        headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return headers


def _require_version(tus_resumable: str | None) -> None:
    if tus_resumable != VERSION:
        raise ApiError(
            412,
            "unsupported_tus_version",
            f"send Tus-Resumable: {VERSION}",
            {"Tus-Version": VERSION},
        )


def _number(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or len(value) > 19:
        raise ApiError(400, f"invalid_{name.lower().replace('-', '_')}", f"{name} must be a number")
    return int(value)


def _location(upload_id: uuid.UUID) -> str:
    return f"{TUS_PATH}/{upload_id.hex}"


def _upload_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(404, "not_found", "upload not found") from None


@router.options("")
@router.options("/")
@router.options("/{upload_id}")
async def options(state: StateDep) -> Response:
    """What this server speaks (no authentication, as the protocol asks)."""
    limit = state.files.limit_for(None)
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": VERSION,
            "Tus-Version": VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(limit),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
        },
    )


@router.post("")
@router.post("/")
async def create(
    request: Request,
    service: Caller,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_length: Annotated[str | None, Header()] = None,
    upload_defer_length: Annotated[str | None, Header()] = None,
    upload_metadata: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[str | None, Header()] = None,
) -> Response:
    """Creation (and creation-with-upload when the body carries the first bytes)."""
    _require_version(tus_resumable)
    if upload_defer_length is not None:
        raise ApiError(400, "invalid_upload_length", "Upload-Length is required (no deferring)")
    length = _number(upload_length, "Upload-Length")
    upload, _ = await service.create(length, upload_metadata)
    offset = 0
    with_body = content_type == OFFSET_TYPE and content_length not in (None, "0")
    if with_body:
        _, offset, _ = await service.patch(
            upload.id,
            0,
            request.stream(),
            content_length=_number(content_length, "Content-Length"),
            checksum=parse_checksum(upload_checksum),
        )
    return Response(
        status_code=201,
        headers=_headers(upload, Location=_location(upload.id), **{"Upload-Offset": str(offset)}),
    )


@router.head("/{upload_id}")
async def head(
    upload_id: str,
    service: Caller,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Where the upload stands: ``Upload-Offset`` and ``Upload-Length``."""
    _require_version(tus_resumable)
    upload, tus = await service.get(_upload_id(upload_id))
    if tus is not None and tus.offset == tus.upload_length and upload.status == "pending":
        await service.finish(upload.id)  # every byte arrived, the completion was cut short
        upload, tus = await service.get(upload.id)
    if tus is None:
        if upload.status != "complete":
            return Response(status_code=410, headers=_headers())
        length = offset = upload.expected_size or 0
    else:
        length, offset = tus.upload_length, tus.offset
    headers = _headers(upload, **{"Upload-Offset": str(offset), "Upload-Length": str(length)})
    if tus is not None and tus.raw_metadata:
        headers["Upload-Metadata"] = tus.raw_metadata
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}")
async def patch(
    upload_id: str,
    request: Request,
    service: Caller,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_offset: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[str | None, Header()] = None,
) -> Response:
    """Append the body at ``Upload-Offset``; 204 with the new offset. On the last byte the
    file is verified and recorded (``S3files-File-Id`` names it)."""
    _require_version(tus_resumable)
    if content_type != OFFSET_TYPE:
        raise ApiError(415, "unsupported_media_type", f"PATCH bodies are {OFFSET_TYPE}")
    upload, offset, record = await service.patch(
        _upload_id(upload_id),
        _number(upload_offset, "Upload-Offset"),
        request.stream(),
        content_length=_number(content_length, "Content-Length") if content_length else None,
        checksum=parse_checksum(upload_checksum),
    )
    headers = _headers(upload, **{"Upload-Offset": str(offset)})
    if record is not None:
        headers["S3files-File-Id"] = str(record.id)
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}")
async def terminate(
    upload_id: str,
    service: Caller,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Termination: the bytes sent so far are discarded."""
    _require_version(tus_resumable)
    await service.terminate(_upload_id(upload_id))
    return Response(status_code=204, headers=_headers())
