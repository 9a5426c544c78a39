"""``GET /api/v1/usage``, ``DELETE /api/v1/trash`` and the admins' ``/api/v1/quotas``.

Over quota, an upload, a copy or a direct upload answers 403 ``quota_exceeded`` and
nothing is stored; the trash counts until it is emptied."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from s3files.server.buckets.endpoints import AdminDep
from s3files.server.db.session import unit_of_work
from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import error_responses
from s3files.server.folders.service import FolderService
from s3files.server.quotas.service import limits_of, set_quota, usage_of
from s3files.server.state import AppState

__all__ = ["QuotaIn", "TrashEmptied", "UsageOut", "router"]

router = APIRouter(prefix="/api/v1", tags=["usage"])

OwnerPath = Annotated[str, Path(min_length=1, max_length=255)]


class QuotaOut(BaseModel):
    max_bytes: int | None = Field(description="None: no limit")
    max_files: int | None = Field(description="None: no limit")


class UsageOut(BaseModel):
    """What an owner stores (the trash counts against the quota until emptied)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"owner": "alice", "files": 120, "bytes": 52428800, "trash_files": 3,
                          "trash_bytes": 1024, "quota": {"max_bytes": 1073741824,
                                                         "max_files": 10000}}]
        }
    )  # fmt: skip

    owner: str
    files: int
    bytes: int
    trash_files: int
    trash_bytes: int
    quota: QuotaOut


class QuotaIn(BaseModel):
    """An owner's quota; a null limit falls back to the default setting."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"max_bytes": 1073741824, "max_files": 10000}]},
    )

    max_bytes: int | None = Field(None, ge=0)
    max_files: int | None = Field(None, ge=0)

    @field_validator("max_bytes", "max_files", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # JSON false is not 0
            raise ValueError("must be a number or null, not a boolean")
        return value


class TrashEmptied(BaseModel):
    files: int = Field(description="files removed for good")


async def _usage(state: AppState, owner: str) -> UsageOut:
    async with unit_of_work(state.sessions) as session:
        usage = await usage_of(session, owner)
        limits = await limits_of(session, owner, state.settings)
    return UsageOut(
        owner=owner,
        files=usage.files,
        bytes=usage.bytes,
        trash_files=usage.trash_files,
        trash_bytes=usage.trash_bytes,
        quota=QuotaOut(max_bytes=limits.max_bytes, max_files=limits.max_files),
    )


@router.get("/usage", response_model=UsageOut, responses=error_responses(401), summary="Usage")
async def get_usage(state: StateDep, principal: PrincipalDep) -> UsageOut:
    """The caller's files, bytes, trash and quota."""
    return await _usage(state, principal.owner)


@router.delete(
    "/trash",
    response_model=TrashEmptied,
    responses=error_responses(401, 502, 503),
    summary="Empty the trash",
)
async def empty_trash(state: StateDep, principal: PrincipalDep) -> TrashEmptied:
    """Remove every file in the caller's trash for good (objects and records)."""
    return TrashEmptied(files=await FolderService(state, principal).empty_trash())


@router.get(
    "/quotas/{owner}",
    response_model=UsageOut,
    responses=error_responses(401, 403),
    summary="An owner's usage and quota (admins)",
)
async def get_quota(owner: OwnerPath, state: StateDep, _: AdminDep) -> UsageOut:
    return await _usage(state, owner)


@router.put(
    "/quotas/{owner}",
    response_model=UsageOut,
    responses=error_responses(400, 401, 403),
    summary="Set an owner's quota (admins)",
)
async def put_quota(owner: OwnerPath, body: QuotaIn, state: StateDep, _: AdminDep) -> UsageOut:
    """Set ``owner``'s limits (bytes, files); null falls back to the default quota. Files
    already stored stay; new ones are refused while the owner is over."""
    async with unit_of_work(state.sessions) as session:
        await set_quota(session, owner, max_bytes=body.max_bytes, max_files=body.max_files)
    return await _usage(state, owner)
