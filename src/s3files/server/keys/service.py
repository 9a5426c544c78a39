"""Creating, listing and revoking API keys (used by the CLI and the first start)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from s3files.server.db.models import ApiKey
from s3files.server.db.session import AsyncSession
from s3files.server.keys.repository import ApiKeyRepository

__all__ = ["CreatedKey", "create_key", "hash_secret", "list_keys", "revoke_key"]

KEY_PREFIX = "s3f_"


def hash_secret(secret: str) -> str:
    """Keys are 256-bit random: one SHA-256 is enough, no slow hash needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    """A new key; ``secret`` exists only here and is never stored."""

    record: ApiKey
    secret: str


async def create_key(
    session: AsyncSession, *, owner: str, is_admin: bool = False, name: str | None = None
) -> CreatedKey:
    owner = owner.strip()
    if not owner or len(owner) > 255:
        raise ValueError("owner must be 1 to 255 characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        owner=owner,
        name=name,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        is_admin=is_admin,
    )
    await ApiKeyRepository(session).add(record)
    return CreatedKey(record=record, secret=secret)


async def list_keys(session: AsyncSession, *, include_revoked: bool = False) -> Sequence[ApiKey]:
    return await ApiKeyRepository(session).list(include_revoked=include_revoked)


async def revoke_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    """Revoke by id or by the key's visible prefix; None if there is no such key."""
    repository = ApiKeyRepository(session)
    found = None
    try:
        found = await repository.get(uuid.UUID(key_id))
    except ValueError:
        found = next((k for k in await repository.list() if k.prefix == key_id), None)
    if found is not None and found.revoked_at is None:
        await repository.revoke(found)
    return found
