"""Every query on ``api_keys``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from s3files.server.db.models import ApiKey, utcnow
from s3files.server.db.session import AsyncSession

__all__ = ["ApiKeyRepository"]


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def find_active_by_hash(self, secret_hash: str) -> ApiKey | None:
        statement = select(ApiKey).where(
            ApiKey.secret_hash == secret_hash, ApiKey.revoked_at.is_(None)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list(self, *, include_revoked: bool = False) -> Sequence[ApiKey]:
        statement = select(ApiKey).order_by(ApiKey.created_at)
        if not include_revoked:
            statement = statement.where(ApiKey.revoked_at.is_(None))
        return (await self.session.execute(statement)).scalars().all()

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def revoke(self, key: ApiKey, when: datetime | None = None) -> None:
        key.revoked_at = when or utcnow()
        await self.session.flush()

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count(ApiKey.id)))).scalar_one())
