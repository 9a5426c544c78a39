"""Upload tokens: the authority of the Companion routes, carried in their URL.

Uppy's S3 plugin calls its ``companionEndpoint`` with a plain ``fetch`` (no custom header,
no cookie), so the endpoint itself names the caller: ``/api/v1/companion/<token>``. A token
is minted by its owner (an API key or JWT), lives at most a day, can be revoked, and may be
narrowed to a folder, a file size, media types and a number of files. Only the SHA-256 of
the secret is stored.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, or_, select, update

from s3files.naming import folder_path
from s3files.server.api_error import ApiError
from s3files.server.auth import Principal
from s3files.server.db.models import UploadToken, utcnow
from s3files.server.db.session import Sessions, unit_of_work
from s3files.server.keys.service import hash_secret

__all__ = [
    "TOKEN_PREFIX",
    "MintedToken",
    "TokenScope",
    "consume_file",
    "mint_token",
    "resolve_token",
    "revoke_token",
    "type_allowed",
]

TOKEN_PREFIX = "s3fu_"  # noqa: S105 - a prefix, not a secret
MAX_LIFETIME = timedelta(hours=24)
DEFAULT_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class TokenScope:
    """What a resolved token allows."""

    id: uuid.UUID
    owner: str
    folder: str | None
    max_file_size: int | None
    allowed_types: tuple[str, ...] | None
    max_files: int | None
    expires_at: datetime

    @property
    def principal(self) -> Principal:
        return Principal(owner=self.owner, is_admin=False)


@dataclass(frozen=True, slots=True)
class MintedToken:
    id: uuid.UUID
    secret: str  # shown once
    expires_at: datetime


def type_allowed(content_type: str, allowed: tuple[str, ...] | None) -> bool:
    """``content_type`` matches one of ``allowed`` (``image/png`` or ``image/*``)."""
    if not allowed:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    for pattern in allowed:
        if pattern == kind or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False


def _check_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    cleaned = []
    for value in types:
        value = value.strip().lower()
        major, slash, minor = value.partition("/")
        if not slash or not major or not minor or len(value) > 255 or "*" in major:
            raise ApiError(400, "invalid_content_type", f"not a media type: {value!r}")
        cleaned.append(value)
    return cleaned


async def mint_token(
    sessions: Sessions,
    principal: Principal,
    *,
    folder: str | None,
    max_file_size: int | None,
    allowed_types: list[str] | None,
    max_files: int | None,
    expires_in: int | None,
) -> MintedToken:
    """A new token for ``principal``'s own files (admins too: a token is one owner's)."""
    lifetime = DEFAULT_LIFETIME if expires_in is None else timedelta(seconds=expires_in)
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise ApiError(400, "invalid_expiry", "expires_in must be 1 to 86400 seconds")
    clean_folder = folder_path(folder) if folder else None  # as records keep it
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = UploadToken(
        id=uuid.uuid4(),
        owner=principal.owner,
        secret_hash=hash_secret(secret),
        folder=clean_folder or None,
        max_file_size=max_file_size,
        allowed_types=_check_types(allowed_types),
        max_files=max_files,
        files_used=0,
        expires_at=utcnow() + lifetime,
    )
    async with unit_of_work(sessions) as session:
        session.add(token)
    return MintedToken(id=token.id, secret=secret, expires_at=token.expires_at)


def _invalid() -> ApiError:
    return ApiError(401, "invalid_upload_token", "the upload token is unknown, expired or revoked")


async def resolve_token(sessions: Sessions, secret: str) -> TokenScope:
    """The scope of a live token, or 401 ``invalid_upload_token``."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        raise _invalid()
    async with unit_of_work(sessions) as session:
        statement = select(UploadToken).where(UploadToken.secret_hash == hash_secret(secret))
        token = (await session.execute(statement)).scalar_one_or_none()
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        raise _invalid()
    return TokenScope(
        id=token.id,
        owner=token.owner,
        folder=token.folder,
        max_file_size=token.max_file_size,
        allowed_types=tuple(token.allowed_types) if token.allowed_types else None,
        max_files=token.max_files,
        expires_at=token.expires_at,
    )


async def consume_file(sessions: Sessions, scope: TokenScope) -> None:
    """Count one more file against the token (atomically: concurrent uploads cannot pass
    ``max_files`` together); 403 ``upload_token_exhausted`` past it."""
    now = utcnow()
    statement = (
        update(UploadToken)
        .where(
            UploadToken.id == scope.id,
            UploadToken.revoked_at.is_(None),
            UploadToken.expires_at > now,
            or_(UploadToken.max_files.is_(None), UploadToken.files_used < UploadToken.max_files),
        )
        .values(files_used=UploadToken.files_used + 1)
        .execution_options(synchronize_session=False)
    )
    async with unit_of_work(sessions) as session:
        result: CursorResult[tuple[()]] = await session.execute(statement)  # type: ignore[assignment]
    if result.rowcount != 1:
        raise ApiError(
            403, "upload_token_exhausted", "this upload token has no files left to upload"
        )


async def revoke_token(sessions: Sessions, principal: Principal, token_id: uuid.UUID) -> None:
    """Revoke one of the caller's tokens (admins: anyone's); 404 if there is none."""
    async with unit_of_work(sessions) as session:
        token = await session.get(UploadToken, token_id)
        if token is None or (not principal.is_admin and token.owner != principal.owner):
            raise ApiError(404, "not_found", "upload token not found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
