"""``GET /api/v1/files/{id}/thumbnail``: a small WebP of an image or a PDF's first page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import error_responses
from s3files.server.files.service import FileService
from s3files.server.previews.render import MAX_PIXELS, can_preview
from s3files.server.previews.service import (
    SIZES,
    Thumbnails,
    no_preview,
    snap_size,
    thumbnail_key,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/files", tags=["files"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/webp": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The thumbnail (`X-Thumbnail`: `generated` by this request, `shared` "
        "with a request making it at the same time, or `cached`)",
    },
    304: {"description": "Not modified (`If-None-Match`)"},
    **error_responses(401, 503),
    **error_responses(
        404,
        description="No such file (`not_found`), or no preview: its type has none, or it "
        "does not decode (`no_preview`)",
        example=("no_preview", "no preview is made of application/zip files"),
    ),
    **error_responses(
        422,
        description=f"Refused: more than {MAX_PIXELS} pixels or too large (`image_too_large`), "
        "or a malformed field (`validation_error`)",
        example=("image_too_large", "the image is 20000x20000 pixels, more than 50000000"),
    ),
}


def _thumbnails(request: Request) -> Thumbnails:
    found: Thumbnails | None = getattr(request.app.state, "s3files_thumbnails", None)
    if found is None:
        found = request.app.state.s3files_thumbnails = Thumbnails()
    return found


@router.get(
    "/{file_id:uuid}/thumbnail",
    response_class=Response,
    responses=_RESPONSES,
    summary="A thumbnail of an image or of a PDF's first page",
)
async def thumbnail(
    file_id: uuid.UUID,
    request: Request,
    state: StateDep,
    principal: PrincipalDep,
    size: Annotated[
        int, Query(ge=16, le=1024, description=f"longest side in pixels; one of {SIZES} is made")
    ] = 256,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Made on the first request (EXIF orientation applied, metadata left out), then kept
    in the store beside the file until the file is deleted for good."""
    record = await FileService(state, principal).get(file_id)
    if not can_preview(record.content_type):
        raise no_preview(record.content_type)
    size = snap_size(size)
    etag = f'"{record.sha256 or record.etag or record.id.hex}-{size}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    thumbnails = _thumbnails(request)
    key = thumbnail_key(record.key, size)
    async with state.transfers.slot(principal.owner):
        if key is not None and await thumbnails.cached(state, key):
            body = await state.files.download(key)  # our own small WebP, never a user file
            headers["X-Thumbnail"] = "cached"
        else:
            body, shared = await thumbnails.make(
                state,
                file_id=record.id,
                key=record.key,
                content_type=record.content_type,
                size=size,
                file_size=record.size,
            )
            headers["X-Thumbnail"] = "shared" if shared else "generated"
    return Response(body, media_type="image/webp", headers=headers)
