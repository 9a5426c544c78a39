"""``GET /api/v1/folders/zip`` and ``POST /api/v1/files/zip``: ZIP downloads streamed
while they are built (``folders/zip.py``); ``folder_zip`` and ``files_zip`` serve the
signed links of ``folders/zip_links.py`` too."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from s3files.server.auth import Principal
from s3files.server.db.models import FileRecord, FileStatus
from s3files.server.db.session import unit_of_work
from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import ApiError, error_responses
from s3files.server.folders.schemas import MAX_BATCH
from s3files.server.folders.service import FolderService, check_folder
from s3files.server.folders.zip import ZipMember, ZipPlan, arcname_segment, plan_zip
from s3files.server.logs import log_event
from s3files.server.state import AppState
from s3files.store import content_disposition

__all__ = [
    "ZipRequest",
    "files_zip",
    "files_zip_router",
    "folder_zip",
    "folders_zip_router",
    "readable_files",
]

folders_zip_router = APIRouter(prefix="/api/v1/folders", tags=["folders"])
files_zip_router = APIRouter(prefix="/api/v1/files", tags=["files"])

_ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "the archive, streamed"},
}


class ZipRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ids": ["5b0c2f1e-8a4b-4d0e-9a51-2f8f2f7c1a10"]}]},
    )

    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BATCH)


class _ZipResponse(StreamingResponse):
    """Releases the transfer slot once the response is over, however it ends (sent,
    failed, or the client gone before the first byte)."""

    def __init__(self, plan: ZipPlan, headers: dict[str, str], release: Callable[[], None]) -> None:
        super().__init__(plan.stream(), media_type="application/zip", headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _respond(
    state: AppState, owner: str, members: list[ZipMember], filename: str
) -> StreamingResponse:
    """The archive's response; the transfer slot taken by the caller is released when the
    stream ends."""
    plan = ZipPlan(members, state.files.sync.iter_bytes)
    log_event("zip_streamed", owner=owner, files=len(members), size=sum(m.size for m in members))
    headers = {
        "Content-Disposition": content_disposition("attachment", filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return _ZipResponse(plan, headers, lambda: state.transfers.release(owner))


async def folder_zip(state: AppState, principal: Principal, folder: str) -> StreamingResponse:
    """Every file of ``principal``'s own tree under ``folder`` as a streamed ZIP (404 if
    there is none), holding a transfer slot while it streams."""
    state.transfers.acquire(principal.owner)
    try:
        records = await FolderService(state, principal).records_under(folder)
        name = arcname_segment(folder.rpartition("/")[2] or "files")
        return _respond(
            state, principal.owner, plan_zip(records, relative_to=folder), f"{name}.zip"
        )
    except BaseException:
        state.transfers.release(principal.owner)
        raise


async def readable_files(
    state: AppState, principal: Principal, ids: list[uuid.UUID]
) -> list[FileRecord]:
    """The active files of ``ids`` that ``principal`` may read (its own; any for an
    admin); 404 unless that is every one of them."""
    async with unit_of_work(state.sessions) as session:
        statement = select(FileRecord).where(
            FileRecord.id.in_(ids), FileRecord.status == FileStatus.ACTIVE
        )
        if not principal.is_admin:
            statement = statement.where(FileRecord.owner == principal.owner)
        records = list((await session.execute(statement)).scalars())
    if len(records) != len(ids):
        raise ApiError(404, "not_found", f"{len(ids) - len(records)} of the files not found")
    return records


async def files_zip(
    state: AppState, principal: Principal, ids: list[uuid.UUID]
) -> StreamingResponse:
    """The files of ``ids`` (each readable by ``principal``) as a streamed ZIP."""
    state.transfers.acquire(principal.owner)
    try:
        records = await readable_files(state, principal, ids)
        return _respond(state, principal.owner, plan_zip(records, relative_to=None), "files.zip")
    except BaseException:
        state.transfers.release(principal.owner)
        raise


@folders_zip_router.get(
    "/zip",
    response_class=StreamingResponse,
    responses={**_ZIP_RESPONSES, **error_responses(400, 401, 404, 503)},
    summary="Download a folder as a ZIP",
)
async def zip_folder(
    state: StateDep,
    principal: PrincipalDep,
    path: Annotated[str, Query(max_length=1024, description="'' for every file")] = "",
) -> StreamingResponse:
    """Every file under ``path``, under the folder's own name, as a ZIP (Zip64 when large)
    streamed while it is built; a file deleted for good meanwhile is left out and named in
    a last ``MISSING.txt`` entry."""
    return await folder_zip(state, principal, check_folder(path))


@files_zip_router.post(
    "/zip",
    response_class=StreamingResponse,
    responses={**_ZIP_RESPONSES, **error_responses(400, 401, 404, 503)},
    summary="Download chosen files as a ZIP",
)
async def zip_files(
    body: ZipRequest, state: StateDep, principal: PrincipalDep
) -> StreamingResponse:
    """Up to 1,000 files by id, under their folder paths, as one ZIP; 404 if any of them
    is not one the caller can read."""
    return await files_zip(state, principal, list(dict.fromkeys(body.ids)))
