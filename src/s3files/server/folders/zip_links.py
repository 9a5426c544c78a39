"""Signed links to zip downloads: ``POST /api/v1/files/zip-link`` and
``POST /api/v1/folders/zip-link`` answer a URL that needs no key, valid for a few minutes,
so that a browser can simply go to it and stream the archive to disk
(``GET /api/v1/zip-links/{token}``).

The token is an HMAC (``signing.LocalURLSigner.sign_token``, under the service's signing
key, as the local store's signed URLs) over the caller, the folder path or the file ids and
the expiry: nothing is stored, any replica sharing ``S3FILES_SIGNING_KEY`` serves it. The
download checks again what the caller may read (their own files, any for an admin) and
streams through the same code as the zip routes (``folder_zip``, ``files_zip``).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from s3files._store_sync import _local_signer
from s3files.server.auth import Principal
from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import ApiError, error_responses
from s3files.server.folders.service import FolderService, check_folder
from s3files.server.folders.zip_endpoints import (
    ZipRequest,
    files_zip,
    folder_zip,
    readable_files,
)
from s3files.server.logs import log_event
from s3files.server.state import AppState
from s3files.signing import LocalURLSigner
from s3files.stores.local import LocalStore

__all__ = ["LINK_SECONDS", "zip_links_router"]

zip_links_router = APIRouter()

LINK_SECONDS = 300  # long enough to start the download, short enough not to be shared
_PURPOSE = "zip"
_EXAMPLE_LINK: dict[str, Any] = {
    "url": "https://files.example.com/api/v1/zip-links/eyJhIjpmYWxzZSwiZXhwIjoxNzk2MD….3q2-7w",
    "expires_at": "2026-12-02T03:15:00Z",
    "expires_in": LINK_SECONDS,
}
_ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        "description": "the archive, streamed while it is built",
    },
}


class ZipLink(BaseModel):
    """A link to a zip download that needs no key, until ``expires_at``."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_LINK]})

    url: str
    expires_at: datetime
    expires_in: int


class FolderZipLinkRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"path": "photos/2026"}]}
    )

    path: str = Field("", max_length=1024, description="a folder path; '' for every file")


def _signer(state: AppState) -> LocalURLSigner:
    """The service's signer: the local store's own, or one under the same key."""
    store = state.files.store
    if isinstance(store, LocalStore) and store.signer is not None:
        return store.signer
    return _local_signer(state.settings)


def _pack(ids: list[uuid.UUID]) -> str:
    return base64.urlsafe_b64encode(b"".join(i.bytes for i in ids)).rstrip(b"=").decode()


def _unpack(text: str) -> list[uuid.UUID]:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if not raw or len(raw) % 16:
        raise ValueError("not a list of ids")
    return [uuid.UUID(bytes=raw[n : n + 16]) for n in range(0, len(raw), 16)]


def _link(state: AppState, principal: Principal, claims: dict[str, Any]) -> ZipLink:
    signer = _signer(state)
    token, expires_at = signer.sign_token(
        _PURPOSE,
        {"o": principal.owner, "a": principal.is_admin, **claims},
        expires_in=LINK_SECONDS,
    )
    url = f"{state.settings.public_base_url.rstrip('/')}/api/v1/zip-links/{token}"
    return ZipLink(url=url, expires_at=expires_at, expires_in=LINK_SECONDS)


@zip_links_router.post(
    "/api/v1/files/zip-link",
    tags=["files"],
    response_model=ZipLink,
    responses=error_responses(400, 401, 404),
    summary="A signed link to chosen files as a ZIP",
)
async def files_zip_link(body: ZipRequest, state: StateDep, principal: PrincipalDep) -> ZipLink:
    """A URL that downloads these files (up to 1,000, each one the caller can read: else
    404) as one ZIP, like ``POST /api/v1/files/zip``, with no key, for five minutes.
    A browser can go to it: the archive streams to disk."""
    ids = list(dict.fromkeys(body.ids))
    await readable_files(state, principal, ids)
    log_event("zip_link_issued", owner=principal.owner, files=len(ids))
    return _link(state, principal, {"i": _pack(ids)})


@zip_links_router.post(
    "/api/v1/folders/zip-link",
    tags=["folders"],
    response_model=ZipLink,
    responses=error_responses(400, 401, 404),
    summary="A signed link to a folder as a ZIP",
)
async def folder_zip_link(
    body: FolderZipLinkRequest, state: StateDep, principal: PrincipalDep
) -> ZipLink:
    """A URL that downloads every file under ``path`` of the caller's own tree as a ZIP,
    like ``GET /api/v1/folders/zip``, with no key, for five minutes (404 for a folder
    with no files)."""
    folder = check_folder(body.path)
    if (await FolderService(state, principal).summary(folder)).files == 0:
        raise ApiError(404, "not_found", "folder not found or empty")
    log_event("zip_link_issued", owner=principal.owner, path=folder)
    return _link(state, principal, {"p": folder})


@zip_links_router.get(
    "/api/v1/zip-links/{token}",
    tags=["files"],
    response_class=StreamingResponse,
    responses={
        **_ZIP_RESPONSES,
        **error_responses(
            403,
            description="A forged or altered link (`invalid_signature`) or one past its five "
            "minutes (`expired_signature`)",
            example=("expired_signature", "the link has expired; ask for a new one"),
        ),
        **error_responses(404, 503),
    },
    summary="Download a ZIP through a signed link",
)
async def zip_by_link(
    state: StateDep,
    token: Annotated[
        str,
        Path(
            max_length=32768,
            description="from `POST /api/v1/files/zip-link` or `/api/v1/folders/zip-link`",
            examples=["eyJhIjpmYWxzZSwiZXhwIjoxNzk2MDAwMDAwLCJvIjoiYWxpY2UiLCJwIjoicGhvdG9zIn0.x"],
        ),
    ],
) -> StreamingResponse:
    """The archive the link was made for; what the link's caller may read is checked
    again now (a file deleted or trashed since answers 404)."""
    claims = _signer(state).verify_token(_PURPOSE, token)
    try:
        principal = Principal(owner=str(claims["o"]), is_admin=claims["a"] is True)
        folder = str(claims["p"]) if "p" in claims else None
        ids = _unpack(str(claims["i"])) if folder is None else []
    except (KeyError, ValueError, binascii.Error):
        raise ApiError(403, "invalid_signature", "malformed link") from None
    if folder is not None:
        return await folder_zip(state, principal, check_folder(folder))
    return await files_zip(state, principal, ids)
