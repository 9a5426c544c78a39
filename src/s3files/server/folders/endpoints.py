"""``/api/v1/folders``: the folder tree, empty folders, moves, trash and restore; and
``POST /api/v1/files/batch``.

Folder routes act on the caller's own tree: another owner's folder answers exactly as one
that does not exist (an empty listing, 404 for an operation). Moves, renames, trash and
restore change records only, in one transaction: keys in the store never change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import error_responses
from s3files.server.folders.batch import run_batch
from s3files.server.folders.schemas import (
    BatchRequest,
    BatchResults,
    FolderCreate,
    FolderList,
    FolderMove,
    FolderOut,
    FolderPath,
    FolderSummary,
)
from s3files.server.folders.service import FolderService, check_folder

__all__ = ["files_batch_router", "router"]

router = APIRouter(prefix="/api/v1/folders", tags=["folders"])
files_batch_router = APIRouter(prefix="/api/v1/files", tags=["files"])

PathQuery = Annotated[str, Query(max_length=1024, description="a folder path; '' the top level")]


@router.get(
    "", response_model=FolderList, responses=error_responses(400, 401), summary="List subfolders"
)
async def list_folders(
    state: StateDep,
    principal: PrincipalDep,
    path: PathQuery = "",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> FolderList:
    """``path``'s direct subfolders by name, each with the number of files and bytes in
    its whole subtree (folders made empty with ``POST /api/v1/folders`` included)."""
    folder = check_folder(path)
    found, next_cursor = await FolderService(state, principal).subfolders(
        folder, cursor=cursor, limit=limit
    )
    items = [FolderOut(path=p, name=s.name, files=s.files, bytes=s.bytes) for p, s in found]
    return FolderList(path=folder, items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=FolderOut,
    responses=error_responses(400, 401),
    summary="Create a folder",
)
async def create_folder(body: FolderCreate, state: StateDep, principal: PrincipalDep) -> FolderOut:
    """An empty folder that shows in listings until it is removed (creating one that
    exists changes nothing)."""
    path = check_folder(body.path, top_allowed=False)
    summary, _ = await FolderService(state, principal).create(path)
    return FolderOut(path=path, name=summary.name, files=summary.files, bytes=summary.bytes)


@router.post(
    "/move",
    response_model=FolderSummary,
    responses=error_responses(400, 401, 404, 409),
    summary="Move or rename a folder",
)
async def move_folder(body: FolderMove, state: StateDep, principal: PrincipalDep) -> FolderSummary:
    """The whole subtree at ``from`` is now at ``to``, in one transaction however many
    files it holds (trashed ones follow). Refused: ``to`` inside ``from`` (400
    ``folder_inside_itself``), ``to`` already existing (409 ``folder_exists``)."""
    source = check_folder(body.source, top_allowed=False)
    target = check_folder(body.target, top_allowed=False)
    moved = await FolderService(state, principal).move(source, target)
    return FolderSummary(path=target, files=moved)


@router.delete(
    "",
    response_model=FolderSummary,
    responses=error_responses(400, 401, 404, 502, 503),
    summary="Trash or delete a folder",
)
async def delete_folder(
    state: StateDep,
    principal: PrincipalDep,
    path: Annotated[str, Query(min_length=1, max_length=1024)],
    hard_delete: bool = False,
) -> FolderSummary:
    """Every file under ``path`` to the trash (restorable together with
    ``POST /api/v1/folders/restore``); with ``hard_delete=true`` removed for good, trash
    included, in batches of 1,000 objects per store call. If the store fails part way,
    the files not yet removed are unchanged and the call can be repeated."""
    folder = check_folder(path, top_allowed=False)
    service = FolderService(state, principal)
    count = await (service.hard_delete(folder) if hard_delete else service.trash(folder))
    return FolderSummary(path=folder, files=count)


@router.post(
    "/restore",
    response_model=FolderSummary,
    responses=error_responses(400, 401, 404),
    summary="Restore a trashed folder",
)
async def restore_folder(
    body: FolderPath, state: StateDep, principal: PrincipalDep
) -> FolderSummary:
    """Every trashed file under ``path`` (and its empty subfolders) back where it was."""
    folder = check_folder(body.path, top_allowed=False)
    return FolderSummary(path=folder, files=await FolderService(state, principal).restore(folder))


@files_batch_router.post(
    "/batch",
    response_model=BatchResults,
    responses=error_responses(400, 401, 503),
    summary="One action on many files",
)
async def batch_files(body: BatchRequest, state: StateDep, principal: PrincipalDep) -> BatchResults:
    """``trash``, ``restore``, ``delete`` (for good), ``move`` or ``copy`` (to ``folder``)
    on up to 1,000 ids; one result per id, in the order given (an id the caller cannot
    reach is ``not_found``, as alone)."""
    return BatchResults.of(body.action, await run_batch(state, principal, body))
