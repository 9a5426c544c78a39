"""``GET /api/v1/buckets[/{name}[/objects]]`` and ``GET /api/v1/search``: admin keys only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from s3files.connector import S3Connector
from s3files.server.auth import Principal
from s3files.server.buckets.schemas import BucketDetail, BucketList, ObjectPage, SearchResults
from s3files.server.buckets.service import BucketService
from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import ApiError, error_responses

__all__ = ["AdminDep", "require_admin", "router"]

router = APIRouter(prefix="/api/v1", tags=["buckets"])


async def require_admin(principal: PrincipalDep) -> Principal:
    """401 without credentials (from ``PrincipalDep``), 403 ``forbidden`` for non-admins."""
    if not principal.is_admin:
        raise ApiError(403, "forbidden", "bucket administration needs an admin API key")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


async def admin_bucket_service(_: AdminDep, state: StateDep) -> BucketService:
    """The admin check runs first, so a non-admin learns nothing about the store."""
    if state.connector is None:
        raise ApiError(404, "not_available", "bucket administration is not set up")
    connector: S3Connector = await state.connector.get()
    return BucketService(connector)


ServiceDep = Annotated[BucketService, Depends(admin_bucket_service)]
BucketName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="the bucket's name",
        examples=["my-bucket"],
    ),
]
_RESPONSES: dict[int | str, dict[str, Any]] = error_responses(401, 403, 404, 422, 502, 503)
# Keys never hold control characters (the service sanitises names), and S3 servers choke
# on them in a listing's prefix (Ceph RGW answers 500): C0 and C1 controls are 422.
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"


@router.get(
    "/buckets", response_model=BucketList, responses=_RESPONSES, summary="List every bucket"
)
async def list_buckets(service: ServiceDep) -> BucketList:
    """Every bucket the service's S3 credentials can list, with creation date and region."""
    return await service.list_buckets()


@router.get(
    "/buckets/{name}",
    response_model=BucketDetail,
    responses=_RESPONSES,
    summary="A bucket's settings",
)
async def get_bucket(name: BucketName, service: ServiceDep) -> BucketDetail:
    """Region, versioning, encryption, policy, CORS, lifecycle and tags (``null`` where
    the bucket has none or the store does not support the setting)."""
    return await service.bucket(name)


@router.get(
    "/buckets/{name}/objects",
    response_model=ObjectPage,
    responses=_RESPONSES,
    summary="List a bucket's objects, a page at a time",
)
async def list_objects(
    name: BucketName,
    service: ServiceDep,
    prefix: Annotated[str, Query(max_length=1024, pattern=_PRINTABLE)] = "",
    max_keys: Annotated[int, Query(ge=1, le=1000)] = 1000,
    continuation_token: Annotated[str | None, Query(max_length=4096, pattern=_PRINTABLE)] = None,
) -> ObjectPage:
    """Objects in key order; ``next_continuation_token`` fetches the next page."""
    return await service.objects(
        name, prefix=prefix, max_keys=max_keys, continuation_token=continuation_token
    )


@router.get(
    "/search",
    response_model=SearchResults,
    responses=_RESPONSES,
    summary="Find objects by key prefix",
)
async def search(
    service: ServiceDep,
    q: Annotated[
        str, Query(max_length=1024, pattern=_PRINTABLE, description="the start of the keys")
    ],
    bucket: Annotated[
        str | None, Query(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._-]+$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SearchResults:
    """Objects whose key starts with ``q``, in ``bucket`` or in every bucket."""
    return await service.search(q, bucket=bucket, limit=limit)
