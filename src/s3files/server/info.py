"""``GET /api/v1/config``: what a client should know before it uploads."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from s3files.server.deps import PrincipalDep, StateDep
from s3files.server.errors import error_responses
from s3files.stores.local import LocalStore

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["service"])


class ServiceConfig(BaseModel):
    """Limits and capabilities of this service (``null`` allowlists accept anything)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store": "s3",
                    "max_file_size": 104857600,
                    "allowed_extensions": ["jpg", "pdf"],
                    "allowed_mime_types": ["image/jpeg", "application/pdf"],
                    "presigned_url_max_expiry": 3600,
                    "owner": "alice",
                    "admin": False,
                }
            ]
        }
    )

    store: str
    max_file_size: int | None
    allowed_extensions: list[str] | None
    allowed_mime_types: list[str] | None
    presigned_url_max_expiry: int
    owner: str
    admin: bool


@router.get("/config", response_model=ServiceConfig, responses=error_responses(401))
async def service_config(state: StateDep, principal: PrincipalDep) -> ServiceConfig:
    """The size limit and allowed types, so a page can refuse a file before sending it."""
    policy = state.files.policy
    return ServiceConfig(
        store="local" if isinstance(state.files.store, LocalStore) else "s3",
        max_file_size=policy.max_size,
        allowed_extensions=sorted(policy.allowed_extensions)
        if policy.allowed_extensions is not None
        else None,
        allowed_mime_types=sorted(policy.allowed_mime_types)
        if policy.allowed_mime_types is not None
        else None,
        presigned_url_max_expiry=state.settings.s3_presigned_url_expiry,
        owner=principal.owner,
        admin=principal.is_admin,
    )
